"""Figures drawn once per render (analysis/present/displays.py): a document
execution shows a kept figure display only when it is the same figure of the
same stored results with the same display settings, and shows exactly what
drawing it would show."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.displays import DISPLAYS_DIR, FIGURES_DIR, figure_object_key
from analysis.present.document import prepare
from tests.conftest import project_kernel_argv
from tests.qmd.harness import execute_qmd

FIGURES = ("fig-flow", "fig-km-overall", "fig-km-group", "fig-forest")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("displays")
    prepare(variables=root / "_variables.yml", root=root)
    return root


def _execute(root: Path, monkeypatch, fmt: str = "html", doc: str = "report.qmd"):
    monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
    variables = yaml.safe_load((root / "_variables.yml").read_text(encoding="utf-8"))
    return execute_qmd(PROJECT_ROOT / doc, target_format=fmt, variables=variables,
                       kernel_argv=project_kernel_argv())


def _outputs(run) -> dict[str, list]:
    """Every chunk's outputs as Quarto receives them."""
    return {f"{c.chunk.location}": [(o.output_type, dict(o.data), dict(o.metadata), o.text) for o in c.outputs]
            for c in run.chunks}


def _figures(run) -> dict[str, list]:
    return {label: [(o.output_type, dict(o.data), dict(o.metadata)) for o in run.chunk(label).outputs]
            for label in FIGURES}


@pytest.mark.parametrize("doc", ["report.qmd", "supplement.qmd"])
def test_kept_displays_show_what_drawing_shows(prepared, tmp_path, monkeypatch, doc):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    displays = root / "_generated" / DISPLAYS_DIR
    first = _execute(root, monkeypatch, doc=doc)            # draws and keeps
    kept = sorted(displays.iterdir())
    assert len(kept) >= 5
    second = _execute(root, monkeypatch, doc=doc)           # shows the kept displays
    assert sorted(displays.iterdir()) == kept
    assert _outputs(second) == _outputs(first)
    if doc == "report.qmd":
        assert all(o[1].get("image/png") for outs in _figures(first).values() for o in outs)
    # the same document with no stored results (computed in the kernel): nothing kept, drawn as ever
    (root / "_generated" / "results.pkl").unlink()
    shutil.rmtree(displays)
    drawn = _execute(root, monkeypatch, doc=doc)
    assert not displays.exists()
    assert _outputs(drawn) == _outputs(first)


def test_displays_are_kept_per_format_and_a_damaged_one_is_drawn_again(prepared, tmp_path, monkeypatch):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    displays = root / "_generated" / DISPLAYS_DIR
    html = _figures(_execute(root, monkeypatch, "html"))
    n_html = len(list(displays.iterdir()))
    docx = _figures(_execute(root, monkeypatch, "docx"))     # other figure settings: other keys
    assert len(list(displays.iterdir())) == 2 * n_html
    assert html != docx
    for path in displays.iterdir():
        path.write_bytes(b"damaged")
    assert _figures(_execute(root, monkeypatch, "html")) == html


def test_a_new_pre_render_set_starts_without_kept_displays(prepared, tmp_path, monkeypatch, other_data):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    _execute(root, monkeypatch)
    assert (root / "_generated" / DISPLAYS_DIR).is_dir() and _figure_objects(root)
    prepare(data=str(other_data), variables=root / "_variables.yml", root=root)
    assert not (root / "_generated" / DISPLAYS_DIR).exists()
    assert not _figure_objects(root)


@pytest.fixture(scope="module")
def other_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("two_sites")
    for name in ("site_a.csv", "site_b.csv"):
        shutil.copy(PROJECT_ROOT / "data" / "synthetic" / name, folder / name)
    return folder


# ---------------------------------------------------------------- Figure objects built once per render

def _figure_objects(root: Path) -> list[Path]:
    folder = root / "_generated" / FIGURES_DIR
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_figure_is_built_once_per_render_and_shows_what_building_it_shows(prepared, tmp_path, monkeypatch):
    """HTML's execution keeps each Figure; Word's (other dpi, size defaults and
    image format) shows it from the kept Figure, byte for byte what a kernel
    that builds it shows."""
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    _execute(root, monkeypatch, "html")
    kept = _figure_objects(root)
    assert len(kept) == 5                                   # the report's five figures
    docx = _execute(root, monkeypatch, "docx")              # built from the kept Figures
    assert _figure_objects(root) == kept
    fresh = tmp_path / "fresh"
    shutil.copytree(prepared, fresh, symlinks=True)
    drawn = _execute(fresh, monkeypatch, "docx")            # builds its own
    assert _outputs(docx) == _outputs(drawn)
    assert all(o[1].get("image/png") for outs in _figures(docx).values() for o in outs)


def test_the_typst_execution_shows_its_figures_as_svg_only(prepared, tmp_path, monkeypatch):
    """Quarto's Typst setup registers an SVG formatter for figures; Quarto takes the SVG
    before a PNG there, so no PNG is drawn beside it (drawn by the kernel or kept alike)."""
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    drawn = _execute(root, monkeypatch, "typst")
    kept = _execute(root, monkeypatch, "typst")
    for run in (drawn, kept):
        shown = [o[1] for outs in _figures(run).values() for o in outs if o[0] != "stream"]
        assert shown and all("image/svg+xml" in d and "image/png" not in d for d in shown)
    assert _outputs(kept) == _outputs(drawn)


def test_a_damaged_kept_figure_is_built_again(prepared, tmp_path, monkeypatch):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    html = _outputs(_execute(root, monkeypatch, "html"))
    for path in _figure_objects(root):
        path.write_bytes(b"damaged")
    shutil.rmtree(root / "_generated" / DISPLAYS_DIR)
    assert _outputs(_execute(root, monkeypatch, "html")) == html


def test_what_a_figure_build_reads_is_in_its_key(monkeypatch):
    """Any matplotlib setting in effect while a figure is built changes its key;
    the settings read only when it is shown or saved do not."""
    import matplotlib as mpl

    from analysis.present import figures

    def key():
        return figure_object_key("stamp", figures.km_group_figure, ("salvage_group",), {})

    base = key()
    with mpl.rc_context({"figure.dpi": 300, "figure.figsize": (5, 4), "savefig.dpi": 300, "savefig.format": "svg"}):
        assert key() == base
    for setting, value in (("axes.xmargin", 0.2), ("hatch.linewidth", 3.0), ("text.antialiased", False)):
        with mpl.rc_context({setting: value}):
            assert key() != base, setting
    assert figure_object_key("other stamp", figures.km_group_figure, ("salvage_group",), {}) != base
    assert figure_object_key("stamp", figures.km_group_figure, ("relapse_site",), {}) != base
    assert figure_object_key("stamp", figures.km_overall_figure, (), {}) != base
    from analysis.present import style

    keys = set()
    try:
        for name in style.JOURNALS:                         # widths, fonts, decimal mark: each its own key
            style.use_journal(name)
            keys.add(key())
    finally:
        style.use_journal(style.DEFAULT_JOURNAL)
    assert len(keys) == len(style.JOURNALS)


#: Run in a process of its own (an audit hook cannot be removed): every display the documents
#: show, called and formatted as a kernel would, with each file it opens recorded.
_AUDIT = """
import json, os, sys
from IPython.core.formatters import DisplayFormatter
from analysis.config import PROJECT_ROOT, load_config
from analysis.present.displays import kept_functions
from analysis.present.executions import render_executions
from analysis.results import run_analysis

results = run_analysis(load_config(None))
functions = kept_functions()
calls = {repr(c): c for e in render_executions(PROJECT_ROOT) for c in e.calls if c[0] in functions}
now, opened = [None], {}

def hook(event, args):
    if event == "open" and now[0] is not None and isinstance(args[0], (str, os.PathLike)):
        opened.setdefault(now[0], set()).add(os.path.realpath(os.fspath(args[0])))

sys.addaudithook(hook)
formatter = DisplayFormatter()
for public, args, kwargs in calls.values():
    now[0] = public
    formatter.format(functions[public](results, *args, **kwargs))
    now[0] = None
print(json.dumps({"publics": sorted({c[0] for c in calls.values()}),
                  "opened": {k: sorted(v) for k, v in opened.items()}}))
"""


def test_only_the_declared_displays_read_the_documents():
    """A kept display's key has the documents' text (.qmd) only for the functions of
    READS_DOCUMENTS (so that an edit of the prose leaves every other display kept): each
    display the documents show is drawn, and the files it opens are recorded; exactly those
    functions open a document. (No display opens any other project file either: what it
    reads from the project's other sources is in every key.)"""
    import json
    import os
    import subprocess
    import sys

    from analysis.present.displays import READS_DOCUMENTS

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CART_", "QUARTO_"))}
    out = subprocess.run([sys.executable, "-c", _AUDIT], cwd=PROJECT_ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(found["publics"]) >= 20                    # the documents' displays were drawn
    root = os.path.realpath(PROJECT_ROOT)
    project_files = {public: sorted(os.path.relpath(p, root) for p in paths
                                    if p.startswith(root + os.sep) and not p.endswith((".py", ".pyc"))
                                    and not os.path.relpath(p, root).startswith((".venv", "_generated")))
                     for public, paths in found["opened"].items()}
    reading = {public for public, files in project_files.items() if any(f.endswith(".qmd") for f in files)}
    assert reading == set(READS_DOCUMENTS)
    others = {public: files for public, files in project_files.items()
              if public not in READS_DOCUMENTS and files}
    assert others == {}


def test_a_prose_edit_changes_only_the_keys_of_displays_that_read_the_documents(tmp_path, monkeypatch):
    """shared_key leaves the documents out; display_key adds them for READS_DOCUMENTS only.
    The other sources (configuration files, bibliography, styles) stay in every key."""
    from analysis import export
    from analysis.present import displays
    from analysis.present.document import PREPARED_FILE

    (tmp_path / PREPARED_FILE).write_text('{"environment": {"pandas": "2"}}', encoding="utf-8")
    store = tmp_path / "results.pkl"
    stamp = {"data_hash": "d", "config_hash": "c", "code_version": "v"}
    edits = {"suffixes": ()}
    real = export.sources_hash

    def sources_hash(root=PROJECT_ROOT, suffixes=export.SOURCE_SUFFIXES):   # an edit of files of these kinds
        return real(root, suffixes) + ("edited" if set(suffixes) & set(edits["suffixes"]) else "")

    monkeypatch.setattr(export, "sources_hash", sources_hash)

    def keys():
        shared = displays.shared_key(store, stamp)
        return shared, {public: displays.display_key(shared, public, ("salvage_group",), {}, "settings")
                        for public in ("analysis.present.figures.km_group_figure",
                                       "analysis.present.tables.table1", *displays.READS_DOCUMENTS)}

    shared, before = keys()
    edits["suffixes"] = export.DOCUMENT_SUFFIXES
    shared_after, after = keys()
    assert shared_after == shared
    assert {p for p in before if before[p] != after[p]} == set(displays.READS_DOCUMENTS)
    for other in (".yml", ".bib", ".csl"):
        edits["suffixes"] = (other,)
        changed_shared, changed = keys()
        assert changed_shared != shared and all(changed[p] != before[p] for p in before), other


def test_sources_hash_of_some_kinds_of_files(tmp_path):
    from analysis.export import DOCUMENT_SUFFIXES, OTHER_SOURCE_SUFFIXES as others, SOURCE_SUFFIXES, sources_hash

    assert set(others) == set(SOURCE_SUFFIXES) - set(DOCUMENT_SUFFIXES)
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "results.qmd").write_text("Table 1 shows")
    (tmp_path / "analysis.yml").write_text("tests: {alpha: 0.05}")
    before = {s: sources_hash(tmp_path, s) for s in (SOURCE_SUFFIXES, DOCUMENT_SUFFIXES, others)}
    (tmp_path / "sections" / "results.qmd").write_text("Table 2 shows")
    after = {s: sources_hash(tmp_path, s) for s in before}
    assert [after[s] != before[s] for s in before] == [True, True, False]
    (tmp_path / "analysis.yml").write_text("tests: {alpha: 0.10}")
    assert [sources_hash(tmp_path, s) != after[s] for s in before] == [True, False, True]


def test_submission_figures_from_the_kept_figures_are_those_drawn_anew(prepared, tmp_path, monkeypatch):
    """The post-render step's PDF, SVG and TIFF built from the Figures the
    render's kernel kept are byte for byte those it draws itself."""
    import analysis.export
    from analysis.export import export
    from analysis.present import displays

    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    _execute(root, monkeypatch, "html")                     # keeps the report's Figures
    kept = _figure_objects(root)
    served = []

    def counted(folder, key):
        fig = kept_figure(folder, key)
        served.append(fig is not None)
        return fig

    kept_figure = displays.kept_figure
    monkeypatch.setattr(displays, "kept_figure", counted)
    monkeypatch.setattr(analysis.export, "_workers", lambda: 1)    # counted in this process
    export(tmp_path / "out-kept", xpt=False, cache=tmp_path / "cache-a" / "figures")
    assert sorted(served) == [False] * 3 + [True] * 5        # the report's five from the kernel
    monkeypatch.undo()
    assert _figure_objects(root) == kept                    # read, never written, by the post-render step
    fresh = tmp_path / "fresh"
    shutil.copytree(prepared, fresh, symlinks=True)
    monkeypatch.setenv("CART_VARIABLES", str(fresh / "_variables.yml"))
    export(tmp_path / "out-drawn", xpt=False, cache=tmp_path / "cache-b" / "figures")
    a = sorted((tmp_path / "out-kept" / "figures").iterdir())
    b = sorted((tmp_path / "out-drawn" / "figures").iterdir())
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 24
    for p, q in zip(a, b):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_submission_figures_drawn_in_parallel_are_those_drawn_in_turn(tmp_path):
    from analysis.present import figures, style
    from analysis.present.document import compute

    results = compute().results
    style.use_journal(results.settings.style.journal)
    serial = figures.export_all(results, tmp_path / "serial")
    parallel = figures.export_all(results, tmp_path / "parallel", workers=2)
    assert [p.name for p in parallel] == [p.name for p in serial] and len(serial) == 24
    for p, q in zip(serial, parallel):
        assert p.read_bytes() == q.read_bytes(), p.name
