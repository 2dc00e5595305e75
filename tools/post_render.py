"""Quarto post-render step (see _quarto.yml): write the submission figures
(PDF, SVG, 600-dpi TIFF) and the number ledger into the output folder."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
sys.exit(subprocess.call([python, "-m", "analysis", "export", "--out", "_output"], cwd=ROOT))
