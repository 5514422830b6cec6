"""Stage `rrdb`: the non-blind, kernel-conditioned SR network of SVKR.

LR + per-pixel kernel field -> HR, L1 loss, validated by PSNR-Y (crop = scale, 8-bit output).
Kernels are the pairs' TRUE kernels (stage 1), or, with `kernel_estimator: FILE`, a frozen DKENet's
estimates on the same batch (SVKR stage 2: the SR net learns from the kernels it will really get).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssr.arrays import FLAT_DEPTH, from_nchw, quantise
from ssr.errors import ConfigError
from ssr.metrics.psnr_ssim import psnr_y
from ssr.models.kernel_code import sample_prior_kernels
from ssr.models.registry import load_model
from ssr.models.rrdb import KernelConditionedRRDB
from ssr.train.stages.base import StageDefaults
from ssr.train.stages.pairs import PairSettings, load_pairs


@dataclass
class RRDBSettings(PairSettings):
    channels: int = 32
    blocks: int = 3
    growth: int = 16
    code_dim: int = 16
    kernel_estimator: str | None = field(default=None, metadata={"path": True})  # DKENet file; None = true kernels

    def check(self) -> None:
        super().check()
        if self.kernel_estimator is not None and not self.kernel_estimator:
            raise ConfigError("config: rrdb.kernel_estimator must be a DKENet file or null (true kernels)")


class RRDBStage(StageDefaults):
    name = "rrdb"
    architecture = "ssr.rrdb"
    Settings = RRDBSettings
    val_name = "PSNR-Y (dB)"
    loss_terms = ("l1",)

    def __init__(self, config) -> None:
        super().__init__(config)
        self.estimator: nn.Module | None = None

    def model_kwargs(self) -> dict:
        s = self.settings
        return {"scale": self.config.scale, "channels": s.channels, "growth": s.growth, "blocks": s.blocks,
                "kernel_size": s.kernel_size, "code_dim": s.code_dim}

    def build_model(self) -> nn.Module:
        model = KernelConditionedRRDB(**self.model_kwargs())
        model.code.fit(sample_prior_kernels(20000, self.settings.kernel_size, self.config.scale,
                                            seed=self.config.seed))
        return model

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        if self.settings.kernel_estimator:
            self.estimator = load_model(Path(self.settings.kernel_estimator), device=str(device)).model
        return load_pairs(self.config, self.settings, rank)

    def prepare_batch(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.estimator is not None:
            with torch.no_grad():
                batch["kernels"] = self.estimator(batch["lr"], batch["depth"])
        return batch

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"l1": F.l1_loss(model(batch["lr"], batch["kernels"]), batch["hr"])}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = []
        for item in val_set:
            kernels = (item.kernels if self.estimator is None
                       else self.estimator(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH)))
            sr = quantise(from_nchw(model(item.lr, kernels)))
            scores.append(psnr_y(sr, item.hr, crop_border=self.config.scale))
        return float(np.mean(scores))
