"""`ssr train CONFIG.yaml`: one stage-free loop for every stage, single process or torchrun (DDP).

The stage (ssr.train.stages) gives the model, the data, a dict of named losses and the validation;
the loop sums the losses, steps Adam, keeps an EMA of the weights (torch.optim.swa_utils), halves the
learning rate at `optim.lr_decay_at` (torch.optim.lr_scheduler.MultiStepLR), and logs one column per
loss term.

Determinism and DDP: every rank renders the same seeded data; each step draws ONE global batch of
indices from a generator seeded by (seed, step) and rank r takes indices[r::world]. DDP averages
gradients, so a torchrun run with W ranks computes the same update as one process with the full
batch (checked by tests/test_train.py). Only rank 0 validates, logs and writes files.
Checkpoints (model, EMA, optimizer, scheduler, step) are written every `checkpoint_minutes` and at the
end; `--resume` continues from out_dir/checkpoint.pt. The EMA weights are exported as model.safetensors.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import MultiStepLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ssr.errors import ConfigError
from ssr.hashing import write_json
from ssr.models.registry import load_model, save_model
from ssr.progress import say
from ssr.train.config import TrainConfig, to_dict
from ssr.train.stages import STAGES, Stage


def make_stage(config: TrainConfig) -> Stage:
    return STAGES[config.stage](config)


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


def build_model(config: TrainConfig) -> nn.Module:
    torch.manual_seed(config.seed)
    return make_stage(config).build_model()


def make_ema(model: nn.Module, decay: float) -> AveragedModel:
    """EMA of the parameters (buffers follow the model): the weights that get shipped."""
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.eval()
    return ema


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


_STOP = {"requested": False}


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _install_stop_handler() -> dict:
    """SIGTERM / SIGHUP (a scheduler's time limit, a closed terminal) end training at the next step
    with a checkpoint; returns the previous handlers."""
    _STOP["requested"] = False
    previous = {}
    for signum in STOP_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, lambda *_: _STOP.update(requested=True))
        except ValueError:  # not the main thread: no handler
            pass
    return previous


def _stop_requested(world: int) -> bool:
    wanted = _STOP["requested"]
    if world > 1:  # every rank must stop at the same step, or DDP would hang
        flag = torch.tensor([int(wanted)])
        dist.all_reduce(flag)
        wanted = bool(flag.item())
    return wanted


class RankZeroReporter:
    """Rank 0's periodic work: validation, CSV/TensorBoard logs (one column per loss term), checkpoints."""

    def __init__(self, config: TrainConfig, stage: Stage, model: nn.Module, ema: AveragedModel, optimizer,
                 scheduler, val_set, resume: bool) -> None:
        self.config, self.stage, self.model, self.ema = config, stage, model, ema
        self.optimizer, self.scheduler, self.val_set = optimizer, scheduler, val_set
        self.out_dir = Path(config.log.out_dir)
        self.log_path = self.out_dir / "log.csv"
        self.columns = ["step", "loss", *stage.loss_terms, *stage.monitor_terms, "lr", "val", "elapsed_s"]
        self.board = _tensorboard(self.out_dir)
        if resume and self.log_path.exists():
            self._adopt_log()
        else:
            with open(self.log_path, "w", newline="") as handle:
                csv.writer(handle).writerow(self.columns)
        self.start = self.last_save = time.monotonic()
        self.terms: list[dict[str, float]] = []
        self.val = math.nan

    def after_step(self, step: int, terms: dict[str, float], lr_now: float, is_last: bool) -> None:
        log = self.config.log
        self.terms.append(terms)
        if self.val_set and (step % log.val_every == 0 or is_last):
            self.val = self.stage.validate(self.ema.module, self.val_set)
        if step % log.log_every == 0 or is_last:
            self._log(step, {k: float(np.mean([t[k] for t in self.terms])) for k in self.terms[0]}, lr_now)
            self.terms = []
        if is_last or time.monotonic() - self.last_save > 60 * log.checkpoint_minutes:
            self._save(step)

    def _adopt_log(self) -> None:
        """Resuming with other loss terms (a term switched on or off): rewrite the log under the union of
        its old and the new columns (blank where a row has no value), so no row is misread or lost."""
        with open(self.log_path, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            old = list(reader.fieldnames or [])
        if not old or old == self.columns:
            return
        dropped = [c for c in old if c not in self.columns]
        self.columns = [*self.columns[:-3], *dropped, *self.columns[-3:]]  # before lr, val, elapsed_s
        with open(self.log_path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, self.columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    def _log(self, step: int, means: dict[str, float], lr_now: float) -> None:
        val = self.val
        monitored = self.stage.monitor()
        row = {"step": step, "loss": f"{means['loss']:.6f}", **{k: f"{means[k]:.6f}" for k in self.stage.loss_terms},
               **{k: f"{monitored[k]:.4f}" for k in self.stage.monitor_terms}, "lr": f"{lr_now:.3g}",
               "val": "" if math.isnan(val) else f"{val:.4f}", "elapsed_s": f"{time.monotonic() - self.start:.1f}"}
        with open(self.log_path, "a", newline="") as handle:
            csv.DictWriter(handle, self.columns, restval="").writerow(row)
        terms = ", ".join(f"{k} {means[k]:.5f}" for k in self.stage.loss_terms) if len(self.stage.loss_terms) > 1 else ""
        say(f"step {step}: loss {means['loss']:.5f}" + (f" ({terms})" if terms else "")
            + ("" if math.isnan(val) else f", val {val:.3f} {self.stage.val_name}"))
        if self.board is not None:
            for key, value in means.items():
                self.board.add_scalar(key, value, step)
            if not math.isnan(val):
                self.board.add_scalar("val", val, step)

    def _save(self, step: int) -> None:
        config = self.config
        path = self.out_dir / "checkpoint.pt"
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save({"model": self.model.state_dict(), "ema": self.ema.state_dict(),
                    "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                    "stage": self.stage.auxiliary_state(), "step": step, "config": to_dict(config)}, tmp)
        tmp.replace(path)
        exported = self.stage.trained_module(self.ema.module)
        save_model(self.out_dir / "model.safetensors", self.stage.architecture, exported, self.stage.export_scale(),
                   self.stage.model_kwargs(), {"step": step, "val": self.val})
        self.last_save = time.monotonic()

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def train(config: TrainConfig, resume: bool = False, max_steps: int | None = None) -> dict:
    """Run (or continue) training; returns {'step', 'val', 'weights', 'rank', 'world'}. `max_steps` caps this call."""
    rank, world = _distributed()
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.optim.batch_size % world:
        raise ConfigError(f"batch_size {config.optim.batch_size} is not divisible by {world} ranks")
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu")
    out_dir = Path(config.log.out_dir)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "config.json", to_dict(config))

    stage = make_stage(config)
    torch.manual_seed(config.seed)
    model = stage.build_model().to(device)
    checkpoint = out_dir / "checkpoint.pt"
    if config.init and not (resume and checkpoint.exists()):
        skipped = initialise_from(stage.trained_module(model), Path(config.init))
        if rank == 0:
            say(f"initialised from {config.init}" + (f" (kept fresh: {', '.join(skipped)})" if skipped else ""))
    ema = make_ema(model, config.optim.ema)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optim.lr, betas=(0.9, 0.99))
    scheduler = MultiStepLR(optimizer, milestones=config.optim.lr_decay_at, gamma=0.5)
    step = 0
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        stage.load_auxiliary_state(state.get("stage") or {})
        step = int(state["step"])
        if rank == 0:
            say(f"resumed from {checkpoint} at step {step}")
    trained = DistributedDataParallel(model) if world > 1 else model

    data, val_set = stage.load_data(rank, device, step, model)

    reporter = (RankZeroReporter(config, stage, model, ema, optimizer, scheduler, val_set, resume)
                if rank == 0 else None)
    end_step = config.optim.steps if max_steps is None else min(config.optim.steps, step + max_steps)
    use_amp = device.type == "cuda"
    previous_handlers = _install_stop_handler()
    model.train()
    while step < end_step:
        lr_now = scheduler.get_last_lr()[0]
        indices = batch_indices(config.seed, step, len(data), config.optim.batch_size)[rank::world]
        batch = stage.prepare_batch({k: v.to(device) for k, v in data.batch(indices).items()})
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            terms = stage.losses(trained, batch)
        loss = sum(terms.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.optim.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
        optimizer.step()
        stage.update_auxiliary()
        scheduler.step()
        ema.update_parameters(model)
        step += 1
        stopping = _stop_requested(world)
        if reporter is not None:
            values = {"loss": loss.item(), **{k: v.item() for k, v in terms.items()}}
            reporter.after_step(step, values, lr_now, step == end_step or stopping)
        if stopping:
            if rank == 0:
                say(f"stopped on request at step {step}; checkpoint saved (continue with --resume)")
            break
    for signum, handler in previous_handlers.items():
        signal.signal(signum, handler)
    if reporter is not None:
        reporter.close()
    # every rank reports that it stepped (the DDP test reads these)
    write_json(out_dir / f"rank{rank}.json", {"rank": rank, "world": world, "step": step})
    if world > 1:
        dist.barrier()
    return {"step": step, "val": reporter.val if reporter is not None else math.nan,
            "weights": str(out_dir / "model.safetensors"), "rank": rank, "world": world}
