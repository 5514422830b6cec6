"""Training data for the builtin depth network: real RGB-D pairs plus synthetic layered scenes.

Real pairs come from <data>/depth (Middlebury, Lu, NYU v2 samples). Held-out split for evaluation
(documented in MODEL_CARD.md): the LAST 5 Middlebury scenes (26-30), the last Lu scene (06) and the
last NYU sample (1002) by sorted name; everything else may be used for training.

Synthetic layered scenes have exact depth by construction: a background crop from the SR training
images on a slanted far plane, then 1-3 layers cut from other training images by smooth random
masks, each on its own (possibly slanted) plane nearer than everything behind it, composited with
occlusion (nearer layers drawn over farther ones). Depth is relative inverse depth (1 = nearest).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ssr.imresize import resize_float
from ssr.arrays import hwc_to_chw, to_rgb, to_uint8
from ssr.io import DEPTH_SUFFIXES, list_images, read_depth, read_image
from ssr.progress import progress

HELD_OUT = {"Middlebury": 5, "Lu": 1, "NYUDepthv2_Test": 1}


def depth_pairs(root: Path) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """(train, held-out) lists of (rgb, depth) paths, paired by sorted order within each set."""
    train, held = [], []
    for name, count in HELD_OUT.items():
        folder = Path(root) / name
        if not folder.is_dir():
            continue
        rgbs = list_images(folder / "RGB")[0]
        depths = sorted(p for p in (folder / "Depth").iterdir() if p.suffix.lower() in DEPTH_SUFFIXES)
        pairs = list(zip(rgbs, depths))
        train += pairs[:-count]
        held += pairs[-count:]
    return train, held


def load_pair(rgb_path: Path, depth_path: Path, keep_zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, relative inverse depth); `keep_zero` keeps it proportional to inverse depth (for AbsRel)."""
    rgb = to_rgb(read_image(rgb_path).pixels)
    depth = read_depth(depth_path, keep_zero=keep_zero)
    if depth.shape != rgb.shape[:2]:
        depth = resize_float(depth, *rgb.shape[:2])
    return rgb, depth


def _smooth_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.random((5, 5)).astype(np.float32)
    field = resize_float(coarse, size, size)
    return field > np.quantile(field, rng.uniform(0.45, 0.8))


def _plane(rng: np.random.Generator, size: int, low: float, high: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    base = rng.uniform(low, high)
    tilt_y, tilt_x = rng.uniform(-0.15, 0.25), rng.uniform(-0.1, 0.1)
    return np.clip(base + tilt_y * (yy - 0.5) + tilt_x * (xx - 0.5), 0, 1)


def _crop(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return image[top:top + size, left:left + size]


def synthetic_scene(rng: np.random.Generator, images: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    rgb = _crop(rng, images[int(rng.integers(len(images)))], size).copy()
    depth = _plane(rng, size, 0.0, 0.3)
    near = 0.3
    for _ in range(int(rng.integers(1, 4))):
        layer_low = near + 0.05
        if layer_low >= 0.95:
            break
        layer = _plane(rng, size, layer_low, min(1.0, layer_low + 0.3))
        mask = _smooth_mask(rng, size)
        rgb[mask] = _crop(rng, images[int(rng.integers(len(images)))], size)[mask]
        depth[mask] = layer[mask]
        near = float(layer[mask].max()) if mask.any() else near
    return rgb, depth.astype(np.float32)


def real_patch(rng: np.random.Generator, rgb: np.ndarray, depth: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A square view of an RGB-D pair that shows 70-100% of its shorter side (depth needs context)."""
    h, w = depth.shape
    factor = size / min(h, w) * rng.uniform(1.0, 1.43)
    nh, nw = max(size, round(h * factor)), max(size, round(w * factor))
    rgb, depth = resize_float(rgb, nh, nw), resize_float(depth, nh, nw)
    top, left = int(rng.integers(0, nh - size + 1)), int(rng.integers(0, nw - size + 1))
    return rgb[top:top + size, left:left + size], depth[top:top + size, left:left + size]


@dataclass
class DepthCache:
    rgb: torch.Tensor  # (N, 3, S, S) uint8
    depth: torch.Tensor  # (N, 1, S, S) float16, relative inverse depth

    def __len__(self) -> int:
        return self.rgb.shape[0]

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"rgb": self.rgb[indices].float() / 255.0, "depth": self.depth[indices].float()}


def build_depth_cache(real: list[tuple[np.ndarray, np.ndarray]], images: list[np.ndarray], count: int, size: int,
                      seed: int, synthetic_fraction: float) -> DepthCache:
    rng = np.random.default_rng(seed)
    rgbs, depths = [], []
    for _ in progress(range(count), "render depth pairs"):
        if not real or rng.random() < synthetic_fraction:
            rgb, depth = synthetic_scene(rng, images, size)
        else:
            rgb, depth = real_patch(rng, *real[int(rng.integers(len(real)))], size)
        if rng.random() < 0.5:
            rgb, depth = rgb[:, ::-1], depth[:, ::-1]
        rgbs.append(hwc_to_chw(to_uint8(rgb)))
        depths.append(depth[None].astype(np.float16))
    return DepthCache(torch.from_numpy(np.stack(rgbs)), torch.from_numpy(np.stack(depths)))


def ssi_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Scale-and-shift-invariant MSE (MiDaS): per image, least-squares align prediction to target."""
    p = prediction.flatten(1)
    t = target.flatten(1)
    p_mean, t_mean = p.mean(1, keepdim=True), t.mean(1, keepdim=True)
    pc, tc = p - p_mean, t - t_mean
    scale = (pc * tc).sum(1, keepdim=True) / (pc * pc).sum(1, keepdim=True).clamp_min(1e-8)
    aligned = scale * pc + t_mean
    return ((aligned - t) ** 2).mean()
