#!/usr/bin/env bash
# CausalSR equal-compute study (issue 12): arms A (factual only), B (counterfactual batches,
# reconstruction only) and F (every objective of configs/causal_x4.yaml), each from the SAME KSRNet
# body (a frozen copy of train_state/ksr_x4/model.safetensors), same optimiser, steps and 16 LR
# patches of 48x48 per step; two training seeds, one single-thread process per seed side by side.
# Then bench/causal_eval.py scores every arm and writes the paired differences with bootstrap CIs.
#
#   bash bench/causal_study.sh [OUT_DIR=runs/causal_study] [STEPS=400]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/causal_study}
STEPS=${2:-400}
mkdir -p "$OUT"
[ -f "$OUT/init.safetensors" ] || cp train_state/ksr_x4/model.safetensors "$OUT/init.safetensors"
OFF="--set causal.consistency=0 --set causal.contrast=0 --set causal.degradation=0 --set causal.semantic=0 --set causal.adaptive=false"
arm_flags() {
  case $1 in
    A) echo "$OFF --set causal.counterfactual=false" ;;
    B) echo "$OFF" ;;
    F) echo "" ;;
  esac
}
run_seed() {
  local seed=$1
  for arm in A B F; do
    [ -f "$OUT/${arm}_s$seed/done" ] && continue
    # shellcheck disable=SC2046
    .venv/bin/ssr -q train configs/causal_x4.yaml $(arm_flags $arm) --set seed="$seed" \
      --set init="$PWD/$OUT/init.safetensors" --set optim.steps="$STEPS" --set log.out_dir="$PWD/$OUT/${arm}_s$seed"
    touch "$OUT/${arm}_s$seed/done"
  done
}
run_seed 1 > "$OUT/seed1.log" 2>&1 &
run_seed 2 > "$OUT/seed2.log" 2>&1 &
wait
.venv/bin/python bench/causal_eval.py --study "$OUT" | tee "$OUT/results.md"
