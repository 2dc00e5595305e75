"""analysis.aside: a computation run in a forked process gives the value, the warnings
and the exception of calling it here; and the whole analysis is the same run aside
or in one process."""

from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import aside as aside_module
from analysis import results as results_module
from analysis.aside import aside


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=float) / 7, "pid": [os.getpid()] * n})


def test_value_comes_from_a_child_and_equals_the_direct_call():
    got = aside(_frame, 5).result()
    assert (got["pid"] != os.getpid()).all()  # computed in the child
    pd.testing.assert_frame_equal(got.drop(columns="pid"), _frame(5).drop(columns="pid"))


def test_disabled_runs_here():
    assert (aside(_frame, 3, enabled=False).result()["pid"] == os.getpid()).all()


def _warns() -> int:
    warnings.warn("a caution from the computation", RuntimeWarning)
    return 1


def test_warnings_of_the_child_are_given_here():
    with pytest.warns(RuntimeWarning, match="a caution from the computation"):
        assert aside(_warns).result() == 1


def _fails():
    raise ValueError("not estimable here")


def test_an_exception_in_the_child_is_raised_here_by_the_same_call():
    handle = aside(_fails)
    with pytest.raises(ValueError, match="not estimable here"):
        handle.result()


def _unpicklable():
    return lambda: None


def test_a_value_that_cannot_be_sent_is_computed_here():
    assert callable(aside(_unpicklable).result())


def test_cancel_stops_the_child():
    handle = aside(_frame, 2)
    handle.cancel()
    handle.cancel()  # twice: nothing left to stop


def _assert_same(a, b, where: str) -> None:
    """Exactly equal: frames and series value for value (dtypes too), floats bit for bit."""
    assert type(a) is type(b), where
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def test_the_analysis_run_aside_equals_the_analysis_in_one_process(monkeypatch, results):
    """Every value of the response and sensitivity results, computed in a forked
    process (WORTH_FROM lowered to 0), equals the one-process computation."""
    monkeypatch.setattr(aside_module, "WORTH_FROM", 0)
    aside_results = results_module.analyse(results.cohort)
    for name in ("response", "sensitivity"):
        _assert_same(getattr(aside_results, name), getattr(results, name), name)


def _cohort_or_error(path, monkeypatch, worth_from: int):
    from analysis.config import load_config
    from analysis.pipeline import DataError, load_cohort

    monkeypatch.setattr(aside_module, "WORTH_FROM", worth_from)
    try:
        return load_cohort(load_config(data=str(path)))
    except DataError as err:
        return err


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "invalid"])
def test_validating_aside_while_deriving_equals_validating_first(tmp_path, monkeypatch, broken):
    """Valid data: the same report and derived data; invalid data (a value typing refuses):
    the same DataError and report, whichever way the cohort is loaded."""
    from tests.conftest_data import base_table, change, write_csv

    table = base_table()
    if broken:
        table = change(table, table["patient_id"].iloc[0], age_at_relapse="forty", cart_date="2020-02-30")
    path = write_csv(table, tmp_path / "site.csv")
    first, alongside = (_cohort_or_error(path, monkeypatch, n) for n in (10**9, 0))
    assert type(first) is type(alongside)
    assert first.report.format() == alongside.report.format()
    if not broken:
        pd.testing.assert_frame_equal(first.derived.adsl, alongside.derived.adsl, check_exact=True)
        pd.testing.assert_frame_equal(first.derived.adtte, alongside.derived.adtte, check_exact=True)
    else:
        assert "forty" in first.report.format()
