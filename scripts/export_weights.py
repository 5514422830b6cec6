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

from ssr.hashing import write_json  # noqa: E402
from ssr.weights import add_run, manifest  # noqa: E402

TARGET = ROOT / "src" / "ssr" / "assets" / "weights"


def ship_entry(file_name: str, run_name: str, target: Path = TARGET) -> dict:
    """Package data keeps no machine paths: the entry `add_run` wrote (the copied file, the run's folder
    and its whole config with absolute paths) becomes `RUN.safetensors` + `trained_with: ssr train
    configs/RUN.yaml`, like the other shipped entries. The checksum is unchanged (same bytes)."""
    data = manifest(target)
    entry = next(e for e in data["files"] if e["file"] == file_name)
    final = f"{run_name}.safetensors"
    if final != file_name:
        (target / file_name).replace(target / final)
        entry["file"] = final
    entry.pop("source", None)
    entry.pop("config", None)
    entry["trained_with"] = f"ssr train configs/{run_name}.yaml"
    write_json(target / "manifest.json", data)
    return entry


def main(runs: list[str]) -> None:
    for run in runs:
        entry = ship_entry(add_run(Path(run), TARGET)["file"], Path(run).name)
        print(f"{entry['file']}: {entry['role']} x{entry['scale']}, step {entry['step']}, val {entry['val']}")


if __name__ == "__main__":
    main(sys.argv[1:])
