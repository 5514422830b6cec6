"""`ssr train CONFIG.yaml`: one loop for every stage, single process or torchrun (DDP).

Stages:
* rrdb   : non-blind SR, LR + TRUE kernel field -> HR, L1 loss, val = PSNR-Y (crop = scale).
* dkenet : kernel estimation, LR + depth -> per-pixel kernels, MSE on taps, val = kernel PSNR.
           (sv pairs have no depth: a flat or distractor map is fed; dof pairs come with their
           scene's depth, see data.py and `data.dof_fraction`.)
* depth  : builtin DepthNet, RGB -> relative inverse depth, scale-and-shift-invariant MSE on real
           RGB-D pairs + synthetic layered scenes (depth_data.py), val = AbsRel on the held-out split.

Determinism and DDP: every rank renders the same seeded pair cache; each step draws ONE global batch
of indices from a generator seeded by (seed, step) and rank r takes indices[r::world]. DDP averages
gradients, so a torchrun run with W ranks computes the same update as one process with the full
batch (checked by tests/test_train.py). Only rank 0 validates, logs and writes files.
Checkpoints (model, EMA, optimizer, step) are written every `checkpoint_minutes` and at the end;
`--resume` continues from out_dir/checkpoint.pt. The EMA weights are exported as model.safetensors.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ssr.depth.builtin import run_depthnet
from ssr.errors import ConfigError
from ssr.hashing import write_json
from ssr.metrics.depth_error import depth_errors
from ssr.metrics.kernel_error import kernel_errors
from ssr.metrics.psnr_ssim import psnr_y
from ssr.models.depthnet import DepthNet
from ssr.models.dkenet import DKENet
from ssr.models.kernel_code import sample_prior_kernels
from ssr.models.registry import load_model, save_model
from ssr.models.rrdb import KernelConditionedRRDB
from ssr.progress import say
from ssr.train.config import TrainConfig, to_dict
from ssr.train.data import build_cache, build_val_set, load_training_images
from ssr.train.depth_data import build_depth_cache, depth_pairs, load_pair, ssi_mse

LOG_COLUMNS = ["step", "loss", "lr", "val", "elapsed_s"]
ARCHITECTURE = {"rrdb": "ssr.rrdb", "dkenet": "ssr.dkenet", "depth": "ssr.depthnet"}


def initialise_from(model: nn.Module, path: Path) -> list[str]:
    """Copy the weights of `path` into `model`; returns the names left at their fresh values.

    Same-architecture weights load completely. Across scales (an x2 RRDB started from the x4 one)
    only the upsampler differs: tensors absent from the file, or of another shape, stay fresh. A file
    that fits less than half of the model is refused (a wrong file, not a warm start).
    """
    source = load_model(path)
    target = model.state_dict()
    fitting = {k: v for k, v in source.model.state_dict().items() if k in target and target[k].shape == v.shape}
    if len(fitting) * 2 < len(target):
        raise ConfigError(f"config: init weights {path} ({source.architecture}) do not fit this model "
                          f"({len(fitting)} of {len(target)} tensors)")
    model.load_state_dict(fitting, strict=False)
    return sorted(k for k in target if k not in fitting)


def model_kwargs(config: TrainConfig) -> dict:
    m = config.model
    if config.stage == "depth":
        c = m.channels
        return {"widths": [c, 2 * c, 4 * c, 6 * c, 8 * c][:m.depth_levels], "view_side": m.depth_view_side,
                "row_coordinate": m.depth_row_coordinate}
    if config.stage == "rrdb":
        return {"scale": config.scale, "channels": m.channels, "growth": m.growth, "blocks": m.blocks,
                "kernel_size": m.kernel_size, "code_dim": m.code_dim}
    return {"kernel_size": m.kernel_size, "channels": m.channels}


def build_model(config: TrainConfig) -> nn.Module:
    torch.manual_seed(config.seed)
    if config.stage == "rrdb":
        model = KernelConditionedRRDB(**model_kwargs(config))
        model.code.fit(sample_prior_kernels(20000, config.model.kernel_size, config.scale, seed=config.seed))
        return model
    if config.stage == "depth":
        return DepthNet(**model_kwargs(config))
    return DKENet(**model_kwargs(config))


def _forward_loss(model: nn.Module, stage: str, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    if stage == "depth":
        return ssi_mse(model(batch["rgb"]), batch["depth"])
    if stage == "rrdb":
        return F.l1_loss(model(batch["lr"], batch["kernels"]), batch["hr"])
    predicted = model(batch["lr"], batch["depth"])
    return F.mse_loss(predicted, batch["kernels"]) * predicted.shape[1]  # per-pixel squared error, summed over taps


@torch.no_grad()
def validate(model: nn.Module, stage: str, val_set, scale: int, estimator: nn.Module | None = None) -> float:
    model.eval()
    scores = []
    for item in val_set:
        if stage == "depth":
            rgb, gt = item  # gt has the image's size (load_pair)
            scores.append(depth_errors(run_depthnet(model, rgb, model.view_side), gt)["abs_rel"])
        elif stage == "rrdb":
            kernels = item.kernels if estimator is None else estimator(item.lr, torch.full_like(item.lr[:, :1], 0.5))
            sr = model(item.lr, kernels).clamp(0, 1)[0].numpy().transpose(1, 2, 0)
            sr = np.round(sr * 255) / 255
            scores.append(psnr_y(sr, item.hr, crop_border=scale))
        else:
            predicted = model(item.lr, torch.full_like(item.lr[:, :1], 0.5))
            scores.append(kernel_errors(predicted.numpy(), item.kernels.numpy())["kernel_psnr"])
    model.train()
    return float(np.mean(scores))


class EMA:
    """Exponential moving average of parameters (buffers copied), the weights that get shipped."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model)
        self.model.load_state_dict(model.state_dict())
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def batch_indices(seed: int, step: int, cache_len: int, batch_size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
    return torch.randint(0, cache_len, (batch_size,), generator=generator)


def _tensorboard(out_dir: Path):
    """TensorBoard scalars next to log.csv when the tensorboard package is installed (optional)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))


def _data(config: TrainConfig, rank: int):
    """The in-memory training cache and (rank 0) the validation items of a stage."""
    d = config.data
    if config.stage == "depth":
        images = load_training_images(d.train_dirs, d.photo_downscale, min_side=d.depth_patch)
        train_pairs, held_out = depth_pairs(Path(d.depth_root)) if d.depth_root else ([], [])
        real = [load_pair(*pair) for pair in train_pairs]
        cache = build_depth_cache(real, images, d.cache_size, d.depth_patch, config.seed, d.synthetic_fraction)
        return cache, ([load_pair(*pair, keep_zero=True) for pair in held_out] if rank == 0 else [])
    images = load_training_images(d.train_dirs, d.photo_downscale, min_side=(d.patch_lr + 6) * config.scale)
    real = ([load_pair(*pair) for pair in depth_pairs(Path(d.depth_root))[0]]
            if d.depth_root and d.dof_fraction > 0 else [])
    cache = build_cache(images, d.cache_size, config.scale, d.patch_lr, d.grid, config.seed, config.model.kernel_size,
                        d.dof_fraction, real)
    val_set = (build_val_set(d.val_dir, d.val_images, config.scale, config.seed, config.model.kernel_size)
               if rank == 0 and d.val_dir else [])
    return cache, val_set


_STOP = {"requested": False}


def _install_stop_handler():
    """SIGTERM (e.g. a scheduler's time limit) ends training at the next step with a checkpoint."""
    _STOP["requested"] = False
    try:
        return signal.signal(signal.SIGTERM, lambda *_: _STOP.update(requested=True))
    except ValueError:  # not the main thread: no handler
        return None


def _stop_requested(world: int) -> bool:
    wanted = _STOP["requested"]
    if world > 1:  # every rank must stop at the same step, or DDP would hang
        flag = torch.tensor([int(wanted)])
        dist.all_reduce(flag)
        wanted = bool(flag.item())
    return wanted


class RankZeroReporter:
    """Rank 0's periodic work: validation, CSV/TensorBoard logs, checkpoints + weights export."""

    def __init__(self, config: TrainConfig, model: nn.Module, ema: "EMA", optimizer, estimator, val_set,
                 resume: bool) -> None:
        self.config, self.model, self.ema, self.optimizer = config, model, ema, optimizer
        self.estimator, self.val_set = estimator, val_set
        self.out_dir = Path(config.log.out_dir)
        self.log_path = self.out_dir / "log.csv"
        self.board = _tensorboard(self.out_dir)
        if not (resume and self.log_path.exists()):
            with open(self.log_path, "w", newline="") as handle:
                csv.writer(handle).writerow(LOG_COLUMNS)
        self.start = self.last_save = time.monotonic()
        self.losses: list[float] = []
        self.val = math.nan

    def after_step(self, step: int, loss: float, lr_now: float, is_last: bool) -> None:
        log = self.config.log
        self.losses.append(loss)
        if self.val_set and (step % log.val_every == 0 or is_last):
            self.val = validate(self.ema.model, self.config.stage, self.val_set, self.config.scale, self.estimator)
        if step % log.log_every == 0 or is_last:
            self._log(step, float(np.mean(self.losses)), lr_now)
            self.losses = []
        if is_last or time.monotonic() - self.last_save > 60 * log.checkpoint_minutes:
            self._save(step)

    def _log(self, step: int, loss: float, lr_now: float) -> None:
        val = self.val
        with open(self.log_path, "a", newline="") as handle:
            csv.writer(handle).writerow([step, f"{loss:.6f}", f"{lr_now:.3g}", "" if math.isnan(val) else f"{val:.4f}",
                                         f"{time.monotonic() - self.start:.1f}"])
        say(f"step {step}: loss {loss:.5f}" + ("" if math.isnan(val) else f", val {val:.3f}"))
        if self.board is not None:
            self.board.add_scalar("loss", loss, step)
            if not math.isnan(val):
                self.board.add_scalar("val", val, step)

    def _save(self, step: int) -> None:
        config = self.config
        _save_checkpoint(self.out_dir / "checkpoint.pt", self.model, self.ema, self.optimizer, step, config)
        save_model(self.out_dir / "model.safetensors", ARCHITECTURE[config.stage], self.ema.model,
                   1 if config.stage == "depth" else config.scale, model_kwargs(config), {"step": step, "val": self.val})
        self.last_save = time.monotonic()

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _save_checkpoint(path: Path, model: nn.Module, ema: EMA, optimizer, step: int, config: TrainConfig) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"model": model.state_dict(), "ema": ema.model.state_dict(), "optimizer": optimizer.state_dict(),
                "step": step, "config": to_dict(config)}, tmp)
    tmp.replace(path)


def train(config: TrainConfig, resume: bool = False, max_steps: int | None = None) -> dict:
    """Run (or continue) training; returns {'step', 'val', 'weights'}. `max_steps` caps this call."""
    rank, world = _distributed()
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.optim.batch_size % world:
        raise ValueError(f"batch_size {config.optim.batch_size} is not divisible by {world} ranks")
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu")
    out_dir = Path(config.log.out_dir)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "config.json", to_dict(config))

    model = build_model(config).to(device)
    if config.init and not (resume and (out_dir / "checkpoint.pt").exists()):
        skipped = initialise_from(model, Path(config.init))
        if rank == 0:
            say(f"initialised from {config.init}" + (f" (kept fresh: {', '.join(skipped)})" if skipped else ""))
    ema = EMA(model, config.optim.ema)
    estimator = None
    if config.stage == "rrdb" and config.model.kernel_source.startswith("dkenet:"):
        estimator = load_model(Path(config.model.kernel_source[7:]), device=str(device)).model
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optim.lr, betas=(0.9, 0.99))
    step = 0
    checkpoint = out_dir / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        ema.model.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        if rank == 0:
            say(f"resumed from {checkpoint} at step {step}")
    trained = DistributedDataParallel(model) if world > 1 else model

    cache, val_set = _data(config, rank)

    reporter = RankZeroReporter(config, model, ema, optimizer, estimator, val_set, resume) if rank == 0 else None
    end_step = config.optim.steps if max_steps is None else min(config.optim.steps, step + max_steps)
    use_amp = device.type == "cuda"
    previous_handler = _install_stop_handler()
    while step < end_step:
        lr_now = config.optim.lr * 0.5 ** sum(step >= s for s in config.optim.lr_decay_at)
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        indices = batch_indices(config.seed, step, len(cache), config.optim.batch_size)[rank::world]
        batch = {k: v.to(device) for k, v in cache.batch(indices).items()}
        if estimator is not None:  # SVKR stage 2: the RRDB learns from the kernels it will really get
            with torch.no_grad():
                batch["kernels"] = estimator(batch["lr"], batch["depth"])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            loss = _forward_loss(trained, config.stage, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.optim.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
        optimizer.step()
        ema.update(model)
        step += 1
        stopping = _stop_requested(world)
        if reporter is not None:
            reporter.after_step(step, loss.item(), lr_now, step == end_step or stopping)
        if stopping:
            if rank == 0:
                say(f"stopped on request at step {step}; checkpoint saved (continue with --resume)")
            break
    if previous_handler is not None:
        signal.signal(signal.SIGTERM, previous_handler)
    if reporter is not None:
        reporter.close()
    # every rank reports that it stepped (the DDP test reads these)
    write_json(out_dir / f"rank{rank}.json", {"rank": rank, "world": world, "step": step})
    if world > 1:
        dist.barrier()
    return {"step": step, "val": reporter.val if reporter is not None else math.nan, "weights": str(out_dir / "model.safetensors"), "rank": rank,
            "world": world}
