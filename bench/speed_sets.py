"""The HR folders of the speed table (issue 8, point 5): 6 centre crops 384x384 of Kodak24 (-> 96x96 LR at
x4) and 4 centre crops 1024x1024 of the Debian photos reduced x0.5 (-> 256x256 LR).

    .venv/bin/python bench/speed_sets.py OUT      # writes OUT/hr96 and OUT/hr256 (PNG)
"""

import sys
from pathlib import Path

import numpy as np

from ssr.imresize import imresize
from ssr.io import list_images, read_image, write_image
from ssr.paths import data_root


def centre(pixels: np.ndarray, side: int) -> np.ndarray:
    top, left = (pixels.shape[0] - side) // 2, (pixels.shape[1] - side) // 2
    return pixels[top:top + side, left:left + side]


def main(out: Path) -> None:
    (out / "hr96").mkdir(parents=True, exist_ok=True)
    (out / "hr256").mkdir(parents=True, exist_ok=True)
    for path in list_images(data_root() / "val" / "Kodak24")[0][:6]:
        write_image(out / "hr96" / f"{path.stem}.png", centre(read_image(path).pixels, 384))
    for path in list_images(data_root() / "train" / "photos")[0][:4]:
        half = np.clip(imresize(read_image(path).pixels, scale=0.5), 0, 1)
        write_image(out / "hr256" / f"{path.stem}.png", centre(half, 1024))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
