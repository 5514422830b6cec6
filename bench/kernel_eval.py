"""Kernel-field accuracy of DKENet on a set written by `ssr degrade` (sv or dof), against two
spatially invariant baselines: the image's MEAN TRUE kernel at every pixel (an oracle: it knows the
truth) and the mean kernel of the training prior (blind, like DKENet).

    .venv/bin/ssr degrade --protocol sv --scale 4 --seed 0 ../shared/data/val/B100 runs/b100_sv
    .venv/bin/python bench/kernel_eval.py runs/b100_sv [--depth gt|none|builtin] [--weights DKENET.safetensors | SET]

--weights takes a DKENet file or a weight set (name or folder, as `ssr --weights`); a DKENet that
predicts kernel CODES (the KSR sets) is scored on its codes decoded by the set's SR network, clipped at
0 and normalised to sum 1, as its training validation does.

Kernel PSNR = 10 log10(1 / MSE) over all pixels and taps (ssr.metrics.kernel_error). dof sets carry
their ground-truth depth, which DKENet receives with --depth gt (default); sv sets have none.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import FLAT_DEPTH, to_nchw
from ssr.degradation.kernel_maps import truth_kernels
from ssr.depth import make_depth_estimator
from ssr.io import read_image
from ssr.metrics.kernel_error import kernel_errors
from ssr.models.registry import load_model
from ssr.weights import load_default, resolve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("--depth", default="gt",
                        help="gt (the set's true depth where it has one, else flat), none (flat), or a depth "
                             "backend estimated from the LR image as users get it (builtin, hf:DIR, ...)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", help="a DKENet .safetensors, or a weight set, instead of the shipped default")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    manifest = json.loads((args.set_dir / "manifest.json").read_text())
    scale = manifest["scale"]
    folder = None if args.weights is None or args.weights.endswith(".safetensors") else resolve(args.weights)
    dkenet = (load_model(Path(args.weights)) if args.weights and folder is None
              else load_default("dkenet", scale, folder)).model
    code = load_default("sr", scale, folder).model.code
    prior_mean = code.mean  # mean kernel of the training prior
    estimator = None if args.depth in ("gt", "none") else make_depth_estimator(args.depth)
    rows = []
    for entry in manifest["images"]:
        lr = read_image(args.set_dir / entry["files"]["lr"]).pixels
        with np.load(args.set_dir / entry["files"]["meta"]) as meta:
            truth = {k: meta[k] for k in meta.files if k != "record"}
        true = truth_kernels(truth, dkenet.kernel_size, scale)[0]  # (k*k, h, w)
        lr_t = to_nchw(lr)
        if estimator is not None:
            depth = torch.from_numpy(estimator(lr, lr.shape[:2]))[None, None]
        elif args.depth == "gt" and "depth" in truth:
            depth = torch.from_numpy(truth["depth"]).float()[None, None]
        else:
            depth = torch.full_like(lr_t[:, :1], FLAT_DEPTH)
        with torch.no_grad():
            estimate = dkenet(lr_t, depth)
            if getattr(dkenet, "code_dim", 0):  # codes -> taps, as stage dkenet_code validates
                estimate = code.decode_kernels(estimate)
            estimate = estimate[0]
        mean_kernel = true.mean(dim=(1, 2), keepdim=True).expand_as(true)
        prior = prior_mean.view(-1, 1, 1).expand_as(true)
        rows.append([kernel_errors(k.numpy(), true.numpy())["kernel_psnr"] for k in (estimate, mean_kernel, prior)])
    est, base, prior_psnr = np.mean(rows, axis=0)
    print(f"{args.set_dir.name}: {manifest['protocol']} x{scale}, {len(rows)} images, depth {args.depth}")
    print("| estimator | kernel PSNR (dB) |\n|---|---|")
    print(f"| DKENet (blind, per pixel) | {est:.2f} |\n| image's mean TRUE kernel (spatially invariant oracle) | "
          f"{base:.2f} |\n| training-prior mean kernel (spatially invariant, blind) | {prior_psnr:.2f} |")


if __name__ == "__main__":
    main()
