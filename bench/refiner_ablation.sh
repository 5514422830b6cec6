#!/usr/bin/env bash
# The paper's refiner ablation rows (issue 11): LR only / + kernel / + depth / + SVKR start point, each a
# refiner trained from scratch with configs/refiner_ablation_x4.yaml (+ the arm's --set switches) for the
# same number of steps (EMA weights kept in train_state/ablation/; ABLATION=runs/ablation for fresh runs), sampled at the default (2 steps, fidelity 0) in ONE `ssr bench`
# run per set so the rows share images, LR sets and time column:
#   [SETS="B100 Set14 middlebury"] bash bench/refiner_ablation.sh OUT [N] [THREADS]
# Sets as bench/refiner_eval.sh: B100 sv and Set14 sv (first N images) and the Middlebury held-out dof
# scenes 26-30 (the protocol blurs with the true depth; the pipeline and the refiner estimate their own).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/refiner_ablation}
N=${2:-20}
THREADS=${3:-2}
SETS=${SETS:-"B100 Set14 middlebury"}
has() { [[ " $SETS " == *" $1 "* ]]; }
ABLATION=${ABLATION:-train_state/ablation}
export SSR_HOME=${SSR_HOME:-$PWD/runs/ssr_home}
DATA=$PWD/../shared/data
METHODS=(--method ssr)
for arm in lr kernel depth svkr; do
  .venv/bin/ssr -q weights add "$ABLATION/refiner_${arm}_x4" --name "ablation_$arm" >/dev/null
  METHODS+=(--method "ssr-refine:weights=ablation_$arm,steps=2,fidelity=0.0")
done
. bench/sets.sh
refiner_sets "$DATA" "$OUT" "$N"
HELD="$OUT/hr/middlebury_heldout"
bench() { .venv/bin/ssr -q bench --scale 4 --threads "$THREADS" "${METHODS[@]}" "$@"; }
if has B100; then bench --protocol sv --hr "$OUT/hr/B100" --out "$OUT/B100_sv"; fi
if has Set14; then bench --protocol sv --hr "$OUT/hr/Set14" --out "$OUT/Set14_sv"; fi
if has middlebury; then bench --protocol dof --hr "$HELD/RGB" --depth-dir "$HELD/Depth" --out "$OUT/middlebury_heldout_dof"; fi
for run in B100_sv Set14_sv middlebury_heldout_dof; do
  if [ -f "$OUT/$run/table.md" ]; then echo "## $run"; cat "$OUT/$run/table.md"; fi
done
