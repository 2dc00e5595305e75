"""Register a Jupyter kernel that runs this project's .venv, under the name
_quarto.yml's `jupyter:` option gives, so that a plain `quarto render` (no
activated environment) executes the documents with the project's pinned
packages. tools/setup.sh runs it with .venv/bin/python.

Per checkout, not per user. A kernelspec in the per-user directory
(~/.local/share/jupyter) is one for all copies of the project on the machine:
the copy set up last would run every other copy's documents (and report its
own package versions in their Table S4), and a deleted copy would break them.
So the kernelspec goes into this checkout's .venv (`<venv>/share/jupyter`),
and `_environment.local` at the project root (Quarto reads it when it reads
the project configuration and passes its variables to the processes it starts:
quarto.org/docs/projects/environment.html; ignored by git) sets
  QUARTO_PYTHON  this .venv's Python, which Quarto then runs Jupyter with, and
  JUPYTER_PATH   this .venv's Jupyter data directory, which Jupyter searches
                 before the per-user one (jupyter_core.paths.jupyter_path),
so a stale per-user kernel of the same name from an older setup never wins.
How Quarto finds the kernel (quarto-cli src/core/jupyter/kernels.ts): it asks
that Python for `jupyter --paths --json` and reads `kernels/<name>/kernel.json`
in each data directory; the kernel is then started from the kernelspec's argv,
i.e. with this interpreter (quarto.org/docs/computations/python.html).

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


#: IPython's input history off: a document execution's code is not an interactive session
#: to recall, and IPython writes every cell to the user's history database
#: (``~/.ipython/profile_default/history.sqlite``) from a thread that commits after each
#: cell (``HistoryManager.db_cache_size`` is 0), 3-8 ms a cell measured here, paid by each
#: of the about 40 chunks and prose stretches of every one of the six executions. With it
#: off IPython keeps the session's history in memory (``In``, ``Out``, ``_`` work as before).
HISTORY_OFF = "--HistoryManager.enabled=False"


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernelspec's command: ipykernel's default (``-Xfrozen_modules=off``
    for the debugger, the connection file) with the quiet launcher in place of
    ``-m ipykernel_launcher``, and no history database (:data:`HISTORY_OFF`)."""
    return [python, "-Xfrozen_modules=off", "-c", _LAUNCHER, HISTORY_OFF, "-f", "{connection_file}"]


ENV_FILE = "_environment.local"


def environment_lines(root: Path = ROOT, python: str = sys.executable, prefix: str = sys.prefix) -> list[str]:
    """The lines of `_environment.local` that point Quarto at this checkout."""
    venv_python = root / ".venv" / "bin" / "python"
    return [
        "# Written by tools/register_kernel.py (tools/setup.sh): the Python and Jupyter kernel of this",
        "# checkout for `quarto render`. Not in version control; setup writes it again.",
        f"QUARTO_PYTHON={venv_python if venv_python.exists() else Path(python)}",
        f"JUPYTER_PATH={Path(prefix) / 'share' / 'jupyter'}",
    ]


def main() -> int:
    import shutil

    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    name = kernel_name()
    spec = write_kernel_spec(overrides={"argv": kernel_argv(sys.executable),
                                        "display_name": f"Python ({name}, {ROOT.name}/.venv)"})
    try:
        path = KernelSpecManager().install_kernel_spec(spec, kernel_name=name, prefix=sys.prefix)
    finally:
        shutil.rmtree(spec, ignore_errors=True)
    (ROOT / ENV_FILE).write_text("\n".join(environment_lines()) + "\n", encoding="utf-8")
    print(f"Jupyter kernel '{name}' -> {sys.executable} (kernelspec in {path}; {ENV_FILE} points Quarto at it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
