"""Pre-rendered counterfactual groups for stage `causal` (CausalSR, issue 12).

Rendering siblings on the fly costs as much as a training step on a CPU, so every HR crop is rendered
ONCE with its factual record and, per factor, one bounded sibling at each strength level
(`SiblingSampler.sibling`: only the intervened path is re-rendered, every other exogenous value,
noise seed included, is kept). A batch then picks, per crop, K-1 siblings whose levels the adaptive
curriculum chooses (`ssr.causal.adaptive`). Row layout of one group:

    row 0                  the factual pair
    rows 1 ..              for each factor in `factors`, one row per strength level (second_order: 1)

Each row keeps the TRUE kernel field as the SR body's code (only kernel siblings have a code of
their own), and a degradation target vector (what the degradation head must predict):
noise level / noise_max, (jpeg_max - quality) / (jpeg_max - jpeg_min), second pass on/off, mean
kernel sigma / sigma_max. A rendered cache can be kept on disk (`cache_dir`, outside the repository)
so the arms of a study share it instead of rendering it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import hwc_to_chw, to_uint8
from ssr.causal.adaptive import AdaptiveLevels
from ssr.causal.siblings import FACTORS, SiblingSampler
from ssr.degradation import protocols as P
from ssr.degradation.field import GridField
from ssr.degradation.kernel_maps import covariance_to_kernels
from ssr.degradation.scm import render
from ssr.models.kernel_code import KernelCode
from ssr.progress import progress, say
from ssr.train.data import MARGIN_LR, random_crop

TARGETS = ("noise", "jpeg", "second_order", "blur")


def level_counts(factors: tuple[str, ...], levels: int) -> dict[str, int]:
    return {f: 1 if f == "second_order" else levels for f in factors}


def row_table(factors: tuple[str, ...], levels: int) -> list[tuple[str | None, int]]:
    """(factor, level) of every row of a group; row 0 = (None, 0), the factual."""
    counts = level_counts(factors, levels)
    return [(None, 0)] + [(f, level) for f in factors for level in range(counts[f])]


def degradation_targets(record: dict, settings: P.ProtocolSettings) -> list[float]:
    """The record's factors on [0, 1]-ish scales, in TARGETS order."""
    sigma = GridField.from_dict(record["kernel"]).params
    blur = float(np.mean(np.concatenate([sigma["sigma_x"].ravel(), sigma["sigma_y"].ravel()])))
    quality = record["jpeg"]["quality"] if record.get("jpeg") else settings.jpeg_max
    return [float(record["noise"]["level"]) / settings.noise_max,
            (settings.jpeg_max - quality) / max(1, settings.jpeg_max - settings.jpeg_min),
            float(record.get("second_order") is not None), blur / settings.sigma_max]


@dataclass
class GroupCache:
    hr: torch.Tensor  # (G, 3, s*p, s*p) uint8
    lr: torch.Tensor  # (G, R, 3, p, p) uint8
    accepted: torch.Tensor  # (G, R) bool
    codes: torch.Tensor  # (G, 1 + kernel levels, code_dim, p, p) float16
    targets: torch.Tensor  # (G, R, len(TARGETS)) float32
    factors: tuple[str, ...]
    levels: int

    @property
    def rows(self) -> list[tuple[str | None, int]]:
        return row_table(self.factors, self.levels)

    def code_slot(self, row: int) -> int:
        factor, level = self.rows[row]
        return 1 + level if factor == "kernel" else 0

    def acceptance(self) -> float:
        return float(self.accepted[:, 1:].float().mean()) if self.accepted.shape[1] > 1 else 1.0


def _inner(image: np.ndarray, scale: int, patch_lr: int) -> np.ndarray:
    lo = MARGIN_LR * scale
    return image[lo:lo + patch_lr * scale, lo:lo + patch_lr * scale]


@torch.no_grad()
def render_groups(images: list[np.ndarray], count: int, scale: int, patch_lr: int, seed: int, code: KernelCode,
                  protocol: P.ProtocolSettings, second_order: float, factors: tuple[str, ...], levels: int,
                  min_lr_psnr: float) -> GroupCache:
    rng = np.random.default_rng(seed)
    sampler = SiblingSampler(protocol, factors, min_lr_psnr=min_lr_psnr)
    rows = row_table(factors, levels)
    crop_lr = patch_lr + 2 * MARGIN_LR
    inner = slice(MARGIN_LR, MARGIN_LR + patch_lr)
    hrs, lrs, accepted, codes, targets = [], [], [], [], []
    for _ in progress(range(count), "render counterfactual groups"):
        hr = random_crop(images[int(rng.integers(len(images)))], rng, crop_lr * scale)
        if rng.random() < 0.5:
            hr = np.rot90(hr)
        hr = np.ascontiguousarray(hr)
        record = P.sample_sv(rng, scale, protocol)
        if rng.random() < second_order:
            record["second_order"] = P.sample_second_order(rng)
        factual = render(record, hr)
        group = [(record, factual.lr, True)]
        for factor, level in rows[1:]:
            sibling = sampler.sibling(rng, hr, record, factual, factor, level, levels)
            group.append((sibling.record, sibling.rendering.lr, sibling.accepted))
        kernel_records = [record] + [rec for (f, _), (rec, _, _) in zip(rows, group) if f == "kernel"]
        covs = []
        for rec in kernel_records:
            maps = GridField.from_dict(rec["kernel"]).pixel_maps(crop_lr, crop_lr)
            covs.append(np.stack([maps["c_xx"], maps["c_xy"], maps["c_yy"]])[:, inner, inner])
        kernels = covariance_to_kernels(torch.from_numpy(np.stack(covs).astype(np.float32)), code.kernel_size, scale)
        codes.append(code(kernels).half())
        hrs.append(hwc_to_chw(to_uint8(_inner(hr, scale, patch_lr))))
        lrs.append(np.stack([hwc_to_chw(to_uint8(lr[inner, inner])) for _, lr, _ in group]))
        accepted.append([ok for _, _, ok in group])
        targets.append([degradation_targets(rec, protocol) for rec, _, _ in group])
    return GroupCache(torch.from_numpy(np.stack(hrs)), torch.from_numpy(np.stack(lrs)), torch.tensor(accepted),
                      torch.stack(codes), torch.tensor(targets, dtype=torch.float32), factors, levels)


def cached_groups(cache_dir: str | None, key: dict, build) -> GroupCache:
    """`build()`, or the copy kept in `cache_dir` under a hash of everything that determines it."""
    if not cache_dir:
        return build()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir).expanduser() / f"causal_groups_{digest}.pt"
    if path.is_file():
        say(f"counterfactual groups from {path}")
        return GroupCache(**torch.load(path, weights_only=False))
    cache = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(cache.__dict__, tmp)
    tmp.replace(path)
    return cache


class CounterfactualSource:
    """The stage's BatchSource: factual rows only (arm A) or groups of `rows_per_group` siblings."""

    def __init__(self, cache: GroupCache, rows_per_group: int, adaptive: AdaptiveLevels, seed: int) -> None:
        self.cache, self.k, self.adaptive, self.seed = cache, rows_per_group, adaptive, seed
        self.table = cache.rows
        self.rows_of = {f: [i for i, (g, _) in enumerate(self.table) if g == f] for f in cache.factors}
        self.drawn = self.found = 0

    def __len__(self) -> int:
        return self.cache.hr.shape[0]

    @property
    def acceptance(self) -> float:
        """Share of sibling draws that found an accepted (within-cap) sibling."""
        return self.found / self.drawn if self.drawn else 1.0

    def _pick(self, rng: np.random.Generator, g: int) -> list[tuple[int, int, int]]:
        """(row, factor index, level) of the K rows of group g: the factual, then K-1 siblings."""
        picked = [(0, -1, 0)]
        factors = list(self.cache.factors)
        order = rng.permutation(len(factors)).tolist()
        for i in range(self.k - 1):
            factor = factors[order[i % len(order)]]
            rows = self.rows_of[factor]
            allowed = self.cache.accepted[g, rows].numpy()
            level = self.adaptive.choose(rng, factor, allowed)
            self.drawn += 1
            if level is None:
                picked.append((0, -1, 0))
            else:
                self.found += 1
                picked.append((rows[level], FACTORS.index(factor), level))
        return picked

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        c = self.cache
        if self.k == 1:
            groups = indices.tolist()
            picks = [[(0, -1, 0)] for _ in groups]
        else:
            groups = indices[: max(1, len(indices) // self.k)].tolist()
            rng = np.random.default_rng([self.seed, *groups])
            picks = [self._pick(rng, g) for g in groups]
        lr, hr, codes, targets, factor, level, group = [], [], [], [], [], [], []
        for local, (g, rows) in enumerate(zip(groups, picks)):
            for row, f, lev in rows:
                lr.append(c.lr[g, row])
                hr.append(c.hr[g])
                codes.append(c.codes[g, c.code_slot(row)])
                targets.append(c.targets[g, row])
                factor.append(f)
                level.append(lev)
                group.append(local)
        return {"lr": torch.stack(lr).float() / 255.0, "hr": torch.stack(hr).float() / 255.0,
                "codes": torch.stack(codes).float(), "targets": torch.stack(targets),
                "factor": torch.tensor(factor), "level": torch.tensor(level), "group": torch.tensor(group)}
