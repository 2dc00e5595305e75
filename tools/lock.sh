#!/usr/bin/env bash
# Re-resolve requirements.in into requirements.lock (exact versions).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet -r requirements.in
"$tmp/venv/bin/pip" freeze --all --exclude pip > requirements.lock   # setuptools too: it builds the console script
rm -rf "$tmp"
