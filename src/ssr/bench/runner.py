"""`ssr bench`: build (or reuse by checksum) the LR set of a protocol, run methods, evaluate, report.

Cached LR sets live in <cache>/sets/<protocol>-x<scale>-seed<seed>-<key>, where key hashes the
protocol, scale, seed, settings, ssr version and the SHA-256 of every HR (and depth) file; a cached
set is reused only when every file still matches its manifest checksum.
Reported per method: mean PSNR-Y / SSIM-Y (crop = scale), perceptual columns when available, NIQE,
median wall time per image of the method alone (I/O excluded), and the largest peak RSS increase
during one image.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from pathlib import Path

import numpy as np

import ssr
from ssr.bench.figure import figure_grid
from ssr.bench.memory import PeakMemory
from ssr.sets import build_set, match_depth_files
from ssr.errors import DataError
from ssr.hashing import sha256_file, write_json
from ssr.arrays import quantise
from ssr.io import check_output_folder, list_images, read_image, write_image
from ssr.metrics.evaluate import image_metrics
from ssr.methods import PRESETS, Method, make_method
from ssr.methods.classical import nearest
from ssr.metrics.perceptual import PerceptualMetrics
from ssr.paths import CACHE_DIR
from ssr.progress import progress, say
from ssr.report import markdown_table, write_csv

TABLE_COLUMNS = ["method", "PSNR-Y", "SSIM-Y", "ST-LPIPS", "LPIPS", "MUSIQ", "CLIP-IQA", "NIQE",
                 "time/img (s)", "peak mem (MiB)"]
_KEYS = {"PSNR-Y": "psnr_y", "SSIM-Y": "ssim_y", "NIQE": "niqe"}


def set_key(protocol: str, scale: int, seed: int, hr_dir: Path, depth_dir: Path | None,
            overrides: dict[str, str]) -> str:
    files = list_images(hr_dir)[0]
    if depth_dir is not None:
        files += [p for p in sorted(Path(depth_dir).iterdir()) if p.is_file()]
    payload = {"protocol": protocol, "scale": scale, "seed": seed, "overrides": overrides,
               "ssr": ssr.__version__, "files": [[p.name, sha256_file(p)] for p in files]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _set_is_intact(folder: Path) -> bool:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text())
    return all(sha256_file(folder / rel) == entry["sha256"][kind]
               for entry in manifest["images"] for kind, rel in entry["files"].items())


def obtain_set(protocol: str, scale: int, seed: int, hr_dir: Path, depth_dir: Path | None,
               overrides: dict[str, str], cache_dir: Path) -> Path:
    key = set_key(protocol, scale, seed, hr_dir, depth_dir, overrides)
    folder = cache_dir / "sets" / f"{protocol}-x{scale}-seed{seed}-{key}"
    if _set_is_intact(folder):
        say(f"reusing LR set {folder}")
        return folder
    build_set(protocol, scale, seed, hr_dir, folder, depth_dir=depth_dir, overrides=overrides, overwrite=True)
    return folder


def _run_method(method: Method, set_dir: Path, manifest: dict, out_dir: Path, scale: int,
                perceptual: PerceptualMetrics | None) -> tuple[list[dict], dict[str, np.ndarray]]:
    safe = method.name.replace(":", "_").replace("/", "_").replace("+", "_")
    target = out_dir / "sr" / safe
    target.mkdir(parents=True, exist_ok=True)
    rows, outputs = [], {}
    for entry in progress(manifest["images"], method.name):
        lr = read_image(set_dir / entry["files"]["lr"]).pixels
        hr = read_image(set_dir / entry["files"]["hr"]).pixels
        truth = None
        if method.needs_truth:
            if entry["record"] is None:
                raise DataError(f"{method.name} needs a synthetic set with known kernels (not protocol real)")
            with np.load(set_dir / entry["files"]["meta"]) as meta:
                truth = {k: meta[k] for k in meta.files if k != "record"}
        with PeakMemory() as memory:
            start = time.perf_counter()
            sr = method.upscale(lr, scale, truth).image
            seconds = time.perf_counter() - start
        if sr.shape[:2] != hr.shape[:2]:
            raise DataError(f"{method.name} returned {sr.shape[1]}x{sr.shape[0]} for {entry['name']}, "
                            f"expected {hr.shape[1]}x{hr.shape[0]}")
        sr = quantise(sr)  # exactly what the PNG holds
        write_image(target / f"{entry['name']}.png", sr)
        metrics = image_metrics(sr, hr, scale, perceptual)
        rows.append({"method": method.name, "image": entry["name"], **metrics, "seconds": seconds,
                     "peak_mem_bytes": memory.delta_bytes})
        outputs[entry["name"]] = sr
    return rows, outputs


def _summary(method: str, rows: list[dict]) -> dict:
    def mean(key):
        values = [r.get(key) for r in rows]
        return None if any(v is None for v in values) else float(np.mean(values))
    summary = {"method": method}
    for column in TABLE_COLUMNS[1:-2]:
        summary[column] = mean(_KEYS.get(column, column))
    summary["time/img (s)"] = statistics.median(r["seconds"] for r in rows)
    summary["peak mem (MiB)"] = max(r["peak_mem_bytes"] for r in rows) / 2**20
    return summary


def run_bench(protocol: str, hr_dir: Path, method_specs: list[str], scale: int, out_dir: Path, *,
              seed: int = 0, depth_dir: Path | None = None, overrides: dict[str, str] | None = None,
              cache_dir: Path | None = None, figure_images: int = 3, with_perceptual: bool = True,
              weights: str | None = None) -> dict:
    """`weights`: the weight set of the SVKR methods (ssr*), None = shipped."""
    overrides = overrides or {}
    check_output_folder(Path(out_dir), "bench output folder")
    check_output_folder(Path(cache_dir or CACHE_DIR), "cache folder")
    methods = [make_method(spec, scale=scale, weights=weights if spec.partition(":")[0] in PRESETS else None)
               for spec in method_specs]  # fail early on a bad name
    if protocol == "dof" and depth_dir is not None:
        match_depth_files(list_images(Path(hr_dir))[0], Path(depth_dir))
    set_dir = obtain_set(protocol, scale, seed, Path(hr_dir), depth_dir, overrides, cache_dir or CACHE_DIR)
    manifest = json.loads((set_dir / "manifest.json").read_text())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    perceptual = PerceptualMetrics() if with_perceptual else None
    all_rows, summaries, outputs = [], [], {}
    for method in methods:
        rows, outputs[method.name] = _run_method(method, set_dir, manifest, out_dir, scale, perceptual)
        all_rows += rows
        summaries.append(_summary(method.name, rows))
    digits = {"SSIM-Y": 4, "PSNR-Y": 2, "NIQE": 3, "time/img (s)": 3, "peak mem (MiB)": 1}
    title = (f"Protocol `{protocol}` x{scale}, seed {seed}, {len(manifest['images'])} images from "
             f"`{Path(hr_dir).name}`; PSNR/SSIM on Y, crop border {scale}.\n\n")
    notes = ""
    if perceptual is not None and perceptual.unavailable:
        notes = "\nunavailable: " + "; ".join(f"{k}: {v}" for k, v in perceptual.unavailable.items()) + "\n"
    table = title + markdown_table(summaries, TABLE_COLUMNS, digits) + notes
    (out_dir / "table.md").write_text(table)
    per_image_columns = ["method", "image", "psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb", "niqe",
                         *(perceptual.names if perceptual else ()), "seconds", "peak_mem_bytes"]
    write_csv(out_dir / "per_image.csv", all_rows, per_image_columns)
    write_json(out_dir / "results.json", {"protocol": protocol, "scale": scale, "seed": seed,
                                          "set": str(set_dir), "settings": manifest["settings"],
                                          "weights": {m.name: getattr(m, "weights", {}) for m in methods},
                                          "summary": summaries, "per_image": all_rows})
    grid_rows = []
    for entry in manifest["images"][:figure_images]:
        lr = read_image(set_dir / entry["files"]["lr"]).pixels
        hr = read_image(set_dir / entry["files"]["hr"]).pixels
        grid_rows.append({"LR": nearest(lr, scale), "HR": hr,
                          **{m.name: outputs[m.name][entry["name"]] for m in methods}})
    figure_grid(grid_rows, ["LR"] + [m.name for m in methods] + ["HR"], out_dir / "figure.png", scale,
                names=[entry["name"] for entry in manifest["images"][:figure_images]])
    return {"table": table, "summary": summaries, "set": set_dir}
