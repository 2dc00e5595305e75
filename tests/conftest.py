"""Session fixtures: the shipped synthetic cohort analysed once; the
pre-render step and the documents' executions of one render."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest
import yaml

from analysis.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def published() -> dict:
    """The published aggregates (data/published_targets.yml, copied from the study's report)."""
    return yaml.safe_load((PROJECT_ROOT / "data" / "published_targets.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def results():
    from analysis.results import run_analysis

    return run_analysis()


@pytest.fixture(scope="session")
def registry(results):
    from analysis.present.numbers import build_registry

    return build_registry(results)


def project_kernel_argv() -> list[str]:
    """The command of the kernel tools/register_kernel.py registers for Quarto."""
    spec = importlib.util.spec_from_file_location("register_kernel", PROJECT_ROOT / "tools" / "register_kernel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.kernel_argv(sys.executable)


@pytest.fixture(scope="session")
def pre_render() -> subprocess.CompletedProcess:
    """The pre-render step, run as `quarto render` runs it (a process of its
    own), with what it printed."""
    out = subprocess.run([sys.executable, "-m", "analysis", "prepare"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="session")
def variables(pre_render):
    """What the pre-render step wrote into _variables.yml."""
    return yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def runs(variables):
    """``runs(doc, fmt)``: the document executed for one format (once per
    session), in the kernel the project registers for Quarto."""
    from tests.qmd.harness import execute_qmd

    cache = {}
    argv = project_kernel_argv()

    def get(doc: str, fmt: str):
        if (doc, fmt) not in cache:
            cache[(doc, fmt)] = execute_qmd(PROJECT_ROOT / doc, target_format=fmt, variables=variables,
                                            kernel_argv=argv)
        return cache[(doc, fmt)]

    return get


@pytest.fixture(scope="session")
def two_sites(tmp_path_factory):
    """Valid data other than the shipped cohort: two of its three site files, in a folder."""
    folder = tmp_path_factory.mktemp("two_sites")
    for name in ("site_a.csv", "site_b.csv"):
        shutil.copy(PROJECT_ROOT / "data" / "synthetic" / name, folder / name)
    return folder


def set_files(out, content=None) -> dict:
    """Every file of an output set as seen in ``out`` (its entries are links into
    ``.runs``), by relative path: its bytes, or ``content(path)``."""
    import os
    from pathlib import Path

    out = Path(out)
    found = {}
    for folder, _dirs, names in os.walk(out, followlinks=True):
        if ".runs" in Path(folder).relative_to(out).parts:
            continue
        for name in names:
            path = Path(folder) / name
            found[path.relative_to(out).as_posix()] = path.read_bytes() if content is None else content(path)
    return found


def prepared_project(tmp_path_factory, name: str):
    """A folder with the pre-render step's set of the shipped project (``prepare``), for tests
    of what happens after it (the background worker, displays drawn ahead)."""
    from analysis.present.document import prepare

    root = tmp_path_factory.mktemp(name)
    prepare(variables=root / "_variables.yml", root=root)
    return root


def copy_prepared(prepared, to, monkeypatch):
    """A copy of :func:`prepared_project`'s folder, made the one this test's render uses."""
    import shutil

    shutil.copytree(prepared, to, symlinks=True)
    monkeypatch.setenv("CART_VARIABLES", str(to / "_variables.yml"))
    monkeypatch.setenv("CART_FIGURE_CACHE", str(to / ".cache" / "figures"))
    return to


_HOLD = ("import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('holding', flush=True)\n"
         "time.sleep(120)\n")


def hold_lock(lock, marker: str = "analysis.background_export", *, new_session: bool = False):
    """A process holding ``lock`` (as a background worker holds running.lock), with ``marker``
    in its command line; returned once it holds it. The caller kills it."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(lock), marker], stdout=subprocess.PIPE,
                            text=True, start_new_session=new_session)
    assert proc.stdout.readline() == "holding\n"
    return proc
