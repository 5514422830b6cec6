"""Array conventions in one place, so every package converts images the same way.

Images are numpy (H, W, C) float32 in [0, 1] (C = 1 grey, 3 RGB); networks take torch (N, C, H, W).
Depth is relative inverse depth (H, W) in [0, 1], 1 = nearest; "no depth information" is a flat 0.5.
numpy only at import time: torch is imported inside the two helpers that need it, so light callers
(the SCM, io, the CLI) stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

#: The depth value that carries no information (DKENet's input when depth is off).
FLAT_DEPTH = 0.5


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Round float [0, 1] to uint8 as every SR codebase does (x * 255, round half to even, clip)."""
    return np.clip(np.round(np.asarray(pixels, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def quantise(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> the float32 values an 8-bit file holds (what metrics must compare)."""
    return to_uint8(pixels).astype(np.float32) / 255.0


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """Grey (H, W, 1) -> (H, W, 3); RGB unchanged. Models and metrics work on three channels."""
    return np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels


def flat_depth(height: int, width: int, dtype=np.float32) -> np.ndarray:
    """A depth map without information (every pixel at FLAT_DEPTH)."""
    return np.full((height, width), FLAT_DEPTH, dtype)


def hwc_to_chw(image: np.ndarray) -> np.ndarray:
    """(H, W, C) -> contiguous (C, H, W), same dtype."""
    return np.ascontiguousarray(np.asarray(image).transpose(2, 0, 1))


def to_nchw(image: np.ndarray, device: str | None = None) -> "torch.Tensor":
    """(H, W, C) numpy -> (1, C, H, W) float32 tensor (a copy; the array is never shared)."""
    import torch

    tensor = torch.from_numpy(np.array(np.asarray(image).transpose(2, 0, 1), dtype=np.float32))[None]
    return tensor if device is None else tensor.to(device)


def from_nchw(tensor: "torch.Tensor") -> np.ndarray:
    """(1, C, H, W) tensor -> (H, W, C) float32 numpy, clipped to [0, 1]."""
    return tensor[0].detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)
