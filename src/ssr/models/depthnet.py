"""A small U-Net for relative inverse depth (the `builtin` depth backend): fast on a CPU.

Four or five resolutions (1 .. 1/16; the shipped net: 16-32-64-96-128 channels), bilinear upsampling
with skips, a softplus head (inverse depth is non-negative). Depth needs the whole scene (where the
floor is, what stands in front of what), so the net is trained on views that show (nearly) the whole
image at `view_side` pixels, and the builtin backend reduces every input to that size. With
`row_coordinate` the net also gets the row position (0 = top, 1 = bottom) as a fourth input channel
(CoordConv): "lower in the frame is usually nearer" is the strongest single cue in photos of scenes,
and a translation-equivariant U-Net cannot learn it otherwise. Trained with a scale-and-shift-invariant loss, so
only the ordering and relative spacing of its output matter; the backend normalises it to [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class DepthNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 96), view_side: int = 384,
                 row_coordinate: bool = False) -> None:
        super().__init__()
        self.widths = widths
        self.view_side = view_side  # the image size (longer side) it was trained to see whole
        self.row_coordinate = row_coordinate
        self.encoders = nn.ModuleList()
        cin = 4 if row_coordinate else 3
        for width in widths:
            self.encoders.append(_block(cin, width))
            cin = width
        self.decoders = nn.ModuleList(_block(widths[i + 1] + widths[i], widths[i]) for i in range(len(widths) - 1))
        self.head = nn.Conv2d(widths[0], 1, 3, padding=1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 1, H, W) non-negative relative inverse depth."""
        h, w = rgb.shape[-2:]
        multiple = 2 ** (len(self.widths) - 1)
        pad_h, pad_w = (multiple - h % multiple) % multiple, (multiple - w % multiple) % multiple
        if self.row_coordinate:  # 0 at the top row of the view, 1 at the bottom (CoordConv)
            rows = torch.linspace(0, 1, h, device=rgb.device, dtype=rgb.dtype).view(1, 1, h, 1)
            rgb = torch.cat([rgb, rows.expand(rgb.shape[0], 1, h, w)], dim=1)
        x = F.pad(rgb, (0, pad_w, 0, pad_h), mode="replicate")  # always (0 when divisible): same traced path
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        for i in reversed(range(len(self.decoders))):
            x = F.interpolate(x, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            x = self.decoders[i](torch.cat([x, skips[i]], dim=1))
        return F.softplus(self.head(x))[..., :h, :w]
