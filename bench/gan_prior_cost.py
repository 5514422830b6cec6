"""What one training step of the GAN-prior refiner variant (issue 11, point 6) would cost on this CPU.

The variant puts Real-ESRGAN x4plus's RRDBNet trunk (16.7 M parameters, frozen) in the refiner's x0
predictor, with AMF adapters trained around it, so every training step runs the trunk forward on the
batch and, for adapters that feed it, backward to its input. This times exactly those two passes with
the same architecture (spandrel's RRDBNet, randomly initialised: time does not depend on the weights)
on a refiner batch (8 LR patches of 48x48), to compare with the own refiner's whole step (4.9 s at batch
16: train_state/refiner_x4/log.csv, steps 4,000-4,246). Needs the peers stack (spandrel):

    OMP_NUM_THREADS=1 .venv-peers/bin/python bench/gan_prior_cost.py [--batch 8] [--patch 48] [--threads 1]
"""

import argparse
import time

import torch
from spandrel.architectures.ESRGAN.__arch.RRDB import RRDBNet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = RRDBNet(in_nc=3, out_nc=3, num_filters=64, num_blocks=23, scale=4).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    print(f"trunk parameters: {sum(p.numel() for p in net.parameters()) / 1e6:.1f} M")
    x = torch.rand(args.batch, 3, args.patch, args.patch)
    with torch.no_grad():
        net(x[:1])  # warm-up
        start = time.perf_counter()
        net(x)
        print(f"forward, no grad, batch {args.batch} x {args.patch}px: {time.perf_counter() - start:.1f} s")
    x.requires_grad_(True)
    start = time.perf_counter()
    net(x).mean().backward()
    print(f"forward + backward to the input (frozen trunk): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
