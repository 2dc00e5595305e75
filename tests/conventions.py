"""The analysis choices the statistics tests run under, stated once.

The compute functions take every analysis choice as a required argument (the
entry point passes the configured values; no computation keeps a default of its
own). The tests that compare them with R use the conventions of the R scripts
in tests/reference/: 95% intervals (``conf.int = 0.95``, i.e. alpha 0.05), the
events-per-variable threshold of 10 (Peduzzi et al. 1995; only a warning), and
100,000 Monte-Carlo resamples where a Monte-Carlo P value is asked for, and
survfit's default log interval for a median.
:func:`r_conventions` gives a function or module whose functions take these
unless a test passes its own.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

R_CONVENTIONS: dict[str, Any] = {
    "alpha": 0.05,
    "min_events_per_parameter": 10.0,
    "n_resamples": 100_000,
    "method": "log",          # confidence interval of a median: survfit's conf.type = "log"
}


def _with(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    given = {k: v for k, v in R_CONVENTIONS.items()
             if k in params and params[k].default is inspect.Parameter.empty}
    if not given:
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return fn(*args, **{**given, **kwargs})

    return call


class _Module:
    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._module, name)
        return _with(obj) if inspect.isfunction(obj) else obj


def r_conventions(obj):
    """``obj`` (a compute function or module) with :data:`R_CONVENTIONS` for the
    required choices it takes and the test does not pass."""
    return _Module(obj) if isinstance(obj, types.ModuleType) else _with(obj)
