"""`ssr degrade`: turn a folder of HR images into a reproducible LR test/training set.

Layout written under OUT_DIR:
    lr/NAME.png     the degraded input (8-bit PNG)
    hr/NAME.png     the ground truth, mod-cropped to a multiple of the scale (what metrics compare to)
    meta/NAME.npz   record (JSON string), per-LR-pixel kernel-field maps, depth where used
    manifest.json   protocol, seed, settings, files and SHA-256 checksums, per-image records
The `real` protocol reads City100-style pairs (NNNH.* = HR, NNNL.* = LR registered on the HR grid):
its LR is the L image reduced by `scale` with an exact box (area) average, i.e. a sensor with
scale x larger pixels; no blur or noise is synthesised.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import ssr
from ssr.degradation import protocols as P
from ssr.degradation.apply import Geometry
from ssr.degradation.field import DefocusField
from ssr.degradation.scm import build_field, render
from ssr.errors import DataError
from ssr.hashing import save_npz, sha256_file, write_json
from ssr.imresize import resize_float
from ssr.arrays import to_rgb
from ssr.io import DEPTH_SUFFIXES, check_output_folder, list_images, read_depth, read_image, write_image
from ssr.progress import progress

def mod_crop(pixels: np.ndarray, scale: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    return pixels[: h - h % scale, : w - w % scale]


def match_depth_files(images: list[Path], depth_dir: Path) -> dict[Path, Path]:
    """Pair images with depth maps: by file stem when every stem matches, else by sorted order."""
    if not depth_dir.is_dir():
        raise DataError(f"depth folder not found: {depth_dir}")
    depths = sorted(p for p in depth_dir.iterdir() if p.suffix.lower() in DEPTH_SUFFIXES)
    by_stem = {p.stem: p for p in depths}
    if all(img.stem in by_stem for img in images):
        return {img: by_stem[img.stem] for img in images}
    if len(depths) == len(images):
        return dict(zip(images, depths))
    raise DataError(f"cannot pair {len(images)} images with {len(depths)} depth maps in {depth_dir} "
                    "(need equal stems or equal counts)")


def _depth_for(path: Path, hr_shape: tuple[int, int]) -> np.ndarray:
    depth = read_depth(path)
    if depth.shape != hr_shape:
        depth = resize_float(depth, *hr_shape)
    return depth


def field_maps(record: dict, depth: np.ndarray | None, hr_shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Per-LR-pixel kernel-field description saved with each image (float32)."""
    scale = int(record["scale"])
    kernel_field = build_field(record, depth)
    geometry = Geometry.for_hr(hr_shape[0], hr_shape[1], scale, kernel_field.size)
    if isinstance(kernel_field, DefocusField):
        return {"radius": kernel_field.lr_radius(geometry).astype(np.float32)}
    maps = kernel_field.pixel_maps(geometry.lr_h, geometry.lr_w)
    return {k: v.astype(np.float32) for k, v in maps.items()}


def _check_out(out_dir: Path, overwrite: bool) -> None:
    check_output_folder(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise DataError(f"{out_dir}: output folder is not empty (pass --overwrite to rebuild it)")


@contextmanager
def _staging(out_dir: Path):
    """Build the whole set in a hidden sibling folder, then swap it in: all or nothing."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    mask = os.umask(0)
    os.umask(mask)
    staging.chmod(0o777 & ~mask)  # mkdtemp makes 0700; the published set gets normal permissions
    try:
        for sub in ("lr", "hr", "meta"):
            (staging / sub).mkdir()
        yield staging
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            out_dir.rename(old / "set")
            staging.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _real_pairs(hr_dir: Path) -> list[tuple[str, Path, Path]]:
    images, _ = list_images(hr_dir)
    highs = {p.stem[:-1]: p for p in images if p.stem.upper().endswith("H")}
    lows = {p.stem[:-1]: p for p in images if p.stem.upper().endswith("L")}
    names = sorted(set(highs) & set(lows))
    if not names:
        raise DataError(f"{hr_dir}: protocol 'real' needs pairs named NNNH.* / NNNL.* (City100 layout)")
    return [(name, highs[name], lows[name]) for name in names]


def _box_reduce(pixels: np.ndarray, scale: int) -> np.ndarray:
    h, w, c = pixels.shape
    return pixels.reshape(h // scale, scale, w // scale, scale, c).mean(axis=(1, 3))


def build_set(protocol: str, scale: int, seed: int, hr_dir: Path, out_dir: Path, *,
              depth_dir: Path | None = None, overrides: dict[str, str] | None = None,
              overwrite: bool = False, depth_estimator: str | None = None) -> dict:
    """Degrade every image of `hr_dir` with `protocol`; returns the manifest (also written to disk)."""
    if protocol not in P.PROTOCOL_NAMES:
        raise DataError(f"unknown protocol '{protocol}' (one of {', '.join(P.PROTOCOL_NAMES)})")
    settings = P.ProtocolSettings.for_scale(scale).with_overrides(overrides or {})
    hr_dir, out_dir = Path(hr_dir), Path(out_dir)
    if protocol == "dof" and depth_dir is None and depth_estimator is None:
        raise DataError("protocol 'dof' needs depth: pass --depth-dir with one depth map per image, or "
                        "--depth-estimator (builtin, hf:DIR) to estimate it from each HR image")
    estimator = None
    if protocol == "dof" and depth_dir is None:
        from ssr.depth import make_depth_estimator  # torch and the depth weights only when asked for

        estimator = make_depth_estimator(depth_estimator)
    _check_out(out_dir, overwrite)
    if protocol == "real":
        pairs = _real_pairs(hr_dir)
    else:
        images, _ = list_images(hr_dir)
        if not images:
            raise DataError(f"{hr_dir}: no images found")
        depth_files = match_depth_files(images, Path(depth_dir)) if protocol == "dof" and depth_dir else {}
    entries: list[dict] = []
    with _staging(out_dir) as stage:
        if protocol == "real":
            for name, high, low in progress(pairs, "degrade real"):
                hr_image, lr_image = read_image(high), read_image(low)
                hr = mod_crop(hr_image.pixels, scale)
                lr = _box_reduce(mod_crop(lr_image.pixels, scale), scale)
                entries.append(_write_entry(stage, name, hr, lr, hr_image.bit_depth, None, {}))
        else:
            for path in progress(images, f"degrade {protocol}"):
                loaded = read_image(path)
                hr = mod_crop(loaded.pixels, scale)
                rng = P.image_rng(seed, path.stem)
                depth = None
                if protocol == "dof":
                    depth = (estimator(to_rgb(hr), hr.shape[:2]) if estimator is not None
                             else mod_crop(_depth_for(depth_files[path], loaded.pixels.shape[:2]), scale))
                    record = P.sample_dof(rng, scale, settings, depth)
                elif protocol == "compound":
                    record = P.sample_compound(rng, scale, settings)
                else:
                    record = P.sample_sv(rng, scale, settings)
                lr = render(record, hr, depth).lr
                arrays = field_maps(record, depth, hr.shape[:2])
                if depth is not None:
                    arrays["depth"] = depth.astype(np.float32)
                entries.append(_write_entry(stage, path.stem, hr, lr, loaded.bit_depth, record, arrays))
        manifest = {"protocol": protocol, "scale": scale, "seed": seed, "settings": dataclasses.asdict(settings),
                    "ssr_version": ssr.__version__, "images": entries}
        write_json(stage / "manifest.json", manifest)
    return manifest


def _write_entry(out_dir: Path, name: str, hr: np.ndarray, lr: np.ndarray, bit_depth: int,
                 record: dict | None, arrays: dict[str, np.ndarray]) -> dict:
    files = {"lr": out_dir / "lr" / f"{name}.png", "hr": out_dir / "hr" / f"{name}.png",
             "meta": out_dir / "meta" / f"{name}.npz"}
    write_image(files["lr"], lr)
    write_image(files["hr"], hr, bit_depth=bit_depth)
    save_npz(files["meta"], record=np.array(json.dumps(record, sort_keys=True)), **arrays)
    return {"name": name, "record": record,
            "files": {k: str(v.relative_to(out_dir)) for k, v in files.items()},
            "sha256": {k: sha256_file(v) for k, v in files.items()}}
