"""Reproducible manuscript generator for the relapse-after-CD19-CAR-T cohort.

Layers, one direction only: load -> validate -> derive -> compute -> present.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"

#: The project folder (the package's parent): documents, configuration, outputs.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """Package version plus a hash of the package's source files, so a ledger
    knows whether the code changed even without git."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"
