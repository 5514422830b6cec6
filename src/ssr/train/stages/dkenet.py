"""Stage `dkenet`: the depth-informed kernel estimator of SVKR.

LR + depth -> one kernel per LR pixel, squared error summed over taps, validated by kernel PSNR.
sv pairs are given flat (or, with dof pairs mixed in, distractor) depth; dof pairs their scene's
depth (ssr.train.data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssr.arrays import FLAT_DEPTH
from ssr.metrics.kernel_error import kernel_errors
from ssr.models.dkenet import DKENet
from ssr.train.stages.base import StageDefaults
from ssr.train.stages.pairs import PairSettings, load_pairs


@dataclass
class DKENetSettings(PairSettings):
    channels: int = 32


class DKENetStage(StageDefaults):
    name = "dkenet"
    architecture = "ssr.dkenet"
    Settings = DKENetSettings
    val_name = "kernel PSNR (dB)"
    loss_terms = ("kernel_mse",)

    def model_kwargs(self) -> dict:
        return {"kernel_size": self.settings.kernel_size, "channels": self.settings.channels}

    def build_model(self) -> nn.Module:
        return DKENet(**self.model_kwargs())

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        return load_pairs(self.config, self.settings, rank)

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        predicted = model(batch["lr"], batch["depth"])
        # per-pixel squared error, summed over taps
        return {"kernel_mse": F.mse_loss(predicted, batch["kernels"]) * predicted.shape[1]}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = []
        for item in val_set:
            predicted = model(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH))
            scores.append(kernel_errors(predicted.numpy(), item.kernels.numpy())["kernel_psnr"])
        return float(np.mean(scores))
