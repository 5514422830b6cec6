"""MATLAB-compatible `imresize` (bicubic, antialiased when shrinking), in float64 numpy.

The SR field's "bicubic" baseline and NIQE's half-scale step are both defined by MATLAB's imresize,
so ssr reimplements its algorithm: Keys cubic with a = -0.5, the kernel widened by 1/scale when
shrinking (antialiasing), symmetric (mirror) border handling, all-zero weight columns dropped, and
the dimension with the smaller scale factor resized first (height first when equal).
"""

from __future__ import annotations

import math

import numpy as np


def _cubic(x: np.ndarray) -> np.ndarray:
    absx = np.abs(x)
    absx2, absx3 = absx ** 2, absx ** 3
    return ((1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
            + (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2)))


def _contributions(in_length: int, out_length: int, scale: float, antialiasing: bool) -> tuple[np.ndarray, np.ndarray]:
    kernel_width = 4.0
    shrink = scale < 1 and antialiasing
    if shrink:
        kernel_width /= scale
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    distance = u[:, None] - indices
    weights = scale * _cubic(distance * scale) if shrink else _cubic(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length)[::-1]])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


CHUNK_ELEMENTS = 4_000_000  # gathered values per chunk (~32 MB in float64): memory stays bounded


def _resize_axis(image: np.ndarray, axis: int, out_length: int, scale: float, antialiasing: bool) -> np.ndarray:
    weights, indices = _contributions(image.shape[axis], out_length, scale, antialiasing)
    moved = np.moveaxis(image, axis, 0)
    rest = moved.shape[1:]
    out = np.empty((out_length,) + rest, dtype=np.float64)
    per_row = weights.shape[1] * int(np.prod(rest, dtype=np.int64))
    step = max(1, CHUNK_ELEMENTS // max(per_row, 1))
    for start in range(0, out_length, step):
        stop = min(start + step, out_length)
        w = weights[start:stop].reshape(weights[start:stop].shape + (1,) * len(rest))
        out[start:stop] = (moved[indices[start:stop]] * w).sum(axis=1)
    return np.moveaxis(out, 0, axis)


def resize_float(image: np.ndarray, height: int, width: int, filter: str = "bilinear") -> np.ndarray:
    """Pillow resize on float data, channel by channel (no 8-bit rounding): (H, W) or (H, W, C).

    For quick geometric resizes (depth maps, photos, augmentation); `imresize` is the MATLAB-exact
    bicubic that metrics and the bicubic baseline need.
    """
    from PIL import Image

    resample = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
                "lanczos": Image.Resampling.LANCZOS}[filter]
    planes = image[..., None] if image.ndim == 2 else image
    out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], np.float32), "F").resize(
        (width, height), resample)) for c in range(planes.shape[2])], axis=2)
    return out[..., 0] if image.ndim == 2 else out


def imresize(image: np.ndarray, scale: float | None = None, output_shape: tuple[int, int] | None = None,
             antialiasing: bool = True) -> np.ndarray:
    """Resize a (H, W) or (H, W, C) float image like MATLAB's imresize(image, scale, 'bicubic')."""
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape[:2]
    if output_shape is None:
        if scale is None:
            raise ValueError("give scale or output_shape")
        output_shape = (int(math.ceil(h * scale)), int(math.ceil(w * scale)))
        scales = (scale, scale)
    else:
        scales = (output_shape[0] / h, output_shape[1] / w)
    order = sorted((0, 1), key=lambda axis: scales[axis])
    for axis in order:
        image = _resize_axis(image, axis, output_shape[axis], scales[axis], antialiasing)
    return image
