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
                crop: int = 96) -> Path:
    """rows: {column name: (H, W, 3) float image at HR size}; LR must already be pixel-replicated."""
    crop = min(crop, *(min(r["HR"].shape[:2]) for r in rows))
    crop -= crop % scale
    tiles = []
    for row in rows:
        top, left = busiest_window(row["HR"], crop, scale)
        tiles.append([row[c][top:top + crop, left:left + crop] for c in columns])
    width, height = crop * len(columns), (crop + 0) * len(rows) + LABEL_HEIGHT
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for j, name in enumerate(columns):
        draw.text((j * crop + 2, 1), name[: max(4, crop // 6)], fill="black")
    for i, tile_row in enumerate(tiles):
        for j, tile in enumerate(tile_row):
            rgb = to_rgb(tile)
            canvas.paste(Image.fromarray(to_uint8(rgb)), (j * crop, LABEL_HEIGHT + i * crop))
    pixels = np.asarray(canvas).astype(np.float32) / 255.0
    return write_image(path, pixels)
