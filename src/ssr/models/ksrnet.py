"""KSRNet: a compact kernel-conditioned SR body built for CPUs (issue 8's "stronger, efficient body").

Why this shape: plain 3x3 convolutions with LeakyReLU are what oneDNN runs fastest on a CPU (no
dense concatenations as in RRDB, whose 41% upsampler cost sat at HR resolution); all work is at the
LR grid, and the upsampler is one conv + PixelShuffle (RLFN/SPAN/ESPCN style). The kernel field
enters twice, SRMD-style and MANet-style: its PCA code (16 numbers per LR pixel, `KernelCode`) is
concatenated to the input of the head, and every residual block is modulated by an SFT of the code,
so each pixel is restored for its own blur. The output adds the learned residual to a bilinear
upsampling of the LR (fast convergence for small CPU-trained nets).

`forward(lr, field)` takes the kernel field either as codes (code_dim channels: what the SVKR
pipeline and the training cache carry) or as explicit kernels (k*k channels, encoded first: the
interface of the older RRDB); the channel count tells which.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr.models.blocks import SFT
from ssr.models.kernel_code import KernelCode


class ConditionedBlock(nn.Module):
    def __init__(self, channels: int, code_dim: int) -> None:
        super().__init__()
        self.sft = SFT(channels, code_dim)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.leaky_relu(self.conv1(self.sft(x, code)), 0.1))
        return x + y


class KSRNet(nn.Module):
    def __init__(self, scale: int = 4, channels: int = 48, blocks: int = 6, kernel_size: int = 21,
                 code_dim: int = 16) -> None:
        super().__init__()
        self.scale = scale
        self.code = KernelCode(kernel_size, code_dim)
        self.head = nn.Conv2d(3 + code_dim, channels, 3, padding=1)
        self.blocks = nn.ModuleList(ConditionedBlock(channels, code_dim) for _ in range(blocks))
        self.trunk = nn.Conv2d(channels, channels, 3, padding=1)
        self.upsample = nn.Sequential(nn.Conv2d(channels, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward_features(self, lr: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(SR, the residual stream after the head and after each block): what CausalSR's losses read."""
        x = self.head(torch.cat([lr, codes], 1))
        stream = [x]
        features = x
        for block in self.blocks:
            features = block(features, codes)
            stream.append(features)
        x = x + self.trunk(features)
        base = F.interpolate(lr, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return base + self.upsample(x), stream

    def forward_codes(self, lr: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return self.forward_features(lr, codes)[0]

    def forward(self, lr: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        return self.forward_codes(lr, field if field.shape[1] == self.code.dim else self.code(field))
