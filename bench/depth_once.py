"""Cost of one depth map D_0 on the upscale path: the former route (LR -> MATLAB bicubic x4 -> view ->
DepthNet -> full output size -> normalise -> LR) vs the current one (LR -> view -> DepthNet -> LR ->
normalise), same builtin weights, 2 threads, each twice (the first call warms up).

    .venv/bin/python bench/depth_once.py LR_IMAGE
"""
import argparse
import time

import numpy as np
import torch

from ssr.bench.memory import PeakMemory
from ssr.io import read_image
from ssr.imresize import imresize, resize_float
from ssr.depth import make_depth_estimator
from ssr.depth.base import normalise, reduce_for_depth
from ssr.arrays import to_nchw
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("image")
args = parser.parse_args()
torch.set_num_threads(2)
lr = read_image(args.image).pixels
est = make_depth_estimator("builtin"); model = est.model
h, w = lr.shape[:2]


def before():
    up = np.clip(imresize(lr, scale=4), 0, 1)
    with torch.no_grad():
        raw = model(to_nchw(reduce_for_depth(up, 192)))[0, 0].numpy()
    full = normalise(resize_float(raw, *up.shape[:2]))
    return resize_float(full, h, w)  # (the view here reduced with Pillow's bilinear, as before)


def after():
    return est(lr, (h, w))


for name, fn in [("before", before), ("after", after), ("before", before), ("after", after)]:
    with PeakMemory() as mem:
        t = time.perf_counter(); d = fn(); t = time.perf_counter() - t
    print(f"{name}: D_0 {t:.2f} s, peak RSS +{mem.delta_bytes / 2**20:.0f} MiB, map {d.shape}")
