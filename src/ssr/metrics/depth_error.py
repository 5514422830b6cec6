"""Relative-depth error after least-squares scale-and-shift alignment (MiDaS protocol).

Monocular estimators give depth up to an unknown scale and shift, so the prediction p is first
aligned to the ground truth g on valid pixels: (s, t) = argmin sum (s p + t - g)^2. Both maps are in
the same space, relative INVERSE depth (disparity) in ssr. Then on valid pixels (g > 0, finite):
AbsRel = mean(|a - g| / g) and delta<1.25 = fraction with max(a / g, g / a) < 1.25, where a is the
aligned prediction clipped to a small positive floor.
"""

from __future__ import annotations

import numpy as np


def align_scale_shift(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    p, g = pred[mask].astype(np.float64), gt[mask].astype(np.float64)
    design = np.stack([p, np.ones_like(p)], axis=1)
    (scale, shift), *_ = np.linalg.lstsq(design, g, rcond=None)
    return float(scale), float(shift)


def depth_errors(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"depth maps differ in shape: {pred.shape} vs {gt.shape}")
    valid = np.isfinite(gt) & (gt > 0) & np.isfinite(pred)
    if mask is not None:
        valid &= mask
    if valid.sum() < 2:
        raise ValueError("need at least two valid ground-truth pixels")
    scale, shift = align_scale_shift(pred, gt, valid)
    floor = 1e-6 * float(gt[valid].max())
    aligned = np.maximum(scale * pred[valid] + shift, floor)
    g = gt[valid]
    ratio = np.maximum(aligned / g, g / aligned)
    return {"abs_rel": float(np.mean(np.abs(aligned - g) / g)), "delta1": float(np.mean(ratio < 1.25)),
            "scale": scale, "shift": shift}
