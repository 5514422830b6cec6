"""JPEG compression through a real encoder (libjpeg via Pillow), in memory, deterministic."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ssr.arrays import to_uint8


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode a (H, W, C) float [0, 1] image as JPEG (4:2:0 chroma, as cameras do) and decode it."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    data = to_uint8(image)
    grey = data.shape[2] == 1
    buffer = io.BytesIO()
    Image.fromarray(data[..., 0] if grey else data, "L" if grey else "RGB").save(
        buffer, format="JPEG", quality=int(quality), subsampling=2, optimize=False)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L" if grey else "RGB"))
    decoded = decoded[..., None] if grey else decoded
    return decoded.astype(np.float32) / 255.0
