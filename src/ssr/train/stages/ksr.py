"""Stage `ksr`: the compact kernel-conditioned SR body (models/ksrnet.py) on real-use training pairs.

LR + the TRUE kernel field (as PCA codes) -> HR, Charbonnier loss, 48x48 LR patches (larger than the
body's receptive field), validated by PSNR-Y on >= 20 images (McMaster + Set5 by default: not the
benchmark sets). The pair cache mixes sv / dof / resize pairs (train/real_use_data.py) and is
re-rendered from a new seed on every resume, so a run continued across sessions keeps seeing new data.
The kernel code is fitted on the SCM's kernel prior PLUS the bicubic resize kernel and nearly-delta
Gaussians, so "clean" inputs have a code of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ssr.arrays import FLAT_DEPTH, from_nchw, quantise
from ssr.degradation import kernels as K
from ssr.degradation.apply import kernel_offset
from ssr.errors import ConfigError
from ssr.metrics.psnr_ssim import psnr_y
from ssr.models.kernel_code import sample_prior_kernels
from ssr.models.ksrnet import KSRNet
from ssr.models.registry import load_model
from ssr.progress import progress
from ssr.train.real_use_data import RealUseSettings, load_real_use
from ssr.train.stages.base import StageDefaults


@dataclass
class KSRSettings(RealUseSettings):
    channels: int = 48
    blocks: int = 6
    code_dim: int = 16
    charbonnier_eps: float = 1e-3
    # stage 2 (issue 8, point 2): this share of the pairs gets the kernel codes a DKENet ESTIMATED
    # (`estimator`: weights predicting codes in this network's code space, e.g. train_state/dkenet_code_x4)
    # instead of the true ones, so the body learns to use the codes it will get at inference
    estimated_share: float = 0.0
    estimator: str | None = field(default=None, metadata={"path": True})

    def check(self) -> None:
        self.check_real_use("ksr")
        if not 0 <= self.estimated_share <= 1:
            raise ConfigError("config: ksr.estimated_share must be in [0, 1]")
        if self.estimated_share > 0 and not self.estimator:
            raise ConfigError("config: ksr.estimated_share > 0 needs ksr.estimator (DKENet code weights)")
        if min(self.sv, self.dof, self.resize) < 0 or self.sv + self.dof + self.resize <= 0:
            raise ConfigError("config: ksr.sv/dof/resize are non-negative shares, not all 0")
        if self.dof > 0 and not self.depth_root:
            raise ConfigError("config: ksr.dof > 0 needs ksr.depth_root (scenes with depth)")
        if self.patch_lr < 8 or not 0 <= self.second_order <= 1 or not 1 <= self.jpeg_min <= 95:
            raise ConfigError("config: need ksr.patch_lr >= 8, second_order in [0, 1], jpeg_min in 1..95")


def code_prior(kernel_size: int, scale: int, seed: int) -> torch.Tensor:
    """Kernels the code is fitted on: the SCM prior + nearly-delta Gaussians + the bicubic resize kernel."""
    rng = np.random.default_rng(seed + 7)
    offset = kernel_offset(scale)
    small = K.gaussian_kernels(kernel_size, rng.uniform(0.2, 0.8, 2000), rng.uniform(0.2, 0.8, 2000),
                               rng.uniform(0, np.pi, 2000), offset=offset).float()
    bicubic = K.bicubic_resize_kernel(kernel_size, scale, offset=offset, dtype=torch.float32).expand(500, -1)
    return torch.cat([sample_prior_kernels(18000, kernel_size, scale, seed=seed), small, bicubic])


class MixedCodes:
    """A coded pair cache whose pairs, a fixed `share` of them (drawn once per cache from `seed`),
    carry estimated kernel codes instead of the true ones."""

    def __init__(self, cache, estimated: torch.Tensor, share: float, seed: int) -> None:
        self.cache, self.estimated = cache, estimated
        self.use_estimate = torch.from_numpy(np.random.default_rng(seed).random(len(cache)) < share)

    def __len__(self) -> int:
        return len(self.cache)

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.cache.batch(indices)
        pick = self.use_estimate[indices].view(-1, 1, 1, 1)
        out["codes"] = torch.where(pick, self.estimated[indices].float(), out["codes"])
        return out


class KSRStage(StageDefaults):
    name = "ksr"
    architecture = "ssr.ksrnet"
    Settings = KSRSettings
    val_name = "PSNR-Y (dB)"
    loss_terms = ("charbonnier",)
    estimator: nn.Module | None = None  # stage 2: the DKENet whose codes part of the pairs get

    def model_kwargs(self) -> dict:
        s = self.settings
        return {"scale": self.config.scale, "channels": s.channels, "blocks": s.blocks,
                "kernel_size": s.kernel_size, "code_dim": s.code_dim}

    def build_model(self) -> nn.Module:
        model = KSRNet(**self.model_kwargs())
        model.code.fit(code_prior(self.settings.kernel_size, self.config.scale, self.config.seed))
        return model

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        cache, val = load_real_use(self.config, self.settings, rank, start_step, model.code)
        if self.settings.estimated_share > 0:
            self.estimator = self.load_estimator(model)
            cache = MixedCodes(cache, self.estimate_codes(cache, self.estimator), self.settings.estimated_share,
                               self.config.seed + start_step)
        return cache, val

    def load_estimator(self, model: nn.Module) -> nn.Module:
        """The stage-2 DKENet (`ksr.estimator`), checked to predict codes of `model`'s size."""
        estimator = load_model(Path(self.settings.estimator)).model.eval()
        if getattr(estimator, "code_dim", None) != model.code.dim:
            raise ConfigError(f"config: ksr.estimator {self.settings.estimator} does not predict "
                              f"{model.code.dim}-number kernel codes")
        return estimator

    @torch.no_grad()
    def estimate_codes(self, cache, estimator: nn.Module) -> torch.Tensor:
        """The estimator's codes for every cached pair (from its LR and the depth it would be given)."""
        out = []
        for start in progress(range(0, len(cache), 32), "estimated codes"):
            batch = cache.batch(torch.arange(start, min(start + 32, len(cache))))
            out.append(estimator(batch["lr"], batch["depth"]).half())
        return torch.cat(out)

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        sr = model(batch["lr"], batch["codes"])
        eps = self.settings.charbonnier_eps
        return {"charbonnier": torch.sqrt((sr - batch["hr"]) ** 2 + eps * eps).mean()}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        """PSNR-Y with the true kernels (stage 1), or BLIND with the estimator's codes from the LR and a
        flat depth (stage 2: estimated_share > 0), which is what the pipeline gives the body."""
        scores = []
        for item in val_set:
            if self.estimator is not None:
                codes = self.estimator(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH))
                sr = model.forward_codes(item.lr, codes)
            else:
                sr = model(item.lr, item.kernels)
            scores.append(psnr_y(quantise(from_nchw(sr)), item.hr, crop_border=self.config.scale))
        return float(np.mean(scores))
