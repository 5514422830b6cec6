#!/usr/bin/env bash
# The diffusion refiner against SVKR alone and the two controls (issue 11), one `ssr bench` run per set:
#   ssr                          SVKR only (the shipped weights)
#   ssr-refine:steps=S,...       + the refiner (weights: the run in train_state/refiner_x4, as a user set)
#   ssr:grain=G                  SVKR + seeded Gaussian grain (G chosen to match the refiner's NIQE)
#   ssr>ncnn:realesrgan-x4plus   SVKR reduced x4, then Real-ESRGAN x4plus (zero-training cascade; peers stack)
# Columns: PSNR/SSIM-Y, ST-LPIPS, NIQE, time per image. Needs the peers stack for the cascade:
#   PEERS=/path/to/.venv-peers/bin/python bash bench/refiner_eval.sh OUT [IMAGES] [GRAIN]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/refiner_eval}
N=${2:-20}
GRAIN=${3:-4}
PY=${PEERS:-.venv/bin/python}
export SSR_HOME=${SSR_HOME:-$PWD/runs/ssr_home}
.venv/bin/ssr -q weights add train_state/refiner_x4 --name refiner_wip >/dev/null
mkdir -p "$OUT/hr"
pick() { # first N images of a folder as the HR set (keeps the runs short on a 2-core CPU)
  local src=$1 dst=$2
  mkdir -p "$dst"; ls "$src" | head -n "$N" | while read -r f; do ln -sf "$src/$f" "$dst/$f"; done
}
pick "$PWD/../shared/data/val/B100" "$OUT/hr/B100"
pick "$PWD/../shared/data/val/Set14" "$OUT/hr/Set14"
METHODS=(--method bicubic --method ssr --method ssr-refine:steps=1,fidelity=0.0 --method ssr-refine:steps=2,fidelity=0.0
         --method ssr-refine:steps=4,fidelity=0.0 --method ssr-refine:steps=2,fidelity=0.5
         --method "ssr:grain=$GRAIN")
if [ -n "${PEERS:-}" ]; then METHODS+=(--method "ssr>ncnn:realesrgan-x4plus"); fi
for set in B100 Set14; do
  PYTHONPATH=src "$PY" -m ssr.cli -q bench --protocol sv --hr "$OUT/hr/$set" --scale 4 --out "$OUT/${set}_sv" \
    --weights refiner_wip --threads 2 "${METHODS[@]}"
done
