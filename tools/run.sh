#!/usr/bin/env bash
# Set up (if needed) and run the main job once: validate the data, then render
# the manuscript and supplement (HTML, PDF, Word) with Quarto when it is
# installed (its pre-render step analyses, its post-render step exports).
# Without Quarto: analyse (python -m analysis prepare), then export the
# numbers ledger, ADaM datasets, figures and tables into _output/.
# Prints one short line per step with its time; a step's own output is shown
# only when it fails (then the run stops with that step's exit code).
# Data and configuration: CART_DATA=path CART_CONFIG=path bash tools/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
log=$(mktemp)
trap 'rm -f "$log"' EXIT
t_all=$(date +%s%3N)

seconds() {  # seconds START_MS: time since START_MS (milliseconds), as 12.3
  local ms=$(( $(date +%s%3N) - $1 ))
  printf '%d.%d' $((ms / 1000)) $(((ms % 1000) / 100))
}

step() {  # step LABEL COMMAND...: run COMMAND quietly, print LABEL and its time
  local label=$1 t0 rc=0
  shift
  printf '%-44s' "$label ..."
  t0=$(date +%s%3N)
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'failed (exit %d) after %s s\n\n' "$rc" "$(seconds "$t0")"
    cat "$log"
    exit "$rc"
  fi
  printf 'done in %6s s\n' "$(seconds "$t0")"
}

step "setup (venv, pinned packages)" bash tools/setup.sh
step "validate the data" "$PY" -m analysis validate
if command -v quarto >/dev/null 2>&1; then
  step "analyse, render and export" env QUARTO_PYTHON="$PWD/$PY" quarto render
else
  echo "Quarto is not installed: writing the analysis outputs only (install Quarto >= 1.6 to render the documents)."
  step "analyse (prepare)" "$PY" -m analysis prepare
  step "export (ledger, ADaM, figures, tables)" "$PY" -m analysis export --out _output
fi
echo "Outputs in _output/ ($(seconds "$t_all") s in all)"
