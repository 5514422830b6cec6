"""Score the arms of the CausalSR study (bench/causal_study.sh) and their paired differences.

    .venv/bin/python bench/causal_eval.py --study runs/causal_study [--sets runs/sets]

The sets are written by `ssr degrade` (seed 0):
    (a) in distribution   B100_sv, Set14_sv            x4, the sv protocol, TRUE kernels given to the body
    (b) out of distribution B100_compound, Set14_compound  x4, protocol compound (motion blur, noise
                          15-25/255, JPEG 30-50, second pass; none of it in training), TRUE kernels
    (c) real              City100_x2 (City100 pairs, x2): kernel codes estimated blind by the
                          dkenet_code run (train_state/dkenet_code_x4), the x4 output reduced by 2
PSNR/SSIM-Y follow BasicSR (crop border = scale); NIQE on the Y channel (ssr.metrics.niqe). For
each arm X and seed s the per-image difference X_s - A_s is averaged over seeds, and its mean gets a
95% bootstrap interval (10,000 resamples of images, seed 0).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import torch

from ssr.arrays import FLAT_DEPTH, from_nchw, quantise, to_nchw, to_rgb
from ssr.degradation.kernel_maps import truth_kernels
from ssr.imresize import imresize
from ssr.io import read_image
from ssr.metrics.niqe import niqe
from ssr.metrics.psnr_ssim import psnr_y, ssim_y
from ssr.models.registry import load_model

GROUPS = {"(a) in-dist sv": ["B100_sv", "Set14_sv"], "(b) OOD compound": ["B100_compound", "Set14_compound"],
          "(c) City100 real x2": ["City100_x2"]}


def bootstrap_ci(values: np.ndarray, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def load_set(folder: Path):
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["images"]:
        lr = to_rgb(read_image(folder / entry["files"]["lr"]).pixels)
        hr = to_rgb(read_image(folder / entry["files"]["hr"]).pixels)
        truth = None
        if entry["files"].get("meta"):
            with np.load(folder / entry["files"]["meta"]) as meta:
                truth = {k: meta[k] for k in meta.files if k != "record"}
        yield entry["name"], manifest["scale"], lr, hr, truth


@torch.no_grad()
def score(model, sets: dict[str, list], code_net, with_niqe: bool) -> dict[str, dict[str, list[float]]]:
    out = {}
    for name, items in sets.items():
        rows = {"psnr": [], "ssim": [], "niqe": []}
        for _, scale, lr, hr, truth in items:
            lr_t = to_nchw(lr)
            if truth:  # synthetic sets: the true kernel field; real pairs have none
                field = truth_kernels(truth, model.code.kernel_size, 4)
            else:
                field = code_net(lr_t, torch.full_like(lr_t[:, :1], FLAT_DEPTH))
            sr = np.clip(from_nchw(model(lr_t, field)), 0, 1)
            if scale != 4:
                sr = np.clip(imresize(sr, scale=scale / 4), 0, 1)
            sr = quantise(sr)
            rows["psnr"].append(psnr_y(sr, hr, crop_border=scale))
            rows["ssim"].append(ssim_y(sr, hr, crop_border=scale))
            rows["niqe"].append(niqe(sr, crop_border=scale) if with_niqe else float("nan"))
        out[name] = rows
    return out


def bicubic_scores(sets: dict[str, list], with_niqe: bool) -> dict[str, dict[str, list[float]]]:
    out = {}
    for name, items in sets.items():
        rows = {"psnr": [], "ssim": [], "niqe": []}
        for _, scale, lr, hr, _ in items:
            sr = quantise(np.clip(imresize(lr, scale=scale), 0, 1))
            rows["psnr"].append(psnr_y(sr, hr, crop_border=scale))
            rows["ssim"].append(ssim_y(sr, hr, crop_border=scale))
            rows["niqe"].append(niqe(sr, crop_border=scale) if with_niqe else float("nan"))
        out[name] = rows
    return out


def group_values(scores: dict, group: list[str], metric: str) -> np.ndarray:
    return np.concatenate([np.asarray(scores[name][metric], np.float64) for name in group])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, required=True)
    parser.add_argument("--sets", type=Path, default=Path("runs/sets"))
    parser.add_argument("--codes", type=Path, default=Path("train_state/dkenet_code_x4/model.safetensors"))
    parser.add_argument("--no-niqe", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sets = {name: list(load_set(args.sets / name)) for group in GROUPS.values() for name in group}
    code_net = load_model(args.codes).model.eval()
    runs = sorted(p for p in args.study.iterdir() if re.fullmatch(r"[A-Z]+_s\d+", p.name)
                  and (p / "model.safetensors").is_file())
    def cached(path: Path, weights: Path | None) -> dict:
        """Scores of one model (or bicubic), kept beside it so a rerun only scores new arms."""
        key = f"{','.join(sets)}|niqe={not args.no_niqe}"
        if path.is_file():
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                return stored["scores"]
        scores = (bicubic_scores(sets, not args.no_niqe) if weights is None
                  else score(load_model(weights).model.eval(), sets, code_net, not args.no_niqe))
        path.write_text(json.dumps({"key": key, "scores": scores}))
        return scores

    results = {"bicubic": cached(args.study / "scores_bicubic.json", None),
               "init": cached(args.study / "scores_init.json", args.study / "init.safetensors")}
    for run in runs:
        results[run.name] = cached(run / "scores.json", run / "model.safetensors")
    (args.study / "results.json").write_text(json.dumps(results))
    arms = sorted({r.name.split("_")[0] for r in runs})
    seeds = sorted({r.name.split("_s")[1] for r in runs})
    print(f"Arms {arms}, seeds {seeds} (an arm is averaged over the seeds it has); every arm from {args.study / 'init.safetensors'}\n")
    print("| set | method | PSNR-Y | SSIM-Y | NIQE |\n|---|---|---|---|---|")
    for label, group in GROUPS.items():
        for method in ["bicubic", "init", *arms]:
            keys = [method] if method in ("bicubic", "init") else [f"{method}_s{s}" for s in seeds
                                                                   if f"{method}_s{s}" in results]
            cells = [np.mean([np.nanmean(group_values(results[k], group, m)) for k in keys]) for m in ("psnr", "ssim", "niqe")]
            print(f"| {label} | {method} | {cells[0]:.3f} | {cells[1]:.4f} | {cells[2]:.2f} |")
    print("\nPaired per-image PSNR-Y difference vs arm A (mean over seeds), 95% bootstrap interval:\n")
    print("| set | arm - A | mean dB | 95% CI | per seed |\n|---|---|---|---|---|")
    for label, group in GROUPS.items():
        for arm in [a for a in arms if a != "A"]:
            per_seed = [group_values(results[f"{arm}_s{s}"], group, "psnr") - group_values(results[f"A_s{s}"], group, "psnr")
                        for s in seeds if f"{arm}_s{s}" in results and f"A_s{s}" in results]
            if not per_seed:
                continue
            diff = np.mean(per_seed, axis=0)
            lo, hi = bootstrap_ci(diff)
            seeds_text = ", ".join(f"{d.mean():+.3f}" for d in per_seed)
            print(f"| {label} | {arm} - A | {diff.mean():+.3f} | [{lo:+.3f}, {hi:+.3f}] | {seeds_text} |")


if __name__ == "__main__":
    main()
