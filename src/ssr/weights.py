"""Weight sets: the shipped defaults (package data) and the user's own, found and checksum-verified.

A weight set is a folder with `manifest.json` listing every file with its role (dkenet, sr, depth, refiner),
scale and SHA-256; a missing or altered file is a one-line error, never a silent fallback. Two more
roles, `refiner_sr` / `refiner_dkenet`, name the SVKR networks a set's refiner was trained to start
from when they are not the set's own `sr` / `dkenet` (the refiner learnt to correct THOSE outputs, in
THAT network's kernel-code space): `--refine diffusion` then runs them, plain SVKR runs `sr` / `dkenet`.

* the shipped set: `ssr/assets/weights/` inside the installed package (wheel or checkout);
* `SSR_WEIGHTS=DIR` replaces the shipped set (tests, custom installs);
* the user's sets: `ssr weights add RUN_DIR --name NAME` registers a trained run under
  `$SSR_HOME/weights/NAME` (default `~/.local/share/ssr/weights/NAME`), starting from the shipped
  set and replacing the role the run trained; `--weights NAME|DIR` selects a set for one command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from ssr.errors import ConfigError, UnavailableError
from ssr.hashing import sha256_file, write_json
from ssr.models.registry import ModelDescriptor, load_model
from ssr.paths import PACKAGE_DIR

ROLES = ("dkenet", "sr", "depth", "refiner", "refiner_sr", "refiner_dkenet")
#: The role a trained architecture fills in a set ("rrdb" is the older name of the SR role).
ROLE_OF_ARCHITECTURE = {"ssr.dkenet": "dkenet", "ssr.rrdb": "sr", "ssr.ksrnet": "sr", "ssr.depthnet": "depth",
                        "ssr.refiner": "refiner"}
_ROLE_ALIASES = {"sr": ("sr", "rrdb"), "dkenet": ("dkenet",), "depth": ("depth",), "refiner": ("refiner",),
                 "refiner_sr": ("refiner_sr",), "refiner_dkenet": ("refiner_dkenet",)}
#: The role whose networks give the refiner its start point, for each SVKR role.
REFINER_START = {"sr": "refiner_sr", "dkenet": "refiner_dkenet"}
_ENTRY_KEYS = {"file": str, "role": str, "scale": int, "sha256": str}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def shipped_dir() -> Path:
    return Path(os.environ.get("SSR_WEIGHTS", PACKAGE_DIR / "assets" / "weights"))


def user_root() -> Path:
    home = os.environ.get("SSR_HOME") or Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ssr"
    return Path(home) / "weights"


def resolve(spec: str | None = None) -> Path:
    """The folder of weight set `spec`: None = shipped, a folder with a manifest, or a user set's name."""
    if spec is None:
        return shipped_dir()
    path = Path(spec)
    if (path / "manifest.json").is_file():
        return path
    if _NAME.match(spec) and (user_root() / spec / "manifest.json").is_file():
        return user_root() / spec
    known = sorted(p.name for p in user_root().glob("*") if (p / "manifest.json").is_file()) if user_root().is_dir() else []
    raise UnavailableError(f"--weights {spec}: no weight set of that name or folder (user sets in {user_root()}: "
                           f"{', '.join(known) or 'none'}; register one with `ssr weights add RUN_DIR --name NAME`)")


def weights_dir() -> Path:
    """The shipped set's folder (kept for callers that only know the default)."""
    return shipped_dir()


def manifest(folder: Path | None = None) -> dict:
    """A set's manifest, checked for shape: a malformed one is a one-line error, never a crash later."""
    path = (folder or shipped_dir()) / "manifest.json"
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


def has_role(role: str, folder: Path | None = None, scale: int | None = None) -> bool:
    """Whether a set (default: shipped) has `role` weights (for `scale`, when given)."""
    return any(e["role"] in _ROLE_ALIASES[role] and (scale is None or int(e["scale"]) == scale)
               for e in manifest(folder)["files"])


def load_default(role: str, scale: int, folder: Path | None = None) -> ModelDescriptor:
    """The model of `role` for `scale` in a set (default: shipped), verified against the manifest checksum."""
    folder = folder or shipped_dir()
    aliases = _ROLE_ALIASES.get(role, (role,))
    entries = [e for e in manifest(folder)["files"] if e["role"] in aliases and int(e["scale"]) == scale]
    if not entries:
        raise UnavailableError(f"no {role} weights for x{scale} in {folder}")
    entries.sort(key=lambda e: aliases.index(e["role"]))  # "sr" before its older alias "rrdb"
    return load_model(folder / entries[0]["file"], expected_sha256=entries[0]["sha256"])


def refiner_start(role: str, scale: int, folder: Path | None = None) -> ModelDescriptor:
    """The `sr` or `dkenet` network the set's refiner starts from: its `refiner_*` entry when the set has
    one for `scale`, else the set's own `role` network."""
    start = REFINER_START[role]
    return load_default(start if has_role(start, folder, scale) else role, scale, folder)


def available(folder: Path | None = None) -> list[str]:
    """One line per manifest entry, with its checksum verified (`ssr info`)."""
    folder = folder or shipped_dir()
    lines = []
    for e in manifest(folder)["files"]:
        path = folder / e["file"]
        if not path.is_file():
            state = "MISSING"
        elif sha256_file(path) != e["sha256"]:
            state = "CHECKSUM MISMATCH: altered or corrupt, will be refused"
        else:
            state = "sha256 ok"
        lines.append(f"{e['file']} ({e['role']}, x{e['scale']}, {state})")
    return lines


def add_run(run_dir: Path, target: Path, base: Path | None = None, name: str | None = None) -> dict:
    """Register RUN_DIR/model.safetensors (written by `ssr train`) in weight set `target`.

    A new set starts as a copy of `base` (default: the shipped set), so it is complete; the run then
    replaces the entry of its role and scale. Returns the new manifest entry.
    """
    run_dir = Path(run_dir)
    source = run_dir / "model.safetensors"
    if not source.is_file():
        raise UnavailableError(f"{run_dir}: no model.safetensors (a folder written by `ssr train`)")
    descriptor = load_model(source)
    role = ROLE_OF_ARCHITECTURE.get(descriptor.architecture)
    if role is None:
        raise ConfigError(f"{source}: a {descriptor.architecture} has no role in an upscaling weight set")
    target = Path(target)
    if not (target / "manifest.json").is_file():
        base = base or shipped_dir()
        base_manifest = manifest(base)
        target.mkdir(parents=True, exist_ok=True)
        for entry in base_manifest["files"]:
            shutil.copyfile(base / entry["file"], target / entry["file"])
        write_json(target / "manifest.json", base_manifest)
    data = manifest(target)
    scale = descriptor.scale
    file_name = f"{name or run_dir.name}_{role}_x{scale}.safetensors"
    shutil.copyfile(source, target / file_name)
    config_path = run_dir / "config.json"
    entry = {"file": file_name, "role": role, "scale": scale, "architecture": descriptor.architecture,
             "step": int((descriptor.metadata or {}).get("step", 0)), "val": (descriptor.metadata or {}).get("val"),
             "sha256": sha256_file(target / file_name), "source": str(run_dir.resolve()),
             "config": json.loads(config_path.read_text()) if config_path.is_file() else None}
    # a new refiner was trained on its stage's start networks (by default the set's sr/dkenet), so the
    # old refiner's own start entries go with it; a mismatch left is caught by the refiner's code check
    roles = (*_ROLE_ALIASES[role], *REFINER_START.values()) if role == "refiner" else _ROLE_ALIASES[role]
    replaced = [e for e in data["files"] if e["role"] in roles and int(e["scale"]) == scale]
    for old in replaced:
        if old["file"] != file_name:
            (target / old["file"]).unlink(missing_ok=True)
    data["files"] = [e for e in data["files"] if e not in replaced] + [entry]
    write_json(target / "manifest.json", data)
    return entry
