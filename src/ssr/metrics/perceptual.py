"""Learned perceptual metrics, only from weights that are already on this machine.

* ST-LPIPS (shift-tolerant LPIPS, AlexNet) with the weights the `stlpips-pytorch` wheel ships, run by
  ssr's own copy of its network (no torchvision needed: `pip install --no-deps stlpips-pytorch` is
  enough; `scripts/setup.sh` does it). Reported as "ST-LPIPS", never LPIPS.
* LPIPS, DISTS, MUSIQ, CLIP-IQA through pyiqa, only when pyiqa is installed AND its weight files are
  already in its cache folder. Network downloads are blocked while the metric is built, so a missing
  file makes the metric "unavailable" instead of reaching for the internet.
A metric that cannot run is reported as unavailable (None + a reason), never as a made-up number.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ssr.arrays import to_nchw, to_rgb

PYIQA_METRICS = {"LPIPS": "lpips", "DISTS": "dists", "MUSIQ": "musiq", "CLIP-IQA": "clipiqa"}
FULL_REFERENCE = {"ST-LPIPS", "LPIPS", "DISTS"}


@contextlib.contextmanager
def _no_downloads():
    """Make torch.hub and urllib downloads fail fast while a metric is being constructed."""
    import urllib.request

    def refuse(*_args, **_kwargs):
        raise RuntimeError("download refused: ssr never fetches weights at run time")

    saved = (torch.hub.download_url_to_file, torch.hub.load_state_dict_from_url, urllib.request.urlopen)
    torch.hub.download_url_to_file = refuse
    torch.hub.load_state_dict_from_url = refuse
    urllib.request.urlopen = refuse
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        torch.hub.download_url_to_file, torch.hub.load_state_dict_from_url, urllib.request.urlopen = saved
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return to_nchw(to_rgb(image))


def _build_stlpips() -> Callable:
    """ST-LPIPS from the wheel's weight file through ssr's own copy of its network (ssr.models.stlpips,
    equal to the wheel's to float precision: tests/test_refiner.py), so torchvision is not needed."""
    from ssr.errors import UnavailableError
    from ssr.models.stlpips import load_stlpips

    try:
        model = load_stlpips()
    except UnavailableError as exc:
        raise ImportError(str(exc), name="stlpips-pytorch") from None

    def score(sr: np.ndarray, hr: np.ndarray | None) -> float:
        with torch.no_grad():
            return float(model.distance(_to_tensor(sr), _to_tensor(hr)).item())
    return score


def _build_pyiqa(name: str) -> Callable:
    import pyiqa

    with _no_downloads():
        model = pyiqa.create_metric(PYIQA_METRICS[name], device="cpu", as_loss=False)

    def score(sr: np.ndarray, hr: np.ndarray | None) -> float:
        with torch.no_grad():
            if name in FULL_REFERENCE:
                return float(model(_to_tensor(sr), _to_tensor(hr)).item())
            return float(model(_to_tensor(sr)).item())
    return score


@dataclass
class PerceptualMetrics:
    """Builds each metric once; `.unavailable` says why a column is empty."""

    names: tuple[str, ...] = ("ST-LPIPS", "LPIPS", "DISTS", "MUSIQ", "CLIP-IQA")
    scorers: dict[str, Callable] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.names:
            try:
                self.scorers[name] = _build_stlpips() if name == "ST-LPIPS" else _build_pyiqa(name)
            except ImportError as exc:
                self.unavailable[name] = f"package missing ({exc.name})"
            except Exception as exc:  # any failure to build from local files means: not available here
                self.unavailable[name] = f"weights not available locally ({type(exc).__name__})"

    def score(self, sr: np.ndarray, hr: np.ndarray) -> dict[str, float | None]:
        return {name: (self.scorers[name](sr, hr) if name in self.scorers else None) for name in self.names}
