"""NIQE, reproducing the MATLAB reference (Mittal et al. 2012) the way BasicSR 1.4.2 does.

Steps: RGB -> MATLAB Y in [0, 255] (see psnr_ssim), optional border crop, ROUND to integers (as
MATLAB works on uint8), crop to whole 96x96 blocks; at two scales (the second made with MATLAB
imresize(0.5), antialiased) normalise by local mean/std (7x7 Gaussian window from the parameter
file, 'nearest' borders, MSCN with +1 in the denominator), fit AGGD features per block (18 per scale),
fit a multivariate Gaussian and return the Mahalanobis-like distance to the pristine model.
BasicSR's note: MATLAB R2021a gives 5.72957338 for baboon.png, their port 5.7295763.

The pristine parameters (`niqe_pris_params.npz`: mu_pris_param, cov_pris_param, gaussian_window)
are not shipped. They are looked up in: the `params_path` argument, $SSR_NIQE_PARAMS,
<data root>/metrics/niqe_pris_params.npz (see ssr.paths), ~/.cache/ssr/niqe_pris_params.npz.
When none exists NIQE is *unavailable* (None), never zero.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve
from scipy.special import gamma

from ssr.imresize import imresize
from ssr.metrics.psnr_ssim import rgb_to_y
from ssr.paths import CACHE_DIR, data_root

PARAMS_FILE = "niqe_pris_params.npz"
BLOCK = 96


def niqe_params_path(explicit: str | Path | None = None) -> Path | None:
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("SSR_NIQE_PARAMS"):
        candidates.append(Path(os.environ["SSR_NIQE_PARAMS"]))
    root = data_root()
    if root is not None:
        candidates.append(root / "metrics" / PARAMS_FILE)
    candidates.append(CACHE_DIR / PARAMS_FILE)
    return next((c for c in candidates if c.is_file()), None)


@lru_cache(maxsize=4)
def _load_params(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.load(path)
    return data["mu_pris_param"], data["cov_pris_param"], data["gaussian_window"]


_GAM = np.arange(0.2, 10.001, 0.001)
_R_GAM = np.square(gamma(2 / _GAM)) / (gamma(1 / _GAM) * gamma(3 / _GAM))


def _aggd(block: np.ndarray) -> tuple[float, float, float]:
    block = block.ravel()
    left_std = np.sqrt(np.mean(block[block < 0] ** 2))
    right_std = np.sqrt(np.mean(block[block > 0] ** 2))
    gammahat = left_std / right_std
    rhat = np.mean(np.abs(block)) ** 2 / np.mean(block ** 2)
    rhatnorm = rhat * (gammahat ** 3 + 1) * (gammahat + 1) / (gammahat ** 2 + 1) ** 2
    alpha = _GAM[np.argmin((_R_GAM - rhatnorm) ** 2)]
    factor = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left_std * factor, right_std * factor


def _block_features(block: np.ndarray) -> list[float]:
    alpha, beta_l, beta_r = _aggd(block)
    features = [alpha, (beta_l + beta_r) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        alpha, beta_l, beta_r = _aggd(block * np.roll(block, shift, axis=(0, 1)))
        mean = (beta_r - beta_l) * (gamma(2 / alpha) / gamma(1 / alpha))
        features += [alpha, mean, beta_l, beta_r]
    return features


def niqe_of_y(y: np.ndarray, params_path: Path) -> float:
    """NIQE of a (H, W) Y/grey image in [0, 255] that is already rounded."""
    mu_pris, cov_pris, window = _load_params(str(params_path))
    h, w = y.shape
    blocks_h, blocks_w = h // BLOCK, w // BLOCK
    if blocks_h == 0 or blocks_w == 0:
        raise ValueError(f"NIQE needs at least {BLOCK}x{BLOCK} pixels, got {w}x{h}")
    img = y[: blocks_h * BLOCK, : blocks_w * BLOCK].astype(np.float64)
    per_scale = []
    for scale in (1, 2):
        mu = convolve(img, window, mode="nearest")
        sigma = np.sqrt(np.abs(convolve(img * img, window, mode="nearest") - mu * mu))
        normalised = (img - mu) / (sigma + 1)
        size = BLOCK // scale
        per_scale.append(np.array([
            _block_features(normalised[bh * size:(bh + 1) * size, bw * size:(bw + 1) * size])
            for bw in range(blocks_w) for bh in range(blocks_h)]))
        if scale == 1:
            img = imresize(img / 255.0, scale=0.5, antialiasing=True) * 255.0
    features = np.concatenate(per_scale, axis=1)
    mu_dist = np.nanmean(features, axis=0)
    cov_dist = np.cov(features[~np.isnan(features).any(axis=1)], rowvar=False)
    inv = np.linalg.pinv((cov_pris + cov_dist) / 2)
    diff = mu_pris - mu_dist
    return float(np.sqrt(np.squeeze(diff @ inv @ diff.T)))


def niqe(image: np.ndarray, crop_border: int = 0, params_path: str | Path | None = None) -> float | None:
    """NIQE of a (H, W, C) float image in [0, 1]; None when the parameter file is unavailable."""
    path = niqe_params_path(params_path)
    if path is None:
        return None
    img = np.asarray(image, np.float64) * 255.0
    y = rgb_to_y(img)[..., 0] if img.ndim == 3 and img.shape[2] == 3 else img.reshape(img.shape[0], img.shape[1])
    if crop_border:
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    return niqe_of_y(np.round(y), path)

