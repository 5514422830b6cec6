"""City100 real optical pairs x2 (protocol real): bicubic vs ssr at strength 1 and 0.5 (PSNR-Y, crop 2).

    .venv/bin/python bench/strength_real.py [SET_DIR]
"""
import numpy as np, torch
from pathlib import Path
from ssr.sets import build_set
from ssr.io import read_image
from ssr.methods import make_method
from ssr.arrays import quantise
from ssr.metrics.psnr_ssim import psnr_y
from ssr.paths import data_root
torch.set_num_threads(1)
import sys
out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/city100_real_x2")
if not (out / "manifest.json").exists():
    build_set("real", 2, 0, data_root() / "real" / "City100_iPhoneX", out)
import json
m = json.loads((out / "manifest.json").read_text())
methods = {"bicubic": make_method("bicubic"), "ssr s=1": make_method("ssr", scale=2), "ssr s=0.5": make_method("ssr", scale=2, strength=0.5)}
scores = {k: [] for k in methods}
for e in m["images"]:
    lr = read_image(out / e["files"]["lr"]).pixels; hr = read_image(out / e["files"]["hr"]).pixels
    for k, meth in methods.items():
        scores[k].append(psnr_y(quantise(meth.upscale(lr, 2).image), hr, crop_border=2))
for k, v in scores.items(): print(k, round(float(np.mean(v)), 3))
