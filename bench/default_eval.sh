#!/usr/bin/env bash
# Issue 8: a candidate x4 weight set against the RRDB pair (the x4 default until session 7th; built from the
# shipped set by bench/rrdb_set.py) and bicubic, one `ssr bench` run per set, with the candidate's
# modality rows:
#   ssr-oracle   TRUE kernels into the candidate's STAGE-1 body (trained on true kernels only: STAGE1 run)
#   ssr-nokernel the prior's mean kernel at every pixel      ssr-nodepth  flat depth into DKENet
#   ssr-gtdepth  the scene's true depth into DKENet (dof)    ssr-t3       three SVKR rounds (dof)
# Sets: B100 sv (all 100), Set14 sv (14), Middlebury held-out dof (scenes 26-30), Kodak24 clean
# (bench/kodak_clean.py), and DKENet's kernel PSNR on B100 sv with builtin and flat depth.
#   bash bench/default_eval.sh OUT CANDIDATE [STAGE1_RUN] [THREADS]
# CANDIDATE: a weight set (name or folder); STAGE1_RUN default train_state/ksr_x4.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?OUT}
CAND=${2:?CANDIDATE weight set}
STAGE1=${3:-train_state/ksr_x4}
THREADS=${4:-2}
export SSR_HOME=${SSR_HOME:-$PWD/runs/ssr_home}
DATA=$PWD/../shared/data
. bench/sets.sh
mkdir -p "$OUT"
RRDB=$OUT/rrdb_set
.venv/bin/python bench/rrdb_set.py "$RRDB" >/dev/null
# the stage-1 body in a copy of the candidate set (only the oracle row uses it)
S1=$OUT/stage1_set
rm -rf "$S1" && cp -r "$(.venv/bin/python -c "from ssr.weights import resolve; print(resolve('$CAND'))")" "$S1"
.venv/bin/python -c "
from pathlib import Path; from ssr.weights import add_run
add_run(Path('$STAGE1'), Path('$S1'))"
middlebury_heldout "$DATA" "$OUT/hr/middlebury_heldout"
HELD=$OUT/hr/middlebury_heldout
COMMON=(--method bicubic --method "ssr:weights=$RRDB" --method "ssr:weights=$CAND"
        --method "ssr-oracle:weights=$S1" --method "ssr-nokernel:weights=$CAND" --method "ssr-nodepth:weights=$CAND")
bench() { .venv/bin/ssr -q bench --threads "$THREADS" --no-perceptual "$@"; }
bench --scale 4 --protocol sv --hr "$DATA/val/B100" --out "$OUT/B100_sv" "${COMMON[@]}"
bench --scale 4 --protocol sv --hr "$DATA/val/Set14" --out "$OUT/Set14_sv" "${COMMON[@]}"
bench --scale 4 --protocol dof --hr "$HELD/RGB" --depth-dir "$HELD/Depth" --out "$OUT/middlebury_heldout_dof" \
  "${COMMON[@]}" --method "ssr-gtdepth:weights=$CAND" --method "ssr-t3:weights=$CAND"
.venv/bin/python bench/kodak_clean.py --weights "$RRDB" --weights "$CAND" | tee "$OUT/kodak_clean.md"
.venv/bin/ssr -q degrade --protocol sv --scale 4 --seed 0 "$DATA/val/B100" "$OUT/sets/B100_sv" >/dev/null
for depth in builtin none; do
  for set in "$RRDB" "$CAND"; do
    echo "## $set, depth $depth"
    .venv/bin/python bench/kernel_eval.py "$OUT/sets/B100_sv" --depth "$depth" --weights "$set" --threads "$THREADS"
  done
done | tee "$OUT/kernel_psnr.md"
for s in B100_sv Set14_sv middlebury_heldout_dof; do echo "## $s"; cat "$OUT/$s/table.md"; done
