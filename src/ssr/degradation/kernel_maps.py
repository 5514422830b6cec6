"""Per-LR-pixel kernel maps -> explicit kernel taps, in the network layout (B, k*k, h, w).

Training pairs and benchmark sets store kernel fields compactly (sv: the covariance c_xx, c_xy,
c_yy of every LR pixel's Gaussian; dof: every pixel's disk radius); the networks, the oracle
ablation and the kernel metrics need the taps. Both rebuilds use the SCM's own kernel functions and
the same half-pixel offset as the renderer (`kernel_offset`), so rebuilt kernels equal rendered ones.
"""

from __future__ import annotations

import numpy as np
import torch

from ssr.degradation import kernels as K
from ssr.degradation.apply import kernel_offset


def covariance_to_kernels(cov: torch.Tensor, size: int, scale: int) -> torch.Tensor:
    """(B, 3, h, w) covariance maps -> (B, size*size, h, w) float32 kernels."""
    b, _, h, w = cov.shape
    flat = cov.permute(0, 2, 3, 1).reshape(-1, 3)
    kernels = K.kernels_from_covariance(size, flat[:, 0], flat[:, 1], flat[:, 2], offset=kernel_offset(scale),
                                        dtype=torch.float32)
    return kernels.view(b, h, w, -1).permute(0, 3, 1, 2).contiguous()


def radius_to_kernels(radius: np.ndarray, size: int, scale: int) -> torch.Tensor:
    """(h, w) disk radii -> (1, size*size, h, w) float32 kernels."""
    h, w = radius.shape
    flat = torch.from_numpy(np.asarray(radius, np.float64).reshape(-1))
    kernels = K.disk_kernels(size, flat, offset=kernel_offset(scale), dtype=torch.float32)
    return kernels.view(h, w, -1).permute(2, 0, 1)[None].contiguous()


def motion_to_kernels(mx: np.ndarray, my: np.ndarray, size: int, scale: int) -> torch.Tensor:
    """(h, w) motion maps (length cos 2θ, length sin 2θ; GridField's interpolated channels) -> (1, size*size, h, w)."""
    h, w = mx.shape
    x = torch.from_numpy(np.asarray(mx, np.float64).reshape(-1))
    y = torch.from_numpy(np.asarray(my, np.float64).reshape(-1))
    kernels = K.motion_kernels(size, torch.sqrt(x * x + y * y), 0.5 * torch.atan2(y, x), offset=kernel_offset(scale),
                               dtype=torch.float32)
    return kernels.view(h, w, -1).permute(2, 0, 1)[None].contiguous()


def truth_kernels(truth: dict[str, np.ndarray], size: int, scale: int) -> torch.Tensor:
    """(1, size*size, h, w) true kernels from a set's meta maps (sv: covariance; dof: disk radius; motion)."""
    if "mx" in truth:
        return motion_to_kernels(truth["mx"], truth["my"], size, scale)
    if "c_xx" in truth:
        cov = np.stack([truth[k] for k in ("c_xx", "c_xy", "c_yy")])[None]
        return covariance_to_kernels(torch.from_numpy(cov.astype(np.float32)), size, scale)
    return radius_to_kernels(truth["radius"], size, scale)
