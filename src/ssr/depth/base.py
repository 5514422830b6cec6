"""The depth interface and backend selection.

Every backend maps an RGB image (H, W, 3) float [0, 1] to relative inverse depth (H, W) in [0, 1]
(1 = nearest), the same size as its input. Estimation runs on a copy reduced to at most
`max_side` pixels (depth is smooth, and this bounds memory for any image size); the result is
resized back and normalised (robust 1st/99th percentiles -> 0/1).

Backends (`make_depth_estimator(spec)`):
  none / constant   a flat 0.5 map (SSR without depth, the ablation)
  builtin[:FILE]    ssr's small network (weights/depth_builtin.safetensors by default)
  hf:DIR            a transformers depth model (DPT, Depth Anything, ...) from a LOCAL folder
  midas:FILE        a MiDaS checkpoint (DPT-Hybrid/Large or small) from a local file
Nothing is ever downloaded.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from ssr.errors import ConfigError
from ssr.imresize import resize_float

DEFAULT_MAX_SIDE = 384


class DepthEstimator(Protocol):
    name: str

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) float [0, 1] -> (H, W) float32 relative inverse depth in [0, 1]."""


def resize_plane(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    return resize_float(plane, height, width)


def reduce_for_depth(rgb: np.ndarray, max_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    factor = min(1.0, max_side / max(h, w))
    if factor == 1.0:
        return rgb
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    return resize_float(rgb, *size)


def normalise(inverse_depth: np.ndarray) -> np.ndarray:
    low, high = np.percentile(inverse_depth, [1, 99])
    if high - low < 1e-8:
        return np.full(inverse_depth.shape, 0.5, np.float32)
    return np.clip((inverse_depth - low) / (high - low), 0, 1).astype(np.float32)


class ConstantDepth:
    """No depth information: a flat map (what DKENet sees on data without depth)."""

    name = "constant"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return np.full(rgb.shape[:2], 0.5, np.float32)


def make_depth_estimator(spec: str, max_side: int = DEFAULT_MAX_SIDE) -> DepthEstimator:
    if spec in ("none", "constant"):
        return ConstantDepth()
    kind, _, location = spec.partition(":")
    if kind == "builtin":
        from ssr.depth.builtin import BuiltinDepth

        return BuiltinDepth(location or None, max_side)
    if kind == "hf" and location:
        from ssr.depth.adapters import HuggingFaceDepth

        return HuggingFaceDepth(location, max_side)
    if kind == "midas" and location:
        from ssr.depth.adapters import MidasDepth

        return MidasDepth(location, max_side)
    raise ConfigError(f"unknown depth backend '{spec}' (none, builtin[:FILE], hf:DIR, midas:FILE)")
