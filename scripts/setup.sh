#!/usr/bin/env bash
# Set up ssr in .venv/ (ignored by git): the pinned CPU torch wheel, then ssr itself with test extras.
#   bash scripts/setup.sh           # base: torch==2.13.0 (CPU wheel; a bare `torch` would pull a multi-GB CUDA build)
#   bash scripts/setup.sh --peers   # + spandrel and ST-LPIPS, which need torchvision; PyPI's torchvision does not
#                                   #   load beside the 2.13.0 CPU wheel, so this switches to torch 2.14.1 + torchvision 0.29.1
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON_BIN" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if [ "${1:-}" = "--peers" ]; then
  "${PIP[@]}" torch==2.14.1 torchvision==0.29.1
  "${PIP[@]}" spandrel stlpips-pytorch ipython torchsummary  # stlpips imports the last two undeclared
elif ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${PIP[@]}" torch==2.13.0
fi
"${PIP[@]}" -e ".[test]"
