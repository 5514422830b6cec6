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


_listeners: list = []


def add_listener(callback) -> None:
    """callback(done, total, stage) hears every progress_bar (the web app's progress uses it)."""
    _listeners.append(callback)


def remove_listener(callback) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


class _Bar:
    """tqdm (disabled when quiet) that also tells the listeners."""

    def __init__(self, total: int, desc: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, disable=_quiet, delay=1.0, leave=False, dynamic_ncols=True)
        self.total, self.done, self.stage = total, 0, desc

    def _tell(self) -> None:
        for callback in list(_listeners):
            callback(self.done, self.total, self.stage)

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)
        self._tell()

    def set_postfix_str(self, text: str) -> None:
        self.stage = text
        self.bar.set_postfix_str(text)
        self._tell()

    def close(self) -> None:
        self.bar.close()


def progress_bar(total: int, desc: str) -> _Bar:
    """A manually advanced bar (update / set_postfix_str / close) with ETA; disabled when quiet."""
    return _Bar(total, desc)
