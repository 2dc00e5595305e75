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
# The project's own package, editable, for the cart-manuscript console script
# (--no-build-isolation: setuptools from the lock builds it, nothing is downloaded).
# Re-pointed when the venv was last set up from another copy of the project.
if [ ! -x .venv/bin/cart-manuscript ] || [ "$(cat .venv/.project-root 2>/dev/null)" != "$PWD" ]; then
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
  echo "$PWD" > .venv/.project-root
fi
# The Jupyter kernel _quarto.yml names, pointing at this .venv: plain
# `quarto render` then runs the documents with the pinned packages.
.venv/bin/python tools/register_kernel.py
