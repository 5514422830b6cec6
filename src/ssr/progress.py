"""Progress bars (tqdm) for anything that takes more than a second; `--quiet` turns them off."""

from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")
_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def is_quiet() -> bool:
    return _quiet


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """tqdm on stderr, disabled when quiet; a bar appears only after the first second."""
    return tqdm(items, desc=desc, total=total, disable=_quiet, delay=1.0, leave=False, dynamic_ncols=True)


def say(message: str) -> None:
    """A status line on stderr, unless quiet (results go to stdout)."""
    if not _quiet:
        tqdm.write(message, file=__import__("sys").stderr)
