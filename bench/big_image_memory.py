"""Peak memory and time of `ssr upscale` (default settings) on one big input, e.g. 2000x2000 -> 8000x8000.

    .venv/bin/python bench/big_image_memory.py [--side 2000] [--photo PATH] [-- extra ssr upscale options]

The LR is a photo of ../shared/data/train/photos (or --photo) resized to side x side with Pillow's
Lanczos filter; the command runs in a child process, and its peak RSS is the child's ru_maxrss.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=2000)
    parser.add_argument("--photo", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data" /
                                               "train" / "photos" / "Bridge_by_Sander_Klootwijk.jpg"))
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssr-big-"))
    lr = work / "big.png"
    Image.open(args.photo).convert("RGB").resize((args.side, args.side), Image.Resampling.LANCZOS).save(lr)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ssr.cli", "-q", "upscale", str(lr), "-o", str(work / "out.png"),
                    *args.extra], check=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    size = Image.open(work / "out.png").size
    print(f"| {args.side}x{args.side} -> {size[0]}x{size[1]} | {' '.join(args.extra) or 'defaults'} | "
          f"{wall:.0f} s | {peak:.2f} GiB |")
    for path in work.iterdir():
        path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
