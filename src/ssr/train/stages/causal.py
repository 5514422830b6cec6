"""Stage `causal`: CausalSR's counterfactual training of the KSRNet body (issue 12).

Every objective is a switch (a weight; 0 = off) and its own log column:

  reconstruction   Charbonnier on every row (factual and siblings)           always on
  consistency      siblings' outputs pulled toward their group's mean output  `consistency`
  contrast         region-level InfoNCE on projected content features at     `contrast`,
                   `contrast_depths` of the residual stream                   `contrast_depths`
  degradation      a head on the stream's depth 0 predicts the record's       `degradation`
                   factors (noise, JPEG, second pass, blur)
  semantic         frozen pretrained encoder features of SR and HR agree     `semantic`, `semantic_encoder`

`counterfactual: false` trains on factual rows only (arm A of the study); otherwise a batch is
batch_size / `rows_per_group` crops, each with its factual and K-1 siblings (equal LR pixels per
step). `adaptive` draws sibling strengths toward the levels the model restores worst
(ssr.causal.adaptive); `acceptance` and the adaptive state are logged. The projection and
degradation heads exist only while training: the exported weights are the KSRNet body alone, so a
causal run loads wherever a `ksr` run does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ssr.causal.adaptive import AdaptiveLevels
from ssr.causal.objectives import (ContentProjection, DegradationHead, charbonnier_per_row, hierarchical_contrast,
                                   sibling_consistency)
from ssr.causal.semantic import make_semantic_encoder, semantic_distance
from ssr.causal.siblings import FACTORS
from ssr.degradation import protocols as P
from ssr.errors import ConfigError
from ssr.models.ksrnet import KSRNet
from ssr.train.causal_data import TARGETS, CounterfactualSource, cached_groups, level_counts, render_groups
from ssr.train.data import build_val_set, load_training_images
from ssr.train.stages.ksr import KSRStage, code_prior


@dataclass
class CausalSettings:
    # the body (KSRNet, as stage ksr)
    channels: int = 48
    blocks: int = 6
    code_dim: int = 16
    kernel_size: int = 21
    charbonnier_eps: float = 1e-3
    # data: pre-rendered counterfactual groups
    patch_lr: int = 48
    groups: int = 1000
    factors: list[str] = field(default_factory=lambda: list(FACTORS))
    levels: int = 3
    sigma_min: float = 0.2
    jpeg_min: int = 30
    second_order: float = 0.2
    min_lr_psnr: float = 25.0  # the cap on what one intervention may do to the LR (binds for ~10% of siblings)
    cache_dir: str | None = field(default=None, metadata={"path": True})
    counterfactual: bool = True
    rows_per_group: int = 4
    adaptive: bool = False
    adaptive_temperature: float = 0.05
    adaptive_floor: float = 0.25
    # objectives (weights; 0 = off)
    consistency: float = 0.0
    contrast: float = 0.0
    contrast_depths: list[int] = field(default_factory=lambda: [2, 4, 6])
    contrast_cells: int = 4
    contrast_temperature: float = 0.1
    degradation: float = 0.0
    semantic: float = 0.0
    semantic_encoder: str = "stlpips-alex"
    semantic_levels: list[int] = field(default_factory=lambda: [3, 4, 5])
    semantic_rows: str = "factual"  # factual | all
    semantic_pool: int = 2  # SR and HR average-pooled by this before the encoder (its cost is at HR size)
    val_dirs: list[str] = field(default_factory=list, metadata={"path": True})

    def check(self) -> None:
        unknown = sorted(set(self.factors) - set(FACTORS))
        if unknown or not self.factors:
            raise ConfigError(f"config: causal.factors must be some of {list(FACTORS)}, got {self.factors}")
        if self.counterfactual and self.rows_per_group < 2:
            raise ConfigError("config: causal.rows_per_group must be >= 2 with counterfactual batches")
        if self.contrast > 0 and (any(d < 0 or d > self.blocks for d in self.contrast_depths) or not self.contrast_depths):
            raise ConfigError(f"config: causal.contrast_depths must lie in 0..{self.blocks}")
        if min(self.consistency, self.contrast, self.degradation, self.semantic) < 0:
            raise ConfigError("config: causal objective weights must be >= 0")
        if (self.consistency or self.contrast) and not self.counterfactual:
            raise ConfigError("config: causal.consistency/contrast need counterfactual: true (siblings)")
        if self.semantic_rows not in ("factual", "all") or self.levels < 1 or self.groups < 1:
            raise ConfigError("config: causal.semantic_rows is factual|all, levels and groups >= 1")


class CausalTrainee(nn.Module):
    """The SR body plus the heads that exist only during training (only those whose objective is on,
    so DDP sees no unused parameters)."""

    def __init__(self, body: KSRNet, channels: int, depths: list[int], outputs: int) -> None:
        super().__init__()
        self.body = body
        self.projections = nn.ModuleDict({str(d): ContentProjection(channels) for d in depths})
        self.degradation = DegradationHead(channels, outputs) if outputs else None

    def forward(self, lr: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.body.forward_features(lr, codes)


class CausalStage(KSRStage):
    name = "causal"
    Settings = CausalSettings

    def __init__(self, config) -> None:
        super().__init__(config)
        s = self.settings
        terms = ["reconstruction"]
        terms += [name for name in ("consistency", "contrast", "degradation", "semantic") if getattr(s, name) > 0]
        self.loss_terms = tuple(terms)
        self.monitor_terms = ("acceptance", "render_acceptance")
        self.source: CounterfactualSource | None = None
        self.encoder = make_semantic_encoder(s.semantic_encoder) if s.semantic > 0 else None

    def build_model(self) -> nn.Module:
        s = self.settings
        body = KSRNet(**self.model_kwargs())
        body.code.fit(code_prior(s.kernel_size, self.config.scale, self.config.seed))
        return CausalTrainee(body, s.channels, s.contrast_depths if s.contrast > 0 else [],
                             len(TARGETS) if s.degradation > 0 else 0)

    def trained_module(self, model: nn.Module) -> nn.Module:
        return model.body

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        s, d, scale = self.settings, self.config.data, self.config.scale
        protocol = P.ProtocolSettings.for_scale(scale).with_overrides(
            {"grid": "2", "kernel_size": str(s.kernel_size), "sigma_min": str(s.sigma_min), "jpeg_min": str(s.jpeg_min)})
        code = model.body.code
        key = {"seed": self.config.seed, "groups": s.groups, "patch": s.patch_lr, "scale": scale,
               "factors": s.factors, "levels": s.levels, "second_order": s.second_order, "cap": s.min_lr_psnr,
               "protocol": protocol.__dict__, "train_dirs": d.train_dirs, "downscale": d.photo_downscale,
               "code": [float(code.mean.sum()), float(code.basis.abs().sum())]}

        def build():
            images = load_training_images(d.train_dirs, d.photo_downscale, min_side=(s.patch_lr + 8) * scale)
            return render_groups(images, s.groups, scale, s.patch_lr, self.config.seed, code, protocol,
                                 s.second_order, tuple(s.factors), s.levels, s.min_lr_psnr)

        cache = cached_groups(s.cache_dir, key, build)
        adaptive = AdaptiveLevels(tuple(s.factors), level_counts(tuple(s.factors), s.levels),
                                  s.adaptive_temperature, s.adaptive_floor, adaptive=s.adaptive)
        self.source = CounterfactualSource(cache, s.rows_per_group if s.counterfactual else 1, adaptive,
                                           self.config.seed)
        val_set = []
        if rank == 0:
            for folder in s.val_dirs:
                val_set += build_val_set(folder, d.val_images, scale, self.config.seed, s.kernel_size)
        return self.source, val_set

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        s = self.settings
        sr, stream = model(batch["lr"], batch["codes"])
        per_row = charbonnier_per_row(sr, batch["hr"], s.charbonnier_eps)
        terms = {"reconstruction": per_row.mean()}
        group = batch["group"]
        if s.consistency > 0:
            terms["consistency"] = s.consistency * sibling_consistency(sr, group, s.charbonnier_eps)
        if s.contrast > 0:
            heads = model.module.projections if hasattr(model, "module") else model.projections
            terms["contrast"] = s.contrast * hierarchical_contrast(stream, heads, group, s.contrast_cells,
                                                                   s.contrast_temperature)
        if s.degradation > 0:
            head = model.module.degradation if hasattr(model, "module") else model.degradation
            terms["degradation"] = s.degradation * F.mse_loss(head(stream[0]), batch["targets"])
        if s.semantic > 0:
            rows = batch["factor"] < 0 if s.semantic_rows == "factual" else slice(None)
            pool = max(1, s.semantic_pool)
            sr_view, hr_view = (F.avg_pool2d(x[rows], pool) for x in (sr, batch["hr"]))
            terms["semantic"] = s.semantic * semantic_distance(self.encoder, sr_view, hr_view, tuple(s.semantic_levels))
        if s.adaptive and self.source is not None:
            self._feed_curriculum(batch, per_row.detach())
        return terms

    def _feed_curriculum(self, batch: dict[str, torch.Tensor], per_row: torch.Tensor) -> None:
        """Each sibling's loss over bilinear upsampling's loss on the same LR -> its level's score."""
        scale = self.config.scale
        base = F.interpolate(batch["lr"], scale_factor=scale, mode="bilinear", align_corners=False)
        base_loss = charbonnier_per_row(base, batch["hr"], self.settings.charbonnier_eps)
        for i in torch.nonzero(batch["factor"] >= 0).flatten().tolist():
            factor = FACTORS[int(batch["factor"][i])]
            self.source.adaptive.update(factor, int(batch["level"][i]), float(per_row[i] / base_loss[i]))

    def monitor(self) -> dict[str, float]:
        if self.source is None:
            return {"acceptance": 1.0, "render_acceptance": 1.0}
        return {"acceptance": self.source.acceptance, "render_acceptance": self.source.cache.acceptance()}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        return super().validate(model.body if isinstance(model, CausalTrainee) else model, val_set)
