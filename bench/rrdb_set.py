"""Write a weight set whose SVKR pair is the shipped set's REFINER start pair (the DKENet + RRDB that
were the x4 default before the KSR pair, and that the shipped refiner was trained on), so benchmarks
can still compare against it after the switch. Without refiner_* entries it is a copy of the shipped set.

    .venv/bin/python bench/rrdb_set.py OUT_DIR        # then --weights OUT_DIR / --method ssr:weights=OUT_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ssr.hashing import write_json
from ssr.weights import REFINER_START, manifest, shipped_dir


def main(out: Path) -> None:
    source = shipped_dir()
    data = manifest(source)
    starts = {(e["role"], int(e["scale"])) for e in data["files"] if e["role"] in REFINER_START.values()}
    own_role = {start: role for role, start in REFINER_START.items()}
    kept = []
    for entry in data["files"]:
        role, scale = entry["role"], int(entry["scale"])
        if role in ("sr", "rrdb", "dkenet") and (REFINER_START["sr" if role == "rrdb" else role], scale) in starts:
            continue  # replaced by the refiner's start network of that role
        kept.append({**entry, "role": own_role.get(role, role)})
    out.mkdir(parents=True, exist_ok=True)
    for entry in kept:
        shutil.copyfile(source / entry["file"], out / entry["file"])
    write_json(out / "manifest.json", {"files": kept})
    print(f"{out}: " + ", ".join(f"{e['file']} ({e['role']} x{e['scale']})" for e in kept))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
