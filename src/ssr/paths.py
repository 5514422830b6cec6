"""Where ssr looks for data and parameter files that are not part of the package.

Data (../shared/data in the team's checkouts) is found through, in order: the SSR_DATA environment
variable, then `../shared/data` beside the source checkout, then beside the working directory.
Nothing is ever downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent  # src/ssr -> repository root (source checkouts)
CACHE_DIR = Path(os.environ.get("SSR_CACHE", Path.home() / ".cache" / "ssr"))


def data_root() -> Path | None:
    """The shared data folder, or None when this machine has none (a user's clone)."""
    candidates = []
    if os.environ.get("SSR_DATA"):
        candidates.append(Path(os.environ["SSR_DATA"]))
    candidates += [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None


def example_dir() -> Path:
    """The bundled example: example/hr/coffee.png and its hand-made depth example/depth/coffee.png."""
    return PACKAGE_DIR / "assets" / "example"
