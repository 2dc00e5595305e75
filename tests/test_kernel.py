"""Plain `quarto render` (no activated .venv) runs the documents in this
checkout's environment: _quarto.yml names a kernel that tools/setup.sh
registers in .venv for .venv/bin/python, and `_environment.local` points Quarto
at it (issue 12: with `jupyter: python3` the kernel resolved to a Python
without scipy; a per-user registration ran the copy set up last)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from analysis.config import PROJECT_ROOT


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a user who has not activated .venv."""
    venv_bin = str(PROJECT_ROOT / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "QUARTO_PYTHON", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(venv_bin).resolve())
    env.update(extra)
    return env


def test_quarto_config_names_the_project_kernel_that_setup_registers():
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["jupyter"] not in ("python3", "python"), "a generic kernel resolves to whatever Python Jupyter finds"
    setup = (PROJECT_ROOT / "tools" / "setup.sh").read_text(encoding="utf-8")
    assert ".venv/bin/python tools/register_kernel.py" in setup


def _environment_file() -> dict[str, str]:
    """The variables of `_environment.local` (KEY=VALUE lines, # comments), as Quarto reads them."""
    text = (PROJECT_ROOT / "_environment.local").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def test_registered_kernel_runs_the_project_environment(tmp_path, monkeypatch):
    """Register as setup.sh does, then start the kernel by the name _quarto.yml
    gives, with the variables Quarto takes from `_environment.local`, from an
    environment without the venv, and import the project's packages in it. A
    stale per-user kernel of the same name (another copy of the project, set
    up earlier) must not win."""
    from jupyter_client.manager import KernelManager

    name = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))["jupyter"]
    stale = tmp_path / "kernels" / name
    stale.mkdir(parents=True)
    (stale / "kernel.json").write_text(json.dumps({"argv": ["/nonexistent/other-copy/.venv/bin/python", "-m",
                                                            "ipykernel_launcher", "-f", "{connection_file}"],
                                                   "display_name": "stale", "language": "python"}))
    env = plain_env(JUPYTER_DATA_DIR=str(tmp_path))
    out = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "python"), "tools/register_kernel.py"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    quarto_env = _environment_file()
    assert Path(quarto_env["QUARTO_PYTHON"]).resolve() == (PROJECT_ROOT / ".venv" / "bin" / "python").resolve()
    ours = Path(quarto_env["JUPYTER_PATH"]) / "kernels" / name
    spec = json.loads((ours / "kernel.json").read_text(encoding="utf-8"))
    assert Path(spec["argv"][0]).is_absolute()
    assert Path(spec["argv"][0]).resolve() == (PROJECT_ROOT / ".venv" / "bin" / "python").resolve()
    assert json.loads((stale / "kernel.json").read_text())["display_name"] == "stale"   # user's files untouched

    monkeypatch.setenv("JUPYTER_PATH", quarto_env["JUPYTER_PATH"])
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))       # the per-user directory, with the stale spec
    km = KernelManager(kernel_name=name)
    assert Path(km.kernel_spec.resource_dir).resolve() == ours.resolve()
    log = tmp_path / "kernel.log"
    with open(log, "w", encoding="utf-8") as sink:
        km.start_kernel(cwd=str(PROJECT_ROOT), env=plain_env(IPYTHONDIR=str(tmp_path / "ipython")),
                        stdout=sink, stderr=sink)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        seen: list[str] = []
        reply = kc.execute_interactive(
            "import sys, scipy, lifelines, great_tables, analysis; print(sys.prefix)",
            output_hook=lambda m: seen.append(m["content"].get("text", "")), timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert Path("".join(seen).strip()).resolve() == Path(sys.prefix).resolve()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    # a quiet start: no "Kernel is running over TCP without encryption" (issue 14, item 4)
    assert log.read_text(encoding="utf-8") == ""
    # and no cell written to the user's IPython history database (a commit after each cell)
    assert not list((tmp_path / "ipython").rglob("history.sqlite*"))
