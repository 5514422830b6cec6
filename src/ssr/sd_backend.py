"""The refiner's Stable Diffusion backend (`--refine diffusion --backend sd:DIR`, issue 11 point 5).

For users who have Stable Diffusion weights in diffusers format LOCALLY (a text-to-image checkpoint
or the x4 upscaler): DIR holds `unet/`, `vae/` and `scheduler/` as `save_pretrained` writes them, and
`ssr_amf_adapter.safetensors`, an AMF adapter trained with `ssr train` (stage `sd_adapter`, a GPU
job; copy the run's model.safetensors there). Nothing is downloaded (`local_files_only`).

The adapter conditions the frozen UNet ControlNet-style: AMF (ssr.models.amf) fuses the LR image,
depth map and kernel-code field at the LR grid; every residual the UNet's down path keeps (conv_in,
each resnet, each downsampler) and the mid block get that feature map resized to their resolution
through a ZERO-initialised 1x1 convolution (`down_block_additional_residuals`,
`mid_block_additional_residual` of diffusers' UNet2DConditionModel), so an untrained adapter leaves
the UNet unchanged. Sampling is img2img from the VAE latent of the SVKR output: `fidelity` F keeps
the first F of the noise schedule unvisited (strength 1 - F), `steps` scheduler steps are run, the
seed fixes the noise. The x4 upscaler's UNet (input = latent + the LR image, a noise-level class
label) is handled by concatenating the LR image resized to the latent grid. This backend runs the
whole image at once (no tiling): it is meant for a GPU.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ssr.errors import UnavailableError
from ssr.models.amf import AMF

ADAPTER_FILE = "ssr_amf_adapter.safetensors"


def residual_layout(unet_config: dict) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """(channels, level) of every down-path residual of a UNet2DConditionModel, and of the mid block;
    level l = the latent grid reduced 2^l times."""
    widths = list(unet_config["block_out_channels"])
    per_block = unet_config["layers_per_block"]
    per_block = [per_block] * len(widths) if isinstance(per_block, int) else list(per_block)
    down = [(widths[0], 0)]
    for i, width in enumerate(widths):
        down += [(width, i)] * per_block[i]
        if i < len(widths) - 1:
            down.append((width, i + 1))
    return down, (widths[-1], len(widths) - 1)


class SDAdapter(nn.Module):
    """AMF -> zero-initialised residuals for a diffusers UNet (architecture 'ssr.sd_adapter')."""

    def __init__(self, down_channels: list[int], down_levels: list[int], mid_channels: int, mid_level: int,
                 code_dim: int = 16, width: int = 64) -> None:
        super().__init__()
        self.down_levels, self.mid_level, self.code_dim = list(down_levels), mid_level, code_dim
        self.amf = AMF((width, width), code_dim, zero_inject=False)
        self.down = nn.ModuleList(nn.Conv2d(width, c, 1) for c in down_channels)
        self.mid = nn.Conv2d(width, mid_channels, 1)
        for layer in [*self.down, self.mid]:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    @classmethod
    def for_unet(cls, unet_config: dict, code_dim: int = 16, width: int = 64) -> "SDAdapter":
        down, (mid_c, mid_l) = residual_layout(unet_config)
        return cls([c for c, _ in down], [lvl for _, lvl in down], mid_c, mid_l, code_dim, width)

    @property
    def multiple(self) -> int:
        return 2 ** self.mid_level

    def forward(self, lr: torch.Tensor, codes: torch.Tensor, depth: torch.Tensor, latent_hw: tuple[int, int]
                ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        if depth.shape[-2:] != lr.shape[-2:]:
            depth = F.interpolate(depth, size=lr.shape[-2:], mode="bilinear", align_corners=False)
        feature = self.amf(lr, codes, depth)[0]
        h, w = latent_hw

        def at(level: int) -> torch.Tensor:
            size = (math.ceil(h / 2 ** level), math.ceil(w / 2 ** level))
            return F.interpolate(feature, size=size, mode="bilinear", align_corners=False, antialias=True)

        down = tuple(conv(at(level)) for conv, level in zip(self.down, self.down_levels))
        return down, self.mid(at(self.mid_level))


class SDComponents:
    """UNet, VAE and scheduler of a local diffusers folder (never downloaded)."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        try:
            import diffusers
        except ImportError as exc:
            raise UnavailableError(f"--backend sd: needs the diffusers package ({type(exc).__name__}): "
                                   "pip install 'ssr[sd]'") from None
        folder = Path(folder)
        for part in ("unet", "vae", "scheduler"):
            if not (folder / part).is_dir():
                raise UnavailableError(f"--backend sd:{folder}: no {part}/ folder (diffusers save_pretrained layout)")
        self.folder = folder
        load = {"local_files_only": True, "low_cpu_mem_usage": False}
        self.unet = diffusers.UNet2DConditionModel.from_pretrained(folder / "unet", **load).to(device).eval()
        self.vae = diffusers.AutoencoderKL.from_pretrained(folder / "vae", **load).to(device).eval()
        self.unet.requires_grad_(False)
        self.vae.requires_grad_(False)
        try:
            name = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())["_class_name"]
        except (OSError, ValueError, KeyError) as exc:
            raise UnavailableError(f"--backend sd:{folder}: unreadable scheduler config ({type(exc).__name__})") from None
        if not hasattr(diffusers, name):
            raise UnavailableError(f"--backend sd:{folder}: unknown scheduler class {name}")
        self.scheduler = getattr(diffusers, name).from_pretrained(folder / "scheduler", local_files_only=True)
        self.scaling = float(self.vae.config.scaling_factor)
        self.upscaler = self.unet.config.in_channels == self.vae.config.latent_channels + 3
        self.null_text = torch.zeros(1, 1, self.unet.config.cross_attention_dim, device=device)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        return self.vae.encode(image * 2 - 1).latent_dist.mean * self.scaling

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return ((self.vae.decode(latent / self.scaling).sample + 1) / 2).clamp(0, 1)

    def predict(self, latent: torch.Tensor, t, lr: torch.Tensor, residuals) -> torch.Tensor:
        """The UNet's output for `latent` at timestep t with the adapter's residuals."""
        x = latent
        class_labels = None
        if self.upscaler:
            x = torch.cat([latent, F.interpolate(lr * 2 - 1, size=latent.shape[-2:], mode="bicubic",
                                                 align_corners=False)], 1)
            class_labels = torch.zeros(latent.shape[0], dtype=torch.long, device=latent.device)
        down, mid = residuals
        return self.unet(x, t, encoder_hidden_states=self.null_text.expand(latent.shape[0], -1, -1),
                         class_labels=class_labels, down_block_additional_residuals=down,
                         mid_block_additional_residual=mid).sample


def _pad_to(latent: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = latent.shape[-2:]
    return F.pad(latent, (0, -w % multiple, 0, -h % multiple), mode="replicate")


def load_adapter(folder: Path):
    from ssr.models.registry import load_model

    path = Path(folder) / ADAPTER_FILE
    if not path.is_file():
        raise UnavailableError(f"--backend sd:{folder}: no {ADAPTER_FILE} (train one with `ssr train` stage "
                               "sd_adapter and copy its model.safetensors there)")
    return load_model(path)


@torch.no_grad()
def sd_refine(parts: SDComponents, adapter: SDAdapter, y0: torch.Tensor, lr: torch.Tensor, codes: torch.Tensor,
              depth: torch.Tensor, *, steps: int, seed: int, fidelity: float) -> torch.Tensor:
    """(1, 3, sH, sW) in [0, 1]: img2img from the SVKR output y0 through the adapted UNet."""
    scheduler = parts.scheduler
    strength = max(1.0 - fidelity, 1e-3)
    scheduler.set_timesteps(max(steps, math.ceil(steps / strength)))
    timesteps = scheduler.timesteps[-steps:]
    start = parts.encode(y0)
    h, w = start.shape[-2:]
    latent = _pad_to(start, adapter.multiple)
    generator = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(latent.shape, generator=generator)
    latent = scheduler.add_noise(latent, noise, timesteps[:1])
    residuals = adapter(lr, codes, depth, tuple(latent.shape[-2:]))
    takes_generator = "generator" in inspect.signature(scheduler.step).parameters
    for t in timesteps:
        model_output = parts.predict(latent, t, lr, residuals)
        extra = {"generator": generator} if takes_generator else {}
        latent = scheduler.step(model_output, t, latent, **extra).prev_sample
    return parts.decode(latent[..., :h, :w])[..., :y0.shape[-2], :y0.shape[-1]]
