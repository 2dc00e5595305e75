"""Messy real-world files get the clear validation report, never a traceback,
with the validation exit codes (0 valid, 1 invalid data, 2 usage error), run
through the command line as a user would."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from tests.conftest_data import base_table, change, write_csv
from tests.test_cli import run


def _csv(tmp_path, table, **kw):
    return write_csv(table, tmp_path / "site.csv", **kw)


def empty(tmp_path):
    p = tmp_path / "site.csv"
    p.write_text("")
    return p


def header_only(tmp_path):
    p = tmp_path / "site.csv"
    p.write_text(",".join(base_table().columns) + "\n")
    return p


def wrong_delimiter(tmp_path):
    return _csv(tmp_path, base_table(), sep=";")


def mixed_dates(tmp_path):
    return _csv(tmp_path, change(base_table(), "T-002", relapse_date="03.09.2019"))


def ambiguous_dates(tmp_path):
    return _csv(tmp_path, change(base_table(), "T-001", relapse_date="11/20/2019", cart_date="05/10/2019"))


def comma_numbers(tmp_path):
    return _csv(tmp_path, change(base_table(), "T-002", marrow_blasts_pct="45,5"))


def impossible_values(tmp_path):
    return _csv(tmp_path, change(base_table(), "T-001", age_at_relapse="250", marrow_blasts_pct="120",
                                 relapse_date="2019-02-30"))


def duplicated_column(tmp_path):
    t = base_table()
    p = tmp_path / "site.csv"
    text = t.to_csv(index=False).splitlines()
    text[0] = text[0].replace("sex", "sex", 1) + ",sex"
    text[1:] = [line + ",male" for line in text[1:]]
    p.write_text("\n".join(text) + "\n")
    return p


def unknown_column(tmp_path):
    return _csv(tmp_path, base_table().assign(favourite_colour="blue"))


def several_sheets(tmp_path):
    p = tmp_path / "site.xlsx"
    with pd.ExcelWriter(p) as xw:
        base_table().to_excel(xw, sheet_name="Patients", index=False)
        base_table().head(1).to_excel(xw, sheet_name="Notes", index=False)
    return p


def sav_unlabelled(tmp_path):
    t = base_table().copy()
    t["sex"] = t["sex"].map({"male": 1, "female": 2}).astype(float)
    t.loc[0, "sex"] = 9.0
    p = tmp_path / "site.sav"
    pyreadstat.write_sav(t, str(p), variable_value_labels={"sex": {1.0: "male", 2.0: "female"}})
    return p


def bom(tmp_path):
    return _csv(tmp_path, base_table(), encoding="utf-8-sig")


def latin1(tmp_path):
    return _csv(tmp_path, base_table().assign(site="Hôpital"), encoding="latin-1")


CASES = [
    # (builder, expected exit code, words the report must contain)
    (empty, 1, ["empty"]),
    (header_only, 1, ["no patient"]),
    (wrong_delimiter, 1, ["delimiter"]),
    (mixed_dates, 1, ["T-002", "relapse_date", "03.09.2019"]),
    (ambiguous_dates, 1, ["T-001", "11/20/2019"]),
    (comma_numbers, 1, ["T-002", "marrow_blasts_pct", "45,5"]),
    (impossible_values, 1, ["250", "120", "2019-02-30"]),
    (duplicated_column, 1, ["sex"]),
    (unknown_column, 0, ["favourite_colour"]),
    (several_sheets, 2, ["sheet", "sources.yml", "sheet: Patients"]),  # the fix is in the configuration
    (sav_unlabelled, 1, ["sex", "9"]),
    (bom, 0, []),
    (latin1, 0, []),
]


@pytest.mark.parametrize("builder,code,words", CASES, ids=[c[0].__name__ for c in CASES])
def test_messy_file_gets_clear_report(tmp_path, builder, code, words):
    out = run("validate", str(builder(tmp_path)))
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    assert out.returncode == code, text
    low = text.lower()
    missing = [w for w in words if w.lower() not in low]
    assert not missing, (missing, text)
