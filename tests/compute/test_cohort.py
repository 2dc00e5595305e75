"""analysis.compute.cohort: the study period (STROBE item 5) from a hand-made ADSL.

Expected values are read off the hand-made dates below (no other source)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.compute.cohort import cohort_summary
from analysis.present.style import fmt_month


def _adsl() -> pd.DataFrame:
    day = pd.to_datetime
    return pd.DataFrame({
        "SALVFL": ["Y", "Y", "N"],
        "SEX": ["M", "F", "F"], "AGE": [10.0, 40.0, 70.0],
        "CYTORISK": ["High", "Standard", "Standard"], "BCRABL1": ["Negative"] * 3,
        "PRIORSCT": ["N"] * 3, "PRSCTTIM": ["None"] * 3, "CD19STAT": ["Positive"] * 3,
        "RELSITE": ["Bone marrow"] * 3, "EMDFL": ["N"] * 3, "EMDPREFL": [None] * 3,
        "SITEID": ["A", "A", "B"],
        "RELDT": day(["2019-05-02", "2018-11-30", "2020-01-15"]),
        "LSTALVDT": day(["2021-03-01", "2019-06-30", "2020-02-01"]),
        "DTHDT": day([None, None, "2020-02-01"]),
    })


def test_study_period_spans_all_relapsed_patients():
    s = cohort_summary(_adsl())
    assert (s.relapse_first, s.relapse_last) == (dt.date(2018, 11, 30), dt.date(2020, 1, 15))  # incl. no salvage
    assert s.last_follow_up == dt.date(2021, 3, 1)  # latest of death and last contact
    assert (s.n_relapsed, s.n_salvage, s.n_sites) == (3, 2, 2)


def test_month_text():
    assert fmt_month(dt.date(2018, 11, 30)) == "November 2018"
    assert fmt_month(None) == "NE"
