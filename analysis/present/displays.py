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


def _kept(fn: Callable, results: Any, folder: Path, stamp: str, shell: Any) -> Callable:
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
        data, metadata = shell.display_formatter.format(fn(*args, **kwargs))
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
    from ..export import sources_hash
    from . import adam_metadata, figures, sensitivity, strobe, tables

    import json

    from .document import PREPARED_FILE

    try:   # the environment the pre-render step checked (library versions: e.g. the versions table)
        environment = json.loads((Path(store).parent / PREPARED_FILE).read_text(encoding="utf-8"))["environment"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    folder = Path(store).parent / DISPLAYS_DIR
    key = "|".join([*(stamp[k] for k in ("data_hash", "config_hash", "code_version")), sources_hash(),
                    str(environment)])
    for module in (figures, tables, sensitivity, strobe, adam_metadata):
        for name, fn in list(vars(module).items()):
            if (not name.startswith("_") and inspect.isfunction(fn)
                    and (fn.__annotations__ or {}).get("return") in DISPLAYED
                    and fn.__module__.startswith(__package__ + ".")):
                original = inspect.unwrap(fn) if getattr(fn, "__kept_display__", False) else fn
                setattr(module, name, _kept(original, results, folder, key, shell))
    return True
