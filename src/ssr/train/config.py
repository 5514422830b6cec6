"""Training configuration: YAML -> nested dataclasses, validated (a typo in a key is an error).

Common sections (`data`, `optim`, `log`) are the same for every stage; each stage adds its own section,
named after it (`rrdb:`, `dkenet:`, `depth:`), whose dataclass the stage declares (`Stage.Settings`),
so adding a stage never touches this file. Values are coerced by `ssr.settings` (shared with the
protocol settings). Relative paths in a config (fields marked `metadata={"path": True}`) are
resolved against the config file's folder, so the shipped configs work from any working directory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ssr.errors import ConfigError
from ssr.settings import coerce, from_mapping, path_fields
from ssr.train.stages import STAGES


def path_field(default=None):
    return field(default=default, metadata={"path": True})


@dataclass
class DataConfig:
    train_dirs: list[str] = field(default_factory=list, metadata={"path": True})
    val_dir: str | None = path_field()
    val_images: int = 5  # first N images of val_dir
    cache_size: int = 2000  # pre-rendered training pairs held in memory
    photo_downscale: float = 0.35  # large JPEG photos are reduced before use as ground truth


@dataclass
class OptimConfig:
    lr: float = 2e-4
    batch_size: int = 16
    steps: int = 10000
    ema: float = 0.999
    grad_clip: float = 0.0
    lr_decay_at: list[int] = field(default_factory=list)  # steps where the learning rate halves


@dataclass
class LogConfig:
    out_dir: str = path_field("runs/train")
    val_every: int = 1000
    log_every: int = 50
    checkpoint_minutes: float = 5.0


@dataclass
class TrainConfig:
    stage: str = "rrdb"
    scale: int = 4
    seed: int = 0
    threads: int = 0  # 0 = torch default
    init: str | None = path_field()  # start from these weights (e.g. the committed weights/*.safetensors)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    log: LogConfig = field(default_factory=LogConfig)
    settings: Any = field(default=None, init=False)  # the stage's own section (its Settings dataclass)


def check(config: TrainConfig) -> TrainConfig:
    if config.scale not in (2, 4):
        raise ConfigError("config: scale must be 2 or 4")
    if config.threads < 0:
        raise ConfigError("config: threads must be >= 0 (0 = torch default)")
    o = config.optim
    if o.batch_size < 1 or o.steps < 1 or config.data.cache_size < o.batch_size:
        raise ConfigError("config: need batch_size >= 1, steps >= 1 and cache_size >= batch_size")
    if not o.lr >= 0:  # 0 is allowed: it exports the (EMA of the) initial weights unchanged
        raise ConfigError(f"config: optim.lr must be >= 0, got {o.lr}")
    if not 0 <= o.ema < 1:
        raise ConfigError("config: optim.ema must be in [0, 1)")
    if not config.data.train_dirs:
        raise ConfigError("config: data.train_dirs is empty")
    check_stage = getattr(config.settings, "check", None)
    if check_stage is not None:
        check_stage()
    return config


def _apply_overrides(raw: dict, overrides: dict[str, Any]) -> None:
    for dotted, value in overrides.items():
        target = raw
        *parents, last = dotted.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"--set {dotted}: '{part}' is not a section")
        target[last] = yaml.safe_load(value) if isinstance(value, str) else value


def _resolve_paths(settings: Any, base: Path) -> None:
    for name in path_fields(type(settings)):
        value = getattr(settings, name)
        if isinstance(value, list):
            setattr(settings, name, [str((base / Path(v).expanduser()).resolve()) for v in value])
        elif value:
            setattr(settings, name, str((base / Path(value).expanduser()).resolve()))


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config is a mapping of sections")
    _apply_overrides(raw, overrides or {})
    stage = coerce(raw.get("stage", TrainConfig.stage), str, "config.stage")
    if stage not in STAGES:
        raise ConfigError(f"config: stage must be one of {tuple(STAGES)}, got '{stage}'")
    others = sorted(set(raw) & set(STAGES) - {stage})
    if others:
        raise ConfigError(f"config: section(s) {others} belong to other stages (this config trains '{stage}')")
    section = raw.pop(stage, None)
    config = from_mapping(TrainConfig, raw, "config")
    config.settings = from_mapping(STAGES[stage].Settings, section, f"config.{stage}")
    check(config)
    base = path.resolve().parent
    for settings in (config, config.data, config.log, config.settings):
        _resolve_paths(settings, base)
    from ssr.io import check_output_folder

    check_output_folder(Path(config.log.out_dir), "training output folder (log.out_dir)")
    return config


def to_dict(config: TrainConfig) -> dict:
    """The config as written to out_dir/config.json (the stage section under the stage's name)."""
    out = dataclasses.asdict(config)
    out[config.stage] = out.pop("settings")
    return out
