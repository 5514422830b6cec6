"""Spatially variant blur + downsample that computes only the kept pixels, in bounded memory.

Sampling geometry (documented because every model and metric depends on it): LR pixel (i, j) is
the HR pixel (s*i + a, s*j + a) with a = (s - 1) // 2 after blurring with that LR pixel's own kernel,
whose continuous centre sits at s*i + (s - 1) / 2, i.e. `offset = (s - 1) / 2 - a` (0.5 for even s).
This is where bicubic upsampling (align_corners=False) expects an LR pixel centre, so no method pays
for a half-pixel shift. Borders are reflected (HR is padded by size // 2 with 'reflect').

The HR image is processed in chunks of LR rows: for each chunk, `unfold` gathers the size x size
patches around the kept pixels only (stride = scale), the field supplies one kernel per kept pixel,
and a weighted sum gives the LR values. Peak extra memory ~ C * size^2 * rows * W_lr floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

DEFAULT_CHUNK_ELEMENTS = 8_000_000  # floats per patch chunk (~32 MB in float32)


def kernel_offset(scale: int) -> tuple[float, float]:
    """(dy, dx) of a kernel's continuous centre from its kept pixel: 0.5 for even scales, else 0."""
    shift = (scale - 1) / 2 - (scale - 1) // 2
    return shift, shift


@dataclass(frozen=True)
class Geometry:
    """Where the kept pixels lie for an HR image of (hr_h, hr_w) at `scale` with `size` kernels."""

    scale: int
    size: int
    lr_h: int
    lr_w: int

    @property
    def anchor(self) -> int:
        return (self.scale - 1) // 2

    @property
    def offset(self) -> float:
        return kernel_offset(self.scale)[0]

    @property
    def pad(self) -> int:
        return self.size // 2

    @classmethod
    def for_hr(cls, hr_h: int, hr_w: int, scale: int, size: int) -> "Geometry":
        if hr_h < scale or hr_w < scale:
            raise ValueError(f"image {hr_w}x{hr_h} is smaller than the scale {scale}")
        return cls(scale, size, hr_h // scale, hr_w // scale)


class KernelField(Protocol):
    """Anything that gives one normalised kernel per kept pixel for a band of LR rows."""

    size: int

    def weights(self, geometry: Geometry, row0: int, row1: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """(row1 - row0, lr_w, size*size) tensor of `dtype`, each row summing to 1."""


def pad_hr(x: torch.Tensor, pad: int) -> torch.Tensor:
    """Reflect-pad a (C, H, W) map; falls back to edge replication for images smaller than the pad."""
    mode = "reflect" if min(x.shape[-2:]) > pad else "replicate"
    return F.pad(x[None], (pad, pad, pad, pad), mode=mode)[0]


def patches(padded: torch.Tensor, geometry: Geometry, row0: int, row1: int) -> torch.Tensor:
    """(C, size*size, rows, lr_w): the HR neighbourhoods of the kept pixels of LR rows [row0, row1)."""
    s, k, a = geometry.scale, geometry.size, geometry.anchor
    top = s * row0 + a
    bottom = s * (row1 - 1) + a + k
    band = padded[:, top:bottom, a:a + s * (geometry.lr_w - 1) + k]
    cols = F.unfold(band[None], kernel_size=k, stride=s)  # (1, C*k*k, rows*lr_w)
    return cols.view(padded.shape[0], k * k, row1 - row0, geometry.lr_w)


def rows_per_chunk(channels: int, geometry: Geometry, budget: int = DEFAULT_CHUNK_ELEMENTS) -> int:
    per_row = channels * geometry.size ** 2 * geometry.lr_w
    return max(1, min(geometry.lr_h, budget // max(per_row, 1)))


def blur_downsample(hr: torch.Tensor, field: KernelField, scale: int,
                    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> torch.Tensor:
    """Blur `hr` (C, H, W) with the spatially variant `field` and keep every scale-th pixel.

    H and W beyond a multiple of `scale` are ignored (mod-crop). Returns (C, H // s, W // s).
    """
    geometry = Geometry.for_hr(hr.shape[-2], hr.shape[-1], scale, field.size)
    hr = hr[:, :geometry.lr_h * scale, :geometry.lr_w * scale]
    padded = pad_hr(hr, geometry.pad)
    out = hr.new_empty(hr.shape[0], geometry.lr_h, geometry.lr_w)
    step = rows_per_chunk(hr.shape[0], geometry, chunk_elements)
    for row0 in range(0, geometry.lr_h, step):
        row1 = min(row0 + step, geometry.lr_h)
        weights = field.weights(geometry, row0, row1, hr.dtype)  # (rows, lr_w, k*k)
        neighbourhoods = patches(padded, geometry, row0, row1)  # (C, k*k, rows, lr_w)
        out[:, row0:row1] = torch.einsum("ckrw,rwk->crw", neighbourhoods, weights)
    return out
