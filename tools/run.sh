#!/usr/bin/env bash
# Set up (if needed) and run the main job: validate the data, then render the
# manuscript and supplement (HTML, PDF, Word) with Quarto when it is installed.
# Without Quarto, the analysis outputs are still written to _output/: the
# numbers ledger, ADaM exports and submission figures.
# Data and configuration: CART_DATA=path CART_CONFIG=path bash tools/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
PY=.venv/bin/python
"$PY" -m analysis validate
if command -v quarto >/dev/null 2>&1; then
  QUARTO_PYTHON="$PWD/$PY" quarto render
else
  echo "Quarto is not installed: writing the analysis outputs only (install Quarto >= 1.6 to render the documents)."
  "$PY" -m analysis prepare
  "$PY" -m analysis export --out _output
fi
echo "Outputs in _output/"
