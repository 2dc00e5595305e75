"""A pseudonym used by several rows: each row's message names every other row
(in file order), the pseudonym compared as read (surrounding spaces removed).
The reference is the files the test writes from the valid base table of
tests/conftest_data.py."""

from __future__ import annotations

import pytest

from analysis.config import Source
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def test_each_repeat_names_every_other_row_of_its_pseudonym(tmp_path, dic):
    site_t = write_csv(change(base_table(), "T-005", patient_id=" T-003 "), tmp_path / "site_t.csv")  # rows 4, 6
    other = change(base_table(), "T-001", patient_id="U-001").iloc[[0, 2]].assign(site="U")  # T-003 -> row 3
    site_u = write_csv(other, tmp_path / "site_u.csv")
    report = validate(load_sources([Source(site_t), Source(site_u)], dic), dic)
    dup = [p for p in report.problems if p.rule == "unique_patient"]
    assert [(p.file, p.row, p.value) for p in dup] == [
        (str(site_t), 4, "T-003"), (str(site_t), 6, "T-003"), (str(site_u), 3, "T-003"),
    ]
    assert f"(also {site_t} row 6; {site_u} row 3)" in dup[0].message
    assert f"(also {site_t} row 4; {site_u} row 3)" in dup[1].message
    assert f"(also {site_t} row 4; {site_t} row 6)" in dup[2].message
