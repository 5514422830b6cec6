"""Config and data shared by the stages trained on SCM-rendered LR/HR pairs (rrdb, dkenet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ssr.errors import ConfigError
from ssr.train.data import PairCache, build_cache, build_val_set, load_training_images
from ssr.train.depth_data import depth_pairs, load_pair


@dataclass
class PairSettings:
    kernel_size: int = 21
    patch_lr: int = 24
    grid: int = 2  # kernel-field nodes per side over a training crop
    dof_fraction: float = 0.0  # share of dof pairs (scenes with depth, thin-lens blur)
    depth_root: str | None = field(default=None, metadata={"path": True})  # Middlebury/, Lu/, NYU (train split)

    def check(self) -> None:
        if not 0 <= self.dof_fraction <= 1:
            raise ConfigError("config: dof_fraction must be in [0, 1]")
        if self.patch_lr < 4 or self.kernel_size < 3 or self.kernel_size % 2 == 0 or self.grid < 1:
            raise ConfigError("config: need patch_lr >= 4, an odd kernel_size >= 3 and grid >= 1")


def load_pairs(config, settings: PairSettings, rank: int) -> tuple[PairCache, list]:
    """The in-memory training cache and (rank 0) the validation images of a pair stage."""
    d = config.data
    images = load_training_images(d.train_dirs, d.photo_downscale, min_side=(settings.patch_lr + 6) * config.scale)
    real = ([load_pair(*pair) for pair in depth_pairs(Path(settings.depth_root))[0]]
            if settings.depth_root and settings.dof_fraction > 0 else [])
    cache = build_cache(images, d.cache_size, config.scale, settings.patch_lr, settings.grid, config.seed,
                        settings.kernel_size, settings.dof_fraction, real)
    val_set = (build_val_set(d.val_dir, d.val_images, config.scale, config.seed, settings.kernel_size)
               if rank == 0 and d.val_dir else [])
    return cache, val_set
