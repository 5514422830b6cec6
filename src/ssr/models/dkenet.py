"""DKENet: depth-informed, spatially variant kernel estimation (SSR, Sec. 3.2).

Reading of the paper (choices written down where it is vague):
* Two branches. The LR branch starts with a 3x3 conv; the depth branch is a small conv stack that
  produces depth features at LR resolution (the depth map, at any size, is resized to the LR grid).
* Depth-Aware Block (DABlock): SFT with the depth features -> MAConv -> ReLU -> MAConv, then a
  channel split: one half is refined by a 3x3 conv + ReLU, the other half passes unchanged, the two
  are concatenated and merged by a 1x1 conv; a residual connection wraps the block.
* Body: DABlock -> stride-2 conv (downsample) -> DABlock -> pixel-shuffle upsample -> DABlock,
  with a skip from before the downsample (so the small receptive field of MANet is kept while the
  down/up path adds context).
* Head: conv to size^2 channels, softmax over the taps -> one size x size kernel (HR scale) per LR
  pixel, summing to 1. With `code_dim > 0` the head predicts the SR network's kernel CODE directly
  (code_dim numbers per pixel, no softmax): two thirds of DKENet's compute was the 441-tap head whose
  output the pipeline projects to 16 numbers right away (issue 8); kernels are then decoded only
  where a picture of them is wanted. The paper's "upscale layer" is not needed because the SCM defines one kernel
  per kept (LR) pixel; `upscale_kernels` expands to HR pixels where a caller wants that.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssr.models.blocks import SFT, MAConv


class DABlock(nn.Module):
    def __init__(self, channels: int, depth_channels: int) -> None:
        super().__init__()
        self.sft = SFT(channels, depth_channels)
        self.conv1 = MAConv(channels, channels)
        self.conv2 = MAConv(channels, channels)
        self.half = channels // 2
        self.refine = nn.Conv2d(self.half, self.half, 3, padding=1)
        self.merge = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor, depth_features: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(self.sft(x, depth_features))))
        refined, kept = torch.split(y, [self.half, y.shape[1] - self.half], dim=1)
        y = self.merge(torch.cat([F.relu(self.refine(refined)), kept], dim=1))
        return x + y


class DKENet(nn.Module):
    """LR image (B,3,h,w) + depth (B,1,H,W) -> kernels (B, size*size, h, w), softmax-normalised."""

    def __init__(self, kernel_size: int = 21, channels: int = 32, depth_channels: int = 16, code_dim: int = 0) -> None:
        super().__init__()
        self.kernel_size, self.code_dim = kernel_size, code_dim
        self.lr_head = nn.Conv2d(3, channels, 3, padding=1)
        self.depth_branch = nn.Sequential(
            nn.Conv2d(1, depth_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(depth_channels, depth_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(depth_channels, depth_channels, 3, padding=1))
        self.fuse = SFT(channels, depth_channels)
        self.block1 = DABlock(channels, depth_channels)
        self.down = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.block2 = DABlock(channels, depth_channels)
        self.up = nn.Sequential(nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2))
        self.block3 = DABlock(channels, depth_channels)
        self.tail = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, code_dim or kernel_size * kernel_size, 3, padding=1))

    def forward(self, lr: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        h, w = lr.shape[-2:]
        if depth.shape[-2:] != (h, w):
            depth = F.interpolate(depth, size=(h, w), mode="area" if depth.shape[-1] > w else "bilinear",
                                  align_corners=None if depth.shape[-1] > w else False)
        d = self.depth_branch(depth)
        x = self.fuse(self.lr_head(lr), d)
        x = self.block1(x, d)
        skip = x
        # odd sizes: replicate one row/column before the stride-2 conv (always applied, 0 for even sizes,
        # so traced/exported graphs follow the same path at every size)
        x = self.down(F.pad(x, (0, w % 2, 0, h % 2), mode="replicate"))
        d_small = F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        x = self.block2(x, d_small)
        x = self.up(x)[..., :h, :w] + skip
        x = self.block3(x, d)
        out = self.tail(x)
        return out if self.code_dim else torch.softmax(out, dim=1)

    def as_codes(self, out: torch.Tensor, code: nn.Module) -> torch.Tensor:
        """This net's output as codes of the SR network's `code` (a KernelCode): a code-predicting DKENet
        already speaks it; per-pixel kernels are projected. One rule for the pipeline and the refiner's data."""
        return out if self.code_dim else code(out)


def upscale_kernels(kernels: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, k*k, h, w) -> (B, k*k, h*scale, w*scale): each LR pixel's kernel for its HR pixels."""
    return kernels.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
