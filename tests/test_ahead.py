"""Displays drawn ahead of the kernels by the background worker
(analysis/present/ahead.py, analysis/present/executions.py): the worker's
prediction of each execution's display settings is what a real kernel
computes; a kernel waits only for a display announced by a live worker of this
render and otherwise draws; and a clean-tree render shows exactly what it shows
without the worker."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from analysis import background_export as bg
from analysis.config import PROJECT_ROOT, load_config
from analysis.present import ahead
from analysis.present.displays import DISPLAYS_DIR, StoredDisplay, _read_kept, shared_key
from analysis.present.document import input_stamp, prepare
from analysis.present.executions import predicted_kernel, render_executions
from tests.conftest import copy_prepared, hold_lock, prepared_project, project_kernel_argv
from tests.qmd.harness import execute_qmd

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs POSIX file locks")

DOCS = ("report.qmd", "supplement.qmd")
FORMATS = ("html", "typst", "docx")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    return prepared_project(tmp_path_factory, "ahead")


_copy = copy_prepared


def _execute(root: Path, doc: str, fmt: str):
    variables = yaml.safe_load((root / "_variables.yml").read_text(encoding="utf-8"))
    return execute_qmd(PROJECT_ROOT / doc, target_format=fmt, variables=variables,
                       kernel_argv=project_kernel_argv())


# --------------------------------------------------------------------------- the prediction

_PROBE = """
```{python}
from analysis.present.displays import display_settings
print(display_settings(get_ipython()), end="")
```
"""


def test_the_predicted_settings_are_those_a_kernel_computes(prepared, tmp_path, monkeypatch):
    """For every execution of a render (each document in each format), the display settings
    the worker predicts (executions.predicted_kernel) equal the string a real harness
    kernel computes after Quarto's setup step and the document's own setup chunk.
    The probe documents carry the real documents' names, front matter and setup chunk
    beside a copy of _quarto.yml."""
    root = _copy(prepared, tmp_path / "render", monkeypatch)
    project = tmp_path / "probe"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "_quarto.yml", project / "_quarto.yml")
    for doc in DOCS:
        text = (PROJECT_ROOT / doc).read_text(encoding="utf-8")
        front = re.match(r"\A---\n.*?\n---\n", text, re.DOTALL).group(0)
        setup = re.search(r"```\{python\}\n#\| label: setup\n.*?```\n", text, re.DOTALL).group(0)
        params = "```{python}\ndata = None\nconfig = None\n```\n"
        (project / doc).write_text(front + "\n" + params + "\n" + setup + _PROBE, encoding="utf-8")
    executions = render_executions(project)
    assert [e.name for e in executions] == [f"{d}/{f}" for d in DOCS for f in FORMATS]
    for e in executions:
        variables = yaml.safe_load((root / "_variables.yml").read_text(encoding="utf-8"))
        run = execute_qmd(e.document, target_format=e.format, variables=variables,
                          kernel_argv=project_kernel_argv())
        with predicted_kernel(e, tmp_path / "scratch") as shell:
            from analysis.present.displays import display_settings

            predicted = display_settings(shell)
        assert run.chunks[-1].stdout == predicted, e.name


def test_the_documents_display_calls_are_read_in_order():
    executions = render_executions(PROJECT_ROOT)
    report = next(e for e in executions if e.name == "report.qmd/html")
    assert report.calls[0] == ("analysis.present.text.synthetic_callout", (), {})
    assert ("analysis.present.figures.km_group_figure", ("relapse_site",), {}) in report.calls
    assert (report.fig_format, report.fig_dpi) == ("png", 150)          # _quarto.yml format: html


# --------------------------------------------------------------------------- the waiting

@pytest.fixture
def worker(tmp_path):
    """A worker folder whose claim names token "t"; ``worker(alive=True)`` starts a process
    holding running.lock as a live worker does."""
    folder = tmp_path / "cache" / bg.WORKER_DIR
    folder.mkdir(parents=True)
    (folder / bg.CLAIM).write_text(json.dumps({"token": "t", "pid": 0}))
    started = []

    def make(alive: bool) -> Path:
        if alive:
            started.append(hold_lock(folder / bg.RUNNING_LOCK))
        return folder

    yield make
    for proc in started:
        proc.kill()
        proc.wait()


@pytest.fixture(autouse=True)
def _fresh_kernel_state():
    ahead._waited_out.clear()
    ahead._served.clear()
    yield
    ahead._waited_out.clear()
    ahead._served.clear()


def _announce(generated: Path, folder: Path, keys, shared: str = "S", **more) -> None:
    generated.mkdir(parents=True, exist_ok=True)
    (generated / ahead.ANNOUNCED).write_text(json.dumps({
        "token": "t", "worker": str(folder), "shared": ahead.digest(shared), "publics": [],
        "keys": keys, "failed": [], "finished": False, **more}))


def _timed(*args):
    t0 = time.monotonic()
    return ahead.wait_for(*args, _read_kept), time.monotonic() - t0


def test_a_display_a_live_worker_announced_is_waited_for(tmp_path, worker):
    generated = tmp_path / "_generated"
    _announce(generated, worker(alive=True), ["k"])

    def draw():
        time.sleep(0.3)
        import pickle

        (generated / DISPLAYS_DIR).mkdir(exist_ok=True)
        (generated / DISPLAYS_DIR / "k.pkl").write_bytes(pickle.dumps(({"text/plain": "drawn"}, {})))

    threading.Thread(target=draw).start()
    shown, seconds = _timed(generated, "S", "k")
    assert isinstance(shown, StoredDisplay) and shown.data == {"text/plain": "drawn"}
    assert 0.25 < seconds < 5


def test_a_kernel_draws_when_the_worker_died(tmp_path, worker):
    generated = tmp_path / "_generated"
    _announce(generated, worker(alive=False), ["k"])
    shown, seconds = _timed(generated, "S", "k")
    assert shown is None and seconds < 2


@pytest.mark.parametrize("case", ["not announced", "failed", "other results", "claim withdrawn", "finished"])
def test_a_kernel_does_not_wait_for_what_the_worker_will_not_draw(tmp_path, worker, case):
    generated = tmp_path / "_generated"
    folder = worker(alive=True)
    keys = ["other"] if case == "not announced" else ["k"]
    _announce(generated, folder, keys, shared="other" if case == "other results" else "S",
              failed=["k"] if case == "failed" else [], finished=case == "finished")
    if case == "claim withdrawn":
        (folder / bg.CLAIM).write_text(json.dumps({"token": None, "withdrawn": "t"}))
    shown, seconds = _timed(generated, "S", "k")
    assert shown is None and seconds < 2


def test_a_kernel_waits_a_bounded_time_once(tmp_path, worker, monkeypatch):
    generated = tmp_path / "_generated"
    _announce(generated, worker(alive=True), ["k", "k2"])
    monkeypatch.setattr(ahead, "WAIT_SECONDS", 0.5)
    shown, seconds = _timed(generated, "S", "k")
    assert shown is None and 0.4 < seconds < 3
    shown, seconds = _timed(generated, "S", "k2")          # waited in vain once: no more waiting
    assert shown is None and seconds < 0.1


def _manifest_for_every_key(root: Path, folder: Path) -> None:
    """An announcement, as the worker makes it, for this render's results (every key of
    every execution), by worker ``folder`` (token "t")."""
    store = root / "_generated" / "results.pkl"
    stamp = json.loads((root / "_generated" / "prepared.json").read_text())["stamp"]
    shared = shared_key(store, stamp)
    a = ahead.Ahead("t", folder, store, stamp, PROJECT_ROOT)
    assert a.announce()
    assert json.loads((root / "_generated" / ahead.ANNOUNCED).read_text())["shared"] == ahead.digest(shared)


@pytest.mark.parametrize("alive", [False, True], ids=["worker dead", "key not announced"])
def test_a_kernel_draws_what_no_live_worker_draws(prepared, tmp_path, monkeypatch, worker, alive):
    """A real kernel: the worker died after announcing every key, or a live worker announced
    none of them: the kernel draws every display itself, without waiting, and says so."""
    root = _copy(prepared, tmp_path / "render", monkeypatch)
    folder = worker(alive=alive)
    _manifest_for_every_key(root, folder)
    if alive:
        path = root / "_generated" / ahead.ANNOUNCED
        found = json.loads(path.read_text())
        path.write_text(json.dumps({**found, "keys": []}))
    t0 = time.monotonic()
    _execute(root, "report.qmd", "html")
    assert time.monotonic() - t0 < ahead.WAIT_SECONDS
    served = ahead.served(root / "_generated")["report.qmd/html"]
    assert (served["kept"], served["waited"], served["drawn"]) == (0, 0, 11)


# --------------------------------------------------------------------------- the whole render

_SVG_DATE = re.compile(r"<dc:date>[^<]*</dc:date>")
_SVG_ID = re.compile(r'(id="|href="#|url\(#)([^")]+)')


def _svg(text: str) -> str:
    """An SVG with its date removed and its ids (random per process: matplotlib's
    ``svg.hashsalt`` is unset where the kernel displays) numbered in order of appearance."""
    text = _SVG_DATE.sub("<dc:date/>", text)
    names: dict[str, str] = {}
    return _SVG_ID.sub(lambda m: m.group(1) + names.setdefault(m.group(2), f"id{len(names)}"), text)


def _outputs(run) -> dict[str, list]:
    return {f"{c.chunk.location}": [(o.output_type, {k: _svg(v) if k == "image/svg+xml" else v
                                                     for k, v in dict(o.data).items()},
                                     dict(o.metadata), o.text) for o in c.outputs]
            for c in run.chunks}


def _render(root: Path) -> dict[str, dict]:
    return {f"{doc}/{fmt}": _outputs(_execute(root, doc, fmt)) for doc in DOCS for fmt in FORMATS}


def test_a_clean_tree_shows_with_the_worker_what_it_shows_without(tmp_path, monkeypatch):
    """Two clean trees rendered (pre-render step, the six executions, the worker settled):
    one with the background worker drawing ahead, one without (CART_BACKGROUND_EXPORT=0).
    Every chunk's outputs are the same bytes (SVG dates and ids aside), and with the worker
    every display was drawn ahead (none drawn by a kernel)."""
    outputs = {}
    for name, switch in (("without", "0"), ("with", "1")):
        root = tmp_path / name
        root.mkdir()
        monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
        monkeypatch.setenv("CART_FIGURE_CACHE", str(root / ".cache" / "figures"))
        monkeypatch.setenv(bg.ENV_SWITCH, switch)
        prepare(variables=root / "_variables.yml", root=root, background=True)
        try:
            outputs[name] = _render(root)
        finally:
            bg.settle(root / ".cache", input_stamp(load_config()))
        served = ahead.served(root / "_generated")
        assert sorted(served) == sorted(outputs[name])
        if name == "with":
            assert all(s["drawn"] == 0 for s in served.values()), served
            n = sum(len(e.calls) for e in render_executions(PROJECT_ROOT))
            assert f"displays drawn ahead: {n} of {n} " in (root / ".cache" / bg.WORKER_DIR / bg.LOG).read_text()
        else:
            assert not (root / "_generated" / ahead.ANNOUNCED).exists()
            assert all(s["kept"] + s["waited"] == 0 for s in served.values()), served
    for execution in outputs["without"]:
        assert outputs["with"][execution] == outputs["without"][execution], execution


def test_only_the_documents_quarto_renders_are_drawn_ahead(monkeypatch, tmp_path):
    """``quarto render report.qmd`` tells the pre-render step (and the worker it starts)
    its input files: the supplement's displays are not drawn for nothing."""
    monkeypatch.setenv("QUARTO_PROJECT_INPUT_FILES", str(PROJECT_ROOT / "report.qmd"))
    assert [e.name for e in render_executions(PROJECT_ROOT)] == [f"report.qmd/{f}" for f in FORMATS]
    listed = tmp_path / "inputs.txt"
    listed.write_text("report.qmd\nsupplement.qmd\n")
    monkeypatch.setenv("QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES", str(listed))
    assert len(render_executions(PROJECT_ROOT)) == 6


def test_a_display_that_warns_is_left_to_its_kernel(prepared, tmp_path, monkeypatch):
    """Drawing a display ahead that warns (or prints) keeps nothing and marks it failed: the
    kernel draws it, so the warning shows in its chunk as without the worker."""
    import warnings

    from analysis.config import load_config
    from analysis.export import load_document
    from analysis.present import text

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    store = root / "_generated" / "results.pkl"
    stamp = json.loads((root / "_generated" / "prepared.json").read_text())["stamp"]
    said = []
    a = ahead.Ahead("t", tmp_path / "worker", store, stamp, PROJECT_ROOT, log=said.append)
    assert a.announce()
    original = text.synthetic_callout

    def warns(results):
        warnings.warn("something to say", UserWarning)
        return original(results)

    warns.__annotations__ = dict(original.__annotations__)
    warns.__module__ = original.__module__                     # a display function like the original
    monkeypatch.setattr(text, "synthetic_callout", warns)
    a.draw(load_document(load_config(), input_stamp(load_config())).results)
    state = json.loads((root / "_generated" / ahead.ANNOUNCED).read_text())
    executions = state["executions"]
    warned = {keys[0] for keys in executions.values()}          # each document's first chunk
    assert warned <= set(state["failed"]) and len(state["failed"]) == len(warned), said
    assert not any((root / "_generated" / DISPLAYS_DIR / f"{k}.pkl").exists() for k in warned)
    assert sum("synthetic_callout warned or printed while drawn ahead" in line for line in said) == 1  # then left to every kernel
    assert len(list((root / "_generated" / DISPLAYS_DIR).glob("*.pkl"))) == len(state["keys"]) - len(warned)


# --------------------------------------------------------------------------- the drawing's order and processes

def _ahead_for(root: Path, tmp_path: Path, said: list | None = None, only=None) -> ahead.Ahead:
    """An announced :class:`ahead.Ahead` for the prepared copy ``root``; with ``only``, its
    plans keep just the calls of those functions (public names)."""
    store = root / "_generated" / "results.pkl"
    stamp = json.loads((root / "_generated" / "prepared.json").read_text())["stamp"]
    a = ahead.Ahead("t", tmp_path / "worker", store, stamp, PROJECT_ROOT,
                    log=said.append if said is not None else (lambda line: None))
    assert a.announce()
    if only is not None:
        a.plans = [(e, [(c, k) for c, k in calls if c[0] in only]) for e, calls in a.plans]
    return a


def _results():
    from analysis.export import load_document

    return load_document(load_config(), input_stamp(load_config())).results


def test_a_figure_is_built_when_its_first_display_is_drawn(prepared, tmp_path, monkeypatch):
    """No Figure is built ahead of the displays (the first execution's kernel would wait for
    the others' figures): each is built just before the first display that shows it, in the
    kernels' order, and once (the other formats show the same Figure)."""
    from analysis import outputs
    from analysis.present import displays

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    a = _ahead_for(root, tmp_path)
    monkeypatch.setattr(ahead.Ahead, "_fork_helper", lambda self, results, claims: None)   # one process: one order
    events = []
    build, write = displays.build_figure, outputs.write_bytes_atomic
    monkeypatch.setattr(displays, "build_figure", lambda fn, *a, **k: events.append(("build", fn)) or build(fn, *a, **k))
    monkeypatch.setattr(outputs, "write_bytes_atomic",
                        lambda path, data: events.append(("write", Path(path))) or write(path, data))
    a.draw(_results())
    order = [key for _, calls in a.plans for _, key in calls]
    shown = [Path(p).stem for kind, p in events if kind == "write" and Path(p).parent.name == DISPLAYS_DIR]
    assert shown == order                                       # every display, in the kernels' order
    functions = displays.kept_functions()
    first_display = {}
    for _, calls in a.plans:
        for (public, args, kwargs), key in calls:
            fn = functions.get(public)
            if fn is not None and fn.__annotations__["return"] == "JournalFigure":
                first_display.setdefault((fn, repr(args)), key)
    builds = [i for i, (kind, _) in enumerate(events) if kind == "build"]
    assert len(builds) == len(first_display) == 8
    for i in builds:                       # the next display drawn (in the kernels' order) is its first one
        fn = events[i][1]
        shown_next = next(p.stem for kind, p in events[i:] if kind == "write" and p.parent.name == DISPLAYS_DIR)
        assert any(f is fn and key == shown_next for (f, _), key in first_display.items())


def test_a_figure_that_warns_when_built_is_left_to_its_kernels(prepared, tmp_path, monkeypatch):
    """A figure whose building warns is neither kept as a Figure (a kernel loading it would not
    say the warning) nor shown ahead in any format: every one of its displays is failed, so
    each kernel builds it itself, as without the worker."""
    import warnings

    from analysis.present import figures
    from analysis.present.displays import FIGURES_DIR

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    forest = "analysis.present.figures.forest_figure"
    said = []
    a = _ahead_for(root, tmp_path, said, only={forest, "analysis.present.tables.table3"})
    original = figures.forest_figure

    def warns(results):
        warnings.warn("a figure to say", UserWarning)
        return original(results)

    warns.__annotations__ = dict(original.__annotations__)
    warns.__module__ = original.__module__
    monkeypatch.setattr(figures, "forest_figure", warns)
    a.draw(_results())
    state = json.loads((root / "_generated" / ahead.ANNOUNCED).read_text())
    keys = [k for _, calls in a.plans for c, k in calls if c[0] == forest]
    assert len(keys) == 3 and sorted(state["failed"]) == sorted(keys), said
    assert not any((root / "_generated" / DISPLAYS_DIR / f"{k}.pkl").exists() for k in keys)
    assert not list((root / "_generated" / FIGURES_DIR).glob("*.pkl"))
    tables = [k for _, calls in a.plans for c, k in calls if c[0] != forest]
    assert all((root / "_generated" / DISPLAYS_DIR / f"{k}.pkl").exists() for k in tables)


def test_what_the_helper_did_not_draw_is_drawn(prepared, tmp_path, monkeypatch):
    """The helper drawing the first execution with the drawing process claimed displays and
    ended without drawing them (killed, say): the drawing process draws them, and every
    display is drawn, none failed."""
    root = _copy(prepared, tmp_path / "render", monkeypatch)
    said = []
    a = _ahead_for(root, tmp_path, said)
    first = a.plans[0][1]

    def dead_helper(self, results, claims):
        for _, key in first[1::2]:                              # claimed, never drawn
            assert ahead._claim(claims, key)
        return lambda: False

    monkeypatch.setattr(ahead.Ahead, "_fork_helper", dead_helper)
    a.draw(_results())
    state = json.loads((root / "_generated" / ahead.ANNOUNCED).read_text())
    assert state["failed"] == []
    every = {k for _, calls in a.plans for _, k in calls}
    assert all((root / "_generated" / DISPLAYS_DIR / f"{k}.pkl").exists() for k in every)
    assert f"displays drawn ahead: {len(every)} of {len(every)} " in said[-1]


def test_the_set_takes_the_figures_the_drawing_process_keeps(prepared, tmp_path, monkeypatch):
    """In the process that forked the drawing, Ahead.figure waits for a figure the displays
    show until the drawing process has kept it, and takes it; it does not wait for one they
    do not show, nor once the drawing has ended."""
    from analysis.present import figures
    from analysis.present.displays import FIGURES_DIR, figure_object_key, keep_figure

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    a = _ahead_for(root, tmp_path)
    results = _results()
    fkey = figure_object_key(a.shared, figures.forest_figure, (), {})
    assert fkey in a.planned_figures()
    built = figures.forest_figure(results)
    drawing = [True]
    a.drawing = lambda: drawing[0]

    def keep_later():
        time.sleep(0.4)
        keep_figure(root / "_generated" / FIGURES_DIR, fkey, built)

    threading.Thread(target=keep_later).start()
    t0 = time.monotonic()
    fig = a.figure(figures.forest_figure, (), {})
    assert 0.3 < time.monotonic() - t0 < 10 and fig is not None and fig is not built
    assert [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))] == \
        [t.get_text() for t in built.findobj(lambda o: hasattr(o, "get_text"))]
    t0 = time.monotonic()
    assert a.figure(figures.forest_figure, ("not shown",), {}) is None       # not a display's: no wait
    drawing[0] = False
    assert a.figure(figures.km_overall_figure, (), {}) is None               # the drawing ended without it
    assert time.monotonic() - t0 < 1


def test_the_set_takes_the_tables_the_drawing_made_with_their_html(prepared, tmp_path, monkeypatch):
    """Each table the displays show is made once by the drawing and kept for the set in the
    worker's own folder, once it holds the HTML an HTML execution showed (the set's HTML
    table files then make none); Ahead.table gives it back, equal to one made anew, or None
    for a table not kept (never waited for)."""
    from analysis.present import tables
    from analysis.present.tables.display import DisplayTable

    root = _copy(prepared, tmp_path / "render", monkeypatch)
    said: list[str] = []
    store = root / "_generated" / "results.pkl"
    stamp = json.loads((root / "_generated" / "prepared.json").read_text())["stamp"]
    a = ahead.Ahead("t", tmp_path / "worker", store, stamp, PROJECT_ROOT, log=said.append,
                    scratch=tmp_path / "worker" / "ahead-t")
    assert a.announce()
    a.plans = [(e, [(c, k) for c, k in calls if c[0] == "analysis.present.tables.table1"]) for e, calls in a.plans]
    assert a.table(tables.table1, (), {}) is None                  # nothing kept yet
    monkeypatch.setattr(ahead.Ahead, "_fork_helper", lambda self, results, claims: None)
    results = _results()
    a.draw(results)
    kept = a.table(tables.table1, (), {})
    assert isinstance(kept, DisplayTable) and "_html" in vars(kept)
    with monkeypatch.context() as m:
        m.setattr(DisplayTable, "as_gt", lambda self: pytest.fail("the HTML was made again"))
        html = kept.to_html()
    anew = tables.table1(results)
    assert html == anew.to_html()
    assert kept.frame.equals(anew.frame) and kept.columns == anew.columns and kept.labels == anew.labels
    assert a.table(tables.table2, (), {}) is None                  # not a display drawn here
    assert a.table(tables.table1, ("other",), {}) is None          # nor with other arguments
    assert [p.parent for p in (tmp_path / "worker").rglob("*.pkl")] == [tmp_path / "worker" / "ahead-t" / ahead.TABLES_DIR]
