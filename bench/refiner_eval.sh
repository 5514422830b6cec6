#!/usr/bin/env bash
# The diffusion refiner against SVKR alone and the two controls (issue 11), one `ssr bench` run per set
# (so every time column of a set comes from the same run):
#   ssr                          SVKR only (the shipped weights)
#   ssr-refine[:steps=S,fidelity=F] + the refiner (weights: the run folder RUN, added as a user weight set)
#   ssr:grain=G                  SVKR + seeded Gaussian grain, G in GRAINS (the row whose NIQE is nearest
#                                the default refiner's is the "matched in NIQE" control)
#   ssr>ncnn:realesrgan-x4plus   SVKR reduced x4, then Real-ESRGAN x4plus (zero-training cascade)
#   ncnn:realesrgan-x4plus       Real-ESRGAN x4plus alone (the time reference: refine <= 2x its time)
# Sets, x4: B100 sv and Set14 sv (first N images), Middlebury held-out scenes 26-30 dof (true depth for the
# protocol; the pipeline estimates its own); x2: the first CITY_N (10) City100 iPhone X real pairs, with the x2 refiner
# run RUN_X2 (default train_state/refiner_x2; skipped when absent) in the same weight set; there the x4
# peer's rows are its output reduced x2 (as Real-ESRGAN's --outscale 2).
# Columns: PSNR/SSIM-Y, ST-LPIPS, NIQE, time per image. The ncnn rows need the peers stack:
#   PEERS=.venv-peers/bin/python bash bench/refiner_eval.sh OUT [N] [RUN] [THREADS]
# SETS (default "B100 Set14 middlebury city100 figure") picks the sets and the docs figure.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/refiner_eval}
N=${2:-20}
RUN=${3:-train_state/refiner_x4}
THREADS=${4:-2}
GRAINS=${GRAINS:-"2 4 8"}
SETS=${SETS:-"B100 Set14 middlebury city100 figure"}
RUN_X2=${RUN_X2:-train_state/refiner_x2}
CITY_N=${CITY_N:-10}  # City100 pairs (420x300 LR: the x4 peer's rows cost ~20 s each per image)
PY=${PEERS:-.venv/bin/python}
export SSR_HOME=${SSR_HOME:-$PWD/runs/ssr_home}
NAME=refiner_eval_$(basename "$RUN")
.venv/bin/ssr -q weights add "$RUN" --name "$NAME" >/dev/null
if [ -d "$RUN_X2" ]; then .venv/bin/ssr -q weights add "$RUN_X2" --name "$NAME" >/dev/null; fi
DATA=$PWD/../shared/data
. bench/sets.sh
refiner_sets "$DATA" "$OUT" "$N"
HELD="$OUT/hr/middlebury_heldout"

# step counts 1/2/4 at fidelity 0.5, then 2 steps (the default) at fidelity 0 (the trained sampler's full
# noise: the default since this table) and 1 (deterministic); every row explicit, so the table does not
# depend on the current defaults
METHODS=(--method bicubic --method ssr
         --method ssr-refine:steps=1,fidelity=0.5 --method ssr-refine:steps=2,fidelity=0.5
         --method ssr-refine:steps=4,fidelity=0.5
         --method ssr-refine:steps=2,fidelity=0.0 --method ssr-refine:steps=2,fidelity=1.0)
for g in $GRAINS; do METHODS+=(--method "ssr:grain=$g"); done
if [ -n "${PEERS:-}" ]; then METHODS+=(--method "ssr>ncnn:realesrgan-x4plus" --method ncnn:realesrgan-x4plus); fi
bench() {
  PYTHONPATH=src "$PY" -m ssr.cli -q bench --weights "$NAME" --threads "$THREADS" "${METHODS[@]}" "$@"
}
has() { [[ " $SETS " == *" $1 "* ]]; }
if has B100; then bench --scale 4 --protocol sv --hr "$OUT/hr/B100" --out "$OUT/B100_sv"; fi
if has Set14; then bench --scale 4 --protocol sv --hr "$OUT/hr/Set14" --out "$OUT/Set14_sv"; fi
if has middlebury; then
  bench --scale 4 --protocol dof --hr "$HELD/RGB" --depth-dir "$HELD/Depth" --out "$OUT/middlebury_heldout_dof"
fi
if has city100 && [ -d "$RUN_X2" ]; then
  first_images "$DATA/real/City100_iPhoneX" "$OUT/hr/City100" $((2 * CITY_N))  # NNNH.PNG + NNNL.PNG per pair
  bench --scale 2 --protocol real --hr "$OUT/hr/City100" --out "$OUT/City100_real_x2"
fi
# the docs figure: crops of LR, bicubic, SVKR, the default refiner and HR on the first 3 Set14 images
if has figure; then
  first_images "$DATA/val/Set14" "$OUT/hr/Set14_3" 3
  PYTHONPATH=src "$PY" -m ssr.cli -q bench --scale 4 --weights "$NAME" --threads "$THREADS" --protocol sv --no-perceptual \
    --hr "$OUT/hr/Set14_3" --out "$OUT/figure_Set14_sv" --figure-images 3 --method bicubic --method ssr --method ssr-refine:fidelity=0.0
fi
for run in B100_sv Set14_sv middlebury_heldout_dof City100_real_x2; do
  if [ -f "$OUT/$run/table.md" ]; then echo "## $run"; cat "$OUT/$run/table.md"; fi
done
