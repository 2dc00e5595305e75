"""Each table, figure and text of one export built once, for every file that needs it.

The post-render step's set (:func:`analysis.export.write_entries`) reads the same
displays three times: the numbers ledger reads every table cell, figure text and
generated sentence (:func:`analysis.revisions.displays.display_entries`), the table
files write every table (:mod:`analysis.present.table_files`) and the figure files
save every figure (:func:`analysis.present.figures.export_all`). Each called the
display functions itself, so every table was built twice and every figure twice
(about 1.5 s of CPU per export). A :class:`SharedDisplays` builds each call
(function and arguments, with the export's results) once and hands the same object
to all three; none of them changes what it reads (figures are saved by forked
processes, or after the ledger has read them).

Figures are built through the export's figure builder (the ``Figure`` a
document's kernel kept, else drawn: :func:`analysis.export.write_entries`'s
``build``), tables and texts by calling the function, as a document's chunk does,
but a table the background worker's drawing made already for the documents'
displays, which ``made`` gives (:meth:`analysis.present.ahead.Ahead.table`; with its
HTML, made once for both).
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any, Callable

from .displays import DISPLAY_MODULES

#: The module names the documents' chunks use (``tables.table1``), as the ledger's scan finds them.
MODULES = {name: f"{__package__}.{name}" for name in DISPLAY_MODULES}


def function_of(call: str) -> tuple[Callable, tuple[str, ...]]:
    """The function and extra arguments of ``"module.function"`` or ``"module.function:ARG"``."""
    name, _, arg = call.partition(":")
    module, _, func = name.partition(".")
    return getattr(importlib.import_module(MODULES[module]), func), ((arg,) if arg else ())


class SharedDisplays:
    """The displays of ``results``, each built on first use and kept for this export."""

    def __init__(self, results: Any, figure_build: Callable[[partial], Any] | None = None,
                 made: Callable[[Callable, tuple, dict], Any] | None = None):
        self.results = results
        self._figure_build = figure_build
        self._made = made
        self._built: dict[tuple, Any] = {}
        self.reused = 0                  # tables ``made`` gave

    @staticmethod
    def _key(fn: Callable, args: tuple, kwargs: dict) -> tuple:
        return fn, args, tuple(sorted(kwargs.items()))

    def _once(self, key: tuple, build: Callable[[], Any]) -> Any:
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def __call__(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        """``fn(results, *args, **kwargs)``, built once (or the one ``made`` gives)."""
        def build() -> Any:
            found = self._made(fn, args, kwargs) if self._made is not None else None
            if found is None:
                return fn(self.results, *args, **kwargs)
            self.reused += 1
            return found

        return self._once(self._key(fn, args, kwargs), build)

    def call(self, call: str) -> Any:
        """The display of ``"module.function[:ARG]"``, as a chunk calls it."""
        fn, args = function_of(call)
        return self(fn, *args)

    def figure(self, make: partial) -> Any:
        """The figure of a :func:`analysis.present.figures.figure_makers` entry
        (``partial(function, results, *args)``), built once (through ``figure_build``)."""
        def build() -> Any:
            return make() if self._figure_build is None else self._figure_build(make)

        if not make.args or make.args[0] is not self.results:
            return build()
        return self._once(self._key(make.func, make.args[1:], make.keywords), build)
