"""Quarto post-render step (see _quarto.yml): write the submission figures
(PDF, SVG, 600-dpi TIFF) and the number ledger into the output folder: the one
Quarto rendered to (QUARTO_PROJECT_OUTPUT_DIR, relative to the project, which
`quarto render --output-dir DIR` changes), else _quarto.yml's _output. Then,
when analysis.yml sets revisions.submitted_ledger, the marked-up manuscript
(<doc>-marked-up.html/.docx) and the change table (analysis/revisions/render.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
out = ROOT / os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_output")  # an absolute value replaces ROOT
status = subprocess.call([python, "-m", "analysis", "export", "--out", str(out)], cwd=ROOT)
if status == 0:
    status = subprocess.call([python, "-m", "analysis.revisions.render", "--out", str(out)], cwd=ROOT)
sys.exit(status)
