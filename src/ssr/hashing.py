"""Checksums and deterministic archives (bit-identical reruns need both)."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Temporary files ssr writes beside an output before publishing it: `.ssr-tmp-NAME.XXXXXXXX.EXT`.
TEMP_PREFIX = ".ssr-tmp-"
#: A temporary file older than this cannot belong to a running ssr (no single write takes a day):
#: the next run on the same folder removes it (what a SIGKILL leaves behind).
STALE_TEMP_SECONDS = 24 * 3600
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.EACCES}


def temp_beside(path: Path) -> str:
    """A new, empty temporary file in path's folder (mode 0600 until published)."""
    handle, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    return name


def sweep_stale_temps(folder: Path, max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove ssr's own temporary files older than `max_age` seconds from `folder`; returns them."""
    removed = []
    now = time.time()
    try:
        entries = list(Path(folder).glob(f"{TEMP_PREFIX}*"))
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_file() and now - entry.stat().st_mtime > max_age:
                entry.unlink()
                removed.append(entry)
        except OSError:
            continue
    return removed


def publish(tmp: str | Path, path: Path, overwrite: bool = True) -> None:
    """Give a finished temporary file normal permissions (mkstemp makes it 0600) and move it to `path`.

    overwrite=False creates `path` atomically only if it is absent (a hard link fails when the name
    exists, so two writers cannot both "win"); FileExistsError means another process got there first
    and its file is untouched. Where hard links are unsupported the name is reserved with an
    exclusive create, then our file replaces our own empty placeholder.
    """
    os.chmod(tmp, 0o666 & ~_umask())
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask()))
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def strict_json_value(value):
    """JSON has no Infinity/NaN: non-finite floats become null (e.g. the PSNR of identical images)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json_value(v) for v in value]
    if isinstance(value, np.generic):
        return strict_json_value(value.item())
    return value


def write_json(path: Path, data) -> None:
    """Strict JSON (non-finite numbers written as null), atomically."""
    text = json.dumps(strict_json_value(data), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like np.savez_compressed but byte-for-byte reproducible (fixed zip timestamps, sorted names).

    numpy stamps each member with the current time, so two identical runs would differ.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(info, member.getvalue())
    atomic_write_bytes(path, buffer.getvalue())
