"""Fixtures only (helpers live in util.py). Tests that need ../shared/data skip with a reason when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssr.paths import data_root
from util import save_png, smooth_image, write_tiny_weights


@pytest.fixture
def shared_data() -> Path:
    root = data_root()
    if root is None:
        pytest.skip("needs ../shared/data (the team's data folder; set SSR_DATA to point at it)")
    return root


@pytest.fixture
def hr_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hr"
    folder.mkdir()
    for i, (h, w) in enumerate([(64, 72), (58, 66), (80, 80)]):
        save_png(folder / f"img{i}.png", smooth_image(i, h, w))
    return folder


@pytest.fixture
def tiny_weights(tmp_path: Path, monkeypatch) -> Path:
    """The one tiny-model fixture: a seeded weights folder (rrdb + dkenet, x4) selected through SSR_WEIGHTS."""
    folder = write_tiny_weights(tmp_path / "weights")
    monkeypatch.setenv("SSR_WEIGHTS", str(folder))
    return folder
