"""Ship trained EMA weights: copy runs into the package's weight set and update its manifest.

    .venv/bin/python scripts/export_weights.py runs/dkenet_mix_x4 train_state/ksr_x4

Each RUN/model.safetensors (written by `ssr train`) goes into src/ssr/assets/weights/ (package data)
with its role (from the architecture), scale, step, validation value, config and SHA-256, which
`ssr` verifies before loading. It REPLACES the entry of the same role and scale (one default per role
and scale); the replaced file is deleted (it stays in git history). Same code as `ssr weights add`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ssr.weights import add_run  # noqa: E402


def main(runs: list[str]) -> None:
    target = ROOT / "src" / "ssr" / "assets" / "weights"
    for run in runs:
        entry = add_run(Path(run), target)
        print(f"{entry['file']}: {entry['role']} x{entry['scale']}, step {entry['step']}, val {entry['val']}")


if __name__ == "__main__":
    main(sys.argv[1:])
