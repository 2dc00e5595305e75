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
the project's other sources (:func:`analysis.export.sources_hash`:
captions and the STROBE checklist's places are read from the documents), the
function and its other arguments, the document and output format Quarto
declares, which Quarto variables are set, and the kernel's display settings
(every matplotlib rcParam, the IPython formatters registered for figures with
their options, i.e. Quarto's fig-format and fig-dpi, and the matplotlib version).
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
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
from pathlib import Path
from typing import Any, Callable

DISPLAYS_DIR = "displays"
#: Return annotations of the functions whose displays are kept (as written,
#: the modules use postponed annotations).
DISPLAYED = ("DisplayTable", "JournalFigure")


class StoredDisplay:
    """A figure as the kernel displays it (mime bundle and metadata)."""

    __slots__ = ("data", "metadata")

    def __init__(self, data: dict, metadata: dict):
        self.data = data
        self.metadata = metadata

    def _repr_mimebundle_(self, include=None, exclude=None):  # noqa: ARG002 - IPython's signature
        return self.data, self.metadata


def _formatter_spec(formatter: Any) -> str:
    func = getattr(formatter, "func", formatter)
    keywords = getattr(formatter, "keywords", {}) or {}
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}{sorted(keywords.items())!r}"


def display_settings(shell: Any) -> str:
    """What decides how this kernel displays a matplotlib figure."""
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
    parts.append(repr(sorted((k, v) for k, v in os.environ.items() if k.startswith(("QUARTO_FIG_", "QUARTO_PROFILE")))))
    parts.append(repr(sorted(k for k in os.environ if k.startswith("QUARTO_"))))
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
    the stamp, the project's other sources and the environment the pre-render step
    checked; None without the pre-render step's manifest."""
    import json

    from ..export import sources_hash
    from .document import PREPARED_FILE

    try:   # the environment the pre-render step checked (library versions: e.g. the versions table)
        environment = json.loads((Path(store).parent / PREPARED_FILE).read_text(encoding="utf-8"))["environment"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return "|".join([*(stamp[k] for k in ("data_hash", "config_hash", "code_version")), sources_hash(),
                     str(environment)])


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


def _kept(fn: Callable, results: Any, folder: Path, stamp: str, shell: Any,
          figures: Path | None = None) -> Callable:
    @functools.wraps(fn)
    def figure(*args: Any, **kwargs: Any) -> Any:
        if not args or args[0] is not results:
            return fn(*args, **kwargs)
        key = hashlib.sha256("\0".join([stamp, fn.__module__, fn.__qualname__, repr(args[1:]),
                                        repr(sorted(kwargs.items())), display_settings(shell)]).encode())
        path = folder / f"{key.hexdigest()[:32]}.pkl"
        try:
            data, metadata = pickle.loads(path.read_bytes())
            return StoredDisplay(data, metadata)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            pass
        if figures is not None:                      # a figure function: its Figure built once per render
            shown = build_figure(fn, args[0], args[1:], kwargs, figures, stamp)
        else:
            shown = fn(*args, **kwargs)
        data, metadata = shell.display_formatter.format(shown)
        try:
            from ..outputs import write_bytes_atomic

            folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, pickle.dumps((data, metadata), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass                                     # a read-only project still renders
        return StoredDisplay(data, metadata)

    figure.__kept_display__ = True                   # type: ignore[attr-defined]
    return figure


def serve_figures(results: Any, store: Path, stamp: dict[str, str]) -> bool:
    """In a Quarto render's kernel, keep the figure functions' displays in
    ``store``'s folder (see the module docstring); False where it does not apply."""
    if "QUARTO_FIG_FORMAT" not in os.environ:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the kernel has IPython
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    from . import adam_metadata, figures, sensitivity, strobe, tables

    key = shared_key(store, stamp)
    if key is None:
        return False
    folder = Path(store).parent / DISPLAYS_DIR
    objects = Path(store).parent / FIGURES_DIR
    for module in (figures, tables, sensitivity, strobe, adam_metadata):
        for name, fn in list(vars(module).items()):
            if (not name.startswith("_") and inspect.isfunction(fn)
                    and (fn.__annotations__ or {}).get("return") in DISPLAYED
                    and fn.__module__.startswith(__package__ + ".")):
                original = inspect.unwrap(fn) if getattr(fn, "__kept_display__", False) else fn
                kept_objects = objects if fn.__annotations__["return"] == "JournalFigure" else None
                setattr(module, name, _kept(original, results, folder, key, shell, kept_objects))
    return True
