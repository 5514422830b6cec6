"""Speed and memory of the spatially variant blur + downsample (ssr.degradation.apply).

Setting: one 1024x1024 RGB HR image, a 4x4-node smooth random field of anisotropic Gaussians,
21x21 kernels, x4 (256x256 kept pixels). Compared in one run against the naive route that blurs
EVERY HR pixel with its own kernel and then keeps every 4th (same code with scale 1, then slicing).
Reports the median of --repeats runs (after one warm-up), ms per HR megapixel, the ratio, and the
peak RSS increase during a run (sampled from /proc every 2 ms).

    .venv/bin/python bench/blur_apply.py [--size 1024] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ssr.bench.memory import PeakMemory
from ssr.degradation.apply import blur_downsample
from ssr.degradation.field import random_gaussian_field


def measure(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times, peaks = [], []
    for _ in range(repeats):
        with PeakMemory() as peak:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        peaks.append(peak.delta_bytes)
    return statistics.median(times), max(peaks) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    field = random_gaussian_field(rng, (4, 4), 21, (0.6, 5.0))
    megapixels = args.size * args.size / 1e6
    print(f"HR {args.size}x{args.size} RGB, 21x21 kernels, x4, {args.threads} threads, median of {args.repeats}")
    print("| route | dtype | median s | ms / HR MP | peak RSS increase (MiB) |")
    print("|---|---|---|---|---|")
    results = {}
    for dtype in (torch.float32, torch.float64):
        hr = torch.from_numpy(rng.random((3, args.size, args.size))).to(dtype)
        routes = {
            "kept pixels only (ssr)": lambda: blur_downsample(hr, field, 4),
            "every pixel, then subsample": lambda: blur_downsample(hr, field, 1)[:, 1::4, 1::4],
        }
        for name, fn in routes.items():
            if name.startswith("every") and dtype == torch.float64:
                continue
            seconds, mib = measure(fn, args.repeats if name.startswith("kept") else max(1, args.repeats // 2))
            results[(name, dtype)] = seconds
            print(f"| {name} | {str(dtype).split('.')[-1]} | {seconds:.3f} | {1000 * seconds / megapixels:.0f} | {mib:.0f} |")
    ratio = results[("every pixel, then subsample", torch.float32)] / results[("kept pixels only (ssr)", torch.float32)]
    print(f"speed-up of kept-pixels-only over blur-everything (float32): {ratio:.1f}x")


if __name__ == "__main__":
    main()
