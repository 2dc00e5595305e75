"""The distinct values the fast CSV reader found (LoadedCohort.splits) are used by
validation and typing only where they provably describe the column
(analysis.load.checked_split): with them or without them, and after the frame
was changed, the report and the typed frame are the same.

The reference is the same function without the kept splits (distinct_text finds
the distinct values again), on files the test writes from the valid base table
of tests/conftest_data.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.config import Source
from analysis.load import LoadedCohort, checked_split, distinct_text, load_sources, map_split, to_typed
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _without_splits(loaded: LoadedCohort) -> LoadedCohort:
    return LoadedCohort(raw=loaded.raw, origin=loaded.origin, problems=loaded.problems, site_names=loaded.site_names,
                        site_codes=loaded.site_codes, sheets=loaded.sheets)


def _two_sites(tmp_path, table_u: pd.DataFrame) -> list[Source]:
    return [Source(write_csv(base_table(), tmp_path / "site_t.csv")), Source(write_csv(table_u, tmp_path / "site_u.csv"))]


def test_splits_kept_from_reading_describe_the_pooled_columns(tmp_path, dic):
    table_u = base_table()
    table_u["patient_id"] = [f"U{i}" for i in range(len(table_u))]
    loaded = load_sources(_two_sites(tmp_path, table_u), dic)
    assert loaded.splits  # plain CSV files: the fast reader's distinct values are kept
    for column, split in loaded.splits.items():
        values = loaded.raw[column].to_numpy(dtype=object)
        assert checked_split(values, split) is split, column
        codes, uniques = split
        assert len(set(uniques)) == len(uniques)  # distinct, as distinct_text's
        # any function of the value gives what it gives on the values found again
        reference = map_split(values, distinct_text(values), repr)
        assert list(map_split(values, split, repr)) == list(reference), column


def test_a_split_that_does_not_describe_the_values_is_not_used():
    values = np.array(["a", None, "b", "a"], dtype=object)
    uniques = np.array(["a", "b"], dtype=object)
    assert checked_split(values, (np.array([0, -1, 1, 0], dtype=np.int8), uniques)) is not None
    assert checked_split(values, (np.array([0, 0, 1, 0], dtype=np.int8), uniques)) is None  # None is not "a"
    assert checked_split(values, (np.array([0, -1, 1], dtype=np.int8), uniques)) is None  # too few codes
    assert checked_split(values, (np.array([0, -1, 0, 0], dtype=np.int8), uniques)) is None  # "b" unused, wrong
    changed = values.copy()
    changed[2] = float("nan")
    assert checked_split(changed, (np.array([0, -1, 1, 0], dtype=np.int8), uniques)) is None
    changed[2] = pd.NA  # compares to nothing: not as read
    assert checked_split(changed, (np.array([0, -1, 1, 0], dtype=np.int8), uniques)) is None
    assert checked_split(values, None) is None


@pytest.mark.parametrize("edit", [
    {},  # as read
    {"age_at_relapse": "abc"},  # a value changed after reading (tests and tools change frames in place)
    {"cart_date": "2099-01-01", "sex": "Q"},
    {"relapse_date": None},
])
def test_report_and_typed_frame_are_the_same_with_and_without_the_kept_splits(tmp_path, dic, edit):
    table_u = change(base_table(), base_table()["patient_id"].iloc[0], age_at_relapse="200")
    table_u["patient_id"] = [f"U{i}" for i in range(len(table_u))]
    loaded = load_sources(_two_sites(tmp_path, table_u), dic)
    for column, value in edit.items():
        loaded.raw.loc[1, column] = value  # in place: the kept split no longer describes the column
    with_splits, without = validate(loaded, dic), validate(_without_splits(loaded), dic)
    assert with_splits.problems == without.problems
    assert with_splits.format() == without.format()
    if with_splits.ok:
        typed = to_typed(loaded.raw, dic, origin=loaded.origin, splits=loaded.splits)
        pd.testing.assert_frame_equal(typed, to_typed(loaded.raw, dic, origin=loaded.origin))
