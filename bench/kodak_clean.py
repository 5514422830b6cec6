"""Kodak24 clean: HR downscaled x4 by MATLAB bicubic (no blur, noise or JPEG); bicubic vs ssr at strength 1 / 0.5,
plus the same at strength 1 with each extra weight set given (e.g. a user set made by `ssr weights add`) and each
extra method spec (as `ssr bench --method`, e.g. `ssr-refine:weights=NAME`).

    .venv/bin/python bench/kodak_clean.py [--weights NAME ...] [--method SPEC ...]
"""

import argparse

import numpy as np
import torch

from ssr.arrays import quantise
from ssr.imresize import imresize
from ssr.io import list_images, read_image
from ssr.methods import make_method
from ssr.metrics.psnr_ssim import psnr_y
from ssr.paths import data_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", action="append", default=[], help="extra weight set (repeatable)")
    parser.add_argument("--method", action="append", default=[], help="extra method spec (repeatable)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = {"bicubic": make_method("bicubic"), "ssr, strength 1": make_method("ssr"),
               "ssr, strength 0.5": make_method("ssr", strength=0.5)}
    for name in args.weights:
        methods[f"ssr, weights {name}"] = make_method("ssr", weights=name)
    for spec in args.method:
        methods[spec] = make_method(spec)
    scores = {name: [] for name in methods}
    for path in list_images(data_root() / "val" / "Kodak24")[0]:
        hr = read_image(path).pixels
        hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
        lr = quantise(np.clip(imresize(hr, scale=0.25), 0, 1))
        for name, method in methods.items():
            scores[name].append(psnr_y(quantise(method.upscale(lr, 4).image), hr, crop_border=4))
    print("| method | PSNR-Y (Kodak24 clean x4) |\n|---|---|")
    for name, values in scores.items():
        print(f"| {name} | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
