"""Quarto pre-render step (see _quarto.yml): `python -m analysis prepare`.

Quarto runs this with the Python on PATH; it re-runs itself with the project's
virtual environment (.venv) when that exists, so rendering works whether or
not the environment is activated.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
sys.exit(subprocess.call([python, "-m", "analysis", "prepare"], cwd=ROOT))
