"""Counterfactual siblings: the same HR crop and exogenous noise, one factor intervened on.

For a factual record r and its rendering, a sibling is do(factor = v)(r) rendered with only the
intervened path recomputed (`scm.rerender`). Factors and the ranges their new values are drawn from:

  kernel         a new smooth random field of anisotropic Gaussians (the sv protocol's ranges)
  noise.level    U(0, noise_max)
  jpeg.quality   U{jpeg_min..jpeg_max}
  second_order   a new second pass (Real-ESRGAN style), or none when the factual had one

Bounded interventions: a sibling whose LR differs from the factual LR by more than the cap (its PSNR
against the factual LR below `min_lr_psnr` dB) is rejected and redrawn (up to `tries` times, else the
factual is repeated with `accepted=False`), so no single intervention can turn a pair into a different
task; the sampler counts its acceptance rate (`acceptance`) for the training log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssr.degradation import protocols as P
from ssr.degradation.field import random_gaussian_field
from ssr.degradation.scm import Rendering, intervene, render, rerender

if TYPE_CHECKING:
    import torch

FACTORS = ("kernel", "noise.level", "jpeg.quality", "second_order")


@dataclass
class Sibling:
    factor: str | None  # None for the factual
    record: dict
    rendering: Rendering
    accepted: bool = True


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


class SiblingSampler:
    def __init__(self, settings: P.ProtocolSettings, factors: tuple[str, ...] = FACTORS, min_lr_psnr: float = 20.0,
                 tries: int = 4) -> None:
        unknown = sorted(set(factors) - set(FACTORS))
        if unknown:
            raise ValueError(f"unknown factor(s) {unknown} (one of {FACTORS})")
        self.settings, self.factors, self.min_lr_psnr, self.tries = settings, factors, min_lr_psnr, tries
        self.proposed = self.accepted = 0

    @property
    def acceptance(self) -> float:
        return self.accepted / self.proposed if self.proposed else 1.0

    def level_range(self, factor: str, level: int, levels: int) -> tuple[float, float]:
        """The sub-range of `factor`'s values that strength level `level` of `levels` covers.

        Levels are ordered by severity: larger blur, more noise, LOWER JPEG quality.
        """
        s = self.settings
        lo, hi = {"kernel": (s.sigma_min, s.sigma_max), "noise.level": (0.0, s.noise_max),
                  "jpeg.quality": (float(s.jpeg_max), float(s.jpeg_min))}[factor]
        return lo + (hi - lo) * level / levels, lo + (hi - lo) * (level + 1) / levels

    def new_value(self, rng: np.random.Generator, factor: str, record: dict, level: int = 0, levels: int = 1):
        """A new value for `factor`, drawn from strength level `level` of `levels` (the whole range at 1)."""
        s = self.settings
        if factor == "second_order":
            return None if record.get("second_order") is not None else P.sample_second_order(rng)
        lo, hi = self.level_range(factor, level, levels)
        if factor == "kernel":
            return random_gaussian_field(rng, (s.grid, s.grid), s.kernel_size, (lo, hi)).to_dict()
        if factor == "noise.level":
            return float(rng.uniform(lo, hi))
        return int(round(rng.uniform(min(lo, hi), max(lo, hi))))

    def sibling(self, rng: np.random.Generator, hr: np.ndarray, record: dict, factual: Rendering, factor: str,
                level: int = 0, levels: int = 1, depth: np.ndarray | None = None) -> Sibling:
        """One bounded intervention: redrawn up to `tries` times while it breaks the LR-PSNR cap."""
        for _ in range(self.tries):
            self.proposed += 1
            child = intervene(record, factor, self.new_value(rng, factor, record, level, levels))
            rendering = rerender(child, hr, factual, factor, depth)
            if _psnr(rendering.lr, factual.lr) >= self.min_lr_psnr:
                self.accepted += 1
                return Sibling(factor, child, rendering)
        return Sibling(factor, record, factual, accepted=False)

    def siblings(self, rng: np.random.Generator, hr: np.ndarray, record: dict, count: int,
                 depth: np.ndarray | None = None) -> list[Sibling]:
        """The factual pair first, then `count` siblings, each with one factor (cycled) intervened."""
        factual = render(record, hr, depth)
        out = [Sibling(None, record, factual)]
        for i in range(count):
            out.append(self.sibling(rng, hr, record, factual, self.factors[i % len(self.factors)], depth=depth))
        return out


@dataclass
class CounterfactualBatch:
    """Groups of siblings as tensors: rows g*K .. g*K+K-1 share one HR crop (row g*K is the factual).

    `factor[i]` is the index in FACTORS of what row i's intervention changed (-1: factual or rejected),
    `group[i]` the crop it belongs to, `records` every row's record: losses know what changed.
    """

    lr: torch.Tensor  # (G*K, 3, h, w) float
    hr: torch.Tensor  # (G*K, 3, s*h, s*w) float (the same HR repeated within a group)
    factor: torch.Tensor  # (G*K,) int64
    group: torch.Tensor  # (G*K,) int64
    records: list[dict]


def counterfactual_batch(sampler: SiblingSampler, rng: np.random.Generator, crops: list[np.ndarray],
                         records: list[dict], siblings: int) -> CounterfactualBatch:
    """The factual pair and `siblings` counterfactual ones for every HR crop."""
    import torch

    from ssr.arrays import hwc_to_chw

    lrs, hrs, factors, groups, out_records = [], [], [], [], []
    for g, (hr, record) in enumerate(zip(crops, records)):
        for sibling in sampler.siblings(rng, hr, record, siblings):
            lrs.append(hwc_to_chw(sibling.rendering.lr))
            hrs.append(hwc_to_chw(hr))
            factors.append(FACTORS.index(sibling.factor) if sibling.factor and sibling.accepted else -1)
            groups.append(g)
            out_records.append(sibling.record)
    return CounterfactualBatch(torch.from_numpy(np.stack(lrs)).float(), torch.from_numpy(np.stack(hrs)).float(),
                               torch.tensor(factors), torch.tensor(groups), out_records)
