"""Builtin depth on the HELD-OUT RGB-D split, against two trivial baselines.

    .venv/bin/python bench/depth_eval.py [--depth builtin[:FILE] | hf:DIR | midas:FILE] [--root DIR]

Held-out split (never trained on; ssr.train.depth_data.HELD_OUT): the last 5 Middlebury scenes,
the last Lu scene, the last NYU v2 sample (sorted names). Ground truth is kept proportional to
inverse depth (divided by its maximum, no shift: read_depth(keep_zero=True)). Every prediction is
least-squares scale-and-shift aligned first (MiDaS protocol, ssr.metrics.depth_error), then
AbsRel and delta<1.25 on valid pixels. Baselines: a constant map (alignment makes it the mean
inverse depth) and the vertical-gradient prior (nearer towards the bottom of the frame).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import flat_depth
from ssr.depth import make_depth_estimator
from ssr.errors import SsrError
from ssr.metrics.depth_error import depth_errors
from ssr.paths import data_root
from ssr.train.depth_data import depth_pairs, load_pair


def vertical_gradient(shape: tuple[int, int]) -> np.ndarray:
    return np.tile(np.linspace(0.0, 1.0, shape[0], dtype=np.float32)[:, None], (1, shape[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", default="builtin")
    parser.add_argument("--root", type=Path, default=None, help="folder with Middlebury/, Lu/, NYUDepthv2_Test/")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = args.root or (data_root() / "depth")
    estimator = make_depth_estimator(args.depth)
    methods = {args.depth: estimator, "constant": lambda rgb: flat_depth(*rgb.shape[:2]),
               "vertical gradient": lambda rgb: vertical_gradient(rgb.shape[:2])}
    scores: dict[str, list[dict]] = {name: [] for name in methods}
    print(f"| image | {' | '.join(f'{m} AbsRel / d1' for m in methods)} |")
    print("|---|" + "---|" * len(methods))
    for rgb_path, depth_path in depth_pairs(root)[1]:
        rgb, gt = load_pair(rgb_path, depth_path, keep_zero=True)
        cells = []
        for name, method in methods.items():
            errors = depth_errors(method(rgb), gt)
            scores[name].append(errors)
            cells.append(f"{errors['abs_rel']:.3f} / {errors['delta1']:.3f}")
        print(f"| {rgb_path.parent.parent.name}/{rgb_path.name} | {' | '.join(cells)} |")
    means = [f"**{np.mean([e['abs_rel'] for e in s]):.3f} / {np.mean([e['delta1'] for e in s]):.3f}**"
             for s in scores.values()]
    print(f"| mean | {' | '.join(means)} |")


if __name__ == "__main__":
    try:
        main()
    except SsrError as exc:
        raise SystemExit(f"depth_eval: {exc}") from None
