"""Register a Jupyter kernel that runs this project's .venv, under the name
_quarto.yml's `jupyter:` option gives, so that a plain `quarto render` (no
activated environment, no QUARTO_PYTHON) executes the documents with the
project's pinned packages. tools/setup.sh runs it with .venv/bin/python.

How Quarto finds the kernel (quarto-cli src/core/jupyter/kernels.ts): it asks
the Python it runs Jupyter with (QUARTO_PYTHON, else `python3` on PATH) for
`jupyter --paths --json` and reads `kernels/<name>/kernel.json` in each data
directory; that list always holds the per-user directory
(~/.local/share/jupyter, or JUPYTER_DATA_DIR), where `--user` installs. The
kernel is then started from the kernelspec's argv, i.e. with this
interpreter (quarto.org/docs/computations/python.html, "Kernel Selection").
Re-running it re-points the kernel at this checkout's .venv.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def kernel_name(root: Path = ROOT) -> str:
    """The kernel _quarto.yml names (`jupyter: <name>`)."""
    cfg = yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8")) or {}
    name = cfg.get("jupyter")
    if isinstance(name, dict):                                  # jupyter: {kernelspec: {name: ...}}
        name = (name.get("kernelspec") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise SystemExit("_quarto.yml: `jupyter:` must name the project's kernel (e.g. `jupyter: cart-salvage`)")
    return name


def main() -> int:
    from ipykernel.kernelspec import install

    name = kernel_name()
    path = install(user=True, kernel_name=name, display_name=f"Python ({name}, {ROOT.name}/.venv)")
    print(f"Jupyter kernel '{name}' -> {sys.executable} (kernelspec in {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
