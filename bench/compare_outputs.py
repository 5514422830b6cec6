"""Compare two folders of SR outputs (e.g. before/after a change): per-image max and mean |difference|,
the count of values more than 1/255 off, and PSNR-Y of each against the HR folder.

    .venv/bin/python bench/compare_outputs.py BEFORE_DIR AFTER_DIR HR_DIR [--scale 4]
"""

import argparse
from pathlib import Path

import numpy as np

from ssr.io import read_image
from ssr.metrics.psnr_ssim import psnr_y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("hr", type=Path)
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args()
    before_psnr, after_psnr = [], []
    for path in sorted(args.before.glob("*.png")):
        a, b = read_image(path).pixels, read_image(args.after / path.name).pixels
        hr = read_image(args.hr / path.name.replace("_ssr", "")).pixels
        diff = np.abs(a - b) * 255
        before_psnr.append(psnr_y(a, hr, args.scale))
        after_psnr.append(psnr_y(b, hr, args.scale))
        print(f"{path.name}: max |diff| {diff.max():.0f}/255, mean {diff.mean():.4f}/255, "
              f"> 1/255: {int((diff > 1.5).sum())} of {diff.size}, PSNR-Y {before_psnr[-1]:.4f} -> {after_psnr[-1]:.4f}")
    print(f"mean PSNR-Y {np.mean(before_psnr):.4f} -> {np.mean(after_psnr):.4f} "
          f"({np.mean(after_psnr) - np.mean(before_psnr):+.4f} dB)")


if __name__ == "__main__":
    main()
