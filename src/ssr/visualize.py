"""Pictures of intermediate maps: depth as 16-bit grey, kernel fields as a readable mosaic."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def kernel_mosaic(codes: np.ndarray, decode: Callable, cells: int = 12, gap: int = 1) -> np.ndarray:
    """A grid of decoded kernels sampled evenly over the image, each scaled to its own maximum.

    codes: (dim, h, w) PCA codes, decode: (1, dim, r, c) codes -> (1, k*k, r, c) kernels; returns a (H, W, 1) float image in [0, 1] where cell (i, j) shows
    the kernel of the LR pixel at the centre of grid cell (i, j).
    """
    dim, h, w = codes.shape
    rows, cols = min(cells, h), min(cells, w)
    ys = ((np.arange(rows) + 0.5) * h / rows).astype(int)
    xs = ((np.arange(cols) + 0.5) * w / cols).astype(int)
    picked = torch.from_numpy(np.ascontiguousarray(codes[:, ys][:, :, xs])).float()[None]
    with torch.no_grad():
        kernels = decode(picked)[0].clamp_min(0).numpy()  # (k*k, rows, cols)
    size = int(round(np.sqrt(kernels.shape[0])))
    cell = size + gap
    mosaic = np.ones((rows * cell + gap, cols * cell + gap), np.float32)
    for i in range(rows):
        for j in range(cols):
            kernel = kernels[:, i, j].reshape(size, size)
            mosaic[gap + i * cell: gap + i * cell + size, gap + j * cell: gap + j * cell + size] = (
                kernel / max(kernel.max(), 1e-12))
    return mosaic[..., None]
