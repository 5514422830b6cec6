"""ST-LPIPS (shift-tolerant LPIPS, AlexNet variant) rebuilt layer for layer from the `stlpips-pytorch`
wheel (BSD-2-Clause), so its weight file loads without the wheel's code (which imports torchvision
and IPython). Used as a frozen semantic encoder (CausalSR) and as the refiner's perceptual loss.

The weight file is found through the installed wheel's folder (`importlib.util.find_spec`; the
package is never imported) or given explicitly. `STLPIPS.distance` is the wheel's metric: unit-
normalised features of five levels, squared differences weighted by the learned 1x1 'lin' layers,
averaged over space and summed over levels (tests compare it with the wheel on the peers stack).
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


def unit(features: torch.Tensor) -> torch.Tensor:
    """LPIPS's channel normalisation."""
    return features / (features.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)


class STLPIPS(nn.Module):
    """The full metric: trunk + the five learned channel weights ('lin0'..'lin4' of the wheel)."""

    def __init__(self, trunk: ShiftTolerantAlexNet, lins: list[torch.Tensor]) -> None:
        super().__init__()
        self.trunk = trunk
        for i, weight in enumerate(lins):
            self.register_buffer(f"lin{i}", weight.detach().clone())
        self.requires_grad_(False).eval()

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(B,) ST-LPIPS between images in [0, 1] (gradients flow into `a`; `b` is the reference)."""
        fa = self.trunk(a)
        with torch.no_grad():
            fb = self.trunk(b)
        total = 0
        for i, (x, y) in enumerate(zip(fa, fb)):
            diff = (unit(x) - unit(y)) ** 2
            total = total + F.conv2d(diff, getattr(self, f"lin{i}")).mean(dim=(1, 2, 3))
        return total


def load_stlpips(path: Path | None = None) -> STLPIPS:
    path = Path(path) if path is not None else stlpips_alex_file()
    state = torch.load(path, map_location="cpu", weights_only=True)
    lins = [state[f"lin{i}.model.1.weight"] for i in range(5)]
    return STLPIPS(load_stlpips_alex(path), lins)
