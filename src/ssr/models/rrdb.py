"""Light kernel-conditioned RRDB: the non-blind SR network of SVKR (SSR Sec. 3.2, ESRGAN's RRDB).

Input: LR (B,3,h,w) and a per-LR-pixel kernel field (B, k*k, h, w). The field is compressed to a PCA
code (KernelCode, stored with the weights) and injected by an SFT layer in front of every RRDB, so
each pixel is restored for its own blur. The output adds a learned residual to bicubic-like
upsampling (bilinear here, cheap and differentiable), which makes small CPU-trained nets converge fast.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr.models.blocks import SFT
from ssr.models.kernel_code import KernelCode


class DenseBlock(nn.Module):
    def __init__(self, channels: int, growth: int, layers: int = 3) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels + i * growth, growth, 3, padding=1) for i in range(layers))
        self.fuse = nn.Conv2d(channels + layers * growth, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.convs:
            features.append(F.leaky_relu(conv(torch.cat(features, 1)), 0.2))
        return x + 0.2 * self.fuse(torch.cat(features, 1))


class RRDB(nn.Module):
    def __init__(self, channels: int, growth: int, dense_blocks: int = 2) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(DenseBlock(channels, growth) for _ in range(dense_blocks)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.blocks(x)


class KernelConditionedRRDB(nn.Module):
    def __init__(self, scale: int = 4, channels: int = 32, growth: int = 16, blocks: int = 3,
                 kernel_size: int = 21, code_dim: int = 16) -> None:
        super().__init__()
        self.scale = scale
        self.code = KernelCode(kernel_size, code_dim)
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.sfts = nn.ModuleList(SFT(channels, code_dim) for _ in range(blocks))
        self.blocks = nn.ModuleList(RRDB(channels, growth) for _ in range(blocks))
        self.trunk = nn.Conv2d(channels, channels, 3, padding=1)
        ups = []
        for _ in range({2: 1, 4: 2}[scale]):
            ups += [nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(0.2, inplace=True)]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, lr: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        return self.forward_codes(lr, self.code(kernels))

    def forward_codes(self, lr: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """SR from the kernel field's PCA code (what the SVKR pipeline carries: no k*k taps per pixel)."""
        x = self.head(lr)
        features = x
        for sft, block in zip(self.sfts, self.blocks):
            features = block(sft(features, code))
        x = x + self.trunk(features)
        base = F.interpolate(lr, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return base + self.tail(self.upsample(x))
