"""No computation keeps a default of its own for an analysis choice.

Every choice has its type, allowed values and default in analysis/config.py only;
the entry point (analysis/results.py) passes the configured value. A default
left in a compute function would silently stand in wherever a caller forgets to
pass the setting (it did: the sensitivity Cox models ran with 10 events per
parameter whatever cox.min_events_per_variable said).
"""

import importlib
import inspect
import pkgutil

import analysis.compute

# parameters that carry an analysis choice of the configuration
CHOICES = {"alpha", "min_events_per_parameter", "n_resamples", "rule", "method", "population",
           "landmarks", "risk_times", "times", "seed"}


def test_compute_functions_take_analysis_choices_without_defaults():
    offenders = []
    for info in pkgutil.iter_modules(analysis.compute.__path__):
        module = importlib.import_module(f"analysis.compute.{info.name}")
        for name, fn in vars(module).items():
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            for p in inspect.signature(fn).parameters.values():
                if p.name in CHOICES and p.default is not inspect.Parameter.empty:
                    offenders.append(f"{module.__name__}.{name}({p.name}={p.default!r})")
    assert not offenders, "defaults for analysis choices in compute functions:\n" + "\n".join(offenders)
