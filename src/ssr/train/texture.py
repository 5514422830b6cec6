"""Local high-frequency energy: the texture term of the refiner's loss.

ST-LPIPS alone rewards high-frequency energy wherever it is added, so a refiner trained on it learns
to paint a fine mesh over skin, sky and walls (docs/benchmarks.md, "The refiner at step 4,246"). This
term compares, per position, HOW MUCH fine detail the output has with how much the HR has, not where
each ripple lies (that is the diffusion and perceptual terms' job): the local rms of the high-pass luma
(luma minus its 5x5 box blur, the same split as bench/flat_texture.py), over a 9x9 window, compared in
log scale so that a 2/255 mesh on a 1/255 wall costs as much as a smeared 40/255 leaf on an 80/255 one.
With `excess_only`, only detail ABOVE the HR's level costs (the mesh), not detail below it: matching
the energy both ways (session 2026-11-24, 6th) made the mesh WORSE, because the HR photos' flat areas
hold sensor grain (~1.5/255 rms) that a phase-blind term asks the refiner to invent.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)  # BT.601, as bench/flat_texture.py
FLOOR = 1 / 255  # below one grey level of rms the eye sees no texture: log(energy + FLOOR)


def _box(plane: torch.Tensor, size: int) -> torch.Tensor:
    pad = size // 2
    return F.avg_pool2d(F.pad(plane, (pad, pad, pad, pad), mode="reflect"), size, stride=1)


def local_energy(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> (B, 1, H, W): local rms of the high-pass luma, in [0, 1] units."""
    weights = images.new_tensor(LUMA).view(1, 3, 1, 1)
    luma = (images * weights).sum(1, keepdim=True)
    high = luma - _box(luma, 5)
    return (_box(high * high, 9) + 1e-12).sqrt()


def texture_loss(images: torch.Tensor, target: torch.Tensor, excess_only: bool = False) -> torch.Tensor:
    """Mean |log(E(x) + floor) - log(E(hr) + floor)|, E = local_energy: 0 iff the energies agree
    (`excess_only`: the positive part only, 0 wherever the output has no more detail than the HR)."""
    gap = torch.log(local_energy(images) + FLOOR) - torch.log(local_energy(target) + FLOOR)
    return (gap.clamp_min(0) if excess_only else gap.abs()).mean()
