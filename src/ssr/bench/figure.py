"""Figure grid for a benchmark: one row per image, columns LR (pixel-replicated) | methods | HR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ssr.arrays import to_rgb, to_uint8
from ssr.io import write_image

LABEL_HEIGHT = 14


def busiest_window(hr: np.ndarray, size: int, scale: int) -> tuple[int, int]:
    """Top-left corner (multiple of scale) of the size x size HR window with the most detail."""
    grey = hr.mean(axis=2)
    gy, gx = np.abs(np.diff(grey, axis=0))[:, :-1], np.abs(np.diff(grey, axis=1))[:-1, :]
    energy = gy + gx
    h, w = energy.shape
    step = max(scale, size // 4)
    best, corner = -1.0, (0, 0)
    for top in range(0, max(1, h - size + 1), step):
        for left in range(0, max(1, w - size + 1), step):
            value = float(energy[top:top + size, left:left + size].sum())
            if value > best:
                best, corner = value, (top - top % scale, left - left % scale)
    return corner


def figure_grid(rows: list[dict[str, np.ndarray]], columns: list[str], path: Path, scale: int,
                crop: int = 192, names: list[str] | None = None) -> Path:
    """One row per image, one column per method: the same detailed crop of each, labelled.

    rows: {column name: (H, W, C) float image at HR size}; LR must already be pixel-replicated. Each
    crop is captioned with its PSNR-Y against the HR crop (not for LR/HR themselves); `names` label
    the rows (image names) on the left.
    """
    from PIL import ImageFont

    from ssr.metrics.psnr_ssim import psnr_y

    crop = min(crop, *(min(r["HR"].shape[:2]) for r in rows))
    crop -= crop % scale
    font_size = max(12, crop // 14)
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    header, caption = font_size + 8, font_size + 6
    label_w = (max(len(n) for n in names) * font_size * 6 // 10 + 10) if names else 0
    width = label_w + crop * len(columns)
    height = header + (crop + caption) * len(rows)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for j, name in enumerate(columns):
        draw.text((label_w + j * crop + 4, 3), name, fill="black", font=font)
    for i, row in enumerate(rows):
        top, left = busiest_window(row["HR"], crop, scale)
        y = header + i * (crop + caption)
        if names:
            draw.text((4, y + crop // 2 - font_size // 2), names[i], fill="black", font=font)
        hr_crop = to_rgb(row["HR"][top:top + crop, left:left + crop])
        for j, column in enumerate(columns):
            tile = to_rgb(row[column][top:top + crop, left:left + crop])
            canvas.paste(Image.fromarray(to_uint8(tile)), (label_w + j * crop, y))
            if column not in ("LR", "HR"):
                value = psnr_y(tile, hr_crop, crop_border=0)
                draw.text((label_w + j * crop + 4, y + crop + 1), f"{value:.2f} dB", fill="black", font=font)
    pixels = np.asarray(canvas).astype(np.float32) / 255.0
    return write_image(path, pixels)
