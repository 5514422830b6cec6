"""Gaussian noise fixed per ABSOLUTE position, so a tiled run draws exactly the noise an untiled one does.

The LR grid is cut into fixed BLOCK x BLOCK blocks; block (by, bx) of step k gets its own generator
seeded by (seed, k, by, bx). A window [top, top+h) x [left, left+w) is assembled from the blocks it
touches, so the value at a pixel never depends on which tile asked for it.
"""

from __future__ import annotations

import numpy as np
import torch

BLOCK = 32


def _block(seed: int, step: int, by: int, bx: int, channels: int) -> torch.Tensor:
    state = np.random.SeedSequence([int(seed), int(step), int(by), int(bx)]).generate_state(1, np.uint64)[0]
    generator = torch.Generator().manual_seed(int(state))
    return torch.randn(channels, BLOCK, BLOCK, generator=generator)


def positional_noise(seed: int, step: int, channels: int, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """(1, channels, height, width) standard normal noise of the window at (top, left) of the LR grid."""
    out = torch.empty(channels, height, width)
    for by in range(top // BLOCK, (top + height - 1) // BLOCK + 1):
        for bx in range(left // BLOCK, (left + width - 1) // BLOCK + 1):
            block = _block(seed, step, by, bx, channels)
            y0, y1 = max(top, by * BLOCK), min(top + height, (by + 1) * BLOCK)
            x0, x1 = max(left, bx * BLOCK), min(left + width, (bx + 1) * BLOCK)
            out[:, y0 - top:y1 - top, x0 - left:x1 - left] = block[:, y0 - by * BLOCK:y1 - by * BLOCK,
                                                                   x0 - bx * BLOCK:x1 - bx * BLOCK]
    return out[None]
