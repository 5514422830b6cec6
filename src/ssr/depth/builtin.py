"""The `builtin` depth backend: ssr's DepthNet with weights from weights/ (or a given file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ssr.depth.base import normalise, reduce_for_depth, resize_plane
from ssr.errors import UnavailableError
from ssr.models.registry import load_model


@torch.no_grad()
def run_depthnet(model: torch.nn.Module, rgb: np.ndarray, max_side: int) -> np.ndarray:
    """A DepthNet's raw inverse depth for a whole (H, W, 3) image, run at <= max_side, back at H x W."""
    small = reduce_for_depth(rgb, max_side)
    tensor = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1))).float()[None]
    return resize_plane(model(tensor)[0, 0].numpy(), *rgb.shape[:2])


class BuiltinDepth:
    name = "builtin"

    def __init__(self, path: str | None, max_side: int) -> None:
        if path:
            descriptor = load_model(Path(path))
        else:
            from ssr.weights import load_default

            try:
                descriptor = load_default("depth", 1)
            except UnavailableError as exc:
                raise UnavailableError(f"builtin depth: {exc} (train it with a `stage: depth` config, "
                                       "or use --depth none / hf:DIR)") from None
        if descriptor.architecture != "ssr.depthnet":
            raise UnavailableError(f"{path}: is a {descriptor.architecture}, not a depth network")
        # the net sees the whole image at the size it was trained on (never more than max_side)
        self.model, self.max_side = descriptor.model, min(max_side, getattr(descriptor.model, "view_side", max_side))

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return normalise(run_depthnet(self.model, rgb, self.max_side))
