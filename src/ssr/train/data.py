"""Training pairs rendered by the SCM and held in memory, so CPU time goes to the network.

Each pair: an HR crop, its LR rendering through a freshly sampled record, the true kernel of every
LR pixel and the depth map the kernel estimator is given.

* `sv` pairs (the default): a kernel field spanning the crop (`grid` x `grid` nodes), stored as the
  per-LR-pixel covariance maps (3 numbers per pixel instead of 441 taps; kernels rebuilt per batch).
  Their depth input is flat (0.5), or, when dof pairs are mixed in, half of the time a random smooth
  map that has nothing to do with the blur, so the estimator learns that depth is a cue, not the law.
* `dof` pairs (a `dof_fraction` of the cache): a scene WITH depth (a synthetic layered scene built
  from the training images, or a crop of a real RGB-D training pair), rendered through the thin-lens
  `dof` protocol; the occlusion-aware disk kernels are stored explicitly (float16, k*k per pixel)
  and the estimator is given the scene's true relative inverse depth at the kept pixels.

The crop is rendered with a margin of 3 LR pixels (12 HR px > the kernel radius) that is cut away, so
no training pixel sees the artificial reflect border. Everything is seeded: the same config gives the
same cache, and a cache without dof pairs is the same as before dof pairs existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ssr.degradation import protocols as P
from ssr.degradation.apply import Geometry
from ssr.degradation.field import GridField
from ssr.degradation.kernel_maps import covariance_to_kernels
from ssr.degradation.scm import build_field, render
from ssr.errors import DataError
from ssr.imresize import resize_float
from ssr.arrays import flat_depth, hwc_to_chw, to_nchw, to_rgb, to_uint8
from ssr.io import list_images, read_image
from ssr.progress import progress
from ssr.train.depth_data import real_patch, synthetic_scene

MARGIN_LR = 3


def load_training_images(dirs: list[str], photo_downscale: float, min_side: int) -> list[np.ndarray]:
    """HR training images; large JPEG photos are reduced (JPEG artefacts must not be ground truth)."""
    images = []
    for folder in dirs:
        files, _ = list_images(Path(folder))
        for path in files:
            pixels = to_rgb(read_image(path).pixels)
            if path.suffix.lower() in (".jpg", ".jpeg") and max(pixels.shape[:2]) > 1200:
                h, w = pixels.shape[:2]
                size = (max(1, round(w * photo_downscale)), max(1, round(h * photo_downscale)))
                pixels = resize_float(pixels, size[1], size[0], "bicubic").clip(0, 1)
            if min(pixels.shape[:2]) >= min_side:
                images.append(pixels.astype(np.float32))
    if not images:
        raise DataError(f"no usable training images in {dirs}")
    return images


@dataclass
class PairCache:
    hr: torch.Tensor  # (N, 3, s*p, s*p) uint8
    lr: torch.Tensor  # (N, 3, p, p) uint8
    cov: torch.Tensor  # (N, 3, p, p) float32: c_xx, c_xy, c_yy of each LR pixel's kernel (sv pairs)
    scale: int
    kernel_size: int
    depth: torch.Tensor  # (N, 1, p, p) float16: the depth map the kernel estimator is given
    dof_row: torch.Tensor  # (N,) int64: row of a pair's kernels in dof_kernels, -1 for sv pairs
    dof_kernels: torch.Tensor  # (M, k*k, p, p) float16: true kernels of the dof pairs

    def __len__(self) -> int:
        return self.hr.shape[0]

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Float tensors for a batch; sv kernels rebuilt from the covariance maps, dof kernels looked up."""
        lr = self.lr[indices].float() / 255.0
        hr = self.hr[indices].float() / 255.0
        rows = self.dof_row[indices]
        sv = rows < 0
        if bool(sv.all()):
            kernels = covariance_to_kernels(self.cov[indices], self.kernel_size, self.scale)
        else:
            kernels = torch.empty(len(indices), self.kernel_size ** 2, *lr.shape[-2:])
            if bool(sv.any()):
                kernels[sv] = covariance_to_kernels(self.cov[indices[sv]], self.kernel_size, self.scale)
            kernels[~sv] = self.dof_kernels[rows[~sv]].float()
        return {"lr": lr, "hr": hr, "kernels": kernels, "depth": self.depth[indices].float()}


def random_crop(image: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A size x size crop at a random place, mirrored left-right half of the time (3 draws)."""
    h, w = image.shape[:2]
    top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    crop = image[top:top + size, left:left + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def render_pair(image: np.ndarray, rng: np.random.Generator, scale: int, patch_lr: int,
                settings: P.ProtocolSettings, second_order: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hr, lr, covariance maps) of one sv pair; `second_order` = chance of a second degradation pass."""
    crop_lr = patch_lr + 2 * MARGIN_LR
    crop_hr = crop_lr * scale
    hr = random_crop(image, rng, crop_hr)
    if rng.random() < 0.5:
        hr = np.ascontiguousarray(np.rot90(hr))
    record = P.sample_sv(rng, scale, settings)
    if second_order > 0 and rng.random() < second_order:  # no draw at 0: older caches stay bit-identical
        record["second_order"] = P.sample_second_order(rng)
    lr = render(record, np.ascontiguousarray(hr)).lr
    field = GridField.from_dict(record["kernel"])
    maps = field.pixel_maps(crop_lr, crop_lr)
    cov = np.stack([maps["c_xx"], maps["c_xy"], maps["c_yy"]])
    inner = slice(MARGIN_LR, MARGIN_LR + patch_lr)
    inner_hr = slice(MARGIN_LR * scale, (MARGIN_LR + patch_lr) * scale)
    return hr[inner_hr, inner_hr], lr[inner, inner], cov[:, inner, inner]


def render_dof_pair(images: list[np.ndarray], real: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
                    scale: int, patch_lr: int, settings: P.ProtocolSettings
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hr, lr, kernels (k*k, p, p), depth at the kept LR pixels (p, p)) of one dof pair."""
    crop_lr = patch_lr + 2 * MARGIN_LR
    crop_hr = crop_lr * scale
    if real and rng.random() < 0.5:
        hr, depth = real_patch(rng, *real[int(rng.integers(len(real)))], crop_hr)
    else:
        hr, depth = synthetic_scene(rng, images, crop_hr)
    if rng.random() < 0.5:
        hr, depth = hr[:, ::-1], depth[:, ::-1]
    hr, depth = np.ascontiguousarray(np.clip(hr, 0, 1)), np.ascontiguousarray(depth)
    record = P.sample_dof(rng, scale, settings, depth)
    lr = render(record, hr, depth).lr
    geometry = Geometry.for_hr(crop_hr, crop_hr, scale, settings.kernel_size)
    kernels = build_field(record, depth).weights(geometry, 0, geometry.lr_h, torch.float32).numpy()
    kept_depth = depth[geometry.anchor::scale, geometry.anchor::scale][:crop_lr, :crop_lr]
    inner = slice(MARGIN_LR, MARGIN_LR + patch_lr)
    inner_hr = slice(MARGIN_LR * scale, (MARGIN_LR + patch_lr) * scale)
    return (hr[inner_hr, inner_hr], lr[inner, inner], kernels[inner, inner].transpose(2, 0, 1),
            kept_depth[inner, inner])


def distractor_depth(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random smooth depth map unrelated to the blur (given with sv pairs when dof pairs are mixed in)."""
    coarse = rng.random((3, 3)).astype(np.float32)
    return np.clip(resize_float(coarse, size, size), 0, 1)


def _uint8_chw(image: np.ndarray) -> np.ndarray:
    return hwc_to_chw(to_uint8(image))


def build_cache(images: list[np.ndarray], count: int, scale: int, patch_lr: int, grid: int, seed: int,
                kernel_size: int = 21, dof_fraction: float = 0.0,
                real_depth: list[tuple[np.ndarray, np.ndarray]] | None = None) -> PairCache:
    """`count` seeded pairs; a `dof_fraction` of them dof pairs from scenes with depth (see module doc)."""
    settings = P.ProtocolSettings.for_scale(scale).with_overrides({"grid": str(grid), "kernel_size": str(kernel_size)})
    rng = np.random.default_rng(seed)
    hr_list, lr_list, cov_list, depth_list, dof_rows, dof_kernels = [], [], [], [], [], []
    flat = flat_depth(patch_lr, patch_lr, np.float16)
    zero_cov = np.zeros((3, patch_lr, patch_lr), np.float32)
    for _ in progress(range(count), "render training pairs"):
        if dof_fraction > 0 and rng.random() < dof_fraction:
            hr, lr, kernels, depth = render_dof_pair(images, real_depth or [], rng, scale, patch_lr, settings)
            dof_rows.append(len(dof_kernels))
            dof_kernels.append(kernels.astype(np.float16))
            cov_list.append(zero_cov)
            depth_list.append(depth.astype(np.float16))
        else:
            image = images[int(rng.integers(len(images)))]
            hr, lr, cov = render_pair(image, rng, scale, patch_lr, settings)
            dof_rows.append(-1)
            cov_list.append(cov.astype(np.float32))
            use_distractor = dof_fraction > 0 and rng.random() < 0.5
            depth_list.append(distractor_depth(rng, patch_lr).astype(np.float16) if use_distractor else flat)
        hr_list.append(_uint8_chw(hr))
        lr_list.append(_uint8_chw(lr))
    kernel_rows = (torch.from_numpy(np.stack(dof_kernels)) if dof_kernels
                   else torch.zeros(0, kernel_size * kernel_size, patch_lr, patch_lr, dtype=torch.float16))
    return PairCache(torch.from_numpy(np.stack(hr_list)), torch.from_numpy(np.stack(lr_list)),
                     torch.from_numpy(np.stack(cov_list)), scale, kernel_size,
                     torch.from_numpy(np.stack(depth_list))[:, None], torch.tensor(dof_rows, dtype=torch.int64),
                     kernel_rows)


@dataclass
class ValImage:
    name: str
    hr: np.ndarray
    lr: torch.Tensor  # (1, 3, h, w)
    kernels: torch.Tensor  # (1, k*k, h, w) true kernels


def build_val_set(folder: str, count: int, scale: int, seed: int, kernel_size: int = 21) -> list[ValImage]:
    """Full validation images degraded with the `sv` protocol (the benchmark's own sampling)."""
    settings = P.ProtocolSettings.for_scale(scale).with_overrides({"kernel_size": str(kernel_size)})
    files, _ = list_images(Path(folder))
    out = []
    for path in files[:count]:
        hr = to_rgb(read_image(path).pixels)
        hr = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]
        record = P.sample_sv(P.image_rng(seed, path.stem), scale, settings)
        lr = render(record, hr).lr
        field = GridField.from_dict(record["kernel"])
        geometry = Geometry.for_hr(hr.shape[0], hr.shape[1], scale, kernel_size)
        kernels = field.weights(geometry, 0, geometry.lr_h, torch.float32)  # (h, w, k*k)
        out.append(ValImage(path.stem, hr, to_nchw(lr),
                            kernels.permute(2, 0, 1)[None].contiguous()))
    return out
