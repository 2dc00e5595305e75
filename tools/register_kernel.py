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

A quiet kernel start (issue 14, item 4): ipykernel >= 7.4 logs "Kernel is
running over TCP without encryption ..." at every start unless the kernel
manager wrote CurveZMQ keys into the connection file (ipykernel pull request
1515). Quarto's manager never does: its notebook.py starts kernels through
nbclient's NotebookClient without configuration, so jupyter_client's
`transport_encryption` stays at its default 'disabled' and the transport
at 'tcp' on 127.0.0.1; the kernel cannot choose either (both come from the
connection file). The advisory is addressed to the manager, and it made each
of the six document executions of a render print a warning. So the kernelspec
starts ipykernel through a two-line launcher (:func:`kernel_argv`) that drops
exactly that one log record and nothing else; the rest is ipykernel's own
launcher (`ipykernel_launcher`: take the working directory off sys.path while
ipykernel loads, IPython puts it back). Chosen over pinning ipykernel < 7.4
because a pin would hold back every later ipykernel fix and would be undone by
the next `tools/lock.sh`; if an upgrade rewords the message, the test of a
quiet render (tests/test_quiet_render.py) fails and names it. The
kernelspec still declares `supported_encryption: curve`, so a manager that
provisions keys gets an encrypted kernel. (Messages are signed either way:
the HMAC key is in the user-only connection file.)
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


#: The one kernel log record a render must not show (see the module docstring).
TCP_ADVISORY = "Kernel is running over TCP without encryption"

_LAUNCHER = (
    "import logging, sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "logging.getLogger('IPKernelApp').addFilter("
    f"lambda r: not r.getMessage().startswith({TCP_ADVISORY!r}))\n"
    "from ipykernel.kernelapp import launch_new_instance\n"
    "launch_new_instance()\n"
)


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernelspec's command: ipykernel's default (``-Xfrozen_modules=off``
    for the debugger, the connection file) with the quiet launcher in place of
    ``-m ipykernel_launcher``."""
    return [python, "-Xfrozen_modules=off", "-c", _LAUNCHER, "-f", "{connection_file}"]


def main() -> int:
    import shutil

    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    name = kernel_name()
    spec = write_kernel_spec(overrides={"argv": kernel_argv(sys.executable),
                                        "display_name": f"Python ({name}, {ROOT.name}/.venv)"})
    try:
        path = KernelSpecManager().install_kernel_spec(spec, kernel_name=name, user=True)
    finally:
        shutil.rmtree(spec, ignore_errors=True)
    print(f"Jupyter kernel '{name}' -> {sys.executable} (kernelspec in {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
