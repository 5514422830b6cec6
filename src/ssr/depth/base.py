"""The depth interface and the helpers every backend shares.

Every backend maps an RGB image (H, W, 3) float [0, 1] to relative inverse depth in [0, 1]
(1 = nearest) at the shape the caller asks for (`out_shape`; default the input's). Estimation runs
on a view reduced to at most `max_side` pixels (depth is smooth, and this bounds memory for any image
size); the raw map goes from the view straight to `out_shape` (one resize) and is normalised there
(robust 1st/99th percentiles -> 0/1). The upscale path therefore never builds a full-size depth plane
or a full-size bicubic image just to feed depth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ssr.arrays import FLAT_DEPTH, flat_depth
from ssr.hashing import sha256_file
from ssr.imresize import imresize, resize_float
from ssr.progress import say

DEFAULT_MAX_SIDE = 384
Shape = tuple[int, int]


class DepthEstimator(Protocol):
    name: str
    files: dict[str, str]  # weight files a user supplied -> SHA-256 (printed, and recorded by ssr bench)

    def __call__(self, rgb: np.ndarray, out_shape: Shape | None = None) -> np.ndarray:
        """(H, W, 3) float [0, 1] -> out_shape (default (H, W)) float32 relative inverse depth in [0, 1]."""


def reduce_for_depth(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """The view a depth network sees: the whole image, longer side at most `max_side` (float [0, 1])."""
    return view_at_side(rgb, min(max_side, max(rgb.shape[:2])))


def view_at_side(rgb: np.ndarray, side: int) -> np.ndarray:
    """The whole image resized (up or down) so that its longer side is `side` pixels.

    A network trained on whole-scene views of one size sees every image at that size, whatever its
    resolution: an LR image is enlarged to the view directly (MATLAB bicubic, as the SR output would
    be seen), never through a full-size bicubic; a large image is reduced with Pillow's filter (fast).
    """
    h, w = rgb.shape[:2]
    peak = float(np.iinfo(rgb.dtype).max) if np.issubdtype(rgb.dtype, np.integer) else 1.0  # uint8/16 SR
    factor = side / max(h, w)
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    if size == (h, w):
        return rgb if peak == 1.0 else (rgb / peak).astype(np.float32)
    if factor > 1:
        return np.clip(imresize(rgb, output_shape=size) / peak, 0, 1).astype(np.float32)
    return resize_float(rgb, *size) / np.float32(peak)


def normalise(inverse_depth: np.ndarray) -> np.ndarray:
    low, high = np.percentile(inverse_depth, [1, 99])
    if high - low < 1e-8:
        return np.full(inverse_depth.shape, FLAT_DEPTH, np.float32)
    return np.clip((inverse_depth - low) / (high - low), 0, 1).astype(np.float32)


def finish(raw: np.ndarray, out_shape: Shape) -> np.ndarray:
    """A backend's raw map at its view size -> normalised map at out_shape (one resize)."""
    raw = np.asarray(raw, np.float32)
    return normalise(raw if raw.shape == tuple(out_shape) else resize_float(raw, *out_shape))


def record_user_files(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of weight files a user pointed ssr at (no manifest vouches for them): printed and kept."""
    files = {str(path): sha256_file(path) for path in paths}
    for path, digest in files.items():
        say(f"depth weights {path}: sha256 {digest}")
    return files


class ConstantDepth:
    """No depth information: a flat map (what DKENet sees on data without depth)."""

    name = "constant"
    files: dict[str, str] = {}

    def __call__(self, rgb: np.ndarray, out_shape: Shape | None = None) -> np.ndarray:
        return flat_depth(*(out_shape or rgb.shape[:2]))
