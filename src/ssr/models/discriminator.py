"""A small spectral-normalised patch discriminator for the refiner's adversarial term (SSR Eq. 5 (c)).

Why this shape: the term only has to tell natural fine texture from the smooth x0 estimate, so it
looks at ~38 px HR patches (four 3x3/4x4 convs, three of them strided) and scores each; spectral
norm on every conv (as Real-ESRGAN's discriminator) keeps it Lipschitz so a small weight cannot blow
the generator up. It runs at HR resolution on CPU, so it is kept narrow (~0.3 M parameters).
Training-only: it lives in the stage's checkpoint, never in exported weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width

        def conv(cin: int, cout: int, k: int, stride: int) -> nn.Module:
            return spectral_norm(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if stride == 1 else 1))

        self.body = nn.Sequential(
            conv(3, w, 3, 1), nn.LeakyReLU(0.2),
            conv(w, 2 * w, 4, 2), nn.LeakyReLU(0.2),
            conv(2 * w, 4 * w, 4, 2), nn.LeakyReLU(0.2),
            conv(4 * w, 4 * w, 4, 2), nn.LeakyReLU(0.2),
            conv(4 * w, 1, 3, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 1, H/8, W/8) realness logits, one per patch."""
        return self.body(images * 2 - 1)
