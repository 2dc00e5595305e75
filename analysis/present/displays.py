"""Figures and tables drawn once, not again at every unchanged re-render.

Each document execution drew every figure (about a third of a second each:
building the matplotlib figure and rendering it to PNG or SVG) and built every
table again, also when nothing had changed since the last render. In a Quarto
render's kernel (one with ``QUARTO_FIG_FORMAT`` set) whose results came from
the pre-render step's store, :func:`serve_figures` makes the documents'
figure and table functions (public functions of :mod:`.figures`,
:mod:`.tables`, :mod:`.sensitivity`, :mod:`.strobe`, :mod:`.adam_metadata`
that return a ``JournalFigure`` or ``DisplayTable``)
return what the kernel would display, the Jupyter mime bundle, kept in
``_generated/displays/`` and reused when the same display is asked for again.

What a kept display is keyed by: the stamp of the stored results (data,
configuration and code hashes), the environment the pre-render step checked
(``_generated/prepared.json``: installed libraries, Pandoc, Quarto), and
the project's other sources (:func:`analysis.export.sources_hash`) but the
documents' own text (``.qmd``: prose, captions and chunk options, which Quarto
reads and no display does, so an edit of the prose leaves every display kept),
except for the displays that read the documents (:data:`READS_DOCUMENTS`: the
STROBE checklist's places), whose key has the documents' text too; the
function and its other arguments, the document and output format Quarto
declares, the environment great_tables reads, and the kernel's display settings
(every matplotlib rcParam, the IPython formatters registered for figures with
their options, i.e. Quarto's fig-format and fig-dpi, and the matplotlib version):
:func:`display_settings` says what is in and what is left out, and why.
Only a call with the very results object of this render is served; any other
call draws as before. ``_generated/`` is replaced whenever the pre-render step
recomputes, so kept displays never outlive their results.

Each call returns a :class:`StoredDisplay`, also when it had to draw, so the
first and every later execution show the same bytes.

Figures built once per render: a display is kept per output format (HTML
shows a 150-dpi PNG, Typst an SVG, Word a 300-dpi PNG), but the matplotlib
``Figure`` behind them is the same. So a figure function's ``Figure`` is
kept too (pickled, ``_generated/figures/``) and the other formats' executions,
and the post-render step's PDF, SVG and TIFF files (:mod:`analysis.export`),
start from it instead of building it again. Its key (:func:`figure_object_key`)
is what the build reads: the same stamp, sources and environment as above,
the function and its other arguments, the matplotlib version, the journal
style in use (widths, fonts, decimal mark), and every
matplotlib setting in effect while it builds (the kernel's rcParams with the
journal style the figure functions apply), except those read only when the
figure is shown or saved, never while it is built: ``figure.dpi`` (the kept
figure is given the current one, as a new figure would be), ``figure.figsize``
(every figure sets its own size), ``savefig.*``, and ``backend`` and
``interactive`` (pyplot's; the figure functions do not use pyplot). A Jupyter
kernel and the post-render process differ only in these, so the post-render
step reuses the kernels' Figures.

The Markdown paragraphs the documents' chunks show (``text.*`` and
``sensitivity.*`` functions returning ``Markdown``) are kept the same way, and
every kept display's key names the function as the documents call it
(``analysis.present.tables.table1``), so it can be computed without importing
the function's module. That is what a **light kernel** does (nothing changed
since the pre-render step; :func:`light_kernel`, from ``document.setup``):
``from analysis.present import tables`` gives a :class:`ModuleStandIn` in a
Quarto render's kernel (``analysis/present/__init__.py``), the results stay
unloaded (:class:`PendingResults`), and a call whose display is kept shows it
without importing the module, pandas' own users or pydantic; any other call
loads the results (the rest of the full ``setup``) and runs as before.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import inspect
import os
import pickle
import time
from pathlib import Path
from typing import Any, Callable

DISPLAYS_DIR = "displays"
#: Return annotations of the functions whose displays are kept (as written,
#: the modules use postponed annotations): tables, figures, and the Markdown
#: paragraphs the documents' chunks show (text.*, sensitivity.*).
DISPLAYED = ("DisplayTable", "JournalFigure", "Markdown")


class StoredDisplay:
    """A figure as the kernel displays it (mime bundle and metadata)."""

    __slots__ = ("data", "metadata")

    def __init__(self, data: dict, metadata: dict):
        self.data = data
        self.metadata = metadata

    def _repr_mimebundle_(self, include=None, exclude=None):  # noqa: ARG002 - IPython's signature
        return self.data, self.metadata


#: The IPython display formatter formatting a display now (:func:`format_display`).
_FORMATTING: contextvars.ContextVar = contextvars.ContextVar("formatting", default=None)


def format_display(formatter: Any, shown: Any) -> tuple[dict, dict]:
    """``formatter.format(shown)`` (an IPython ``DisplayFormatter``: a kernel's, or the one
    the background worker sets up as a kernel's, :func:`.executions.predicted_kernel`),
    with ``formatter`` known meanwhile to what it formats (:func:`active_formatter`)."""
    token = _FORMATTING.set(formatter)
    try:
        return formatter.format(shown)
    finally:
        _FORMATTING.reset(token)


def active_formatter() -> Any:
    """The display formatter formatting an object now: the one :func:`format_display` was
    given, else the running IPython shell's (which formats what a chunk displays); None
    outside IPython."""
    formatter = _FORMATTING.get()
    if formatter is not None:
        return formatter
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - a kernel has IPython
        return None
    return getattr(get_ipython(), "display_formatter", None)


def _formatter_spec(formatter: Any) -> str:
    func = getattr(formatter, "func", formatter)
    keywords = getattr(formatter, "keywords", {}) or {}
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}{sorted(keywords.items())!r}"


#: Environment variables whose presence great_tables reads when it renders a table
#: (``great_tables._render.infer_render_env``, ``great_tables.quarto.is_quarto_render``).
_RENDER_ENV = ("QUARTO_BIN_PATH", "DATABRICKS_RUNTIME_VERSION", "POSITRON_VERSION", "VSCODE_PID")


def display_settings(shell: Any) -> str:
    """What decides how this kernel displays a figure, table or paragraph.

    matplotlib's version and every rcParam; the IPython formatters registered for a
    ``Figure`` with their options and the active mime types; and what of the
    environment the display functions and the libraries they call read (audited:
    ``os.environ`` and ``declared_format`` in ``analysis/present``, great_tables):
    the format Quarto declares (``QUARTO_EXECUTE_INFO``, :func:`.quarto.declared_format`),
    the document (``QUARTO_DOCUMENT_FILE``; read by no display function, kept so that
    each document keeps its own displays), which of :data:`_RENDER_ENV` are set
    (great_tables' render environment), and, where none is, the shell's class
    (great_tables then asks whether it is a terminal).

    Not in the key, since no display reads them and a worker drawing ahead
    (:mod:`.ahead`) cannot know them: the names of the other ``QUARTO_*``
    variables (which ones Quarto sets differs between its versions and between
    the pre-render step and a kernel), and the values of ``QUARTO_FIG_*`` and
    ``QUARTO_PROFILE`` (their text as Quarto writes it; what they decide reaches
    a display only through the rcParams, formatters and declared format above,
    which Quarto's setup step makes from the same options)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    # dict's own repr: the stored values in matplotlib's fixed key order (iterating
    # rcParams validates every entry: 60 ms, against 1 ms)
    parts = [mpl.__version__, dict.__repr__(mpl.rcParams)]
    formatters = shell.display_formatter.formatters
    for mime in sorted(formatters):
        try:
            found = formatters[mime].lookup_by_type(Figure)
        except KeyError:
            continue
        parts.append(f"{mime}:{_formatter_spec(found)}")
    parts.append(repr(sorted(shell.display_formatter.active_types)))
    from .quarto import declared_format

    parts.append(f"format={declared_format()!r} document={os.environ.get('QUARTO_DOCUMENT_FILE')!r}")
    found = [k for k in _RENDER_ENV if k in os.environ]
    parts.append(repr(found) if found else f"shell={type(shell).__name__}")
    return "\n".join(parts)


FIGURES_DIR = "figures"          # in _generated/: kept Figure objects (pickled)
#: matplotlib settings never read while a figure is built (see the module docstring).
_NOT_BUILD = ("figure.dpi", "figure.figsize", "backend", "interactive")
_NOT_BUILD_PREFIX = ("savefig.",)


def _build_settings() -> str:
    import matplotlib as mpl

    from . import style
    from .figures.theme import figure_rc

    # the stored values without validating each entry (see display_settings)
    rc = dict(dict.items(mpl.rcParams))
    rc.update(figure_rc())                            # what the figure functions apply
    return repr([mpl.__version__, repr(style.journal())] + sorted((k, repr(v)) for k, v in rc.items()
                                           if k not in _NOT_BUILD and not k.startswith(_NOT_BUILD_PREFIX)))


def figure_object_key(shared: str, fn: Callable, args: tuple, kwargs: dict) -> str:
    """Key of the ``Figure`` that ``fn(results, *args, **kwargs)`` builds (``shared``: :func:`shared_key`)."""
    return hashlib.sha256("\0".join([shared, fn.__module__, fn.__qualname__, repr(tuple(args)),
                                      repr(sorted(kwargs.items())), _build_settings()]).encode()).hexdigest()[:32]


def shared_key(store: Path, stamp: dict[str, str]) -> str | None:
    """What every kept display and figure of the stored results ``store`` is keyed by:
    the stamp, the project's other sources but the documents (:func:`display_key` adds
    them for those that read them) and the environment the pre-render step checked;
    None without the pre-render step's manifest."""
    import json

    from ..export import OTHER_SOURCE_SUFFIXES, sources_hash
    from .document import PREPARED_FILE

    try:   # the environment the pre-render step checked (library versions: e.g. the versions table)
        environment = json.loads((Path(store).parent / PREPARED_FILE).read_text(encoding="utf-8"))["environment"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return "|".join([*(stamp[k] for k in ("data_hash", "config_hash", "code_version")),
                     sources_hash(suffixes=OTHER_SOURCE_SUFFIXES), str(environment)])


def kept_figure(folder: Path, key: str) -> Any | None:
    """The kept ``Figure`` of ``key`` as a new one would be (current ``figure.dpi``), or None."""
    try:
        fig = pickle.loads((Path(folder) / f"{key}.pkl").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        return None
    import matplotlib as mpl

    fig.set_dpi(mpl.rcParams["figure.dpi"])
    return fig


def keep_figure(folder: Path, key: str, fig: Any) -> None:
    """Keep ``fig`` as the figure of ``key`` (nothing kept if it cannot be pickled or written)."""
    try:
        data = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:                                # noqa: BLE001 - an unpicklable artist: drawn each time
        return
    try:
        from ..outputs import write_bytes_atomic

        Path(folder).mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(Path(folder) / f"{key}.pkl", data)
    except OSError:
        pass


def build_figure(fn: Callable, results: Any, args: tuple, kwargs: dict, folder: Path | None,
                 shared: str | None, keep: bool = True) -> Any:
    """``fn(results, *args, **kwargs)``, from the kept ``Figure`` when there is one (and, with
    ``keep``, kept when built)."""
    if folder is None or shared is None:
        return fn(results, *args, **kwargs)
    key = figure_object_key(shared, fn, args, kwargs)
    fig = kept_figure(folder, key)
    if fig is None:
        fig = fn(results, *args, **kwargs)
        if keep:
            keep_figure(folder, key, fig)
    return fig


#: The display functions that read the documents (``.qmd``) themselves, as the documents call
#: them: their displays are keyed by the documents' text too (:func:`display_key`). Found by
#: reading every file open while each display of the documents is drawn
#: (tests/test_displays.py, ``test_only_the_declared_displays_read_the_documents``).
READS_DOCUMENTS = frozenset({"analysis.present.strobe.strobe_table"})


def display_key(shared: str, public: str, args: tuple, kwargs: dict, settings: str) -> str:
    """Key of the kept display of ``public(results, *args, **kwargs)`` (``public``: the function
    as the documents call it, e.g. ``analysis.present.tables.table1``); with the documents'
    text for a function of :data:`READS_DOCUMENTS` (``shared`` has no document's)."""
    parts = [shared, public, repr(tuple(args)), repr(sorted(kwargs.items())), settings]
    if public in READS_DOCUMENTS:
        from ..export import DOCUMENT_SUFFIXES, sources_hash

        parts.append(sources_hash(suffixes=DOCUMENT_SUFFIXES))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _read_kept(path: Path) -> StoredDisplay | None:
    try:
        data, metadata = pickle.loads(path.read_bytes())
        return StoredDisplay(data, metadata)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None


def _shown_kept(folder: Path, shared: str, key: str, count_drawn: bool = True) -> StoredDisplay | None:
    """The kept display of ``key``, also one the background worker is drawing ahead
    (:func:`.ahead.wait_for`); None when this kernel must draw it. Counted (:func:`.ahead.note`;
    a miss only with ``count_drawn``: a light kernel's miss is counted where it draws)."""
    from . import ahead

    kept = _read_kept(folder / f"{key}.pkl")
    if kept is not None:
        ahead.note(folder.parent, "kept")
        return kept
    t0 = time.monotonic()
    kept = ahead.wait_for(folder.parent, shared, key, _read_kept)
    if kept is not None or count_drawn:
        ahead.note(folder.parent, "drawn" if kept is None else "waited", time.monotonic() - t0)
    return kept


def _kept(fn: Callable, public: str, results: Any, folder: Path, stamp: str, shell: Any,
          figures: Path | None = None) -> Callable:
    @functools.wraps(fn)
    def figure(*args: Any, **kwargs: Any) -> Any:
        if not args or args[0] is not results:
            return fn(*args, **kwargs)
        key = display_key(stamp, public, args[1:], kwargs, display_settings(shell))
        path = folder / f"{key}.pkl"
        kept = _shown_kept(folder, stamp, key)
        if kept is not None:
            return kept
        if figures is not None:                      # a figure function: its Figure built once per render
            shown = build_figure(fn, args[0], args[1:], kwargs, figures, stamp)
        else:
            shown = fn(*args, **kwargs)
        data, metadata = format_display(shell.display_formatter, shown)
        try:
            from ..outputs import write_bytes_atomic

            folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, pickle.dumps((data, metadata), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass                                     # a read-only project still renders
        return StoredDisplay(data, metadata)

    figure.__kept_display__ = True                   # type: ignore[attr-defined]
    return figure


#: The modules whose functions' displays are kept (as the documents import them).
DISPLAY_MODULES = ("figures", "tables", "sensitivity", "strobe", "adam_metadata", "text")
KEPT_INDEX = "kept-functions.json"   # in _generated/: the public names of the functions whose displays are kept


def _quarto_shell() -> Any:
    """The IPython shell of a Quarto render's kernel, else None."""
    if "QUARTO_FIG_FORMAT" not in os.environ:
        return None
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the kernel has IPython
        return None
    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "display_formatter") else None


def kept_functions() -> dict[str, Callable]:
    """The functions whose displays are kept, by public name (as the documents call them),
    each as its module defines it (not a :func:`serve_figures` wrapper)."""
    import importlib

    found: dict[str, Callable] = {}
    for module in (importlib.import_module(f"{__package__}.{m}") for m in DISPLAY_MODULES):
        for name, fn in list(vars(module).items()):
            if (not name.startswith("_") and inspect.isfunction(fn)
                    and (fn.__annotations__ or {}).get("return") in DISPLAYED
                    and fn.__module__.startswith(__package__ + ".")):
                found[f"{module.__name__}.{name}"] = (inspect.unwrap(fn) if getattr(fn, "__kept_display__", False)
                                                      else fn)
    return found


def keep_kept_index(generated: Path) -> dict[str, Callable]:
    """:func:`kept_functions`, their names written to ``generated``/:data:`KEPT_INDEX` unless there."""
    functions = kept_functions()
    index = Path(generated) / KEPT_INDEX
    try:
        if not index.is_file():
            import json

            from ..outputs import write_text_atomic

            write_text_atomic(index, json.dumps(sorted(functions)))
    except OSError:
        pass
    return functions


def serve_figures(results: Any, store: Path, stamp: dict[str, str]) -> bool:
    """In a Quarto render's kernel, keep the figure functions' displays in
    ``store``'s folder (see the module docstring); False where it does not apply."""
    import sys

    shell = _quarto_shell()
    if shell is None:
        return False
    key = shared_key(store, stamp)
    if key is None:
        return False
    folder = Path(store).parent / DISPLAYS_DIR
    objects = Path(store).parent / FIGURES_DIR
    for public, fn in keep_kept_index(Path(store).parent).items():
        module_name, _, name = public.rpartition(".")
        kept_objects = objects if fn.__annotations__["return"] == "JournalFigure" else None
        setattr(sys.modules[module_name], name, _kept(fn, public, results, folder, key, shell, kept_objects))
    return True


# --------------------------------------------------------------------------- nothing changed: a light kernel

class PendingResults:
    """Stands for the stored results in a light kernel (:func:`light_kernel`) until
    something needs them: then ``load()`` runs (the rest of ``document.setup``)."""

    def __init__(self, load: Callable[[], Any]):
        self._load = load
        self._results = None

    def materialize(self) -> Any:
        if self._results is None:
            self._results = self._load()
        return self._results

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.materialize(), name)


class _Light:
    """What a light kernel serves kept displays from."""

    def __init__(self, results: PendingResults, folder: Path, shared: str, shell: Any, kept: set[str]):
        self.results, self.folder, self.shared, self.shell, self.kept = results, folder, shared, shell, kept


_light: list[_Light] = []        # the light kernel's state, once document.setup took that path


class ModuleStandIn:
    """What ``from analysis.present import tables`` gives in a Quarto render's kernel
    (``analysis/present/__init__.py``): the module, imported on first use; in a
    light kernel, a function whose display is kept is served from
    ``_generated/displays/`` without importing its module (or pandas)."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", f"{__package__}.{name}")

    def _module(self) -> Any:
        import importlib

        return importlib.import_module(self._name)

    def __getattr__(self, attr: str) -> Any:
        public = f"{self._name}.{attr}"
        if _light and public in _light[0].kept:
            return functools.partial(_light_call, public)
        value = getattr(self._module(), attr)
        if _light and callable(value) and not isinstance(value, type):
            return functools.partial(_light_call, public)   # called with the loaded results
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._module(), attr, value)

    def __dir__(self) -> list[str]:
        return dir(self._module())

    def __repr__(self) -> str:
        return f"<stand-in for module {self._name!r}>"


def _light_call(public: str, *args: Any, **kwargs: Any) -> Any:
    """``public(*args, **kwargs)`` in a light kernel: the kept display when there is one,
    else the stored results are loaded and the function (kept as ever) is called with them."""
    light = _light[0]
    if args and args[0] is light.results and public in light.kept:
        key = display_key(light.shared, public, args[1:], kwargs, display_settings(light.shell))
        kept = _shown_kept(light.folder, light.shared, key, count_drawn=False)
        if kept is not None:
            return kept
    if args and args[0] is light.results:
        args = (light.results.materialize(), *args[1:])
    import importlib

    module, _, name = public.rpartition(".")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def leave_light_kernel() -> None:
    """Serve nothing from an earlier light :func:`document.setup <analysis.present.document.setup>`."""
    _light.clear()


def light_kernel(store: Path, stamp: dict[str, str], load: Callable[[], Any]) -> PendingResults | None:
    """A light kernel (nothing changed since the pre-render step: see ``document.setup``):
    the stand-in for the stored results, whose displays are then served as kept; None
    where this does not apply (not a Quarto render's kernel, the display modules already
    imported, no index of kept functions yet)."""
    import json
    import sys

    shell = _quarto_shell()
    if shell is None or any(f"{__package__}.{m}" in sys.modules for m in DISPLAY_MODULES):
        return None
    folder = Path(store).parent / DISPLAYS_DIR
    shared = shared_key(store, stamp)
    if shared is None:
        return None
    from .ahead import manifest

    # the functions the background worker announced it draws ahead (a clean tree: before any
    # kernel wrote the index); one that is not a display function is called as ever
    kept = set(manifest(Path(store).parent, shared).get("publics") or ())
    try:
        kept |= set(json.loads((Path(store).parent / KEPT_INDEX).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        if not kept:
            return None
    results = PendingResults(load)
    _light[:] = [_Light(results, folder, shared, shell, kept)]
    return results
