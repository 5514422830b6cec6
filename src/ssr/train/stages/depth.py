"""Stage `depth`: the builtin monocular DepthNet.

RGB -> relative inverse depth, scale-and-shift-invariant MSE on real RGB-D pairs + synthetic layered
scenes (ssr.train.depth_data), validated by AbsRel on the held-out split (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ssr.depth.builtin import run_depthnet
from ssr.errors import ConfigError
from ssr.metrics.depth_error import depth_errors
from ssr.models.depthnet import DepthNet
from ssr.train.data import load_training_images
from ssr.train.depth_data import build_depth_cache, depth_pairs, load_pair, ssi_mse
from ssr.train.stages.base import StageDefaults


@dataclass
class DepthSettings:
    channels: int = 16
    levels: int = 4  # U-Net resolutions (5 = down to 1/16)
    view_side: int = 384  # longer side of the whole-image view the net is run on
    row_coordinate: bool = False  # feed the row position as a 4th input (CoordConv)
    patch: int = 128  # training view side (pixels)
    synthetic_fraction: float = 0.5  # share of synthetic layered scenes
    depth_root: str | None = field(default=None, metadata={"path": True})  # Middlebury/, Lu/, NYU (train split)

    def check(self) -> None:
        if not 0 <= self.synthetic_fraction <= 1:
            raise ConfigError("config: depth.synthetic_fraction must be in [0, 1]")
        if not 1 <= self.levels <= 5 or self.patch < 16 or self.view_side < 16:
            raise ConfigError("config: need depth.levels in 1..5, patch >= 16 and view_side >= 16")


class DepthStage(StageDefaults):
    name = "depth"
    architecture = "ssr.depthnet"
    Settings = DepthSettings
    val_name = "AbsRel (held-out)"
    loss_terms = ("ssi_mse",)

    def model_kwargs(self) -> dict:
        s = self.settings
        c = s.channels
        return {"widths": [c, 2 * c, 4 * c, 6 * c, 8 * c][:s.levels], "view_side": s.view_side,
                "row_coordinate": s.row_coordinate}

    def build_model(self) -> nn.Module:
        return DepthNet(**self.model_kwargs())

    def export_scale(self) -> int:
        return 1  # depth is scale-free

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        s, d = self.settings, self.config.data
        images = load_training_images(d.train_dirs, d.photo_downscale, min_side=s.patch)
        train_pairs, held_out = depth_pairs(Path(s.depth_root)) if s.depth_root else ([], [])
        real = [load_pair(*pair) for pair in train_pairs]
        cache = build_depth_cache(real, images, d.cache_size, s.patch, self.config.seed, s.synthetic_fraction)
        return cache, ([load_pair(*pair, keep_zero=True) for pair in held_out] if rank == 0 else [])

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"ssi_mse": ssi_mse(model(batch["rgb"]), batch["depth"])}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = [depth_errors(run_depthnet(model, rgb, model.view_side, gt.shape), gt)["abs_rel"]
                  for rgb, gt in val_set]  # gt has the image's size (load_pair)
        return float(np.mean(scores))
