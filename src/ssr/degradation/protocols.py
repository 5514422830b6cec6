"""Benchmark protocols: how a record is sampled for each image (seeded, reproducible).

* sv  : smooth random field of anisotropic Gaussian kernels (4x4 nodes), kernel 21x21 at HR scale,
        sigma_x, sigma_y as STANDARD DEVIATIONS in [0.6, 5.0] px for x4 (DCLS convention; [0.6, 2.5]
        for x2), theta in [0, pi); colour Gaussian noise sigma in [0, 15]/255; JPEG quality 50..95.
* dof : thin-lens circle of confusion from a depth map (focus plane = a random quantile 0.1..0.9 of
        the image's inverse depth, aperture 6..16 px of radius per unit inverse depth for x4, half
        that for x2), occlusion-aware disks, then the same noise and JPEG as sv.
* compound: OUT-OF-DISTRIBUTION compound degradations, held out of every training distribution
        (CausalSR study, issue 12): a smooth 4x4 field of LINEAR MOTION kernels (length 3..13 HR px
        for x4, 1.5..6.5 for x2; angle 0..pi; no training set has motion), colour Gaussian noise
        sigma 15..25/255 (training stops at 15), JPEG quality 30..50, and always a second pass.
* real: City100 optical pairs; no synthetic step (see build.py for how pairs are scaled).
Each image gets its own generator seeded from (protocol seed, CRC32 of the file stem), so adding or
removing images does not change the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ssr.degradation.field import GridField, random_gaussian_field
from ssr.degradation.scm import SCHEMA
from ssr.errors import ConfigError
from ssr.settings import with_overrides

PROTOCOL_NAMES = ("sv", "dof", "compound", "real")
SCALES = (2, 4)


@dataclass(frozen=True)
class ProtocolSettings:
    """Sampling ranges of a synthetic protocol; `--set key=value` overrides are validated here."""

    kernel_size: int = 21
    sigma_min: float = 0.6
    sigma_max: float = 5.0
    grid: int = 4
    aperture_min: float = 6.0
    aperture_max: float = 16.0
    focus_quantile_min: float = 0.1
    focus_quantile_max: float = 0.9
    noise_max: float = 15.0 / 255.0
    noise_color: bool = True
    jpeg_min: int = 50
    jpeg_max: int = 95
    motion_min: float = 3.0  # protocol compound only
    motion_max: float = 13.0
    compound_noise_min: float = 15.0 / 255.0
    compound_noise_max: float = 25.0 / 255.0
    compound_jpeg_min: int = 30
    compound_jpeg_max: int = 50

    @classmethod
    def for_scale(cls, scale: int) -> "ProtocolSettings":
        if scale not in SCALES:
            raise ConfigError(f"scale must be one of {SCALES}, got {scale}")
        return cls() if scale == 4 else cls(sigma_max=2.5, aperture_min=3.0, aperture_max=8.0, motion_min=1.5,
                                            motion_max=6.5)

    def with_overrides(self, overrides: dict[str, str]) -> "ProtocolSettings":
        settings = with_overrides(self, overrides, "protocol setting")
        settings.check()
        return settings

    def check(self) -> None:
        if self.kernel_size < 3 or self.kernel_size % 2 == 0:
            raise ConfigError("kernel_size must be odd and >= 3")
        if not 0 < self.sigma_min <= self.sigma_max:
            raise ConfigError("need 0 < sigma_min <= sigma_max")
        if not 0 <= self.aperture_min <= self.aperture_max:
            raise ConfigError("need 0 <= aperture_min <= aperture_max")
        if not 0 <= self.focus_quantile_min <= self.focus_quantile_max <= 1:
            raise ConfigError("need 0 <= focus_quantile_min <= focus_quantile_max <= 1")
        if not 1 <= self.jpeg_min <= self.jpeg_max <= 100:
            raise ConfigError("need 1 <= jpeg_min <= jpeg_max <= 100")
        if self.grid < 1 or not 0 <= self.noise_max <= 1:
            raise ConfigError("grid must be >= 1 and noise_max in [0, 1]")
        if not 0 < self.motion_min <= self.motion_max or not 0 <= self.compound_noise_min <= self.compound_noise_max <= 1:
            raise ConfigError("need 0 < motion_min <= motion_max and 0 <= compound_noise_min <= compound_noise_max <= 1")
        if not 1 <= self.compound_jpeg_min <= self.compound_jpeg_max <= 100:
            raise ConfigError("need 1 <= compound_jpeg_min <= compound_jpeg_max <= 100")


def image_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one image: depends on the protocol seed and the image's own name only."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), zlib.crc32(name.encode())])))


def _noise_and_jpeg(rng: np.random.Generator, settings: ProtocolSettings) -> tuple[dict, dict]:
    noise = {"kind": "gaussian", "level": float(rng.uniform(0.0, settings.noise_max)),
             "color": settings.noise_color, "seed": int(rng.integers(0, 2**31 - 1))}
    jpeg = {"quality": int(rng.integers(settings.jpeg_min, settings.jpeg_max + 1))}
    return noise, jpeg


def sample_sv(rng: np.random.Generator, scale: int, settings: ProtocolSettings) -> dict:
    """A record of protocol sv."""
    grid = (settings.grid, settings.grid)
    field = random_gaussian_field(rng, grid, settings.kernel_size, (settings.sigma_min, settings.sigma_max))
    noise, jpeg = _noise_and_jpeg(rng, settings)
    return {"schema": SCHEMA, "scale": scale, "kernel": field.to_dict(), "noise": noise, "jpeg": jpeg,
            "second_order": None}


def sample_dof(rng: np.random.Generator, scale: int, settings: ProtocolSettings, depth: np.ndarray) -> dict:
    """A record of protocol dof; the focus plane is a quantile of this image's depth, so something is sharp."""
    quantile = rng.uniform(settings.focus_quantile_min, settings.focus_quantile_max)
    focus = float(np.quantile(np.asarray(depth, np.float64), quantile))
    aperture = float(rng.uniform(settings.aperture_min, settings.aperture_max))
    noise, jpeg = _noise_and_jpeg(rng, settings)
    kernel = {"family": "defocus", "size": settings.kernel_size, "focus": focus, "aperture": aperture,
              "occlusion": True}
    return {"schema": SCHEMA, "scale": scale, "kernel": kernel, "noise": noise, "jpeg": jpeg,
            "second_order": None}


def sample_compound(rng: np.random.Generator, scale: int, settings: ProtocolSettings) -> dict:
    """A record of protocol compound (out of the training distribution; see the module docstring)."""
    grid = (settings.grid, settings.grid)
    kernel = GridField("motion", settings.kernel_size,
                       {"length": rng.uniform(settings.motion_min, settings.motion_max, grid),
                        "angle": rng.uniform(0.0, np.pi, grid)})
    noise = {"kind": "gaussian", "level": float(rng.uniform(settings.compound_noise_min, settings.compound_noise_max)),
             "color": True, "seed": int(rng.integers(0, 2**31 - 1))}
    jpeg = {"quality": int(rng.integers(settings.compound_jpeg_min, settings.compound_jpeg_max + 1))}
    return {"schema": SCHEMA, "scale": scale, "kernel": kernel.to_dict(), "noise": noise, "jpeg": jpeg,
            "second_order": sample_second_order(rng)}


def sample_second_order(rng: np.random.Generator) -> dict:
    """Real-ESRGAN-style second degradation pass (optional, used by training data, not benchmarks)."""
    return {"blur_sigma": float(rng.uniform(0.2, 1.5)), "resize": float(rng.uniform(0.5, 1.0)),
            "noise": {"kind": str(rng.choice(["gaussian", "poisson"])), "level": float(rng.uniform(0, 10 / 255)),
                      "color": bool(rng.random() < 0.6), "seed": int(rng.integers(0, 2**31 - 1))},
            "jpeg": {"quality": int(rng.integers(60, 96))}}
