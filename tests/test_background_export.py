"""The post-render step's work started by the pre-render step in the background
(analysis/background_export.py): the set a worker writes is the set the
post-render step writes itself, the documents' kernels reuse the Figures it
kept, and every way a worker can fail leaves the post-render step to do the
work as before, with one clear line and never with another render's files."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from analysis import background_export as bg
from analysis.config import PROJECT_ROOT, load_config
from analysis.export import MANIFEST, export
from analysis.outputs import current_run
from analysis.present.displays import FIGURES_DIR
from tests.conftest import copy_prepared, hold_lock, prepared_project, set_files
from analysis.present.document import input_stamp

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs POSIX file locks")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    return prepared_project(tmp_path_factory, "background")


_copy = copy_prepared


def _want() -> dict[str, str]:
    return input_stamp(load_config())


_SAS_TIME = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_CORE_TIME = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _content(path: Path) -> bytes | dict:
    """A file's bytes, except the creation times SAS transport files and Office
    documents carry (the same files written a second later differ only there)."""
    data = path.read_bytes()
    if path.suffix == ".xpt":
        return _SAS_TIME.sub(b"<time>", data)
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: _CORE_TIME.sub(b"<time>", z.read(i)) for i in z.infolist()}
    return data


def test_the_workers_set_is_the_set_the_post_render_step_writes(prepared, tmp_path, monkeypatch):
    """Every file of the set the worker wrote (linked in by the post-render step)
    has the bytes of the set the post-render step writes itself (creation times
    of .xpt, .docx and .xlsx files aside), also where it took the tables (with
    their HTML) its drawing made for the displays; and the worker kept every
    figure's Figure for the kernels."""
    today = _copy(prepared, tmp_path / "today", monkeypatch)
    export(today / "_output")                                  # no worker: as before
    assert json.loads((current_run(today / "_output") / MANIFEST).read_text())["set_reused"] is False

    root = _copy(prepared, tmp_path / "worker", monkeypatch)
    pid = bg.start(_want(), root / "_variables.yml", root / ".cache" / "figures")
    assert pid is not None
    assert bg.settle(root / ".cache", _want()) == "done"
    log = (root / ".cache" / "worker" / bg.LOG).read_text().splitlines()
    assert "committed" in log[-2] and log[-1].startswith("post-render step: done after waiting ")
    took = [int(line.split()[3]) for line in log if line.startswith("the set took ")]
    assert took and took[0] > 0               # tables the drawing made (Ahead.table): the same bytes below
    export(root / "_output")
    manifest = json.loads((current_run(root / "_output") / MANIFEST).read_text())
    assert manifest["set_reused"] is True                      # the worker's set, linked in
    assert len(list((root / "_generated" / FIGURES_DIR).glob("*.pkl"))) == 8
    assert not list((root / ".cache" / "worker").glob("run-*"))

    a, b = set_files(today / "_output", _content), set_files(root / "_output", _content)
    assert sorted(a) == sorted(b) and len([k for k in a if k.startswith("figures/")]) == 24
    different = [name for name in a if a[name] != b[name]]
    assert not different


def test_the_post_render_step_waits_for_the_worker_of_its_render(prepared, tmp_path, monkeypatch):
    """Nothing changed since the pre-render step, and its worker is still writing the set:
    the post-render step (``python -m analysis.render_steps post``) waits for it and links
    its set, instead of starting ``python -m analysis export`` to wait there."""
    from analysis import render_steps

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    assert render_steps._witness()[0] == _want()               # the witness holds in the copy
    assert bg.start(_want(), root / "_variables.yml", root / ".cache" / "figures") is not None
    monkeypatch.setattr(render_steps.subprocess, "call",
                        lambda *a, **k: pytest.fail(f"fell through to {a[0]}"))
    assert render_steps.post(str(root / "_output")) == 0
    assert json.loads((current_run(root / "_output") / MANIFEST).read_text())["set_reused"] is True


def test_the_kernels_show_the_figures_the_worker_kept(prepared, tmp_path, monkeypatch):
    """A document execution after the worker finished builds no Figure of its own:
    it keeps none beside those the worker kept (a kernel keeps every Figure it builds)."""
    from tests.conftest import project_kernel_argv
    from tests.qmd.harness import execute_qmd

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    assert bg.start(_want(), root / "_variables.yml", root / ".cache" / "figures") is not None
    assert bg.settle(root / ".cache", _want()) == "done"
    kept = sorted((root / "_generated" / FIGURES_DIR).iterdir())
    variables = yaml.safe_load((root / "_variables.yml").read_text(encoding="utf-8"))
    execute_qmd(PROJECT_ROOT / "report.qmd", target_format="html", variables=variables,
                kernel_argv=project_kernel_argv())
    assert sorted((root / "_generated" / FIGURES_DIR).iterdir()) == kept


# --------------------------------------------------------------------------- failure modes

@pytest.fixture
def fake_worker(tmp_path):
    """``fake_worker(stamp)``: a process that behaves as a running worker that never
    finishes (holds running.lock, its own session, "analysis.background_export" in
    its command line) with a claim for ``stamp``."""
    folder = bg.worker_dir(tmp_path / "cache")
    folder.mkdir(parents=True)
    started = []

    def start(stamp: dict, marker: str = "analysis.background_export") -> subprocess.Popen:
        proc = hold_lock(folder / bg.RUNNING_LOCK, marker, new_session=True)
        started.append(proc)
        (folder / bg.CLAIM).write_text(json.dumps({"token": "t0", "pid": proc.pid, "stamp": bg._stamp(stamp)}))
        return proc

    yield folder, start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def _claim(folder: Path) -> dict:
    return json.loads((folder / bg.CLAIM).read_text())


def test_a_worker_for_other_inputs_is_stopped_and_not_waited_for(fake_worker, capsys):
    folder, start = fake_worker
    proc = start({**_want(), "data_hash": "other"})
    t0 = time.monotonic()
    assert bg.settle(folder.parent, _want()) == "other inputs"
    assert time.monotonic() - t0 < 10
    assert proc.wait(timeout=10) != 0                     # stopped
    assert _claim(folder)["token"] is None                # it may not commit
    assert capsys.readouterr().err == ""


def test_a_worker_that_does_not_finish_in_time_is_stopped(fake_worker, capsys):
    folder, start = fake_worker
    proc = start(_want())
    assert bg.settle(folder.parent, _want(), wait=0.3) == "timeout"
    assert proc.wait(timeout=10) != 0
    assert (folder / bg.LOG).read_text().splitlines()[-1].startswith("post-render step: timeout after waiting 0.")
    assert _claim(folder)["token"] is None
    err = capsys.readouterr().err
    assert err.startswith("Note: the background worker preparing the submission files did not finish within")
    assert "writing them now" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_worker_that_died_is_not_waited_for(fake_worker, capsys):
    folder, start = fake_worker
    proc = start(_want())
    proc.kill()
    proc.wait()
    assert bg.settle(folder.parent, _want()) == "stopped"
    err = capsys.readouterr().err
    assert "stopped before it finished; writing them now" in err and len(err.splitlines()) == 1
    assert _claim(folder)["token"] is None


def test_a_new_pre_render_step_stops_the_earlier_worker(fake_worker):
    folder, start = fake_worker
    proc = start({**_want(), "code_version": "earlier"})
    assert bg.stop(folder.parent) is True
    assert proc.wait(timeout=10) != 0
    assert _claim(folder)["token"] is None
    assert not bg.running(folder)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_process_that_is_not_a_worker_is_never_signalled(fake_worker):
    """The claim's process id names another program (a process id reused): it is not
    stopped, though it holds the lock; the claim is withdrawn all the same."""
    folder, start = fake_worker
    proc = start(_want(), marker="something-else")
    assert bg._stop(folder, bg._revoke(folder), wait=0.3) is False
    assert proc.poll() is None
    assert _claim(folder)["token"] is None


def test_a_failed_worker_says_why_in_one_line(tmp_path, monkeypatch, capsys):
    """A real worker that cannot read its configuration: the post-render step says
    so in one line, without a traceback, and writes nothing from it."""
    bad = tmp_path / "missing.yml"
    cache = tmp_path / "cache" / "figures"
    assert bg.start(_want(), tmp_path / "_variables.yml", cache, config=str(bad)) is not None
    assert bg.settle(cache.parent, _want(), wait=120) == "failed"
    err = capsys.readouterr().err
    assert err.startswith("Note: the submission files were not prepared in the background (")
    assert "missing.yml" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (cache.parent / "export").exists()
    assert "Traceback" in (bg.worker_dir(cache.parent) / bg.LOG).read_text()   # the log has the details


def test_a_withdrawn_worker_commits_nothing(tmp_path, monkeypatch):
    """A worker whose claim was withdrawn (a newer render started, or the post-render
    step stopped waiting) writes nothing into the caches."""
    from analysis import export as ex

    cache = tmp_path / "cache" / "figures"
    folder = bg.worker_dir(cache.parent)
    folder.mkdir(parents=True)
    (folder / bg.CLAIM).write_text(json.dumps({"token": "newer", "pid": 0, "stamp": bg._stamp(_want())}))

    def entries(run, doc, want, figure_cache, *, xpt=True, build=None, made=None):
        for name in ex.ENTRIES:
            (run / name).mkdir()
            (run / name / "x").write_text("x")
        return {"figure_key": "k", "figures": ["x"], "figures_reused": False, "tables_reused": 0}

    monkeypatch.setattr(ex, "load_document", lambda cfg, want: None)
    monkeypatch.setattr(ex, "write_entries", entries)
    monkeypatch.setattr(bg, "_keeping_build", lambda doc, want, ahead=None: None)
    monkeypatch.setenv("CART_VARIABLES", str(tmp_path / "_variables.yml"))   # no pre-render set: nothing drawn ahead
    assert bg.work("earlier", cache) == "withdrawn: not committed"
    assert not (cache.parent / "export").exists() and not cache.exists()
    assert not list(folder.glob("run-*"))


def test_no_worker_when_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv(bg.ENV_SWITCH, "0")
    assert bg.start(_want(), tmp_path / "_variables.yml", tmp_path / "cache" / "figures") is None
    assert not (tmp_path / "cache").exists()
    assert bg.settle(tmp_path / "cache", _want()) == "none"


def test_the_pre_render_step_starts_a_worker_that_holds_none_of_its_pipes(tmp_path, monkeypatch):
    """`python -m analysis prepare` (as Quarto runs it, reading its output to the end)
    returns while its worker runs on: the worker's stdin is /dev/null and its output
    goes to the log, so Quarto does not wait for it; the post-render step then links
    the worker's set in."""
    monkeypatch.setenv("CART_VARIABLES", str(tmp_path / "_variables.yml"))
    monkeypatch.setenv("CART_FIGURE_CACHE", str(tmp_path / ".cache" / "figures"))
    monkeypatch.delenv(bg.ENV_SWITCH, raising=False)
    out = subprocess.run([sys.executable, "-m", "analysis", "prepare"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    folder = bg.worker_dir(tmp_path / ".cache")
    pid = _claim(folder)["pid"]
    if bg.running(folder) and Path(f"/proc/{pid}/fd").is_dir():
        fds = {n: os.readlink(f"/proc/{pid}/fd/{n}") for n in ("0", "1", "2")}
        assert fds == {"0": os.devnull, "1": str(folder / bg.LOG), "2": str(folder / bg.LOG)}
    assert bg.settle(tmp_path / ".cache", _want()) == "done"
    export(tmp_path / "_output")
    assert json.loads((current_run(tmp_path / "_output") / MANIFEST).read_text())["set_reused"] is True


def test_a_kept_analysis_without_its_export_set_starts_the_worker(prepared, tmp_path, monkeypatch):
    """Nothing changed in data, configuration or code, but the post-render step's set
    is not kept (an edit of the documents' prose changes its key): the pre-render step
    keeps the analysis and starts the worker for the set, so the post-render step
    links it in instead of writing it after the documents; with the set kept, no worker."""
    from analysis.render_steps import pre

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    monkeypatch.delenv(bg.ENV_SWITCH, raising=False)
    before = (root / "_generated" / "prepared.json").read_text(encoding="utf-8")
    folder = bg.worker_dir(root / ".cache")
    assert pre() == 0
    assert (root / "_generated" / "prepared.json").read_text(encoding="utf-8") == before   # analysis kept
    assert _claim(folder)["stamp"] == bg._stamp(_want())
    assert bg.settle(root / ".cache", _want()) == "done"
    export(root / "_output")
    assert json.loads((current_run(root / "_output") / MANIFEST).read_text())["set_reused"] is True
    (folder / bg.CLAIM).unlink()
    assert pre() == 0                                    # the set is kept now: no worker
    assert not (folder / bg.CLAIM).exists()


@pytest.mark.skipif(not Path("/proc/self/comm").exists(), reason="needs /proc")
def test_a_clean_pre_render_step_forks_its_worker_which_writes_the_same_set(prepared, tmp_path, monkeypatch):
    """The pre-render step as Quarto runs it (tools/pre_render.py, its output read
    through pipes to their end), on a clean tree: it computes the analysis and forks
    its worker with the results in memory; its pipes end when it exits while that
    worker runs on (the worker holds none of them), the worker is one that stop() may
    signal, and the set it writes has the bytes of the set the post-render step
    writes itself (creation times aside)."""
    today = _copy(prepared, tmp_path / "today", monkeypatch)
    export(today / "_output")                                  # no worker: as before

    root = tmp_path / "clean"
    root.mkdir()
    monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
    monkeypatch.setenv("CART_FIGURE_CACHE", str(root / ".cache" / "figures"))
    monkeypatch.delenv(bg.ENV_SWITCH, raising=False)
    step = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "tools" / "pre_render.py")], cwd=PROJECT_ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = step.communicate(timeout=300)                   # both pipes at their end
    assert step.returncode == 0, err.decode()
    folder = bg.worker_dir(root / ".cache")
    pid = _claim(folder)["pid"]
    assert bg.running(folder)                                  # ... while the worker runs on
    assert Path(f"/proc/{pid}/comm").read_bytes().rstrip(b"\n") == bg.WORKER_NAME   # forked, not started
    assert bg._is_worker(pid)
    fds = {n: os.readlink(f"/proc/{pid}/fd/{n}") for n in ("0", "1", "2")}
    assert fds == {"0": os.devnull, "1": str(folder / bg.LOG), "2": str(folder / bg.LOG)}
    assert bg.settle(root / ".cache", _want()) == "done"
    assert "committed" in (folder / bg.LOG).read_text()
    export(root / "_output")
    assert json.loads((current_run(root / "_output") / MANIFEST).read_text())["set_reused"] is True

    a, b = set_files(today / "_output", _content), set_files(root / "_output", _content)
    assert sorted(a) == sorted(b) and len([k for k in a if k.startswith("figures/")]) == 24
    assert not [name for name in a if a[name] != b[name]]


def test_a_forked_worker_is_stopped_by_a_new_pre_render_step(prepared, tmp_path, monkeypatch):
    """A worker forked with the results in memory is stopped (its whole session) and
    withdrawn by a later pre-render step, as a started one is; it commits nothing."""
    from analysis.export import load_document

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    monkeypatch.delenv(bg.ENV_SWITCH, raising=False)
    doc = load_document(load_config(), _want())
    pid = bg.start(_want(), root / "_variables.yml", root / ".cache" / "figures", doc=doc)
    assert pid is not None and bg._is_worker(pid) and os.getpgid(pid) == pid
    folder = bg.worker_dir(root / ".cache")
    assert bg.stop(root / ".cache") is True
    assert not bg.running(folder)
    assert _claim(folder)["token"] is None
    assert bg.settle(root / ".cache", _want()) == "none"
