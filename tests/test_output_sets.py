"""Outputs of a run are replaced as one set (issue 13, class 5), and the
post-render step neither recomputes the analysis nor redraws unchanged figures
(issue 14)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT
from analysis.export import MANIFEST, export, figure_key
from analysis.outputs import current_run, output_set
from analysis.present.document import input_stamp, prepare
from analysis.store import read_header
from tests.conftest import set_files

SYNTHETIC = PROJECT_ROOT / "data" / "synthetic"


# --------------------------------------------------------------------------- output_set


def _write(run: Path, value: str) -> None:
    (run / "a.json").write_text(value)
    (run / "figs").mkdir()
    (run / "figs" / "x.txt").write_text(value)


def _shown(folder: Path) -> tuple[str, str]:
    return (folder / "a.json").read_text(), (folder / "figs" / "x.txt").read_text()


def test_a_set_is_swapped_in_whole(tmp_path):
    with output_set(tmp_path, ["a.json", "figs"]) as run:
        _write(run, "1")
        assert not (tmp_path / "a.json").exists()          # nothing visible before the swap
    assert _shown(tmp_path) == ("1", "1")
    with output_set(tmp_path, ["a.json", "figs"]) as run:
        _write(run, "2")
        assert _shown(tmp_path) == ("1", "1")
    assert _shown(tmp_path) == ("2", "2")
    assert [p.name for p in (tmp_path / ".runs").iterdir() if not p.is_symlink()] == [current_run(tmp_path).name]


def test_a_failed_or_incomplete_run_changes_nothing(tmp_path):
    with output_set(tmp_path, ["a.json", "figs"]) as run:
        _write(run, "1")
    with pytest.raises(ZeroDivisionError):
        with output_set(tmp_path, ["a.json", "figs"]) as run:
            (run / "a.json").write_text("2")
            1 / 0
    with pytest.raises(RuntimeError, match="did not write figs"):
        with output_set(tmp_path, ["a.json", "figs"]) as run:
            (run / "a.json").write_text("3")
    assert _shown(tmp_path) == ("1", "1")
    assert len([p for p in (tmp_path / ".runs").iterdir() if not p.is_symlink()]) == 1


def test_a_real_file_or_folder_in_the_way_is_kept_aside_never_deleted(tmp_path, capsys):
    """A folder or file of the user's own (or an older layout's) where the set shows an
    entry is renamed ``NAME.before-DATE`` beside it, with a note, never deleted (the old
    code deleted a folder with everything in it: a user's own ``figures/`` in ``--out``)."""
    (tmp_path / "a.json").write_text("mine")
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "my_drawing.svg").write_text("mine")
    (tmp_path / "report.html").write_text("Quarto's")              # not an entry: left alone
    with output_set(tmp_path, ["a.json", "figs"]) as run:
        _write(run, "1")
    assert _shown(tmp_path) == ("1", "1")
    kept = sorted(p.name for p in tmp_path.glob("*.before-*"))
    assert [k.split(".before-")[0] for k in kept] == ["a.json", "figs"]
    assert (tmp_path / next(k for k in kept if k.startswith("figs")) / "my_drawing.svg").read_text() == "mine"
    assert (tmp_path / next(k for k in kept if k.startswith("a.json"))).read_text() == "mine"
    assert (tmp_path / "report.html").read_text() == "Quarto's"
    said = capsys.readouterr().err
    assert said.count("Note: ") == 2 and "nothing was deleted" in said
    with output_set(tmp_path, ["a.json", "figs"]) as run:          # the set's own links: replaced quietly
        _write(run, "2")
    assert _shown(tmp_path) == ("2", "2") and "Note" not in capsys.readouterr().err
    assert len(list(tmp_path.glob("*.before-*"))) == 2


# --------------------------------------------------------------------------- export


def test_export_loads_the_stored_results_and_draws_figures_once(tmp_path, monkeypatch):
    from analysis.config import load_config

    monkeypatch.setenv("CART_VARIABLES", str(tmp_path / "_variables.yml"))
    prepare(variables=tmp_path / "_variables.yml", root=tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("the post-render step recomputed the analysis")

    monkeypatch.setattr("analysis.results.run_analysis", refuse)
    cache = tmp_path / "cache"
    out = tmp_path / "_output"
    first = export(out, cache=cache)
    manifest = json.loads((current_run(out) / MANIFEST).read_text())
    assert manifest["figures_reused"] is False
    assert manifest["figure_key"] == figure_key(input_stamp(load_config()))
    drawn = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert len(drawn) == len([p for p in first if p.parent.name == "figures"]) > 0
    export(out, cache=cache)
    manifest = json.loads((current_run(out) / MANIFEST).read_text())
    assert manifest["figures_reused"] is True
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == drawn
    assert json.loads((out / "numbers.json").read_text())["stamp"] == manifest["stamp"]


def test_figures_are_redrawn_when_their_inputs_change(tmp_path, two_sites, monkeypatch):
    from analysis.config import load_config

    cache = tmp_path / "cache"
    export(tmp_path / "a", cache=cache)
    monkeypatch.setenv("CART_DATA", str(two_sites))
    export(tmp_path / "b", cache=cache)
    manifest = json.loads((current_run(tmp_path / "b") / MANIFEST).read_text())
    assert manifest["figures_reused"] is False
    assert [p.name for p in cache.iterdir()] == [figure_key(input_stamp(load_config()))]
    a = (tmp_path / "a" / "figures" / "fig2_km_overall.svg").read_bytes()
    b = (tmp_path / "b" / "figures" / "fig2_km_overall.svg").read_bytes()
    assert a != b


# --------------------------------------------------------------------------- kill test

RUN = ("from pathlib import Path\n"
       "from analysis.present.document import prepare\n"
       "from analysis.export import export\n"
       "import os\n"
       "prepare()\n"
       "export(Path(os.environ['OUT']))\n")


def _digest(path: Path) -> str:
    if path.suffix == ".xpt":            # SAS transport files carry their creation time
        return "xpt" if path.stat().st_size > 0 else "empty"
    if path.name == "results.pkl":       # pickle bytes differ between processes (sets are pickled in
        header = read_header(path)       # hash-seed order, e.g. pydantic's fields-set): its stamp and length
        return json.dumps([header["stamp"], header["length"]], sort_keys=True)
    if path.name == "prepared.json":     # holds results.pkl's SHA-256, for the same reason
        manifest = json.loads(path.read_text())
        manifest["files"].pop("_generated/results.pkl")
        return json.dumps(manifest, sort_keys=True)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path, entries: list[str]) -> dict[str, str]:
    tree = {}
    for name in entries:
        entry = folder / name
        if entry.is_dir():
            tree.update({f"{name}/{p.name}": _digest(p) for p in sorted(entry.iterdir())})
        elif entry.exists():
            tree[name] = _digest(entry)
    return tree


def _sets(d: Path) -> tuple[dict, dict]:
    return (_tree(d, ["_variables.yml", "_generated"]),
            _tree(d / "_output", ["numbers.json", "adam", "figures"]))


def _staging(d: Path) -> Path | None:
    runs = d / "_output" / ".runs"
    current = current_run(d / "_output")
    if not runs.exists():
        return None
    fresh = [p for p in runs.iterdir() if not p.is_symlink() and (current is None or p.name != current.name)]
    return fresh[0] if fresh else None


def _count(folder: Path | None) -> int:
    try:
        return len(list(folder.iterdir())) if folder else 0
    except OSError:
        return 0


#: Points of a run at which it is killed, as conditions on the folder.
KILL_POINTS = {
    "prepare-staging": lambda d: any((p / "_generated").exists() for p in (d / ".generated").glob("run-*")),
    "ledger-and-adam-written": lambda d: _count((_staging(d) or d / "-") / "adam") >= 2,
    "some-figures": lambda d: _count((_staging(d) or d / "-") / "figures") >= 3,
    "most-figures": lambda d: _count((_staging(d) or d / "-") / "figures") >= 20,
}


def _children(pid: int) -> list[int]:
    """Process ids of ``pid``'s children (Linux /proc; none elsewhere)."""
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")   # a zombie has ended
    except OSError:
        return False


def _assert_ended(pids: list[int], wait: float = 10.0) -> None:
    """The forked drawing processes of a killed run end with it (they used to wait for
    work forever, about 290 MB each)."""
    deadline = time.monotonic() + wait
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    assert not alive, f"processes outlived the killed run: {alive}"


def _run(d: Path, data: Path, *, kill_at=None) -> bool:
    """One run (prepare, then export) in ``d``; with ``kill_at``, SIGKILL it
    when the condition holds. Returns whether it was killed."""
    env = dict(os.environ, CART_DATA=str(data), CART_VARIABLES=str(d / "_variables.yml"),
               CART_FIGURE_CACHE=str(d / "cache"), OUT=str(d / "_output"))
    proc = subprocess.Popen([sys.executable, "-c", RUN], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        if kill_at is not None and kill_at(d):
            children = _children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            _assert_ended(children)
            return True
        time.sleep(0.005)
    assert proc.wait() == 0, proc.stderr.read().decode()[-3000:]
    return False


def test_a_killed_run_leaves_one_complete_set(tmp_path, two_sites):
    """SIGKILL at several points of a run, on two different valid data sets:
    _output/ always equals the outputs of one complete run, and so do
    _variables.yml with _generated/."""
    d = tmp_path / "project"
    d.mkdir()
    _run(d, SYNTHETIC)
    complete = {"all sites": _sets(d)}
    _run(d, two_sites)
    complete["two sites"] = _sets(d)
    assert complete["all sites"][1] != complete["two sites"][1]
    generated = [s[0] for s in complete.values()]
    outputs = [s[1] for s in complete.values()]
    killed = []
    for point, condition in KILL_POINTS.items():          # the cache holds the two-site figures: drawn anew
        killed.append(_run(d, SYNTHETIC, kill_at=condition))
        now_generated, now_output = _sets(d)
        assert now_generated in generated, point
        assert now_output in outputs, point
    assert sum(killed) >= 3, killed


# --------------------------------------------------------------------------- an unchanged post-render step


@pytest.fixture(scope="module")
def first_export(tmp_path_factory) -> Path:
    """A pre-render step and a first export, with their caches, in one folder."""
    root = tmp_path_factory.mktemp("exported")
    old = os.environ.get("CART_VARIABLES")
    os.environ["CART_VARIABLES"] = str(root / "_variables.yml")
    try:
        prepare(variables=root / "_variables.yml", root=root)
        export(root / "_output", cache=root / "cache" / "figures")
    finally:
        if old is None:
            os.environ.pop("CART_VARIABLES")
        else:
            os.environ["CART_VARIABLES"] = old
    return root


@pytest.fixture
def exported(first_export, tmp_path, monkeypatch):
    """A private copy of :func:`first_export` (links stay links, kept files are copies)."""
    root = tmp_path / "exported"
    shutil.copytree(first_export, root, symlinks=True)
    monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
    return root, root / "cache" / "figures"


def test_unchanged_export_keeps_the_whole_set(exported, monkeypatch):
    root, cache = exported
    first = set_files(root / "_output")
    monkeypatch.setattr("analysis.store.load_results",
                        lambda *a, **k: pytest.fail("the unchanged post-render step loaded the results"))
    paths = export(root / "_output", cache=cache)
    manifest = json.loads((current_run(root / "_output") / MANIFEST).read_text())
    assert manifest["set_reused"] is True and manifest["figures_reused"] is True
    assert set_files(root / "_output") == first
    assert sorted(p.relative_to(root / "_output").as_posix() for p in paths) == sorted(first)
    assert manifest["stamp"] == json.loads((root / "_output" / "numbers.json").read_text())["stamp"]


@pytest.mark.parametrize("change", ["edited in place", "environment", "document text"])
def test_export_writes_the_set_again_when_anything_changed(exported, monkeypatch, change):
    from analysis import export as export_module
    from analysis import store

    root, cache = exported
    if change == "edited in place":               # a kept file is a hard link of the output
        kept = next((cache.parent / "export").glob("*/tables/*.csv"))
        kept.write_text(kept.read_text() + "edited\n")
    elif change == "environment":
        monkeypatch.setattr(store, "environment", lambda: "another")
    else:                                          # (other data, configuration or code: figure_key)
        real = export_module.sources_hash
        monkeypatch.setattr(export_module, "sources_hash",
                            lambda root=PROJECT_ROOT, suffixes=export_module.SOURCE_SUFFIXES: real(root, suffixes) + "x")
    export(root / "_output", cache=cache)
    manifest = json.loads((current_run(root / "_output") / MANIFEST).read_text())
    assert manifest["set_reused"] is False, change
    assert all("edited" not in p.read_text(errors="replace") for p in (root / "_output" / "tables").glob("*.csv"))


def test_sources_hash_covers_the_documents_and_not_the_outputs(tmp_path):
    from analysis.export import sources_hash

    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "results.qmd").write_text("Table 1 shows")
    (tmp_path / "_output").mkdir()
    before = sources_hash(tmp_path)
    (tmp_path / "_output" / "report.md").write_text("rendered")
    (tmp_path / "_variables.yml").write_text("stamp: {}")
    assert sources_hash(tmp_path) == before
    (tmp_path / "sections" / "results.qmd").write_text("Table 2 shows")
    assert sources_hash(tmp_path) != before


def test_the_post_render_step_links_the_kept_set_without_reading_the_configuration(exported, tmp_path):
    """Nothing changed since the pre-render step (its witness holds, analysis/freshness.py):
    ``python -m analysis.render_steps post`` links the same kept set ``export`` would, in
    a process that imports neither pydantic nor pandas; no submitted ledger is configured,
    so there is no marked-up copy to make."""
    root, cache = exported
    code = ("import sys\nfrom analysis.render_steps import post\nassert post(sys.argv[1]) == 0\n"
            "print(sorted(m for m in ('pydantic', 'pandas', 'analysis.config') if m in sys.modules))")
    env = dict(os.environ, CART_VARIABLES=str(root / "_variables.yml"), CART_FIGURE_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], cwd=os.getcwd(), env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert set_files(tmp_path / "out") == set_files(root / "_output")


def test_an_earlier_output_of_the_same_kind_is_replaced_not_kept_aside(tmp_path, capsys):
    """What ``replaces`` recognises as an earlier output of that name (a ``_variables.yml``
    the ``variables`` command wrote: its generated header) is replaced quietly; a file of
    the same name that is not one (the user's own Quarto variables) is kept aside. A ledger
    is never replaced: a ``numbers.json`` in the export folder may be the submitted ledger
    the revisions compare against (kept aside, as any other file of the user's)."""
    from analysis.present.document import _earlier_output
    from analysis.present.numbers import VARIABLES_HEADER

    (tmp_path / "_variables.yml").write_text(VARIABLES_HEADER + "stamp: {}\n")
    with output_set(tmp_path, ["_variables.yml"], replaces=_earlier_output) as run:
        (run / "_variables.yml").write_text("new")
    assert (tmp_path / "_variables.yml").read_text() == "new"
    assert not list(tmp_path.glob("*.before-*")) and "Note" not in capsys.readouterr().err

    other = tmp_path / "other"
    other.mkdir()
    (other / "_variables.yml").write_text("# my own Quarto variables\nauthor: me\n")
    with output_set(other, ["_variables.yml"], replaces=_earlier_output) as run:
        (run / "_variables.yml").write_text("new")
    assert [p.name.split(".before-")[0] for p in other.glob("*.before-*")] == ["_variables.yml"]
    assert capsys.readouterr().err.count("Note: ") == 1


def test_a_submitted_ledger_in_the_export_folder_is_kept(exported, capsys):
    """``export --out DIR`` where DIR holds a real ``numbers.json`` (the submitted ledger copied
    there, or one an older version wrote): it is kept aside byte for byte, never replaced."""
    root, cache = exported
    paper = root / "paper2"
    paper.mkdir()
    ledger = (root / "_output" / "numbers.json").read_bytes()
    (paper / "numbers.json").write_bytes(ledger)
    export(paper, cache=cache)
    kept = list(paper.glob("numbers.json.before-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == ledger and not kept[0].is_symlink()
    assert (paper / "numbers.json").is_symlink()
    assert "Note: " in capsys.readouterr().err
