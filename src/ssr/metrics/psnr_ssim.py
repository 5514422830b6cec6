"""PSNR and SSIM exactly as BasicSR computes them (basicsr/metrics/psnr_ssim.py), in float64.

Inputs are (H, W, C) float images in [0, 1]; they are scaled to [0, 255] (not rounded: callers that
want 8-bit numbers pass 8-bit-representable images, e.g. files read back from disk).
* crop_border pixels are removed on every side first (benchmarks use crop_border = scale);
* `_y` variants convert to the Y channel of MATLAB's rgb2ycbcr (BT.601, Y in [16, 235]):
  Y = 16 + (65.481 R + 128.553 G + 24.966 B) with R, G, B in [0, 1]; Y is NOT rounded;
  BasicSR does this step in float32, ssr in float64 (differences ~1e-6 dB);
* PSNR = 10 log10(255^2 / MSE), +inf for identical images;
* SSIM: 11x11 Gaussian window, sigma 1.5 (cv2.getGaussianKernel), 'valid' region only (5-pixel
  margin dropped), C1 = (0.01*255)^2, C2 = (0.03*255)^2; multi-channel SSIM is the channel mean.
`_rgb` variants use all three channels without colour conversion.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])


def rgb_to_y(image255: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB in [0, 255] -> (H, W, 1) MATLAB Y in [16, 235], float64."""
    return (np.asarray(image255, np.float64) / 255.0 @ _Y_WEIGHTS + 16.0)[..., None]


def _prepare(img: np.ndarray, ref: np.ndarray, crop_border: int, y_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    if img.shape != ref.shape:
        raise ValueError(f"image shapes differ: {img.shape} vs {ref.shape}")
    a = np.asarray(img, np.float64) * 255.0
    b = np.asarray(ref, np.float64) * 255.0
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if crop_border > 0:
        a = a[crop_border:-crop_border, crop_border:-crop_border]
        b = b[crop_border:-crop_border, crop_border:-crop_border]
    if y_channel and a.shape[2] == 3:
        a, b = rgb_to_y(a), rgb_to_y(b)
    return a, b


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def psnr_y(img: np.ndarray, ref: np.ndarray, crop_border: int = 0) -> float:
    return _psnr(*_prepare(img, ref, crop_border, True))


def psnr_rgb(img: np.ndarray, ref: np.ndarray, crop_border: int = 0) -> float:
    return _psnr(*_prepare(img, ref, crop_border, False))


def _gaussian_window_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(channel: np.ndarray, window: np.ndarray) -> np.ndarray:
    margin = len(window) // 2
    out = correlate1d(correlate1d(channel, window, axis=0, mode="reflect"), window, axis=1, mode="reflect")
    return out[margin:-margin, margin:-margin]


def _ssim_channel(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    window = _gaussian_window_1d()
    mu1, mu2 = _filter_valid(a, window), _filter_valid(b, window)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 ** 2, mu2 ** 2, mu1 * mu2
    sigma1_sq = _filter_valid(a * a, window) - mu1_sq
    sigma2_sq = _filter_valid(b * b, window) - mu2_sq
    sigma12 = _filter_valid(a * b, window) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    return float(ssim_map.mean())


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    if min(a.shape[:2]) < 11:
        raise ValueError(f"SSIM needs at least 11x11 pixels after cropping, got {a.shape[1]}x{a.shape[0]}")
    return float(np.mean([_ssim_channel(a[..., c], b[..., c]) for c in range(a.shape[2])]))


def ssim_y(img: np.ndarray, ref: np.ndarray, crop_border: int = 0) -> float:
    return _ssim(*_prepare(img, ref, crop_border, True))


def ssim_rgb(img: np.ndarray, ref: np.ndarray, crop_border: int = 0) -> float:
    return _ssim(*_prepare(img, ref, crop_border, False))
