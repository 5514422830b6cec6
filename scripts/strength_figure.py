"""docs/strength.png: `--strength` 0 / 0.5 / 1 on a clean photo and on a blurry one (with PSNR-Y per crop).

    .venv/bin/python scripts/strength_figure.py [OUT]

Clean: Kodak kodim23 (../shared/data/val/Kodak24) downscaled x4 with MATLAB bicubic (no blur, noise or
JPEG). Blurry: the same photo through the sv protocol (seed 0): spatially variant Gaussian blur, noise, JPEG.
"""

import sys
from pathlib import Path

import numpy as np

from ssr.arrays import quantise
from ssr.bench.figure import figure_grid
from ssr.degradation import protocols as P
from ssr.degradation.scm import render
from ssr.imresize import imresize
from ssr.io import read_image
from ssr.methods import make_method
from ssr.methods.classical import nearest
from ssr.paths import data_root


def main(out: str = "docs/strength.png") -> None:
    path = sorted((data_root() / "val" / "Kodak24").glob("*.png"))[22]
    hr = read_image(path).pixels
    hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
    clean = quantise(np.clip(imresize(hr, scale=0.25), 0, 1))
    blurry = render(P.sample_sv(P.image_rng(0, path.stem), 4, P.ProtocolSettings.for_scale(4)), hr).lr
    rows, names = [], []
    for label, lr in (("clean", clean), ("blurry (sv)", blurry)):
        row = {"LR": nearest(lr, 4), "HR": hr}
        for strength in (0.0, 0.5, 1.0):
            row[f"strength {strength:g}"] = quantise(make_method("ssr", strength=strength).upscale(lr, 4).image)
        rows.append(row)
        names.append(f"{path.stem} {label}")
    columns = ["LR", "strength 0", "strength 0.5", "strength 1", "HR"]
    figure_grid(rows, columns, Path(out), 4, crop=200, names=names)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
