"""Stage `dkenet_code`: DKENet predicting the SR network's kernel CODE directly (issue 8, point 2).

The head outputs `code_dim` numbers per LR pixel in the code space of a given SR network (`code_from`,
e.g. the KSR run: its fixed PCA code is the target space), trained with MSE in that (unit-variance)
code space on the real-use pairs of the `ksr` stage (sv from nearly clean to heavy blur, dof with
depth, editor downscales; JPEG to q30; second-order passes). Depth input: true depth on dof pairs,
flat or an unrelated smooth map on the others, so depth stays a cue. Validated by kernel PSNR (codes
decoded to taps) on sv images with flat depth, or (`val_depth: builtin`) with the builtin DepthNet's
estimate from the LR, the depth users get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssr.arrays import FLAT_DEPTH
from ssr.errors import ConfigError
from ssr.metrics.kernel_error import kernel_errors
from ssr.models.dkenet import DKENet
from ssr.models.registry import load_model
from ssr.train.real_use_data import RealUseSettings, builtin_depth, load_real_use
from ssr.train.stages.base import StageDefaults


VAL_DEPTHS = ("flat", "builtin")


@dataclass
class DKENetCodeSettings(RealUseSettings):
    code_from: str | None = field(default=None, metadata={"path": True})  # SR weights whose code is the target
    channels: int = 32
    val_depth: str = "flat"  # depth given at validation: flat | builtin (the shipped DepthNet on the LR: what users get)

    def check(self) -> None:
        self.check_real_use("dkenet_code")
        if self.val_depth not in VAL_DEPTHS:
            raise ConfigError(f"config: dkenet_code.val_depth must be one of {', '.join(VAL_DEPTHS)}, "
                              f"got '{self.val_depth}'")
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
        self._depth = None  # the builtin DepthNet, loaded on first use by val_depth
        if self.code.kernel_size != self.settings.kernel_size:
            raise ConfigError("config: dkenet_code.kernel_size differs from the code's")

    def model_kwargs(self) -> dict:
        return {"kernel_size": self.settings.kernel_size, "channels": self.settings.channels,
                "code_dim": self.code.dim}

    def build_model(self) -> nn.Module:
        return DKENet(**self.model_kwargs())

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        return load_real_use(self.config, self.settings, rank, start_step, self.code)

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"code_mse": F.mse_loss(model(batch["lr"], batch["depth"]), batch["codes"])}

    def val_depth(self, lr: torch.Tensor) -> torch.Tensor:
        """(1, 1, h, w) depth given with a validation LR (1, 3, h, w): flat, or the builtin estimate."""
        if self.settings.val_depth == "flat":
            return torch.full_like(lr[:, :1], FLAT_DEPTH)
        if self._depth is None:
            self._depth = builtin_depth()
        return torch.from_numpy(self._depth(lr[0].permute(1, 2, 0).numpy()).astype(np.float32))[None, None]

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = []
        for item in val_set:
            codes = model(item.lr, self.val_depth(item.lr))
            kernels = self.code.decode_kernels(codes)
            scores.append(kernel_errors(kernels.numpy(), item.kernels.numpy())["kernel_psnr"])
        return float(np.mean(scores))
