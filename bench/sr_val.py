"""Score SR networks with TRUE kernels on a validation protocol (what `ssr train` validates), vs bicubic.

    .venv/bin/python bench/sr_val.py [--seed 10] [--images 20] [--dirs McMaster Set5] FILE.safetensors ...

sv protocol x4 with each image's own seeded kernel field (ssr.train.data.build_val_set); PSNR-Y on
8-bit outputs, crop border 4. Use it to compare a training run with the shipped SR network.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import from_nchw, quantise
from ssr.imresize import imresize
from ssr.metrics.psnr_ssim import psnr_y
from ssr.models.registry import load_model
from ssr.paths import data_root
from ssr.train.data import build_val_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--dirs", nargs="+", default=["McMaster", "Set5"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    items = []
    for name in args.dirs:
        items += build_val_set(str(data_root() / "val" / name), args.images, 4, args.seed, 21)
    rows = {"bicubic": [psnr_y(quantise(np.clip(imresize(it.lr[0].numpy().transpose(1, 2, 0), scale=4), 0, 1)),
                               it.hr, crop_border=4) for it in items]}
    for path in args.weights:
        model = load_model(path).model.eval()
        with torch.no_grad():
            rows[path.name] = [psnr_y(quantise(from_nchw(model(it.lr, it.kernels))), it.hr, crop_border=4)
                               for it in items]
    print(f"{len(items)} images ({', '.join(args.dirs)}), sv x4, seed {args.seed}, true kernels")
    print("| network | PSNR-Y | vs bicubic |\n|---|---|---|")
    base = np.mean(rows["bicubic"])
    for name, values in rows.items():
        print(f"| {name} | {np.mean(values):.3f} | {np.mean(values) - base:+.3f} |")


if __name__ == "__main__":
    main()
