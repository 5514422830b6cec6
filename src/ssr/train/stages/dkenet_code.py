"""Stage `dkenet_code`: DKENet predicting the SR network's kernel CODE directly (issue 8, point 2).

The head outputs `code_dim` numbers per LR pixel in the code space of a given SR network (`code_from`,
e.g. the KSR run: its fixed PCA code is the target space), trained with MSE in that (unit-variance)
code space on the real-use pairs of the `ksr` stage (sv from nearly clean to heavy blur, dof with
depth, editor downscales; JPEG to q30; second-order passes). Depth input: true depth on dof pairs,
flat or an unrelated smooth map on the others, so depth stays a cue. Validated by kernel PSNR (codes
decoded to taps) on sv images with flat depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssr.arrays import FLAT_DEPTH
from ssr.degradation import protocols as P
from ssr.errors import ConfigError
from ssr.metrics.kernel_error import kernel_errors
from ssr.models.dkenet import DKENet
from ssr.models.registry import load_model
from ssr.train.data import build_val_set, load_training_images
from ssr.train.depth_data import depth_pairs, load_pair
from ssr.train.real_use_data import KINDS, build_coded_cache
from ssr.train.stages.base import StageDefaults


@dataclass
class DKENetCodeSettings:
    code_from: str | None = field(default=None, metadata={"path": True})  # SR weights whose code is the target
    channels: int = 32
    kernel_size: int = 21
    patch_lr: int = 48
    sv: float = 0.45
    dof: float = 0.25
    resize: float = 0.3
    sigma_min: float = 0.2
    jpeg_min: int = 30
    second_order: float = 0.2
    fresh_cache_on_resume: bool = True
    depth_root: str | None = field(default=None, metadata={"path": True})
    val_dirs: list[str] = field(default_factory=list, metadata={"path": True})

    def check(self) -> None:
        if not self.code_from:
            raise ConfigError("config: dkenet_code.code_from must name the SR weights whose kernel code is the target")
        if self.dof > 0 and not self.depth_root:
            raise ConfigError("config: dkenet_code.dof > 0 needs dkenet_code.depth_root")


class DKENetCodeStage(StageDefaults):
    name = "dkenet_code"
    architecture = "ssr.dkenet"
    Settings = DKENetCodeSettings
    val_name = "kernel PSNR (dB)"
    loss_terms = ("code_mse",)

    def __init__(self, config) -> None:
        super().__init__(config)
        self.code = load_model(Path(self.settings.code_from)).model.code.eval()
        if self.code.kernel_size != self.settings.kernel_size:
            raise ConfigError("config: dkenet_code.kernel_size differs from the code's")

    def model_kwargs(self) -> dict:
        return {"kernel_size": self.settings.kernel_size, "channels": self.settings.channels,
                "code_dim": self.code.dim}

    def build_model(self) -> nn.Module:
        return DKENet(**self.model_kwargs())

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        s, d, scale = self.settings, self.config.data, self.config.scale
        seed = self.config.seed + (start_step if s.fresh_cache_on_resume else 0)
        images = load_training_images(d.train_dirs, d.photo_downscale, min_side=(s.patch_lr + 6) * scale)
        real = [load_pair(*pair) for pair in depth_pairs(Path(s.depth_root))[0]] if s.depth_root and s.dof else []
        settings = P.ProtocolSettings.for_scale(scale).with_overrides(
            {"grid": "2", "kernel_size": str(s.kernel_size), "sigma_min": str(s.sigma_min), "jpeg_min": str(s.jpeg_min)})
        cache = build_coded_cache(images, real, d.cache_size, scale, s.patch_lr, seed, self.code,
                                  dict(zip(KINDS, (s.sv, s.dof, s.resize))), settings, s.second_order)
        val_set = []
        if rank == 0:
            for folder in s.val_dirs:
                val_set += build_val_set(folder, d.val_images, scale, self.config.seed, s.kernel_size)
        return cache, val_set

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"code_mse": F.mse_loss(model(batch["lr"], batch["depth"]), batch["codes"])}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = []
        for item in val_set:
            codes = model(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH))
            kernels = self.code.decode(codes).clamp_min(0)
            kernels = kernels / kernels.sum(1, keepdim=True).clamp_min(1e-12)
            scores.append(kernel_errors(kernels.numpy(), item.kernels.numpy())["kernel_psnr"])
        return float(np.mean(scores))
