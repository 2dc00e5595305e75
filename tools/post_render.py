"""Quarto post-render step (see _quarto.yml): write the submission figures
(PDF, SVG, 600-dpi TIFF) and the number ledger into the output folder: the one
Quarto rendered to (QUARTO_PROJECT_OUTPUT_DIR, relative to the project, which
`quarto render --output-dir DIR` changes), else _quarto.yml's _output. Then,
when analysis.yml sets revisions.submitted_ledger, the marked-up manuscript
(<doc>-marked-up.html/.docx) and the change table (analysis/revisions/render.py).

Both by way of `python -m analysis.render_steps post --out DIR`: with nothing
changed since the pre-render step it links the kept set itself; otherwise it
runs `python -m analysis export --out DIR`, then `python -m
analysis.revisions.render --out DIR`.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
out = ROOT / os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_output")  # an absolute value replaces ROOT
command = [python, "-m", "analysis.render_steps", "post", "--out", str(out)]
if os.name == "nt":
    sys.exit(subprocess.call(command, cwd=ROOT))
os.chdir(ROOT)
sys.stdout.flush()
os.execv(python, command)
