#!/usr/bin/env bash
# Which objective moves the result: arm B (counterfactual batches, reconstruction only) plus ONE of F's
# objectives, seed 1, same init/steps/LR pixels as bench/causal_study.sh (run that first: it makes the
# frozen init and the cached groups). Arms: BC consistency, BN contrast (InfoNCE), BD degradation head,
# BS semantic guidance, BA adaptive strengths. Two single-thread runs side by side, then the eval.
#   bash bench/causal_single.sh [OUT_DIR=runs/causal_study] [STEPS=400]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/causal_study}
STEPS=${2:-400}
OFF=(consistency=0 contrast=0 degradation=0 semantic=0 adaptive=false)
flags() {  # all of F's objectives off, then the one named back on (values of configs/causal_x4.yaml)
  local on=$1 out=() item
  for item in "${OFF[@]}"; do [ "${item%%=*}" = "$on" ] || out+=(--set "causal.$item"); done
  echo "${out[@]}"
}
run() {
  local arm=$1 on=$2
  [ -f "$OUT/${arm}_s1/done" ] && return
  # shellcheck disable=SC2046
  .venv/bin/ssr -q train configs/causal_x4.yaml $(flags "$on") --set seed=1 --set init="$PWD/$OUT/init.safetensors" \
    --set optim.steps="$STEPS" --set log.out_dir="$PWD/$OUT/${arm}_s1"
  touch "$OUT/${arm}_s1/done"
}
(run BC consistency; run BD degradation; run BA adaptive) > "$OUT/single1.log" 2>&1 &
(run BS semantic; run BN contrast) > "$OUT/single2.log" 2>&1 &
wait
.venv/bin/python bench/causal_eval.py --study "$OUT" > "$OUT/results_all.md"
