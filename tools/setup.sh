#!/usr/bin/env bash
# Create .venv and install the exact pinned dependencies. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.lock.sha256
want=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.lock
  echo "$want" > "$stamp"
fi
# The Jupyter kernel _quarto.yml names, pointing at this .venv: plain
# `quarto render` then runs the documents with the pinned packages.
.venv/bin/python tools/register_kernel.py
