"""`ssr eval`: full-reference and no-reference metrics of an SR folder against an HR folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssr.errors import DataError
from ssr.arrays import to_rgb
from ssr.io import list_images, read_image
from ssr.metrics.niqe import BLOCK, niqe, niqe_params_path
from ssr.metrics.perceptual import PerceptualMetrics
from ssr.metrics.psnr_ssim import psnr_rgb, psnr_y, ssim_rgb, ssim_y
from ssr.progress import progress
from ssr.hashing import write_json
from ssr.report import markdown_table, mean_row, write_csv

BASE_COLUMNS = ["image", "psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb", "niqe"]


def match_hr(sr: np.ndarray, hr: np.ndarray, scale: int, name: str) -> np.ndarray:
    """The HR that an SR output is compared with: HR mod-cropped to a multiple of the scale."""
    h, w = hr.shape[:2]
    cropped = hr[: h - h % scale, : w - w % scale]
    if cropped.shape[:2] != sr.shape[:2]:
        raise DataError(f"{name}: SR is {sr.shape[1]}x{sr.shape[0]} but HR (mod-crop x{scale}) is "
                        f"{cropped.shape[1]}x{cropped.shape[0]}")
    return cropped


def image_metrics(sr: np.ndarray, hr: np.ndarray, scale: int, perceptual: PerceptualMetrics | None,
                  with_niqe: bool = True) -> dict:
    """All metrics of one SR/HR pair; crop border = scale (BasicSR convention)."""
    sr, hr = to_rgb(sr), to_rgb(hr)
    border = scale
    row = {"psnr_y": psnr_y(sr, hr, border), "ssim_y": ssim_y(sr, hr, border),
           "psnr_rgb": psnr_rgb(sr, hr, border), "ssim_rgb": ssim_rgb(sr, hr, border), "niqe": None}
    if with_niqe and min(sr.shape[:2]) - 2 * border >= BLOCK:
        row["niqe"] = niqe(sr, crop_border=border)
    if perceptual is not None:
        row.update(perceptual.score(sr, hr))
    return row


def evaluate_dirs(sr_dir: Path, hr_dir: Path, scale: int, *, with_niqe: bool = True,
                  with_perceptual: bool = True) -> tuple[list[dict], list[str], dict[str, str]]:
    """Per-image rows (matched by file stem), the column list and the reasons for unavailable columns."""
    sr_files, _ = list_images(Path(sr_dir))
    hr_files = {p.stem: p for p in list_images(Path(hr_dir))[0]}
    if not sr_files:
        raise DataError(f"{sr_dir}: no images found")
    missing = [p.name for p in sr_files if p.stem not in hr_files]
    if missing:
        raise DataError(f"no HR image for {len(missing)} SR file(s), e.g. {missing[0]} (matched by file name stem)")
    perceptual = PerceptualMetrics() if with_perceptual else None
    reasons = dict(perceptual.unavailable) if perceptual else {}
    if with_niqe and niqe_params_path() is None:
        reasons["niqe"] = "niqe_pris_params.npz not found (set SSR_NIQE_PARAMS)"
    columns = BASE_COLUMNS + (list(perceptual.names) if perceptual else [])
    rows = []
    for path in progress(sr_files, "eval"):
        sr = read_image(path).pixels
        hr = match_hr(sr, read_image(hr_files[path.stem]).pixels, scale, path.name)
        rows.append({"image": path.stem, **image_metrics(sr, hr, scale, perceptual, with_niqe)})
    return rows, columns, reasons


def write_eval(rows: list[dict], columns: list[str], prefix: Path) -> dict:
    mean = mean_row(rows, columns, "image")
    write_csv(prefix.with_suffix(".csv"), rows + [mean], columns)
    write_json(prefix.with_suffix(".json"), {"per_image": rows, "mean": mean})
    return mean


def eval_table(rows: list[dict], columns: list[str]) -> str:
    return markdown_table(rows + [mean_row(rows, columns, "image")], columns)
