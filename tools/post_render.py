"""Quarto post-render step (see _quarto.yml): write the submission figures
(PDF, SVG, 600-dpi TIFF) and the number ledger into the output folder: the one
Quarto rendered to (QUARTO_PROJECT_OUTPUT_DIR, relative to the project, which
`quarto render --output-dir DIR` changes), else _quarto.yml's _output."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
out = ROOT / os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_output")  # an absolute value replaces ROOT
sys.exit(subprocess.call([python, "-m", "analysis", "export", "--out", str(out)], cwd=ROOT))
