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
from ssr.models.registry import ModelDescriptor, load_model
from ssr.paths import REPO_ROOT

ROLES = ("dkenet", "rrdb", "depth")


def weights_dir() -> Path:
    return Path(os.environ.get("SSR_WEIGHTS", REPO_ROOT / "weights"))


def manifest() -> dict:
    path = weights_dir() / "manifest.json"
    if not path.is_file():
        raise UnavailableError(f"no weights manifest at {path} (set SSR_WEIGHTS or use a classical --method)")
    return json.loads(path.read_text())


def load_default(role: str, scale: int) -> ModelDescriptor:
    """The default model of `role` for `scale`, verified against the manifest checksum."""
    entries = [e for e in manifest()["files"] if e["role"] == role and int(e["scale"]) == scale]
    if not entries:
        raise UnavailableError(f"no shipped {role} weights for x{scale} in {weights_dir()}")
    entry = entries[0]
    return load_model(weights_dir() / entry["file"], expected_sha256=entry["sha256"])


def available() -> list[str]:
    try:
        return [f"{e['file']} ({e['role']}, x{e['scale']})" for e in manifest()["files"]]
    except UnavailableError:
        return []
