"""Classical upscalers (no learning): the baselines every table carries.

nearest; bicubic (MATLAB imresize, the field's baseline); lanczos (Pillow, float);
bicubic+usm (bicubic, then unsharp mask: out = up + 0.8 (up - G_sigma * up), sigma = scale / 2).
They take any integer scale and any channel count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter

from ssr.imresize import imresize, resize_float
from ssr.methods.base import UpscaleResult, as_dtype


def nearest(image: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def bicubic(image: np.ndarray, scale: int) -> np.ndarray:
    return np.clip(imresize(image, scale=scale), 0, 1).astype(np.float32)


def lanczos(image: np.ndarray, scale: int) -> np.ndarray:
    return np.clip(resize_float(image, image.shape[0] * scale, image.shape[1] * scale, "lanczos"), 0, 1)


def bicubic_usm(image: np.ndarray, scale: int, amount: float = 0.8) -> np.ndarray:
    up = imresize(image, scale=scale)
    sigma = scale / 2
    blurred = np.stack([gaussian_filter(up[..., c], sigma, mode="reflect") for c in range(up.shape[2])], axis=2)
    return np.clip(up + amount * (up - blurred), 0, 1).astype(np.float32)


FUNCTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "nearest": nearest, "bicubic": bicubic, "lanczos": lanczos, "bicubic+usm": bicubic_usm}


@dataclass
class ClassicalMethod:
    name: str
    function: Callable[[np.ndarray, int], np.ndarray]
    scale: int | None = None
    needs_truth: bool = False
    intermediates: bool = False

    def upscale(self, image: np.ndarray, scale: int, truth: dict | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        return UpscaleResult(as_dtype(self.function(image, scale), out_dtype))
