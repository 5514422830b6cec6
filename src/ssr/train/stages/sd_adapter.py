"""Stage `sd_adapter`: an AMF adapter for a LOCAL Stable Diffusion UNet (issue 11 point 5; a GPU job).

The UNet and VAE of `sd_dir` (diffusers layout) stay frozen; only the adapter (ssr.sd_backend.SDAdapter:
AMF + zero-initialised residual projections) trains, with the diffusion loss of the folder's own
scheduler (noise, v or sample prediction as its config says) on VAE latents of the HR crops. Data and
conditioning are the refiner's (stage `refiner`): real-use pairs, DKENet's estimated kernel codes
and the pair's depth, so the adapter sees at training what `ssr upscale --backend sd:DIR` gives it.
Validation: the same loss on the validation images' centre crops at fixed noise (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ssr.errors import ConfigError
from ssr.train.stages.refiner import RefinerSettings, RefinerStage


@dataclass
class SDAdapterSettings(RefinerSettings):
    sd_dir: str | None = field(default=None, metadata={"path": True})
    width: int = 64

    def check(self) -> None:
        if not self.sd_dir:
            raise ConfigError("config: sd_adapter.sd_dir must name a local diffusers folder (unet/, vae/, scheduler/)")
        if self.width < 4:
            raise ConfigError("config: sd_adapter.width must be >= 4")


class SDAdapterStage(RefinerStage):
    name = "sd_adapter"
    architecture = "ssr.sd_adapter"
    Settings = SDAdapterSettings
    val_name = "diffusion loss (val)"

    def __init__(self, config) -> None:
        super().__init__(config)
        from pathlib import Path

        from ssr.sd_backend import SDComponents

        self.loss_terms = ("diffusion",)
        self.parts = SDComponents(Path(self.settings.sd_dir))

    def model_kwargs(self) -> dict:
        from ssr.sd_backend import residual_layout

        down, (mid_c, mid_l) = residual_layout(dict(self.parts.unet.config))
        return {"down_channels": [c for c, _ in down], "down_levels": [lvl for _, lvl in down],
                "mid_channels": mid_c, "mid_level": mid_l, "code_dim": self.sr.code.dim, "width": self.settings.width}

    def build_model(self) -> nn.Module:
        from ssr.sd_backend import SDAdapter

        return SDAdapter(**self.model_kwargs())

    def _loss(self, model: nn.Module, hr, lr, codes, depth, generator: torch.Generator | None = None) -> torch.Tensor:
        from ssr.sd_backend import _pad_to

        parts, scheduler = self.parts, self.parts.scheduler
        adapter = model.module if hasattr(model, "module") else model
        with torch.no_grad():
            latent = _pad_to(parts.encode(hr), adapter.multiple)
        noise = torch.randn(latent.shape, generator=generator)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (latent.shape[0],), generator=generator)
        noisy = scheduler.add_noise(latent, noise, t)
        output = parts.predict(noisy, t, lr, model(lr, codes, depth, tuple(latent.shape[-2:])))
        kind = scheduler.config.get("prediction_type", "epsilon")
        target = {"epsilon": noise, "sample": latent}.get(kind)
        if target is None:  # v-prediction
            target = scheduler.get_velocity(latent, noise, t)
        return F.mse_loss(output, target)

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"diffusion": self._loss(model, batch["hr"], batch["lr"], batch["est_codes"], batch["depth"])}

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        scores = []
        for lr, hr, _, codes, depth in val_set:
            h, w = (min(64, lr.shape[-2]), min(64, lr.shape[-1]))
            s = self.config.scale
            scores.append(float(self._loss(model, hr[..., :h * s, :w * s], lr[..., :h, :w], codes[..., :h, :w],
                                           depth[..., :h, :w], torch.Generator().manual_seed(0))))
        return sum(scores) / max(1, len(scores))
