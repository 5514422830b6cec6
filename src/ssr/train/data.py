"""Training pairs rendered by the SCM and held in memory, so CPU time goes to the network.

Each pair: an HR crop, its LR rendering through a freshly sampled `sv` record whose kernel field
spans the crop (`grid` x `grid` nodes), and the per-LR-pixel covariance maps of the true kernels
(3 numbers per pixel instead of 441 taps; kernels are rebuilt per batch). The crop is rendered with
a margin of 3 LR pixels (12 HR px > the kernel radius) that is cut away, so no training pixel sees
the artificial reflect border. Everything is seeded: the same config gives the same cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ssr.degradation import kernels as K
from ssr.degradation import protocols as P
from ssr.degradation.apply import Geometry, kernel_offset
from ssr.degradation.field import GridField
from ssr.degradation.scm import render
from ssr.errors import DataError
from ssr.imresize import resize_float
from ssr.io import list_images, read_image, to_rgb
from ssr.progress import progress

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
    cov: torch.Tensor  # (N, 3, p, p) float32: c_xx, c_xy, c_yy of each LR pixel's kernel
    scale: int
    kernel_size: int

    def __len__(self) -> int:
        return self.hr.shape[0]

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Float tensors for a batch; kernels rebuilt from the covariance maps."""
        lr = self.lr[indices].float() / 255.0
        hr = self.hr[indices].float() / 255.0
        return {"lr": lr, "hr": hr, "kernels": covariance_to_kernels(self.cov[indices], self.kernel_size, self.scale)}


def covariance_to_kernels(cov: torch.Tensor, size: int, scale: int) -> torch.Tensor:
    """(B, 3, h, w) covariance maps -> (B, size*size, h, w) kernels (same offset as the SCM)."""
    b, _, h, w = cov.shape
    offset = kernel_offset(scale)
    flat = cov.permute(0, 2, 3, 1).reshape(-1, 3)
    kernels = K.kernels_from_covariance(size, flat[:, 0], flat[:, 1], flat[:, 2], offset=offset, dtype=torch.float32)
    return kernels.view(b, h, w, -1).permute(0, 3, 1, 2).contiguous()


def render_pair(image: np.ndarray, rng: np.random.Generator, scale: int, patch_lr: int,
                settings: P.ProtocolSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    crop_lr = patch_lr + 2 * MARGIN_LR
    crop_hr = crop_lr * scale
    h, w = image.shape[:2]
    top, left = int(rng.integers(0, h - crop_hr + 1)), int(rng.integers(0, w - crop_hr + 1))
    hr = image[top:top + crop_hr, left:left + crop_hr]
    if rng.random() < 0.5:
        hr = hr[:, ::-1]
    if rng.random() < 0.5:
        hr = np.ascontiguousarray(np.rot90(hr))
    record = P.sample_sv(rng, scale, settings)
    lr = render(record, np.ascontiguousarray(hr)).lr
    field = GridField.from_dict(record["kernel"])
    maps = field.pixel_maps(crop_lr, crop_lr)
    cov = np.stack([maps["c_xx"], maps["c_xy"], maps["c_yy"]])
    inner = slice(MARGIN_LR, MARGIN_LR + patch_lr)
    inner_hr = slice(MARGIN_LR * scale, (MARGIN_LR + patch_lr) * scale)
    return hr[inner_hr, inner_hr], lr[inner, inner], cov[:, inner, inner]


def build_cache(images: list[np.ndarray], count: int, scale: int, patch_lr: int, grid: int, seed: int,
                kernel_size: int = 21) -> PairCache:
    settings = P.ProtocolSettings.for_scale(scale).with_overrides({"grid": str(grid), "kernel_size": str(kernel_size)})
    rng = np.random.default_rng(seed)
    hr_list, lr_list, cov_list = [], [], []
    for _ in progress(range(count), "render training pairs"):
        image = images[int(rng.integers(len(images)))]
        hr, lr, cov = render_pair(image, rng, scale, patch_lr, settings)
        hr_list.append(np.round(hr * 255).astype(np.uint8).transpose(2, 0, 1))
        lr_list.append(np.round(lr * 255).astype(np.uint8).transpose(2, 0, 1))
        cov_list.append(cov.astype(np.float32))
    return PairCache(torch.from_numpy(np.stack(hr_list)), torch.from_numpy(np.stack(lr_list)),
                     torch.from_numpy(np.stack(cov_list)), scale, kernel_size)


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
        out.append(ValImage(path.stem, hr, torch.from_numpy(lr.transpose(2, 0, 1)).float()[None],
                            kernels.permute(2, 0, 1)[None].contiguous()))
    return out
