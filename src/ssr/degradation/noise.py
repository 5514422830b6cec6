"""Sensor noise as an additive field, drawn from an explicit seed (the SCM's exogenous U_N).

Returning the field (not the noisy image) keeps the causal path visible: a counterfactual that
changes only the noise level reuses the same standard-normal draws, scaled.
Levels are on the [0, 1] intensity scale: Gaussian `level` is the standard deviation (15/255 is
"sigma 15"); Poisson `level` sets the photon count peak = 1 / level^2, so the standard deviation
at intensity x is level * sqrt(x) and both kinds are comparable at mid-grey.
`color=False` draws one field and applies it to every channel (luminance noise).
"""

from __future__ import annotations

import numpy as np

NOISE_KINDS = ("none", "gaussian", "poisson")


def noise_field(clean: np.ndarray, kind: str, level: float, color: bool, seed: int) -> np.ndarray:
    """Additive noise for a (H, W, C) float image in [0, 1]; zeros for kind 'none' or level 0."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind '{kind}' (one of {', '.join(NOISE_KINDS)})")
    if kind == "none" or level <= 0:
        return np.zeros_like(clean, dtype=np.float32)
    rng = np.random.Generator(np.random.PCG64(seed))
    h, w, c = clean.shape
    channels = c if color else 1
    if kind == "gaussian":
        field = rng.standard_normal((h, w, channels)) * level
    else:
        peak = 1.0 / (level * level)
        base = clean if color else clean.mean(axis=2, keepdims=True)
        field = rng.poisson(np.clip(base, 0, None).astype(np.float64) * peak) / peak - base
    if not color:
        field = np.repeat(field, c, axis=2)
    return field.astype(np.float32)
