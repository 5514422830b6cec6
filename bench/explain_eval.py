"""`ssr explain` against the SCM's truth: errors per factor on a synthetic set, and the noise calibration.

    .venv/bin/python bench/explain_eval.py SET_DIR [SET_DIR ...]     # sets written by ssr degrade / ssr bench
    .venv/bin/python bench/explain_eval.py --fit                     # refit NOISE_COEFFICIENTS (training images)

Per factor: JPEG quality (exact share, mean abs error), noise level (0..255: MAE, median relative
error, share within 25%), blur width (median per-image |estimated - true| of the per-pixel std in HR
pixels, sv sets: true std = sqrt((c_xx + c_yy) / 2) from the set's meta maps).
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ssr import explain as E
from ssr.io import list_images, read_image


def fit(count: int = 240, seed: int = 5) -> None:
    from ssr.degradation import protocols as P
    from ssr.degradation.scm import render
    from ssr.paths import data_root

    rng = np.random.default_rng(seed)
    files = list_images(data_root() / "train" / "BSDS200")[0]
    settings = P.ProtocolSettings.for_scale(4)
    features, targets = [], []
    for i in range(count):
        hr = read_image(files[i % len(files)]).pixels
        top, left = rng.integers(0, hr.shape[0] - 256), rng.integers(0, hr.shape[1] - 256)
        record = P.sample_sv(rng, 4, settings)
        lr = render(record, hr[top:top + 256, left:left + 256]).lr
        features.append(E.noise_features(lr, record["jpeg"]["quality"]))
        targets.append(record["noise"]["level"] * 255)
    coefficients, *_ = np.linalg.lstsq(np.array(features), np.array(targets), rcond=None)
    print("NOISE_COEFFICIENTS =", tuple(round(float(c), 4) for c in coefficients))


def evaluate(set_dir: Path) -> None:
    manifest = json.loads((set_dir / "manifest.json").read_text())
    q_err, n_err, n_rel, b_err = [], [], [], []
    for entry in manifest["images"]:
        lr = read_image(set_dir / entry["files"]["lr"]).pixels
        record = entry["record"]
        facts = E.explain(lr)
        q_err.append(abs((facts["jpeg_quality"] or 100) - record["jpeg"]["quality"]))
        truth = record["noise"]["level"] * 255
        n_err.append(abs(facts["noise_level_255"] - truth))
        n_rel.append(n_err[-1] / max(truth, 1e-6))
        with np.load(set_dir / entry["files"]["meta"]) as meta:
            if "c_xx" in meta.files:
                true_std = np.sqrt((meta["c_xx"] + meta["c_yy"]) / 2)
                b_err.append(float(np.median(np.abs(facts["_maps"]["width"] - true_std))))
    n_rel = np.array(n_rel)
    print(f"| {set_dir.name} ({manifest['protocol']} x{manifest['scale']}, {len(q_err)} images) | "
          f"{np.mean(np.array(q_err) == 0):.2f} / {np.mean(q_err):.2f} | {np.mean(n_err):.2f} / "
          f"{np.median(n_rel):.2f} / {np.mean(n_rel <= 0.25):.2f} | "
          + (f"{np.median(b_err):.2f} px |" if b_err else "n/a |"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    if args.fit:
        fit()
        return
    print("| set | JPEG: exact share / MAE | noise: MAE (0..255) / median rel. error / share within 25% | "
          "blur width: median abs error |\n|---|---|---|---|")
    for set_dir in args.sets:
        evaluate(set_dir)


if __name__ == "__main__":
    main()
