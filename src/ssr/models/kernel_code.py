"""A PCA code of blur kernels: what the non-blind SR network is conditioned on.

A 21x21 kernel has 441 taps but the kernel prior (the SCM's families) lives on a low-dimensional
manifold; PCA to `dim` components (SRMD/IKC practice) gives a compact per-pixel code. The basis is
learned from kernels sampled from the prior and is stored with the network's weights (buffers),
so a checkpoint always carries the code it was trained with.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

from ssr.degradation import kernels as K
from ssr.degradation.apply import kernel_offset


def sample_prior_kernels(count: int, size: int, scale: int, seed: int = 0) -> torch.Tensor:
    """Kernels from the SCM families used in training: anisotropic Gaussians, disks, motion."""
    rng = np.random.default_rng(seed)
    offset = kernel_offset(scale)
    n_gauss, n_disk = count // 2, count // 4
    n_motion = count - n_gauss - n_disk
    sigma_max = 5.0 if scale == 4 else 2.5
    gauss = K.gaussian_kernels(size, rng.uniform(0.6, sigma_max, n_gauss), rng.uniform(0.6, sigma_max, n_gauss),
                               rng.uniform(0, np.pi, n_gauss), offset=offset)
    disks = K.disk_kernels(size, rng.uniform(0, K.kernel_radius_bound(size), n_disk), offset=offset)
    motion = K.motion_kernels(size, rng.uniform(0, size - 2, n_motion), rng.uniform(0, np.pi, n_motion),
                              offset=offset)
    return torch.cat([gauss, disks, motion]).float()


class KernelCode(nn.Module):
    """kernels (B, k*k, h, w) -> codes (B, dim, h, w) by a fixed PCA projection."""

    def __init__(self, kernel_size: int = 21, dim: int = 16) -> None:
        super().__init__()
        self.kernel_size, self.dim = kernel_size, dim
        self.register_buffer("mean", torch.zeros(kernel_size * kernel_size))
        self.register_buffer("basis", torch.zeros(kernel_size * kernel_size, dim))
        self.register_buffer("scale", torch.ones(dim))

    @torch.no_grad()
    def fit(self, kernels: torch.Tensor) -> float:
        """Fit mean and basis to (N, k*k) kernels; returns the variance fraction the code keeps."""
        mean = kernels.mean(dim=0)
        centred = kernels - mean
        _, singular, vh = torch.linalg.svd(centred, full_matrices=False)
        self.mean.copy_(mean)
        self.basis.copy_(vh[: self.dim].T)
        codes = centred @ self.basis
        self.scale.copy_(codes.std(dim=0).clamp_min(1e-8))  # unit-variance codes for the network
        energy = singular ** 2
        return float(energy[: self.dim].sum() / energy.sum())

    def fingerprint(self) -> str:
        """16 hex digits identifying this code space (its mean, basis and scale): a model trained on
        one SR network's codes (the refiner) records it, so it is never run on another's."""
        digest = hashlib.sha256()
        for buffer in (self.mean, self.basis, self.scale):
            digest.update(buffer.detach().float().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    def forward(self, kernels: torch.Tensor) -> torch.Tensor:
        b, _, h, w = kernels.shape
        flat = kernels.permute(0, 2, 3, 1).reshape(-1, kernels.shape[1])
        codes = ((flat - self.mean) @ self.basis) / self.scale
        return codes.view(b, h, w, self.dim).permute(0, 3, 1, 2)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        b, _, h, w = codes.shape
        flat = codes.permute(0, 2, 3, 1).reshape(-1, self.dim) * self.scale
        return (flat @ self.basis.T + self.mean).view(b, h, w, -1).permute(0, 3, 1, 2)

    def decode_kernels(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes -> valid blur kernels: decoded taps clipped at 0 and normalised to sum 1 (a projected
        kernel can dip below 0; kernel PSNR and the SCM need real kernels)."""
        taps = self.decode(codes).clamp_min(0)
        return taps / taps.sum(1, keepdim=True).clamp_min(1e-12)
