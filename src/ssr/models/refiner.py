"""The diffusion refiner's network: an x0-predicting two-level UNet in pixel-unshuffled space at the LR
grid, conditioned through AMF (ssr.models.amf).

Why this space: the state x_t is the HR image pixel-unshuffled by the scale (3 s^2 channels at the LR
grid), so the refiner tiles exactly like SVKR and every convolution runs at LR resolution (CPU cost).
Inputs per step: x_t, the SVKR output y0 (unshuffled) and the timestep; the AMF conditioning depends
only on (LR, kernel codes, depth) and is computed ONCE per image, not per step. The output is
x0_hat = y0 + residual, with the last layer zero-initialised, so an untrained refiner returns y0.
No normalisation layer looks across positions (BatchNorm in AMF runs on fixed statistics at
inference), so a tile's output depends only on its neighbourhood: tiling is exact up to borders.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ssr.models.amf import AMF, ResBlock, pad_even

EMB = 128
#: where the chain starts: the SVKR output (the paper's design) or the bicubic enlargement of the LR
#: (the ablation row without the SVKR start point); the loaded model's `start` tells the pipeline which
STARTS = ("svkr", "bicubic")


def bicubic_start(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The `start: bicubic` chain's y0: the LR enlarged with torch's bicubic, clamped to [0, 1]."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)


def timestep_embedding(t: torch.Tensor, dim: int = 64) -> torch.Tensor:
    """(B,) float timesteps -> (B, dim) sinusoidal features (as in DDPM/ADM)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None] * 250.0
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class RefinerNet(nn.Module):
    def __init__(self, scale: int = 4, widths: tuple[int, int] | list[int] = (64, 96), code_dim: int = 16,
                 modalities: tuple[str, ...] | list[str] = ("lr", "kernel", "depth"), steps: int = 4,
                 kappa: float = 0.5, start: str = "svkr", code_id: str | None = None) -> None:
        super().__init__()
        if start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, got {start!r}")
        c0, c1 = widths
        self.scale, self.code_dim, self.steps, self.kappa, self.start = scale, code_dim, steps, kappa, start
        self.code_id = code_id  # KernelCode.fingerprint() of the SR network whose codes it was trained on
        state = 3 * scale * scale
        self.amf = AMF((c0, c1), code_dim, tuple(modalities))
        self.time = nn.Sequential(nn.Linear(64, EMB), nn.SiLU(), nn.Linear(EMB, EMB))
        self.inp = nn.Conv2d(2 * state, c0, 3, padding=1)
        self.enc0 = ResBlock(c0, c0, EMB)
        self.down = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.enc1 = ResBlock(c1, c1, EMB)
        self.mid = ResBlock(c1, c1, EMB)
        self.up = nn.Conv2d(c1, c0, 3, padding=1)
        self.dec0 = ResBlock(2 * c0, c0, EMB)
        self.out = nn.Conv2d(c0, state, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def condition(self, lr: torch.Tensor, codes: torch.Tensor, depth: torch.Tensor) -> list[torch.Tensor]:
        """The AMF conditioning of one image (or tile); reused by every sampler step."""
        if depth.shape[-2:] != lr.shape[-2:]:
            depth = F.interpolate(depth, size=lr.shape[-2:], mode="bilinear", align_corners=False)
        return self.amf(lr, codes, depth)

    def forward(self, x_t: torch.Tensor, y0: torch.Tensor, t: torch.Tensor, cond: list[torch.Tensor]) -> torch.Tensor:
        """x0_hat (unshuffled) from the state x_t, the start y0 (both unshuffled) and timesteps t (B,)."""
        h, w = x_t.shape[-2:]
        emb = self.time(timestep_embedding(t.expand(x_t.shape[0]) if t.dim() else t.repeat(x_t.shape[0])))
        a = self.enc0(self.inp(torch.cat([x_t, y0], 1)) + cond[0], emb)
        b = self.down(pad_even(a))
        b = self.mid(self.enc1(b + cond[1], emb), emb)
        up = self.up(F.interpolate(b, scale_factor=2, mode="nearest"))[..., :h, :w]
        return y0 + self.out(self.dec0(torch.cat([a, up], 1), emb))

    def unshuffle(self, image: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(image, self.scale)

    def shuffle(self, state: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(state, self.scale)
