"""Copy trained EMA weights from runs/ into weights/ and (re)write weights/manifest.json.

    .venv/bin/python scripts/export_weights.py runs/rrdb_sv_x4:rrdb runs/dkenet_sv_x4:dkenet

Each RUN:ROLE takes RUN/model.safetensors (written by `ssr train`), stores it as
weights/<run name>.safetensors, and records role, scale, training step, validation value, the
config and the SHA-256 that `ssr` verifies before loading. A new file REPLACES the manifest entry
of the same role and scale (there is one default per role and scale); the replaced file is deleted
from weights/ (it stays in git history, and its run folder under runs/ is what later configs start from).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from safetensors import safe_open

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ssr.hashing import sha256_file, write_json  # noqa: E402


def main(pairs: list[str]) -> None:
    out = ROOT / "weights"
    out.mkdir(exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": []}
    for pair in pairs:
        run, role = pair.rsplit(":", 1)
        source = Path(run) / "model.safetensors"
        with safe_open(str(source), framework="pt") as handle:
            meta = handle.metadata()
        target = out / f"{Path(run).name}.safetensors"
        shutil.copyfile(source, target)
        config = json.loads((Path(run) / "config.json").read_text())
        entry = {"file": target.name, "role": role, "scale": int(meta.get("scale", config["scale"])),
                 "architecture": meta["architecture"], "step": int(meta.get("step", 0)),
                 "val": meta.get("val"), "sha256": sha256_file(target),
                 "trained_with": f"ssr train configs/{Path(run).name}.yaml"}
        replaced = [e for e in manifest["files"] if e["file"] == target.name or (e["role"], int(e["scale"])) == (role, entry["scale"])]
        for old in replaced:
            if old["file"] != target.name:
                (out / old["file"]).unlink(missing_ok=True)
                print(f"replaces {old['file']}")
        manifest["files"] = [e for e in manifest["files"] if e not in replaced] + [entry]
        print(f"{target.name}: {role} x{entry['scale']}, step {entry['step']}, val {entry['val']}")
    write_json(manifest_path, manifest)


if __name__ == "__main__":
    main(sys.argv[1:])
