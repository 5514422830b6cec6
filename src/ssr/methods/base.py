"""What "an upscaler" is in ssr: the `Method` protocol and the result every method returns.

A method maps an LR image (H, W, C) float32 in [0, 1] to an `UpscaleResult`; intermediates of the
SVKR pipeline (depth, kernel codes, per-round SR, seconds per stage) travel in the result, never
through side channels. `truth` is a synthetic set's per-pixel kernel maps (meta/*.npz), given only
to methods with `needs_truth` (the oracle ablation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np


@dataclass
class UpscaleResult:
    image: np.ndarray  # (sH, sW, C) float32 in [0, 1]
    depth: np.ndarray | None = None  # last depth map the kernels were estimated from, LR size, 1 = nearest
    kernel_codes: np.ndarray | None = None  # last kernel field as PCA codes (dim, h, w)
    decode_kernels: Callable | None = None  # codes (1, dim, h, w) tensor -> kernels (1, k*k, h, w)
    rounds: list[np.ndarray] = field(default_factory=list)  # SR after each round (SVKR, when kept)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage


class Method(Protocol):
    name: str
    scale: int | None  # the fixed scale of a loaded model; None = any integer scale
    needs_truth: bool  # True: upscale() must be given a synthetic set's kernel maps
    intermediates: bool  # True: results carry depth and kernel maps (--save-depth / --save-kernels)

    def upscale(self, image: np.ndarray, scale: int, truth: dict[str, np.ndarray] | None = None, *,
                out_dtype: type | None = None) -> UpscaleResult:
        """out_dtype None: image float32 [0, 1]; np.uint8/np.uint16: the quantised image (what a file holds),
        which the SVKR method builds band by band so that huge outputs stay within bounded memory."""
        ...


def as_dtype(image: np.ndarray, out_dtype: type | None) -> np.ndarray:
    """A float [0, 1] result in the asked representation (float32, or quantised like the writer does)."""
    if out_dtype is None:
        return np.asarray(image, np.float32)
    top = float(np.iinfo(out_dtype).max)
    return np.clip(np.round(np.asarray(image, np.float64) * top), 0, top).astype(out_dtype)
