"""Folders of thousands of photos on Ray (optional extra: `pip install 'ssr[ray]'`).

`ssr upscale FOLDER -o OUT --ray N` plans every job up front exactly as a local run does (same output
names, same checks), drops the jobs whose output already exists and decodes (outputs are published
atomically, so "exists and decodes" = done: a crashed run simply restarts), and hands the rest to a
Ray Data pipeline: `map_batches` with a callable class whose actors each load the method ONCE and
write results themselves (nothing large travels back). `N` actors run with `threads` torch threads
each; the address of an existing cluster can be given with RAY_ADDRESS, otherwise a local one starts.
For schedulers without Ray (Slurm arrays), `--shard K/N` splits the same plan instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from ssr.errors import SsrError, UnavailableError


class UpscaleWorker:
    """A Ray Data callable class: builds the method once per actor, upscales one job per row."""

    def __init__(self, method: str, scale: int, options: dict, output: dict, protected: list[str],
                 threads: int) -> None:
        import torch

        from ssr.methods import make_method
        from ssr.progress import set_quiet
        from ssr.upscale import OutputOptions

        set_quiet(True)
        torch.set_num_threads(threads)
        self.method = make_method(method, scale=scale, **options)
        self.scale, self.output = scale, OutputOptions(**output)
        self.protected = {Path(p) for p in protected}

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from ssr.upscale import Job, upscale_file

        statuses = []
        for source, target in zip(batch["source"], batch["target"]):
            try:
                upscale_file(Job(Path(source), Path(target)), self.method, self.scale, self.output, self.protected)
                statuses.append("ok")
            except SsrError as exc:
                statuses.append(str(exc))
        return {"source": list(batch["source"]), "status": statuses}


def run_on_ray(jobs: list, method: str, scale: int, options: dict, *, workers: int, threads: int = 1,
               output, protected: set[Path]) -> tuple[int, list[str]]:
    """Run planned jobs on Ray; returns (number written, one-line error per failed file)."""
    try:
        import ray
    except ImportError:
        raise UnavailableError("--ray needs Ray: pip install 'ssr[ray]'") from None
    if not jobs:
        return 0, []
    with _quiet_stderr():  # Ray's own INFO/WARNING lines (Python and C++); ssr reports results itself
        return _run(ray, jobs, method, scale, options, workers, threads, output, protected)


@contextlib.contextmanager
def _quiet_stderr():
    if os.environ.get("SSR_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _run(ray, jobs, method, scale, options, workers, threads, output, protected):
    import dataclasses

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=workers * threads, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        for job in jobs:
            job.target.parent.mkdir(parents=True, exist_ok=True)
        items = [{"source": str(job.source), "target": str(job.target)} for job in jobs]
        dataset = ray.data.from_items(items, override_num_blocks=min(len(items), workers * 4))
        results = dataset.map_batches(
            UpscaleWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=threads,
            fn_constructor_kwargs={"method": method, "scale": scale, "options": options,
                                   "output": dataclasses.asdict(output),
                                   "protected": [str(p) for p in protected], "threads": threads},
        ).take_all()
    finally:
        if started_here:
            ray.shutdown()
    failures = [row["status"] for row in results if row["status"] != "ok"]
    return len(results) - len(failures), failures
