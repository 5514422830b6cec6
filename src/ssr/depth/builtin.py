"""The `builtin` depth backend: ssr's DepthNet from a weight set (or a given file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ssr.arrays import to_nchw
from ssr.depth.base import Shape, finish, record_user_files, view_at_side
from ssr.errors import UnavailableError
from ssr.imresize import resize_float
from ssr.models.registry import load_model


@torch.no_grad()
def run_depthnet(model: torch.nn.Module, rgb: np.ndarray, view_side: int, out_shape: Shape) -> np.ndarray:
    """A DepthNet's raw inverse depth for a whole (H, W, 3) image seen at `view_side`, resized once to out_shape."""
    raw = model(to_nchw(view_at_side(rgb, view_side)))[0, 0].numpy()
    return raw if raw.shape == tuple(out_shape) else resize_float(raw, *out_shape)


class BuiltinDepth:
    name = "builtin"

    def __init__(self, path: str | None, max_side: int, weights: Path | None = None) -> None:
        self.files: dict[str, str] = {}
        if path:
            descriptor = load_model(Path(path))
            self.files = record_user_files([Path(path)])
        else:
            from ssr.weights import load_default

            try:
                descriptor = load_default("depth", 1, weights)
            except UnavailableError as exc:
                raise UnavailableError(f"builtin depth: {exc} (train it with a `stage: depth` config, "
                                       "or use --depth none / hf:DIR)") from None
        if descriptor.architecture != "ssr.depthnet":
            raise UnavailableError(f"{path}: is a {descriptor.architecture}, not a depth network")
        # the net sees the whole image at the view size it was trained for (never more than max_side),
        # enlarged or reduced to it whatever the input's resolution
        self.model, self.view_side = descriptor.model, min(max_side, getattr(descriptor.model, "view_side", max_side))

    def __call__(self, rgb: np.ndarray, out_shape: Shape | None = None) -> np.ndarray:
        shape = out_shape or rgb.shape[:2]
        return finish(run_depthnet(self.model, rgb, self.view_side, shape), shape)
