"""Pictures people can read: depth and blur maps as colour images with a legend, kernel mosaics.

Colour maps are a perceptually ordered dark-to-bright ramp (close to matplotlib's "inferno"), built
from a few anchor colours so no plotting library is needed. Legends are drawn with Pillow at a size
that follows the image, on a bar to the right of the picture.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ssr.imresize import resize_float

#: (position, RGB) anchors of the ramp (inferno's at 0, .25, .5, .75, 1).
_ANCHORS = np.array([[0.0, 0.001, 0.000, 0.014], [0.25, 0.341, 0.062, 0.429], [0.5, 0.735, 0.216, 0.330],
                     [0.75, 0.978, 0.557, 0.035], [1.0, 0.988, 0.998, 0.645]])


def colormap(values: np.ndarray) -> np.ndarray:
    """values in [0, 1] (H, W) -> (H, W, 3) float colours."""
    v = np.clip(values, 0, 1)
    return np.stack([np.interp(v, _ANCHORS[:, 0], _ANCHORS[:, c + 1]) for c in range(3)], axis=2).astype(np.float32)


def _legend(height: int, labels: list[tuple[float, str]], title: str) -> np.ndarray:
    """A vertical colour bar (top = 1, bottom = 0) with tick labels, as an (height, W, 3) float image."""
    from PIL import Image, ImageDraw, ImageFont

    font_size = max(12, height // 40)
    try:
        font = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow < 10.1: a fixed small font
        font = ImageFont.load_default()
    texts = [title] + [text for _, text in labels]
    text_w = max(int(font.getlength(t)) if hasattr(font, "getlength") else len(t) * font_size for t in texts)
    bar_w = max(16, height // 40)
    width = bar_w + 8 + text_w
    ramp = colormap(np.linspace(1, 0, height)[:, None].repeat(bar_w, axis=1))
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    canvas.paste(Image.fromarray((ramp * 255).astype(np.uint8)), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((bar_w + 4, 2), title, fill=(0, 0, 0), font=font)
    for position, text in labels:
        y = int(round((1 - position) * (height - 1)))
        draw.line([(bar_w, y), (bar_w + 3, y)], fill=(0, 0, 0))
        y_text = min(max(y - font_size // 2, font_size + 4), height - font_size - 2)
        draw.text((bar_w + 5, y_text), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas, np.float32) / 255.0


def _with_legend(picture: np.ndarray, legend: np.ndarray) -> np.ndarray:
    gap = np.ones((picture.shape[0], max(4, picture.shape[0] // 100), 3), np.float32)
    return np.concatenate([picture, gap, legend], axis=1)


def depth_picture(depth: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Relative inverse depth (h, w), 1 = nearest, at the photo's size, colour-mapped, with a near/far legend."""
    h, w = photo.shape[:2]
    colour = colormap(resize_float(depth.astype(np.float32), h, w))
    return _with_legend(colour, _legend(h, [(1.0, "near"), (0.0, "far")], "depth"))


def blur_picture(widths: np.ndarray, photo: np.ndarray, overlay: float = 0.65, title: str = "blur") -> np.ndarray:
    """Blur width (h, w) in output pixels as a heat map over the desaturated photo, with a pixel scale."""
    h, w = photo.shape[:2]
    top = max(1.0, float(np.ceil(np.percentile(widths, 99))))
    heat = colormap(resize_float(widths.astype(np.float32), h, w) / top)
    grey = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2)
    picture = overlay * heat + (1 - overlay) * grey
    ticks = [(t / top, f"{t:g} px") for t in np.linspace(0, top, 5)]
    return _with_legend(picture.astype(np.float32), _legend(h, ticks, title))


def kernel_mosaic(codes: np.ndarray, decode: Callable, cells: int = 12, gap: int = 1) -> np.ndarray:
    """A grid of decoded kernels sampled evenly over the image, each scaled to its own maximum.

    codes: (dim, h, w) PCA codes, decode: (1, dim, r, c) codes -> (1, k*k, r, c) kernels; returns
    a (H, W, 1) float image in [0, 1] where cell (i, j) shows
    the kernel of the LR pixel at the centre of grid cell (i, j).
    """
    dim, h, w = codes.shape
    rows, cols = min(cells, h), min(cells, w)
    ys = ((np.arange(rows) + 0.5) * h / rows).astype(int)
    xs = ((np.arange(cols) + 0.5) * w / cols).astype(int)
    picked = torch.from_numpy(np.ascontiguousarray(codes[:, ys][:, :, xs])).float()[None]
    with torch.no_grad():
        kernels = decode(picked)[0].clamp_min(0).numpy()  # (k*k, rows, cols)
    size = int(round(np.sqrt(kernels.shape[0])))
    cell = size + gap
    mosaic = np.ones((rows * cell + gap, cols * cell + gap), np.float32)
    for i in range(rows):
        for j in range(cols):
            kernel = kernels[:, i, j].reshape(size, size)
            mosaic[gap + i * cell: gap + i * cell + size, gap + j * cell: gap + j * cell + size] = (
                kernel / max(kernel.max(), 1e-12))
    return mosaic[..., None]
