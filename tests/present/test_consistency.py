"""Consistency checks catch a registry that contradicts the results."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.present.consistency import InconsistencyError, assert_consistent, check
from analysis.present.numbers import Number, Registry


def test_shipped_results_are_consistent(results, registry):
    assert check(results, registry) == []


def _broken(registry: Registry, dotted: str, raw) -> Registry:
    entries = []
    for section, key, e in registry.items():
        if f"{section}.{key}" == dotted:
            e = dataclasses.replace(e, raw=raw, text=str(raw))
        entries.append(e)
    return Registry(entries, registry.stamp)


@pytest.mark.parametrize("dotted,bad,phrase", [
    ("cohort.n_salvage", 66, "patients had salvage"),
    ("response.pct_cr", 50.0, "pct_cr is 50.0"),
    ("survival.os_events", 1, "OS deaths differ"),
    ("transplant.n_hsct_first", 0, "first and second transplants"),
], ids=["flow-vs-text", "percentage", "events", "transplant-sum"])
def test_broken_registry_is_caught(results, registry, dotted, bad, phrase):
    broken = _broken(registry, dotted, bad)
    with pytest.raises(InconsistencyError, match=phrase):
        assert_consistent(results, broken)


def test_abstract_variables_must_match(results, registry):
    variables = registry.variables()
    variables["survival"] = dict(variables["survival"], os_median_months="99.9")
    problems = check(results, registry, variables)
    assert any("survival.os_median_months" in p for p in problems)
