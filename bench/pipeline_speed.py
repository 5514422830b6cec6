"""Time and peak memory of the SVKR pipeline (ssr upscale's model path), per stage.

Input: the bundled example photo reduced to SIZE x SIZE (a real photo, not noise) as the LR image.
Reports the median over --repeats runs of the whole pipeline and of each stage (depth, kernel
estimation, SR) and the peak RSS increase (sampled every 2 ms), with the shipped weights.

    .venv/bin/python bench/pipeline_speed.py --size 256 --rounds 3 --repeats 3 --threads 2
    .venv/bin/python bench/pipeline_speed.py --size 2000 --repeats 1   # memory bound for a big input
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ssr.bench.memory import PeakMemory
from ssr.methods import make_method
from ssr.imresize import imresize
from ssr.io import read_image
from ssr.paths import example_dir
from ssr.options import PRECISIONS
from ssr.progress import set_quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tile", type=int, default=96)
    parser.add_argument("--depth", default=None)
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS)
    args = parser.parse_args()
    set_quiet(True)
    torch.set_num_threads(args.threads)
    photo = read_image(example_dir() / "hr" / "coffee.png").pixels
    side = min(photo.shape[:2])
    square = photo[:side, :side]
    lr = np.clip(imresize(square, output_shape=(args.size, args.size)), 0, 1).astype(np.float32)
    method = make_method("ssr", depth=args.depth, rounds=args.rounds, tile=args.tile, precision=args.precision)
    pipeline = method.pipeline
    pipeline(lr[:64, :64])  # warm-up
    totals, stages, peaks = [], [], []
    for _ in range(args.repeats):
        with PeakMemory() as peak:
            start = time.perf_counter()
            result = pipeline(lr)
            totals.append(time.perf_counter() - start)
        stages.append(result.seconds)
        peaks.append(peak.delta_bytes / 2**20)
    print(f"LR {args.size}x{args.size} -> SR {args.size * 4}x{args.size * 4}, T={args.rounds}, tile {args.tile}, "
          f"depth {pipeline.depth.name}, {args.precision}, {args.threads} threads, median of {args.repeats}")
    print("| total s | depth s | kernels s | SR s | peak RSS increase (MiB) |")
    print("|---|---|---|---|---|")
    med = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
    print(f"| {statistics.median(totals):.2f} | {med['depth']:.2f} | {med['kernels']:.2f} | {med['sr']:.2f} | "
          f"{max(peaks):.0f} |")


if __name__ == "__main__":
    main()
