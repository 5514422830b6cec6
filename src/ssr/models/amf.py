"""Adaptive Multi-modal Fusion (SSR paper, section 3.3, Eq. 3): LR image, depth map and kernel field
aligned into one spatially variant conditioning of the refiner's denoiser.

* Encoders of different sizes per modality: the LR image, the richest modality, gets a half-UNet
  (input blocks, a middle block, and a feature-translate block per level); the depth map and the
  kernel-code field (16 numbers per LR pixel, what SVKR already carries) get small two-level encoders.
* Fusion (Eq. 3), per level and per POSITION (1x1 convolutions are per-pixel MLPs, hidden width 128,
  ReLU), so the conditioning stays spatially variant:
      F = BN(f_lr) * (1 + gamma([f_k, f_d])) + beta([f_k, f_d])
  (BN without its own affine: gamma/beta are the modulation; the 1 + gamma form starts as identity).
* Injection: one ZERO-initialised 1x1 convolution per denoiser level, so training starts from the
  unconditioned denoiser (ControlNet-style).
`modalities` switches depth/kernel off for the paper's ablation rows (their features become zeros).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN = 128  # the paper's MLP width
SMALL = 32  # width of the depth and kernel encoders


def pad_even(x: torch.Tensor) -> torch.Tensor:
    """Replicate one row/column on odd sizes before a stride-2 convolution (cropped again on the way up)."""
    return F.pad(x, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2), mode="replicate")


class ResBlock(nn.Module):
    """conv-act-conv with a skip; an optional per-sample FiLM (the denoiser's timestep)."""

    def __init__(self, c_in: int, c_out: int, emb: int = 0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.film = nn.Linear(emb, 2 * c_out) if emb else None
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(F.silu(x))
        if self.film is not None and emb is not None:
            scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
            h = h * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class HalfUNetEncoder(nn.Module):
    """LR image -> features at the LR grid and at half of it (input blocks, middle block, translate blocks)."""

    def __init__(self, widths: tuple[int, int]) -> None:
        super().__init__()
        c0, c1 = widths
        self.input0 = nn.Sequential(nn.Conv2d(3, c0, 3, padding=1), ResBlock(c0, c0))
        self.down = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.input1 = ResBlock(c1, c1)
        self.middle = ResBlock(c1, c1)
        self.translate = nn.ModuleList([nn.Conv2d(c0, c0, 1), nn.Conv2d(c1, c1, 1)])

    def forward(self, lr: torch.Tensor) -> list[torch.Tensor]:
        f0 = self.input0(lr)
        f1 = self.middle(self.input1(self.down(pad_even(f0))))
        return [self.translate[0](f0), self.translate[1](f1)]


class SmallEncoder(nn.Module):
    """A modality with little content (depth, kernel codes) -> SMALL-channel features at both levels."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.level0 = nn.Sequential(nn.Conv2d(c_in, SMALL, 3, padding=1), nn.ReLU(inplace=True),
                                    nn.Conv2d(SMALL, SMALL, 3, padding=1))
        self.level1 = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(SMALL, SMALL, 3, stride=2, padding=1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        g0 = self.level0(x)
        return [g0, self.level1(pad_even(g0))]


class Fusion(nn.Module):
    """Eq. (3) at one level: BN(f_lr) * (1 + gamma(cond)) + beta(cond), per position."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Sequential(nn.Conv2d(2 * SMALL, HIDDEN, 1), nn.ReLU(inplace=True), nn.Conv2d(HIDDEN, channels, 1))
        self.beta = nn.Sequential(nn.Conv2d(2 * SMALL, HIDDEN, 1), nn.ReLU(inplace=True), nn.Conv2d(HIDDEN, channels, 1))

    def forward(self, f_lr: torch.Tensor, f_kernel: torch.Tensor, f_depth: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([f_kernel, f_depth], 1)
        return self.norm(f_lr) * (1 + self.gamma(cond)) + self.beta(cond)


class AMF(nn.Module):
    """(lr, kernel codes, depth) -> one conditioning map per denoiser level (zero at initialisation)."""

    def __init__(self, widths: tuple[int, int], code_dim: int, modalities: tuple[str, ...] = ("lr", "kernel", "depth"),
                 zero_inject: bool = True) -> None:
        super().__init__()
        unknown = set(modalities) - {"lr", "kernel", "depth"}
        if unknown or "lr" not in modalities:
            raise ValueError(f"AMF modalities must include 'lr' and be some of lr, kernel, depth; got {modalities}")
        self.modalities = tuple(modalities)
        self.lr_encoder = HalfUNetEncoder(widths)
        self.kernel_encoder = SmallEncoder(code_dim)
        self.depth_encoder = SmallEncoder(1)
        self.fusion = nn.ModuleList(Fusion(c) for c in widths)
        self.inject = nn.ModuleList(nn.Conv2d(c, c, 1) for c in widths)
        for layer in self.inject if zero_inject else ():  # training starts from the unconditioned denoiser
            nn.init.zeros_(layer.weight)  # (an adapter that zero-initialises its own outputs passes False)
            nn.init.zeros_(layer.bias)

    def forward(self, lr: torch.Tensor, codes: torch.Tensor, depth: torch.Tensor) -> list[torch.Tensor]:
        f_lr = self.lr_encoder(lr)
        f_k = self.kernel_encoder(codes)
        f_d = self.depth_encoder(depth)
        if "kernel" not in self.modalities:
            f_k = [torch.zeros_like(f) for f in f_k]
        if "depth" not in self.modalities:
            f_d = [torch.zeros_like(f) for f in f_d]
        return [inject(fuse(a, b, c)) for inject, fuse, a, b, c in zip(self.inject, self.fusion, f_lr, f_k, f_d)]
