"""Texture an output invents where the HR photo is smooth (skin, sky, walls): the refiner's failure mode.

ST-LPIPS can fall while the eye sees a mesh on a face: the metric rewards high-frequency energy, even
where the HR has none. This measures exactly that: the HR's flat region = pixels whose 9x9 mean of
|high-pass luma| (luma minus its 5x5 box blur) is below 2/255; the score = rms of the OUTPUT's
high-pass luma over that region, in /255 (mean over images). The HR folder itself gives the natural
level (sensor noise, fine grain); an output far above it paints texture that is not there, one far
below it is waxy.

    .venv/bin/python bench/flat_texture.py HR_DIR OUT_DIR [OUT_DIR ...]

Outputs are paired with HR images by name (a `_x4`-style suffix from `ssr upscale` is ignored) and
cropped to the common size.
"""

import argparse
import re
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter

from ssr.io import list_images, read_image

FLAT = 2 / 255


def luma(image: np.ndarray) -> np.ndarray:
    return image[..., :3] @ np.array([0.299, 0.587, 0.114]) if image.shape[-1] == 3 else image[..., 0]


def high_pass(plane: np.ndarray) -> np.ndarray:
    return plane - uniform_filter(plane, 5, mode="reflect")


def flat_texture(output: np.ndarray, hr: np.ndarray) -> float | None:
    """rms (/255) of the output's high-pass luma where the HR is flat; None if the HR has < 100 such pixels."""
    h, w = min(output.shape[0], hr.shape[0]), min(output.shape[1], hr.shape[1])
    out_l, hr_l = luma(output[:h, :w]), luma(hr[:h, :w])
    flat = uniform_filter(np.abs(high_pass(hr_l)), 9) < FLAT
    if flat.sum() < 100:
        return None
    return float(np.sqrt((high_pass(out_l)[flat] ** 2).mean()) * 255)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("hr", type=Path)
    parser.add_argument("outputs", nargs="+", type=Path)
    args = parser.parse_args()
    hr_files = {p.stem: p for p in list_images(args.hr)[0]}
    print("| folder | texture in the HR's flat regions (/255) | images |\n|---|---|---|")
    for folder in [args.hr, *args.outputs]:
        scores = []
        for path in list_images(folder)[0]:
            stem = path.stem if path.stem in hr_files else re.sub(r"_x\d+$", "", path.stem)
            if stem in hr_files:
                score = flat_texture(read_image(path).pixels, read_image(hr_files[stem]).pixels)
                if score is not None:
                    scores.append(score)
        print(f"| {folder} | {np.mean(scores):.3f} | {len(scores)} |")


if __name__ == "__main__":
    main()
