"""The shipped default weights (weights/*.safetensors), found and checksum-verified.

`weights/manifest.json` lists every file with its SHA-256, scale and role; `SSR_WEIGHTS` points to
another folder with the same layout. A missing or altered file is a one-line error, never a silent
fallback to another model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ssr.errors import UnavailableError
from ssr.hashing import sha256_file
from ssr.models.registry import ModelDescriptor, load_model
from ssr.paths import REPO_ROOT

ROLES = ("dkenet", "rrdb", "depth")


def weights_dir() -> Path:
    return Path(os.environ.get("SSR_WEIGHTS", REPO_ROOT / "weights"))


_ENTRY_KEYS = {"file": str, "role": str, "scale": int, "sha256": str}


def manifest() -> dict:
    """The manifest, checked for shape: a malformed one is a one-line error, never a crash later."""
    path = weights_dir() / "manifest.json"
    if not path.is_file():
        raise UnavailableError(f"no weights manifest at {path} (set SSR_WEIGHTS or use a classical --method)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnavailableError(f"weights manifest {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise UnavailableError(f"weights manifest {path} has no 'files' list")
    for i, entry in enumerate(data["files"]):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in _ENTRY_KEYS.items()):
            raise UnavailableError(f"weights manifest {path}: entry {i} needs {', '.join(_ENTRY_KEYS)} "
                                   "(str, str, int, str)")
    return data


def load_default(role: str, scale: int) -> ModelDescriptor:
    """The default model of `role` for `scale`, verified against the manifest checksum."""
    entries = [e for e in manifest()["files"] if e["role"] == role and int(e["scale"]) == scale]
    if not entries:
        raise UnavailableError(f"no shipped {role} weights for x{scale} in {weights_dir()}")
    entry = entries[0]
    return load_model(weights_dir() / entry["file"], expected_sha256=entry["sha256"])


def available() -> list[str]:
    """One line per manifest entry, with its checksum verified (`ssr info`)."""
    lines = []
    for e in manifest()["files"]:
        path = weights_dir() / e["file"]
        if not path.is_file():
            state = "MISSING"
        elif sha256_file(path) != e["sha256"]:
            state = "CHECKSUM MISMATCH: altered or corrupt, will be refused"
        else:
            state = "sha256 ok"
        lines.append(f"{e['file']} ({e['role']}, x{e['scale']}, {state})")
    return lines
