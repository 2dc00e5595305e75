"""The post-render step: numbers ledger, ADaM exports and submission figures
of one render, written as one set (``python -m analysis export --out DIR``).

* No second analysis: the results the pre-render step stored
  (``_generated/results.pkl``, :mod:`analysis.store`) are loaded when they
  were made from this render's data, configuration and code; otherwise (the
  command run on its own, or after the inputs changed) they are computed here.
* Figures drawn only when their inputs changed: the PDF, SVG and 600-dpi TIFF
  files are keyed by :func:`figure_key` (hashes of data, configuration and
  code, which includes the figure code, plus the matplotlib and Pillow
  versions). Drawn files are kept in a cache folder (``.cache/figures/KEY``
  at the project root, the latest key only: Quarto may empty its output
  folder before a render); when the cache holds the key, its files are
  reused (hard links, else copies) instead of redrawn. When drawn, each
  figure starts from the ``Figure`` the render's kernels kept
  (:mod:`analysis.present.displays`, read only), and the figures are drawn in
  forked processes while the ledger, ADaM files and tables are written.
* Nothing changed, nothing written: the whole set (ledger, ADaM, figures,
  tables) is kept in ``.cache/export/KEY`` too, keyed by :func:`set_key`
  (the figure key's inputs, the project's documents and other source files,
  and every installed library, :func:`analysis.store.environment`); an
  export with the same key links the kept files into the new set instead of
  loading the results and writing tables (size and modification time of each
  kept file are checked first: a file edited in place is never served).
* One set: everything is written into a fresh folder and swapped in only when
  complete (:func:`analysis.outputs.output_set`), so ``DIR`` shows either the
  earlier complete run or the new one, never a mixture, even if the process
  is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from typing import TYPE_CHECKING

from . import PROJECT_ROOT
from .outputs import output_set, write_text_atomic

if TYPE_CHECKING:
    from .config import Config

ENTRIES = ["numbers.json", "adam", "figures", "tables"]
MANIFEST = "manifest.json"      # in the run's folder, beside the entries: what the set was made from


def figure_key(stamp: dict[str, str]) -> str:
    from importlib.metadata import version

    parts = {k: stamp[k] for k in ("data_hash", "config_hash", "code_version")}
    parts.update(matplotlib=version("matplotlib"), pillow=version("pillow"))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


#: Files outside the package that the post-render step reads (captions and
#: numbers quoted in the documents, dictionary, bibliography ...): by extension,
#: anywhere in the project except outputs, caches and environments.
SOURCE_SUFFIXES = (".qmd", ".yml", ".yaml", ".bib", ".csl", ".lua", ".typ", ".md", ".json")
#: The documents' own files (their prose, captions and chunks), among :data:`SOURCE_SUFFIXES`.
DOCUMENT_SUFFIXES = (".qmd",)
#: The other sources (configuration, bibliography, styles ...): what no edit of the prose changes.
OTHER_SOURCE_SUFFIXES = tuple(s for s in SOURCE_SUFFIXES if s not in DOCUMENT_SUFFIXES)
_NOT_SOURCES = {".git", ".venv", "_output", ".cache", "_generated", ".generated", ".runs", "__pycache__",
                ".quarto", "private", "tests", ".pytest_cache", ".jupyter_cache"}


def sources_hash(root: Path = PROJECT_ROOT, suffixes: tuple[str, ...] = SOURCE_SUFFIXES) -> str:
    """SHA-256 over the project's non-Python source files (:data:`SOURCE_SUFFIXES`; or
    only those of ``suffixes``)."""
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_SOURCES)
        for name in sorted(files):
            if name.endswith(suffixes) and name != "_variables.yml":
                path = Path(folder) / name
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def set_key(stamp: dict[str, str], root: Path = PROJECT_ROOT, *, environment: str | None = None) -> str:
    """Key of a whole export set: what :func:`figure_key` covers plus the
    project's other sources and the environment (:func:`analysis.store.environment`,
    unless given)."""
    if environment is None:
        from .store import environment as current

        environment = current()
    parts = {"figures": figure_key(stamp), "sources": sources_hash(root), "environment": environment,
             "entries": ENTRIES}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


SET_INDEX = "files.json"        # in a kept set: relative path -> [size, mtime_ns]


def _keep_set(cache: Path, key: str, run: Path) -> None:
    """Keep the entries of ``run`` as the set of ``key`` (hard links; other keys removed)."""
    import tempfile

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache))
    index = {}
    for entry in ENTRIES:
        source = run / entry
        paths = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        for path in paths:
            rel = path.relative_to(run)
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(path, tmp / rel)
            st = (tmp / rel).stat()
            index[rel.as_posix()] = [st.st_size, st.st_mtime_ns]
    (tmp / SET_INDEX).write_text(json.dumps(index), encoding="utf-8")
    shutil.rmtree(cache / key, ignore_errors=True)
    os.rename(tmp, cache / key)
    for old in cache.iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)


def kept_set(cache: Path, key: str) -> dict[str, list[int]] | None:
    """The index of the kept set of ``key`` if it is complete and unedited."""
    try:
        index = json.loads((cache / key / SET_INDEX).read_text(encoding="utf-8"))
        for rel, (size, mtime) in index.items():
            st = (cache / key / rel).stat()
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
    except (OSError, ValueError, TypeError):
        return None
    if not all(any(rel == e or rel.startswith(e + "/") for rel in index) for e in ENTRIES):
        return None
    return index


def set_cache() -> Path:
    return figure_cache().parent / "export"


def read_manifest(run: Path | None) -> dict:
    try:
        return json.loads((run / MANIFEST).read_text(encoding="utf-8")) if run else {}
    except (OSError, ValueError):
        return {}


CACHE_ENV_VAR = "CART_FIGURE_CACHE"     # another cache folder (tests)


def figure_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV_VAR) or PROJECT_ROOT / ".cache" / "figures")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _reuse_figures(cache: Path, key: str, names: list[str], into: Path) -> bool:
    """Link (or copy) the cached figures of ``key`` into ``into``; False if
    they must be drawn."""
    source = cache / key
    if not all((source / n).is_file() and (source / n).stat().st_size > 0 for n in names):
        return False
    into.mkdir()
    for n in names:
        _link_or_copy(source / n, into / n)
    return True


def _cache_figures(cache: Path, key: str, drawn: Path, names: list[str]) -> None:
    """Keep the figures just drawn as the cache of ``key`` (written under a
    temporary name, renamed when complete; other keys are removed)."""
    import tempfile

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache))
    for n in names:
        _link_or_copy(drawn / n, tmp / n)
    shutil.rmtree(cache / key, ignore_errors=True)
    os.rename(tmp, cache / key)
    for old in cache.iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)


def _workers() -> int:
    """Processes drawing the submission figures: the cores this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:                     # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _render_figures(stamp: dict[str, str]):
    """Build each submission figure from the ``Figure`` the render's kernels kept
    for the same stored results and build settings (:mod:`analysis.present.displays`),
    else draw it."""
    from .present.displays import FIGURES_DIR, build_figure, shared_key
    from .present.document import results_path

    store = results_path()
    shared = shared_key(store, stamp) if store.exists() else None
    folder = store.parent / FIGURES_DIR

    def build(make):
        # read only: _generated/ is the pre-render step's set (and its kernels'), never written here
        return build_figure(make.func, make.args[0], make.args[1:], make.keywords, folder, shared, keep=False)
    return build


def load_document(cfg: Config, want: dict[str, str]):
    """The results of this render: those the pre-render step stored when they were
    made from ``want``, else computed here; the journal style made current."""
    from .present.document import compute, results_path
    from .store import StaleResultsError, load_results

    try:
        doc = load_results(results_path(), want)
    except StaleResultsError:
        doc = None                   # stored for other inputs: this step computes its own
    if doc is None:
        doc = compute(cfg=cfg)
    from .present import style

    style.use_settings(doc.results.settings)
    return doc


def write_entries(run: Path, doc, want: dict[str, str], cache: Path, *, xpt: bool = True,
                  build=None, made=None) -> dict:
    """Write the set's entries (:data:`ENTRIES`) into ``run``: the ledger, ADaM files and
    tables while the figures are drawn (or linked from ``cache``, the figure cache, when it
    holds :func:`figure_key`). Returns what was written (``figures``, ``adam``, ``tables``
    names, ``figures_reused``, ``figure_key``, ``tables_reused``); drawn figures are not
    cached here (:func:`commit_figures`). ``build``, ``made``: the figures and tables the
    background worker's drawing made (:class:`~analysis.present.shared_displays.SharedDisplays`)."""
    from .adam import write_adam
    from .ledger import build_ledger, write_ledger
    from .present import figures
    from .present.shared_displays import SharedDisplays
    from .present.table_files import write_table_files

    key = figure_key(want)
    figure_files = [f"{stem}.{ext}" for stem in figures.FIGURE_STEMS for ext in ("pdf", "svg", "tiff")]
    written: dict = {"figure_key": key}
    # each table and figure built once, for the ledger, the table files and the figure files
    displays = SharedDisplays(doc.results, build or _render_figures(want), made)

    def the_rest() -> None:     # ledger, ADaM and tables: written while the figures are drawn
        write_ledger(run / "numbers.json", build_ledger(doc.registry, PROJECT_ROOT, results=doc.results,
                                                        displays=displays))
        written["adam"] = [p.name for p in write_adam(doc.results.derived, run / "adam", xpt=xpt)]
        written["tables"] = [p.relative_to(run / "tables")
                             for p in write_table_files(doc.results, run / "tables", displays=displays)]

    for make in figures.figure_makers(doc.results).values():
        displays.figure(make)              # here, before the drawing processes fork: built once for all
    reused = _reuse_figures(cache, key, figure_files, run / "figures")
    if reused:
        the_rest()
    else:
        _import_savers()
        figure_files = [p.name for p in figures.export_all(doc.results, run / "figures", displays.figure,
                                                           _workers(), meanwhile=the_rest)]
    written.update(figures=figure_files, figures_reused=reused, tables_reused=displays.reused)
    return written


def _import_savers() -> None:
    """What saving a figure imports (matplotlib's PDF and SVG backends, with fontTools'
    subsetter, and Pillow's TIFF plugin; about a quarter of a second): imported once, here,
    before the drawing processes fork, instead of in each of them."""
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    from PIL import TiffImagePlugin  # noqa: F401


def commit_figures(cache: Path, run: Path, written: dict) -> None:
    """Keep the figures :func:`write_entries` drew as the figure cache of their key."""
    if not written["figures_reused"]:
        _cache_figures(cache, written["figure_key"], run / "figures", written["figures"])


def export_kept(out: str | Path, want: dict[str, str], *, sets: Path | None = None,
                skey: str | None = None, environment: str | None = None) -> list[Path] | None:
    """The kept set of the stamp ``want`` (:func:`set_key`) linked into ``out`` as one set, as
    :func:`export` does when nothing changed; None when there is none (nothing written)."""
    sets = set_cache() if sets is None else sets
    skey = skey or set_key(want, environment=environment)
    index = kept_set(sets, skey)
    if index is None:
        return None
    out = Path(out)
    with output_set(out, ENTRIES) as run:
        for rel in index:
            (run / rel).parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(sets / skey / rel, run / rel)
        write_text_atomic(run / MANIFEST, json.dumps(
            {"stamp": json.loads((run / "numbers.json").read_text(encoding="utf-8"))["stamp"],
             "figure_key": figure_key(want), "figures_reused": True,
             "set_key": skey, "set_reused": True, "entries": ENTRIES}, indent=2) + "\n")
    return [out / rel for rel in index]


def export(out: str | Path, cfg: Config | None = None, *, xpt: bool = True,
           cache: Path | None = None) -> list[Path]:
    """Write ``numbers.json``, ``adam/``, ``figures/`` and ``tables/`` into ``out`` as one set;
    returns the paths as seen in ``out``."""
    from .background_export import settle
    from .config import load_config
    from .present.document import input_stamp

    cfg = cfg or load_config()
    want = input_stamp(cfg)
    out = Path(out)
    sets = set_cache() if cache is None else cache.parent / "export"
    settle(sets.parent, want)      # the set the pre-render step started writing in the background
    skey = set_key(want) if xpt else None
    kept = export_kept(out, want, sets=sets, skey=skey) if skey else None
    if kept is not None:
        return kept

    doc = load_document(cfg, want)
    from .present.exclusions import say_model_warnings

    say_model_warnings(doc.results)         # as numbers and prepare say it (stderr), once per export
    cache = figure_cache() if cache is None else cache
    with output_set(out, ENTRIES) as run:
        written = write_entries(run, doc, want, cache, xpt=xpt)
        commit_figures(cache, run, written)
        figure_files, adam, tables = written["figures"], written["adam"], written["tables"]
        write_text_atomic(run / MANIFEST, json.dumps(
            {"stamp": doc.registry.stamp, "figure_key": written["figure_key"],
             "figures_reused": written["figures_reused"],
             "set_key": skey, "set_reused": False, "entries": ENTRIES}, indent=2) + "\n")
        if skey:
            _keep_set(sets, skey, run)
    return ([out / "numbers.json"] + [out / "adam" / n for n in adam]
            + [out / "figures" / n for n in figure_files] + [out / "tables" / n for n in tables])
