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

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ssr.errors import UnavailableError

STLPIPS_ALEX = Path("weights") / "vST0.0" / "alex_shift_tolerant.pth"


class BlurPool(nn.Module):
    """Anti-aliased stride-2 downsampling ([1 2 1] x [1 2 1] / 16, reflect pad 2: the wheel's 'pad_more')."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        filt = taps[:, None] * taps[None, :]
        self.register_buffer("filt", (filt / filt.sum())[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1])


def _slice(layers: dict[int, nn.Module]) -> nn.Sequential:
    """A Sequential whose children keep the wheel's indices (so the state-dict keys match)."""
    block = nn.Sequential()
    for index, layer in layers.items():
        block.add_module(str(index), layer)
    return block


class ShiftTolerantAlexNet(nn.Module):
    """The ST-LPIPS 'shift_tolerant' AlexNet trunk; returns relu1..relu5 features."""

    levels = 5

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        relu = nn.ReLU(inplace=False)
        self.slice1 = _slice({0: nn.Conv2d(3, 64, 11, stride=1, padding=2), 1: BlurPool(64), 2: relu})
        self.slice2 = _slice({3: nn.MaxPool2d(3, stride=1), 4: BlurPool(64), 5: nn.Conv2d(64, 192, 5, padding=2),
                              6: relu})
        self.slice3 = _slice({7: nn.MaxPool2d(3, stride=1), 8: BlurPool(192), 9: nn.Conv2d(192, 384, 3, padding=1),
                              10: relu})
        self.slice4 = _slice({11: nn.Conv2d(384, 256, 3, padding=1), 12: relu})
        self.slice5 = _slice({13: nn.Conv2d(256, 256, 3, padding=1), 14: relu})

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """rgb in [0, 1] -> the five feature maps."""
        x = ((rgb * 2 - 1) - self.shift) / self.scale
        out = []
        for block in (self.slice1, self.slice2, self.slice3, self.slice4, self.slice5):
            x = block(x)
            out.append(x)
        return out


def stlpips_alex_file() -> Path:
    """The AlexNet weights inside the installed `stlpips-pytorch` wheel (the package is not imported)."""
    spec = importlib.util.find_spec("stlpips_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise UnavailableError("semantic encoder stlpips-alex needs the stlpips-pytorch wheel "
                               "(pip install --no-deps stlpips-pytorch) or stlpips-alex:FILE")
    path = Path(next(iter(spec.submodule_search_locations))) / STLPIPS_ALEX
    if not path.is_file():
        raise UnavailableError(f"semantic encoder stlpips-alex: {path} is missing")
    return path


def load_stlpips_alex(path: Path | None = None) -> ShiftTolerantAlexNet:
    """The trunk with the wheel's weights (its 'net.*' and 'scaling_layer.*' entries; the LPIPS
    linear heads 'lin*' are not used)."""
    path = Path(path) if path is not None else stlpips_alex_file()
    state = torch.load(path, map_location="cpu", weights_only=True)
    renamed = {}
    for key, value in state.items():
        if key.startswith("net."):
            renamed[key[len("net."):]] = value
        elif key.startswith("scaling_layer."):
            renamed[key[len("scaling_layer."):]] = value
    model = ShiftTolerantAlexNet()
    model.load_state_dict(renamed, strict=True)
    return model.eval().requires_grad_(False)


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


def _unit(features: torch.Tensor) -> torch.Tensor:
    return features / (features.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)


def semantic_distance(encoder: nn.Module, sr: torch.Tensor, hr: torch.Tensor,
                      levels: tuple[int, ...] | None = None) -> torch.Tensor:
    """Mean over feature levels (1-based; all by default) of the squared distance of unit-normalised features."""
    sr_features = encoder(sr)
    with torch.no_grad():
        hr_features = encoder(hr)
    chosen = levels or tuple(range(1, len(sr_features) + 1))
    terms = [(_unit(sr_features[i - 1]) - _unit(hr_features[i - 1])).pow(2).sum(1).mean() for i in chosen]
    return torch.stack(terms).mean()
