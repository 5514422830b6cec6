"""Typed, frozen options of the SVKR upscaler: every default is written here and nowhere else.

The CLI, the Python callers and the benchmark build an `SVKROptions` (the ablation variants of the
benchmark are presets of it, see `ssr.methods`); the pipeline reads it. Validation happens when the
object is made, so a bad value (`rounds=0`, a tile smaller than its context) fails before any work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ssr.errors import ConfigError

PRECISIONS = ("fp32", "bf16", "auto")
REFINERS = ("none", "diffusion")
KERNEL_SOURCES = ("estimated", "true", "prior")


@dataclass(frozen=True)
class SVKROptions:
    """How the SVKR pipeline runs (SSR Algorithm 1 + tiling)."""

    rounds: int = 1  # T: depth -> kernels -> SR rounds. 1 by default: with today's weights T = 3 adds only
    #                  +0.01 dB on held-out Middlebury dof for 2.5x the time (docs/benchmarks.md); `ssr-t3`
    #                  / --rounds 3 is the paper's full Algorithm 1
    beta: float = 0.9  # momentum of the kernel field between rounds (Eq. 2 as ssr reads it)
    tile: int = 96  # LR tile side (0 = the whole image at once)
    overlap: int = 16  # LR pixels of context + blending around each tile
    depth: str | None = None  # depth backend spec; None = the shipped default (builtin if present);
    #                           "gt" = a synthetic set's true depth (ablation; needs the set's meta maps)
    precision: str = "fp32"  # fp32 | bf16 (autocast of DKENet and the SR net) | auto (bf16 where native)
    device: str = "cpu"  # cpu | cuda | cuda:N
    kernels: str = "estimated"  # estimated (DKENet) | true (oracle: a synthetic set's truth) | prior (the
    #                             training prior's mean kernel at every pixel: what the kernel is worth)
    weights: str | None = None  # weight set: None = shipped, a user set's name, or a folder with a manifest
    strength: float = 1.0  # 1 = full restoration, 0 = plain bicubic enlargement, between = a blend
    refine: str = "none"  # none | diffusion: the AMF-conditioned diffusion refiner after SVKR (ssr.refine)
    steps: int = 2  # refiner sampling steps (1..the trained chain length)
    seed: int = 0  # refiner noise seed (same seed -> bit-identical output)
    fidelity: float = 0.0  # refiner noise scale 1 - fidelity: 0 = the trained sampler (best ST-LPIPS on B100 /
    #                        Set14 / Middlebury for 0.02-0.13 dB, docs/benchmarks.md), 1 = deterministic
    backend: str = "own"  # the refiner: own (ssr's trained refiner) | sd:DIR (a local Stable Diffusion + AMF adapter)
    grain: float = 0.0  # std (on /255) of seeded Gaussian film grain added to the output (0 = none); also
    #                     the refiner benchmark's control ("grain alone games NIQE")

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ConfigError(f"--rounds must be >= 1, got {self.rounds}")
        if not 0 <= self.beta < 1:
            raise ConfigError(f"beta must be in [0, 1), got {self.beta}")
        if self.overlap < 0:
            raise ConfigError(f"--tile-overlap must be >= 0, got {self.overlap}")
        if self.tile < 0 or (self.tile and self.tile <= 2 * self.overlap):
            raise ConfigError(f"--tile ({self.tile}) must be 0 (no tiling) or larger than twice "
                              f"--tile-overlap ({self.overlap})")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got '{self.precision}'")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"--device must be cpu or cuda[:N], got '{self.device}'")
        if not 0 <= self.strength <= 1:
            raise ConfigError(f"--strength must be in [0, 1], got {self.strength}")
        if self.refine not in REFINERS:
            raise ConfigError(f"--refine must be one of {', '.join(REFINERS)}, got '{self.refine}'")
        if self.steps < 1:
            raise ConfigError(f"--steps must be >= 1, got {self.steps}")
        if self.backend != "own" and not (self.backend.startswith("sd:") and len(self.backend) > 3):
            raise ConfigError(f"--backend must be own or sd:DIR, got '{self.backend}'")
        if self.backend != "own" and self.refine != "diffusion":
            raise ConfigError("--backend applies to --refine diffusion only")
        if not 0 <= self.grain <= 64:
            raise ConfigError(f"--grain must be in [0, 64] (/255), got {self.grain}")
        if not 0 <= self.fidelity <= 1:
            raise ConfigError(f"--fidelity must be in [0, 1], got {self.fidelity}")
        if self.kernels not in KERNEL_SOURCES:
            raise ConfigError(f"kernels must be one of {KERNEL_SOURCES}, got '{self.kernels}'")

    def replace(self, **changes) -> "SVKROptions":
        return dataclasses.replace(self, **changes)


#: Option name -> the command-line flag that sets it (for messages about options that do not apply).
FLAGS = {"rounds": "--rounds", "beta": "--beta", "tile": "--tile", "overlap": "--tile-overlap",
         "depth": "--depth", "precision": "--precision", "device": "--device", "kernels": "--kernels",
         "weights": "--weights", "strength": "--strength", "refine": "--refine", "steps": "--steps", "seed": "--seed",
         "fidelity": "--fidelity", "grain": "--grain", "backend": "--backend"}


def native_bf16(device: str = "cpu") -> bool:
    """True where bfloat16 math is native: a CUDA device that supports it, or a CPU with AVX512-BF16/AMX
    (elsewhere oneDNN emulates bf16, slower than fp32)."""
    if device.startswith("cuda"):
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str, device: str = "cpu") -> str:
    """'auto' -> 'bf16' where native (see native_bf16), else 'fp32'; other values unchanged."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"
