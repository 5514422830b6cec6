"""Throughput of `ssr upscale --ray N` (1 vs 2 workers, 1 torch thread each) and a plain local run.

    .venv/bin/python bench/batch_throughput.py [--images 12] [--folder ../shared/data/real/RealSRSet]

Each run starts from an empty output folder; wall time includes Ray's start-up (a few seconds),
images/s = files / wall. Needs the ray extra (pip install 'ssr[ray]').
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data" /
                                                "real" / "RealSRSet"))
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssr-batch-"))
    inputs = work / "in"
    inputs.mkdir()
    for path in sorted(Path(args.folder).glob("*.png"))[:args.images]:
        shutil.copy(path, inputs / path.name)
    count = len(list(inputs.iterdir()))
    print(f"{count} images from {args.folder}, method ssr (defaults), 1 torch thread per worker")
    print("| run | wall s | images/s |\n|---|---|---|")
    for label, extra in [("local, 1 process", []), ("--ray 1", ["--ray", "1"]), ("--ray 2", ["--ray", "2"])]:
        out = work / label.replace(" ", "_").replace(",", "")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ssr.cli", "-q", "upscale", str(inputs), "-o", str(out),
                        "--threads", "1", *extra], check=True)
        wall = time.perf_counter() - start
        print(f"| {label} | {wall:.1f} | {count / wall:.3f} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
