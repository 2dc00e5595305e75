"""Import a heavy library on first use, not at package import.

A document execution only loads the stored results and draws them: it never
fits a model, so it should not pay for importing scipy.stats, lifelines or
pandera (about a second per kernel, six kernels per render). Modules that
compute keep writing ``stats.norm.ppf(...)`` with ``stats = lazy("scipy.stats")``
at the top; the library is imported the first time an attribute is read.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (imported)' if self._module else ''}>"


def lazy(name: str) -> Any:
    """A stand-in for ``importlib.import_module(name)`` that imports on first attribute access."""
    return _LazyModule(name)
