"""One row of same-place crops from several outputs of one image (labelled), for docs figures.

    .venv/bin/python bench/crop_strip.py OUT.png --box LEFT,TOP,SIZE [--zoom 2] LABEL=IMAGE [LABEL=IMAGE ...]
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ssr.arrays import to_rgb, to_uint8
from ssr.io import read_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--box", required=True, help="LEFT,TOP,SIZE in pixels of the images")
    parser.add_argument("--zoom", type=int, default=2, help="Lanczos enlargement of each crop")
    parser.add_argument("columns", nargs="+", help="LABEL=IMAGE")
    args = parser.parse_args()
    left, top, size = (int(v) for v in args.box.split(","))
    tiles = []
    for column in args.columns:
        label, _, path = column.partition("=")
        pixels = read_image(Path(path)).pixels[top:top + size, left:left + size]
        pixels = to_rgb(pixels)[..., :3]
        tile = Image.fromarray(to_uint8(pixels)).resize((size * args.zoom,) * 2, Image.LANCZOS)
        ImageDraw.Draw(tile).text((4, 4), label, fill=(255, 255, 0))
        tiles.append(np.asarray(tile))
    gap = np.zeros((size * args.zoom, 4, 3), np.uint8)
    strip = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], 1)
    Image.fromarray(strip).save(args.out)


if __name__ == "__main__":
    main()
