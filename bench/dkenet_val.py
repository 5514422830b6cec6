"""Kernel PSNR of DKENet files on the dkenet_code validation images (McMaster 10 + Set5 5, sv x4 seed 20,
flat depth), so a code-predicting run compares with the shipped 441-tap DKENet.

    .venv/bin/python bench/dkenet_val.py [FILE.safetensors ...]     # default: the shipped DKENet

A code-predicting DKENet needs the code its outputs live in: --code SR_FILE (e.g. train_state/ksr_x4/model.safetensors).
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import FLAT_DEPTH
from ssr.metrics.kernel_error import kernel_errors
from ssr.models.registry import load_model
from ssr.paths import data_root
from ssr.train.data import build_val_set
from ssr.weights import load_default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="*", type=Path)
    parser.add_argument("--code", type=Path, help="SR weights whose kernel code a code-predicting DKENet outputs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    items = (build_val_set(str(data_root() / "val" / "McMaster"), 10, 4, 20, 21)
             + build_val_set(str(data_root() / "val" / "Set5"), 10, 4, 20, 21))
    code = load_model(args.code).model.code if args.code else None
    nets = {str(p): load_model(p).model for p in args.weights} or {"shipped dkenet_mix_x4": load_default("dkenet", 4).model}
    print(f"{len(items)} images, sv x4 seed 20, flat depth\n| DKENet | kernel PSNR (dB) |\n|---|---|")
    for name, net in nets.items():
        scores = []
        with torch.no_grad():
            for item in items:
                out = net(item.lr, torch.full_like(item.lr[:, :1], FLAT_DEPTH))
                if getattr(net, "code_dim", 0):
                    out = code.decode_kernels(out)
                scores.append(kernel_errors(out.numpy(), item.kernels.numpy())["kernel_psnr"])
        print(f"| {name} | {np.mean(scores):.2f} |")


if __name__ == "__main__":
    main()
