"""Peak resident memory of a block of code, sampled from /proc (covers numpy AND torch allocations).

tracemalloc misses torch's allocator and ru_maxrss never goes down, so a sampler thread reads the
process RSS every few milliseconds; the reported figure is peak RSS minus RSS at entry.
Short spikes between samples can be missed; the sampling period is 2 ms.
"""

from __future__ import annotations

import os
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:
        return 0


class PeakMemory:
    """with PeakMemory() as peak: ...; then peak.delta_bytes."""

    def __init__(self, period: float = 0.002) -> None:
        self.period = period
        self.base = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss())
            time.sleep(self.period)

    def __enter__(self) -> "PeakMemory":
        self.base = self.peak = current_rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_rss())

    @property
    def delta_bytes(self) -> int:
        return max(0, self.peak - self.base)
