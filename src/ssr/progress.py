"""Progress bars (tqdm) for anything that takes more than a second; `--quiet` turns them off."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

T = TypeVar("T")
_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def is_quiet() -> bool:
    return _quiet


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """tqdm on stderr, disabled when quiet; a bar appears only after the first second."""
    from tqdm import tqdm  # imported on first use: `ssr --help` must not pay for it

    return tqdm(items, desc=desc, total=total, disable=_quiet, delay=1.0, leave=False, dynamic_ncols=True)


def say(message: str) -> None:
    """A status line on stderr, unless quiet (results go to stdout)."""
    if not _quiet:
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)


def progress_bar(total: int, desc: str):
    """A manually advanced bar (update / set_postfix_str / close) with ETA; disabled when quiet."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=_quiet, delay=1.0, leave=False, dynamic_ncols=True)
