"""Building blocks shared by the networks: SFT modulation and MAConv (MANet's mutual affine conv)."""

from __future__ import annotations

import torch
from torch import nn


class SFT(nn.Module):
    """Spatial feature transform: features * (1 + gamma(cond)) + beta(cond), per pixel and channel.

    `1 + gamma` (not gamma) starts the layer as the identity, which keeps early training stable.
    """

    def __init__(self, channels: int, cond_channels: int, hidden: int = 32) -> None:
        super().__init__()
        self.shared = nn.Sequential(nn.Conv2d(cond_channels, hidden, 1), nn.LeakyReLU(0.1, inplace=True))
        self.gamma = nn.Conv2d(hidden, channels, 1)
        self.beta = nn.Conv2d(hidden, channels, 1)

    def forward(self, features: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        hidden = self.shared(cond)
        return features * (1 + self.gamma(hidden)) + self.beta(hidden)


class MAConv(nn.Module):
    """Mutual affine convolution (MANet, Liang et al. 2021).

    Channels are split into `split` groups; each group is scaled and shifted by an affine transform
    predicted (1x1 bottleneck) from the OTHER groups, then convolved on its own. Cross-channel
    dependence comes from the cheap affine path, so the layer is much lighter than a full conv while
    keeping a small receptive field: kernel estimation must stay local for spatially variant blur.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, split: int = 2,
                 reduction: int = 2) -> None:
        super().__init__()
        self.in_splits = [in_channels // split] * (split - 1) + [in_channels - in_channels // split * (split - 1)]
        self.out_splits = [out_channels // split] * (split - 1) + [out_channels - out_channels // split * (split - 1)]
        self.affine = nn.ModuleList()
        self.convs = nn.ModuleList()
        for part_in, part_out in zip(self.in_splits, self.out_splits):
            rest = in_channels - part_in
            self.affine.append(nn.Sequential(
                nn.Conv2d(rest, max(1, rest // reduction), 1), nn.ReLU(inplace=True),
                nn.Conv2d(max(1, rest // reduction), 2 * part_in, 1)))
            self.convs.append(nn.Conv2d(part_in, part_out, kernel_size, padding=kernel_size // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.in_splits, dim=1)
        outputs = []
        for i, (affine, conv) in enumerate(zip(self.affine, self.convs)):
            rest = torch.cat([p for j, p in enumerate(parts) if j != i], dim=1)
            scale, shift = torch.chunk(affine(rest), 2, dim=1)
            outputs.append(conv(parts[i] * torch.sigmoid(scale) + shift))
        return torch.cat(outputs, dim=1)
