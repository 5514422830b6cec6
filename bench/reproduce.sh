#!/usr/bin/env bash
# Re-run every measurement quoted in docs/benchmarks.md and MODEL_CARD.md (2-core CPU: ~30 min).
# Usage: bash bench/reproduce.sh [OUT_DIR]   (needs ../shared/data; writes under OUT_DIR, default runs/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/bench}"
DATA="${SSR_DATA:-../shared/data}"
SSR=.venv/bin/ssr
METHODS=(--method bicubic --method ssr --method ssr-t3 --method ssr-nodepth --method ssr-nokernel --method ssr-oracle)
mkdir -p "$OUT"
$SSR -q bench --protocol sv --hr "$DATA/val/B100" --scale 4 --out "$OUT/b100_sv" "${METHODS[@]}" --cache "$OUT/cache"
$SSR -q bench --protocol sv --hr "$DATA/val/Set14" --scale 4 --out "$OUT/set14_sv" "${METHODS[@]}" --cache "$OUT/cache"
$SSR -q bench --protocol dof --hr "$DATA/depth/Middlebury/RGB" --depth-dir "$DATA/depth/Middlebury/Depth" --scale 4 \
  --out "$OUT/middlebury_dof" "${METHODS[@]}" --cache "$OUT/cache"
# The held-out Middlebury scenes (26-30) only: scenes 1-25 are in the depth and dof training data.
HELD="$OUT/middlebury_heldout"
. bench/sets.sh
middlebury_heldout "$DATA" "$HELD"
$SSR -q bench --protocol dof --hr "$HELD/RGB" --depth-dir "$HELD/Depth" --scale 4 \
  --out "$OUT/middlebury_heldout_dof" "${METHODS[@]}" --cache "$OUT/cache"
if .venv/bin/ssr info 2>/dev/null | grep -q "(rrdb, x2)"; then  # x2 weights shipped: real optical pairs and sv x2
  $SSR -q bench --protocol real --hr "$DATA/real/City100_iPhoneX" --scale 2 --out "$OUT/city100_real_x2" \
    --method bicubic --method ssr --cache "$OUT/cache"
  $SSR -q bench --protocol sv --hr "$DATA/val/B100" --scale 2 --out "$OUT/b100_sv_x2" \
    --method bicubic --method ssr --method ssr-oracle --cache "$OUT/cache"
fi
for run in b100_sv middlebury_dof middlebury_heldout_dof; do
  set_dir=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['set'])" "$OUT/$run/results.json")
  .venv/bin/python bench/kernel_eval.py "$set_dir" > "$OUT/$run/kernels.md"
  .venv/bin/python bench/kernel_eval.py "$set_dir" --depth builtin >> "$OUT/$run/kernels.md"   # the depth users get
done
.venv/bin/python bench/depth_eval.py --depth builtin > "$OUT/depth_heldout.md"
$SSR -q bench --protocol sv --hr "$DATA/val/B100" --scale 4 --out "$OUT/b100_sv_bf16" --method ssr-bf16 --cache "$OUT/cache"
$SSR -q bench --protocol dof --hr "$DATA/depth/Middlebury/RGB" --depth-dir "$DATA/depth/Middlebury/Depth" --scale 4 \
  --out "$OUT/middlebury_dof_bf16" --method ssr-bf16 --cache "$OUT/cache"
.venv/bin/python bench/pipeline_speed.py --size 256 --rounds 3 --repeats 3 --threads 2 > "$OUT/speed_256.md"
.venv/bin/python bench/pipeline_speed.py --size 256 --rounds 3 --repeats 3 --threads 2 --precision bf16 >> "$OUT/speed_256.md"
.venv/bin/python bench/pipeline_speed.py --size 2000 --rounds 1 --repeats 1 --threads 2 > "$OUT/speed_2000.md"
echo "results in $OUT"
