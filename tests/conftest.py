"""Shared fixtures. Tests that need ../shared/data skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ssr.paths import data_root


def skip_without_peers(reason: str) -> None:
    """Skip a `peers` test on the base install; fail instead where CI installed the peers stack."""
    if os.environ.get("SSR_REQUIRE_PEERS"):
        pytest.fail(f"peers stack required but unavailable: {reason}")
    pytest.skip(f"{reason}; `bash scripts/setup.sh --peers` enables it")


@pytest.fixture
def shared_data() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("needs ../shared/data (the team's data folder; set SSR_DATA to point at it)")
    return root


def smooth_image(seed: int, height: int, width: int, channels: int = 3) -> np.ndarray:
    """A natural-looking test image: low-frequency colour blobs plus some edges, float32 [0, 1]."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 8), max(2, width // 8), channels)).astype(np.float32)
    planes = [np.asarray(Image.fromarray(small[..., c], "F").resize((width, height), Image.Resampling.BICUBIC))
              for c in range(channels)]
    image = np.stack(planes, axis=2)
    image[height // 3: height // 3 + 3] = 1.0  # a sharp bright stripe
    image[:, width // 2: width // 2 + 2] = 0.0  # and a dark one
    return np.clip(image, 0, 1).astype(np.float32)


def save_png(path: Path, image: np.ndarray) -> Path:
    data = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(data[..., 0] if data.shape[2] == 1 else data).save(path)
    return path


@pytest.fixture
def hr_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hr"
    folder.mkdir()
    for i, (h, w) in enumerate([(64, 72), (58, 66), (80, 80)]):
        save_png(folder / f"img{i}.png", smooth_image(i, h, w))
    return folder
