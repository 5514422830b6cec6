"""Blur kernels, batched, in torch (the apply path builds thousands per chunk).

Parameterisation (all lengths in HR pixels):
* Gaussian family: `sigma_x`, `sigma_y` are STANDARD DEVIATIONS (not variances) along the kernel's
  own axes, `theta` in radians rotates the x axis counter-clockwise (image y axis points down, so
  positive theta turns the long axis from the +x direction towards -y, as in MANet/DCLS code).
  Covariance = R diag(sigma_x^2, sigma_y^2) R^T. Generalized Gaussian: exp(-0.5 q^beta);
  plateau: 1 / (1 + q^beta), q = [x y] Cov^-1 [x y]^T (the Real-ESRGAN families).
* Defocus disk: pillbox of `radius` with a one-pixel linear anti-aliased edge; radius is clamped to
  at least 0.75 so the disk always covers its centre tap even when shifted by half a pixel.
* Linear motion: a segment of `length` pixels at `angle` (radians, counter-clockwise from +x),
  one pixel wide, anti-aliased; length 0 is the identity.
* `offset` (dy, dx) moves the continuous kernel centre relative to the central tap; protocols use
  it to centre an even-scale kernel between HR pixels (see apply.py).
Every kernel is normalised to sum to exactly 1 (to float rounding).
"""

from __future__ import annotations


import numpy as np
import torch

MIN_DISK_RADIUS = 0.75


def tap_grid(size: int, offset: tuple[float, float] = (0.0, 0.0), dtype=torch.float64,
             device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(y, x) coordinates of the taps of a size x size kernel relative to the continuous centre."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    axis = torch.arange(size, dtype=dtype, device=device) - size // 2
    y, x = torch.meshgrid(axis - offset[0], axis - offset[1], indexing="ij")
    return y.reshape(-1), x.reshape(-1)


def _as_batch(value, dtype, device) -> torch.Tensor:
    return torch.as_tensor(value, dtype=dtype, device=device).reshape(-1, 1)


def covariance(sigma_x, sigma_y, theta) -> tuple:
    """(c_xx, c_xy, c_yy) of the rotated Gaussian; works on numpy arrays and torch tensors."""
    lib = torch if isinstance(sigma_x, torch.Tensor) else np
    cos, sin = lib.cos(theta), lib.sin(theta)
    vx, vy = sigma_x ** 2, sigma_y ** 2
    return cos * cos * vx + sin * sin * vy, cos * sin * (vx - vy), sin * sin * vx + cos * cos * vy


def _normalise(weights: torch.Tensor) -> torch.Tensor:
    return weights / weights.sum(dim=1, keepdim=True)


def kernels_from_covariance(size: int, c_xx, c_xy, c_yy, *, shape: str = "gaussian", beta=1.0,
                            offset=(0.0, 0.0), dtype=torch.float64, device=None) -> torch.Tensor:
    """(N, size*size) kernels of the Gaussian family given covariance entries (each length N).

    The covariance is what fields interpolate: a convex mix of covariances stays positive definite,
    while interpolating angles would wrap around at pi.
    """
    y, x = tap_grid(size, offset, dtype, device)
    c_xx, c_xy, c_yy = (_as_batch(v, dtype, device) for v in (c_xx, c_xy, c_yy))
    det = c_xx * c_yy - c_xy * c_xy
    # q = [x y] C^-1 [x y]^T with C^-1 = [[c_yy, -c_xy], [-c_xy, c_xx]] / det
    q = (c_yy * x * x - 2 * c_xy * x * y + c_xx * y * y) / det
    beta = _as_batch(beta, dtype, device)
    if shape == "gaussian":
        weights = torch.exp(-0.5 * q)
    elif shape == "generalized":
        weights = torch.exp(-0.5 * q.clamp_min(0) ** beta)
    elif shape == "plateau":
        weights = 1.0 / (1.0 + q.clamp_min(0) ** beta)
    else:
        raise ValueError(f"unknown Gaussian-family shape '{shape}'")
    return _normalise(weights)


def gaussian_kernels(size: int, sigma_x, sigma_y, theta, *, shape: str = "gaussian", beta=1.0,
                     offset=(0.0, 0.0), dtype=torch.float64, device=None) -> torch.Tensor:
    """(N, size*size) anisotropic Gaussian-family kernels; isotropic when sigma_x == sigma_y."""
    sx, sy, th = (_as_batch(v, dtype, device) for v in (sigma_x, sigma_y, theta))
    if (sx <= 0).any() or (sy <= 0).any():
        raise ValueError("sigma_x and sigma_y must be positive")
    c_xx, c_xy, c_yy = covariance(sx, sy, th)
    return kernels_from_covariance(size, c_xx, c_xy, c_yy, shape=shape, beta=beta, offset=offset,
                                   dtype=dtype, device=device)


def _keys_cubic(x: torch.Tensor) -> torch.Tensor:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = x.abs()
    return ((1.5 * ax ** 3 - 2.5 * ax ** 2 + 1) * (ax <= 1)
            + (-0.5 * ax ** 3 + 2.5 * ax ** 2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def bicubic_resize_kernel(size: int, scale: int, *, offset=(0.0, 0.0), dtype=torch.float64) -> torch.Tensor:
    """(1, size*size): the blur of MATLAB `imresize(hr, 1/scale)` (antialiased bicubic) as a kernel.

    Shrinking by `scale` widens Keys' cubic by `scale` (support 4*scale HR pixels) and samples it at
    the kept pixels, so "downscaled by a photo editor" is one more kernel of the same SCM (separable,
    with small negative lobes); with the even-scale `offset` of the protocols it reproduces imresize
    away from the image border (tests/test_kernels.py).
    """
    y, x = tap_grid(size, offset, dtype)
    return _normalise((_keys_cubic(y / scale) * _keys_cubic(x / scale))[None])


def disk_kernels(size: int, radius, *, offset=(0.0, 0.0), dtype=torch.float64,
                 device=None) -> torch.Tensor:
    """(N, size*size) defocus (pillbox) kernels with an anti-aliased rim."""
    y, x = tap_grid(size, offset, dtype, device)
    radius = _as_batch(radius, dtype, device).clamp_min(MIN_DISK_RADIUS)
    distance = torch.sqrt(x * x + y * y)
    return _normalise((radius + 0.5 - distance).clamp(0.0, 1.0))


def motion_kernels(size: int, length, angle, *, offset=(0.0, 0.0), dtype=torch.float64,
                   device=None) -> torch.Tensor:
    """(N, size*size) linear-motion kernels: a centred segment of `length` pixels at `angle`."""
    y, x = tap_grid(size, offset, dtype, device)
    # the segment's core stops half a pixel short of each end; the 1-pixel anti-aliased profile
    # adds it back, so a horizontal motion of length L covers exactly L taps
    half = (_as_batch(length, dtype, device) / 2 - 0.5).clamp_min(0.0)
    angle = _as_batch(angle, dtype, device)
    ux, uy = torch.cos(angle), -torch.sin(angle)  # image y points down
    along = torch.maximum(torch.minimum(x * ux + y * uy, half), -half)
    dx, dy = x - along * ux, y - along * uy
    distance = torch.sqrt(dx * dx + dy * dy)
    return _normalise((1.0 - distance).clamp_min(0.0))


def as_images(kernels: torch.Tensor | np.ndarray, size: int) -> np.ndarray:
    """(N, size*size) -> (N, size, size) numpy float64 (for records, tests and pictures)."""
    array = kernels.detach().cpu().numpy() if isinstance(kernels, torch.Tensor) else np.asarray(kernels)
    return array.reshape(-1, size, size).astype(np.float64)


def kernel_radius_bound(size: int) -> float:
    """Largest disk radius whose support fits in a size x size kernel."""
    return size // 2 - 0.5

