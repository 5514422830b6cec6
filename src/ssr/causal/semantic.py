"""Frozen pretrained encoders for CausalSR's semantic guidance: SR and HR should mean the same thing.

Two sources, both offline (nothing is ever downloaded):

* `stlpips-alex` (default, ships with a PyPI wheel): the shift-tolerant AlexNet trunk of the
  `stlpips-pytorch` wheel (BSD-2-Clause), rebuilt here layer for layer so its state dict loads
  without the wheel's code (which imports torchvision and IPython). The weight file is found through
  the installed wheel's folder (`importlib.util.find_spec`, the package is not imported) or given as
  `stlpips-alex:FILE`.
* `clip:DIR`: the vision tower of a CLIP model saved with transformers' `save_pretrained` in a LOCAL
  folder (e.g. a user's openai/clip-vit-base-patch32); its pooled embedding is compared.

`semantic_distance(encoder, sr, hr)` = mean over the encoder's feature levels of the squared
distance between channel-normalised features (LPIPS's normalisation, no learned weights); HR
features are computed without gradients.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ssr.errors import UnavailableError
from ssr.models.stlpips import ShiftTolerantAlexNet, load_stlpips_alex, unit

__all__ = ["CLIPVisionEncoder", "ShiftTolerantAlexNet", "load_stlpips_alex", "make_semantic_encoder",
           "semantic_distance"]


class CLIPVisionEncoder(nn.Module):
    """The vision tower of a local transformers CLIP checkpoint; one level: the pooled embedding."""

    levels = 1
    MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's preprocessing constants
    STD = (0.26862954, 0.26130258, 0.27577711)

    def __init__(self, folder: Path) -> None:
        super().__init__()
        try:
            from transformers import CLIPVisionModelWithProjection
        except ImportError as exc:
            raise UnavailableError(f"semantic encoder clip: needs transformers ({type(exc).__name__})") from None
        if not (Path(folder) / "config.json").is_file():
            raise UnavailableError(f"semantic encoder clip: {folder} holds no transformers model (config.json)")
        self.model = CLIPVisionModelWithProjection.from_pretrained(str(folder), local_files_only=True)
        self.size = int(self.model.config.image_size)
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        x = F.interpolate(rgb, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        embedding = self.model(pixel_values=(x - self.mean) / self.std).image_embeds
        return [embedding[:, :, None, None]]


def make_semantic_encoder(spec: str) -> nn.Module:
    """'stlpips-alex', 'stlpips-alex:FILE' or 'clip:DIR' -> a frozen encoder returning a list of features."""
    name, _, arg = spec.partition(":")
    if name == "stlpips-alex":
        return load_stlpips_alex(Path(arg) if arg else None)
    if name == "clip" and arg:
        return CLIPVisionEncoder(Path(arg))
    raise UnavailableError(f"unknown semantic encoder '{spec}' (stlpips-alex, stlpips-alex:FILE or clip:DIR)")


def semantic_distance(encoder: nn.Module, sr: torch.Tensor, hr: torch.Tensor,
                      levels: tuple[int, ...] | None = None) -> torch.Tensor:
    """Mean over feature levels (1-based; all by default) of the squared distance of unit-normalised features."""
    sr_features = encoder(sr)
    with torch.no_grad():
        hr_features = encoder(hr)
    chosen = levels or tuple(range(1, len(sr_features) + 1))
    terms = [(unit(sr_features[i - 1]) - unit(hr_features[i - 1])).pow(2).sum(1).mean() for i in chosen]
    return torch.stack(terms).mean()
