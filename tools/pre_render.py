"""Quarto pre-render step (see _quarto.yml): `python -m analysis prepare`, by way
of `python -m analysis.render_steps pre`, which first checks, without reading the
configuration, whether nothing changed since the last pre-render step.

Quarto runs this with the Python on PATH; it re-runs itself with the project's
virtual environment (.venv) when that exists, so rendering works whether or
not the environment is activated (replacing this process where the system
allows, so only one Python starts). Run by that environment's Python already
(Quarto's QUARTO_PYTHON, from _environment.local), or with no .venv, it runs
the step in this process: no second interpreter start.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

python = str(VENV_PY) if VENV_PY.exists() else sys.executable
command = [python, "-m", "analysis.render_steps", "pre"]
if os.name != "nt" and (not VENV_PY.exists() or Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()):
    os.chdir(ROOT)
    here = Path(__file__).resolve().parent        # as `python -m` from ROOT: the project's folder first,
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != here]   # not this one
    from analysis.render_steps import _leave, main

    _leave(main(["pre"]))
if os.name == "nt":
    sys.exit(subprocess.call(command, cwd=ROOT))
os.chdir(ROOT)
sys.stdout.flush()
os.execv(python, command)
