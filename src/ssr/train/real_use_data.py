"""Training pairs that look like real use, with their kernel field stored as codes (issue 8, point 4).

The benchmark protocols (sv, dof) stay fixed; the TRAINING distribution is wider, because photos
that users bring are often nearly clean, went through a photo editor's resize, or carry heavy JPEG:

* `sv`     smooth random fields of anisotropic Gaussians with sigma from `sigma_min` (nearly clean)
           to 5 px (x4), noise 0..15/255, JPEG down to `jpeg_min`, and with chance `second_order` a
           second degradation pass (blur, resize, noise, JPEG; Real-ESRGAN style);
* `dof`    thin-lens defocus of scenes with depth (synthetic layers and the RGB-D train split);
* `resize` MATLAB bicubic downscaling (imresize, antialiased) of a clean crop, half of the time with
           light noise (<= 2/255) and JPEG 60..95: "downscaled by an editor", the kernel being the
           resize kernel itself (`kernels.bicubic_resize_kernel`).

Depth input: true depth on dof pairs, flat or an unrelated smooth map on the others; and, for a share
`estimated_depth` of ALL pairs, what users get instead: the builtin DepthNet's estimate from the pair's
degraded LR (issue 8, points 1-2: a kernel estimator trained only on true, flat or smooth random depth
mistakes the object edges of an ESTIMATED map for blur changes; on clean Kodak24 photos the builtin
depth cost the KSR set 0.44 dB against flat depth, docs/benchmarks.md).

Each pair keeps its TRUE kernel field as the SR network's PCA code (code_dim per LR pixel, float16:
a 48x48 pair costs 74 KB instead of 2 MB of explicit taps) plus the depth a kernel estimator would
be given. A cache is rendered from a seed; the stage passes a new seed at every resume, so a long
training run keeps seeing fresh pairs (`fresh_cache_on_resume`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ssr.arrays import flat_depth, hwc_to_chw, quantise, to_uint8
from ssr.degradation import kernels as K
from ssr.degradation import protocols as P
from ssr.degradation.apply import kernel_offset
from ssr.degradation.jpeg import jpeg_roundtrip
from ssr.degradation.kernel_maps import covariance_to_kernels
from ssr.errors import ConfigError
from ssr.imresize import imresize
from ssr.models.kernel_code import KernelCode
from ssr.progress import progress
from ssr.train.data import (MARGIN_LR, build_val_set, distractor_depth, load_training_images, random_crop,
                            render_dof_pair, render_pair)
from ssr.train.depth_data import depth_pairs, load_pair

KINDS = ("sv", "dof", "resize")


@dataclass
class CodedPairCache:
    hr: torch.Tensor  # (N, 3, s*p, s*p) uint8
    lr: torch.Tensor  # (N, 3, p, p) uint8
    codes: torch.Tensor  # (N, code_dim, p, p) float16: the true kernel field as the SR net's code
    depth: torch.Tensor  # (N, 1, p, p) float16: what a kernel estimator is given
    kind: torch.Tensor  # (N,) int8: index into KINDS

    def __len__(self) -> int:
        return self.hr.shape[0]

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"lr": self.lr[indices].float() / 255.0, "hr": self.hr[indices].float() / 255.0,
                "codes": self.codes[indices].float(), "depth": self.depth[indices].float()}


def resize_code(code: KernelCode, scale: int) -> torch.Tensor:
    """(code_dim,) code of the MATLAB bicubic resize kernel."""
    kernel = K.bicubic_resize_kernel(code.kernel_size, scale, offset=kernel_offset(scale), dtype=torch.float32)
    with torch.no_grad():
        return code(kernel.view(1, -1, 1, 1))[0, :, 0, 0]


def render_resize_pair(image: np.ndarray, rng: np.random.Generator, scale: int, patch_lr: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(hr, lr) of one `resize` pair: a clean crop downscaled by MATLAB imresize, maybe lightly noised/JPEG'd."""
    hr = np.ascontiguousarray(random_crop(image, rng, (patch_lr + 2 * MARGIN_LR) * scale))
    lr = np.clip(imresize(hr, scale=1 / scale), 0, 1)
    if rng.random() < 0.5:
        lr = np.clip(lr + rng.normal(0, rng.uniform(0, 2 / 255), lr.shape), 0, 1)
        lr = jpeg_roundtrip(lr.astype(np.float32), int(rng.integers(60, 96)))
    lr = quantise(lr)
    inner = slice(MARGIN_LR, MARGIN_LR + patch_lr)
    inner_hr = slice(MARGIN_LR * scale, (MARGIN_LR + patch_lr) * scale)
    return hr[inner_hr, inner_hr], lr[inner, inner]


def _choose(rng: np.random.Generator, mix: dict[str, float]) -> str:
    names = [k for k in KINDS if mix.get(k, 0) > 0]
    weights = np.array([mix[k] for k in names], np.float64)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


@torch.no_grad()
def build_coded_cache(images: list[np.ndarray], real_depth: list[tuple[np.ndarray, np.ndarray]], count: int,
                      scale: int, patch_lr: int, seed: int, code: KernelCode, mix: dict[str, float],
                      settings: P.ProtocolSettings, second_order: float, estimated_depth: float = 0.0,
                      depth_estimator: Callable[[np.ndarray], np.ndarray] | None = None) -> CodedPairCache:
    """`count` seeded pairs; `estimated_depth` > 0 (with `depth_estimator`: LR (h, w, 3) -> depth (h, w))
    replaces that share of the depth inputs by the estimate (the rng draws it only then, so caches of
    configs without it stay bit-identical)."""
    if estimated_depth > 0 and depth_estimator is None:
        raise ValueError("estimated_depth > 0 needs a depth_estimator")
    rng = np.random.default_rng(seed)
    size = code.kernel_size
    bicubic = resize_code(code, scale).half()
    flat = flat_depth(patch_lr, patch_lr, np.float16)
    hrs, lrs, codes, depths, kinds = [], [], [], [], []
    for _ in progress(range(count), "render training pairs"):
        kind = _choose(rng, mix)
        depth = flat
        if kind == "dof":
            hr, lr, kernels, depth = render_dof_pair(images, real_depth, rng, scale, patch_lr, settings)
            pair_code = code(torch.from_numpy(kernels).float()[None])[0].half()
        else:
            image = images[int(rng.integers(len(images)))]
            if kind == "sv":
                hr, lr, cov = render_pair(image, rng, scale, patch_lr, settings, second_order)
                kernels = covariance_to_kernels(torch.from_numpy(cov.astype(np.float32))[None], size, scale)
                pair_code = code(kernels)[0].half()
            else:
                hr, lr = render_resize_pair(image, rng, scale, patch_lr)
                pair_code = bicubic.view(-1, 1, 1).expand(-1, patch_lr, patch_lr)
            if mix.get("dof", 0) > 0 and rng.random() < 0.5:  # depth is a cue, not the law
                depth = distractor_depth(rng, patch_lr)
        if estimated_depth > 0 and rng.random() < estimated_depth:
            depth = depth_estimator(lr)
        hrs.append(hwc_to_chw(to_uint8(hr)))
        lrs.append(hwc_to_chw(to_uint8(lr)))
        codes.append(pair_code.contiguous())
        depths.append(np.asarray(depth, np.float16)[None])
        kinds.append(KINDS.index(kind))
    return CodedPairCache(torch.from_numpy(np.stack(hrs)), torch.from_numpy(np.stack(lrs)), torch.stack(codes),
                          torch.from_numpy(np.stack(depths)), torch.tensor(kinds, dtype=torch.int8))


@dataclass
class RealUseSettings:
    """Config fields every stage trained on real-use pairs shares (ksr, dkenet_code)."""

    kernel_size: int = 21
    patch_lr: int = 48
    sv: float = 0.45  # shares of the pair kinds (normalised)
    dof: float = 0.25
    resize: float = 0.3
    sigma_min: float = 0.2  # sv blur from nearly clean ...
    jpeg_min: int = 30  # ... and JPEG down to this quality
    second_order: float = 0.2  # chance of a second degradation pass on sv pairs
    estimated_depth: float = 0.0  # share of pairs whose depth input is the builtin DepthNet's estimate from the LR
    fresh_cache_on_resume: bool = True
    depth_root: str | None = field(default=None, metadata={"path": True})
    val_dirs: list[str] = field(default_factory=list, metadata={"path": True})

    def check_real_use(self, stage: str) -> None:
        """The checks every real-use stage shares (each stage's `check` calls it)."""
        if not 0 <= self.estimated_depth <= 1:
            raise ConfigError(f"config: {stage}.estimated_depth must be in [0, 1], got {self.estimated_depth}")


def load_real_use(config, settings: RealUseSettings, rank: int, start_step: int, code: KernelCode):
    """The cache (a new seed per resume when asked) and, on rank 0, the sv validation images."""
    s, d, scale = settings, config.data, config.scale
    seed = config.seed + (start_step if s.fresh_cache_on_resume else 0)
    images = load_training_images(d.train_dirs, d.photo_downscale, min_side=(s.patch_lr + 6) * scale)
    real = [load_pair(*pair) for pair in depth_pairs(Path(s.depth_root))[0]] if s.depth_root and s.dof else []
    protocol = P.ProtocolSettings.for_scale(scale).with_overrides(
        {"grid": "2", "kernel_size": str(s.kernel_size), "sigma_min": str(s.sigma_min), "jpeg_min": str(s.jpeg_min)})
    cache = build_coded_cache(images, real, d.cache_size, scale, s.patch_lr, seed, code,
                              dict(zip(KINDS, (s.sv, s.dof, s.resize))), protocol, s.second_order,
                              s.estimated_depth, builtin_depth() if s.estimated_depth > 0 else None)
    return cache, real_use_val_set(config, settings) if rank == 0 else []


def builtin_depth() -> Callable[[np.ndarray], np.ndarray]:
    """The shipped builtin DepthNet as the pipeline runs it (the whole LR seen at the net's view size)."""
    from ssr.depth import make_depth_estimator

    estimator = make_depth_estimator("builtin")
    return lambda lr: estimator(np.asarray(lr, np.float32)).astype(np.float16)


def real_use_val_set(config, settings: RealUseSettings) -> list:
    """The sv validation images of a real-use stage (every `val_dirs` folder, `data.val_images` each)."""
    val_set = []
    for folder in settings.val_dirs:
        val_set += build_val_set(folder, config.data.val_images, config.scale, config.seed, settings.kernel_size)
    return val_set
