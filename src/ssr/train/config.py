"""Training configuration: YAML -> nested dataclasses, validated (a typo in a key is an error).

Relative paths in a config are resolved against the config file's folder, so the shipped configs
work from any working directory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from ssr.errors import ConfigError

STAGES = ("rrdb", "dkenet", "depth")


@dataclass
class DataConfig:
    train_dirs: list[str] = field(default_factory=list)
    val_dir: str | None = None
    val_images: int = 5  # first N images of val_dir
    patch_lr: int = 24
    cache_size: int = 2000  # pre-rendered training pairs held in memory
    grid: int = 2  # kernel-field nodes per side over a training crop
    photo_downscale: float = 0.35  # large JPEG photos are reduced before use as ground truth
    depth_root: str | None = None  # folder with Middlebury/, Lu/, NYUDepthv2_Test/ (train split used)
    dof_fraction: float = 0.0  # stages rrdb/dkenet: share of dof pairs (scenes with depth, thin-lens blur)
    depth_patch: int = 128  # stage depth: training patch side (pixels)
    synthetic_fraction: float = 0.5  # stage depth: share of synthetic layered scenes


@dataclass
class ModelConfig:
    channels: int = 32
    blocks: int = 3
    growth: int = 16
    code_dim: int = 16
    kernel_size: int = 21
    depth_levels: int = 4  # stage depth: U-Net resolutions (5 = down to 1/16)
    depth_view_side: int = 384  # stage depth: longer side of the whole-image view the net is run on
    depth_row_coordinate: bool = False  # stage depth: feed the row position as a 4th input (CoordConv)
    kernel_source: str = "true"  # stage rrdb: "true" kernels, or "dkenet:PATH" = a frozen estimator's output


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
    out_dir: str = "runs/train"
    val_every: int = 1000
    log_every: int = 50
    checkpoint_minutes: float = 5.0


@dataclass
class TrainConfig:
    stage: str = "rrdb"
    scale: int = 4
    seed: int = 0
    threads: int = 0  # 0 = torch default
    init: str | None = None  # start from these weights (e.g. the committed weights/*.safetensors)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    log: LogConfig = field(default_factory=LogConfig)


def _build(cls, data: Any, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"config: '{where}' must be a mapping")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"config: unknown key(s) {unknown} in '{where}' (allowed: {sorted(names)})")
    values = {}
    for key, value in data.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            values[key] = _build(hint, value, f"{where}.{key}")
            continue
        values[key] = _coerce(value, hint, f"{where}.{key}")
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    text = str(hint)
    if value is None and "None" in text:
        return None
    try:
        if hint is bool:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if hint is int and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if hint is float:
            return float(value)
        if hint is str or text.startswith("str"):
            if not isinstance(value, str):
                raise ValueError
            return value
        if text.startswith("list"):
            if not isinstance(value, list):
                raise ValueError
            return [int(v) if "int" in text else str(v) for v in value]
    except (TypeError, ValueError):
        pass
    else:
        return value
    raise ConfigError(f"config: '{where}' has an invalid value {value!r} (expected {text})")


def check(config: TrainConfig) -> TrainConfig:
    if config.stage not in STAGES:
        raise ConfigError(f"config: stage must be one of {STAGES}, got '{config.stage}'")
    if config.scale not in (2, 4):
        raise ConfigError("config: scale must be 2 or 4")
    if config.optim.batch_size < 1 or config.optim.steps < 1 or config.data.cache_size < config.optim.batch_size:
        raise ConfigError("config: need batch_size >= 1, steps >= 1 and cache_size >= batch_size")
    if not 0 <= config.optim.ema < 1:
        raise ConfigError("config: optim.ema must be in [0, 1)")
    if not config.data.train_dirs:
        raise ConfigError("config: data.train_dirs is empty")
    source = config.model.kernel_source
    if source != "true" and not source.startswith("dkenet:"):
        raise ConfigError("config: model.kernel_source must be 'true' or 'dkenet:PATH'")
    if config.stage == "depth" and not 0 <= config.data.synthetic_fraction <= 1:
        raise ConfigError("config: data.synthetic_fraction must be in [0, 1]")
    if not 0 <= config.data.dof_fraction <= 1 or (config.stage == "depth" and config.data.dof_fraction):
        raise ConfigError("config: data.dof_fraction must be in [0, 1] (stages rrdb and dkenet only)")
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    for dotted, value in (overrides or {}).items():
        target = raw
        *parents, last = dotted.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = yaml.safe_load(value) if isinstance(value, str) else value
    config = check(_build(TrainConfig, raw, "config"))
    base = path.resolve().parent
    config.data.train_dirs = [str((base / d).resolve()) for d in config.data.train_dirs]
    if config.data.val_dir:
        config.data.val_dir = str((base / config.data.val_dir).resolve())
    if config.data.depth_root:
        config.data.depth_root = str((base / config.data.depth_root).resolve())
    config.log.out_dir = str((base / config.log.out_dir).resolve())
    if config.init:
        config.init = str((base / config.init).resolve())
    if config.model.kernel_source.startswith("dkenet:"):
        config.model.kernel_source = "dkenet:" + str((base / config.model.kernel_source[7:]).resolve())
    return config


def to_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)
