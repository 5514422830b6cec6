"""How strong a periodic pattern on the x4 pixel grid an output carries (the refiner's pixel-shuffle
layout): the high-pass residual (image - its 5x5 box blur, luma) averaged per phase (row mod s,
column mod s), then the std of those s*s phase means, in /255. A natural image (and bicubic) gives
~0; a visible "screen-door" grid gives clearly more.

    .venv/bin/python bench/grid_strength.py DIR [DIR ...] [--scale 4]
"""

import argparse
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

from ssr.io import list_images, read_image


def grid_strength(image: np.ndarray, scale: int) -> float:
    """std over the scale*scale phases of the mean high-pass luma residual, on /255."""
    luma = image[..., :3] @ np.array([0.299, 0.587, 0.114]) if image.shape[-1] == 3 else image[..., 0]
    residual = luma - uniform_filter(luma, 5, mode="reflect")
    h, w = (residual.shape[0] // scale) * scale, (residual.shape[1] // scale) * scale
    phases = residual[:h, :w].reshape(h // scale, scale, w // scale, scale).mean(axis=(0, 2))
    return float(phases.std() * 255)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args()
    print("| folder | grid strength (/255), mean over images |\n|---|---|")
    for folder in args.dirs:
        values = [grid_strength(read_image(p).pixels, args.scale) for p in list_images(folder)[0]]
        print(f"| {folder} | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
