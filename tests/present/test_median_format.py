"""Tests for the median-with-CI and number conventions of analysis/present/style.py.

The cases are the defects of the render review of 2026-12-06 (items 1, 7, 8,
13): "Median 5.3 mo (95% CI, -0.9–11.5)" (a negative time, an ASCII hyphen
before an en dash), "Median NR (95% CI, NR–NR)" (an interval that does not
exist printed as if computed). Inputs are hand-made MedianResult-like values;
the expected texts are the convention itself, written out.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from analysis.present import style

M = style.MINUS
D = style.DASH


def _m(method, estimate, lower, upper, *, reached=True, lower_reached=True, upper_reached=True):
    return SimpleNamespace(method=method, estimate=estimate, lower=lower, upper=upper, reached=reached,
                           lower_reached=lower_reached, upper_reached=upper_reached)


CASES = [
    # id, median, (estimate, ci, truncated), figure text, prose phrase
    ("spss-negative-lower", _m("spss", 5.3, -0.9, 11.5),
     ("5.3", f"0{D}11.5", True), f"5.3 mo (95% CI, 0*{D}11.5)",
     f"5.3 months (95% CI, 0{D}11.5; lower limit truncated at 0)"),
    ("spss-not-reached", _m("spss", None, None, None, reached=False, lower_reached=False, upper_reached=False),
     ("NR", "NE", False), "NR (95% CI, NE)", "not reached (95% CI not estimable)"),
    ("spss-reached", _m("spss", 8.6, 4.1, 13.1),
     ("8.6", f"4.1{D}13.1", False), f"8.6 mo (95% CI, 4.1{D}13.1)", f"8.6 months (95% CI, 4.1{D}13.1)"),
    ("spss-se-not-estimable", _m("spss", 4.0, None, None),
     ("4.0", "NE", False), "4.0 mo (95% CI, NE)", "4.0 months (95% CI not estimable)"),
    ("log-upper-not-reached", _m("log", 5.3, 4.1, None, upper_reached=False),
     ("5.3", f"4.1{D}NR", False), f"5.3 mo (95% CI, 4.1{D}NR)", "5.3 months (95% CI, 4.1 months to not reached)"),
    ("log-median-not-reached", _m("log", None, 4.7, None, reached=False, upper_reached=False),
     ("NR", f"4.7{D}NR", False), f"NR (95% CI, 4.7{D}NR)", "not reached (95% CI, 4.7 months to not reached)"),
    ("log-nothing-reached", _m("log-log", None, None, None, reached=False, lower_reached=False,
                                upper_reached=False),
     ("NR", "NE", False), "NR (95% CI, NE)", "not reached (95% CI not estimable)"),
    ("log-reached", _m("log", 8.6, 4.7, 20.2),
     ("8.6", f"4.7{D}20.2", False), f"8.6 mo (95% CI, 4.7{D}20.2)", f"8.6 months (95% CI, 4.7{D}20.2)"),
]


@pytest.mark.parametrize("m,parts,figure,prose", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_median_ci(m, parts, figure, prose):
    med = style.median_ci_of(m)
    assert (med.estimate, med.ci, med.truncated) == parts
    assert med.text(unit="mo", mark=style.TRUNCATED_MARK) == figure
    assert med.phrase() == prose
    for text in (med.ci, figure, prose):
        assert f"NR{D}NR" not in text
        assert "-" not in text.replace("-log", "") and M not in text  # no negative time


def test_median_ci_keeps_the_value_and_changes_the_text_only():
    m = _m("spss", 5.3, -0.9, 11.5)
    style.median_ci_of(m)
    assert m.lower == -0.9


@pytest.mark.parametrize("x,digits,expected", [
    (-0.128, 3, f"{M}0.128"), (-0.04, 1, "0.0"), (-0.0, 1, "0.0"), (2.5, 1, "2.5"), (-12.25, 1, f"{M}12.2"),
], ids=["negative", "rounds-to-zero", "negative-zero", "positive", "negative-two-digits"])
def test_negative_numbers_use_the_minus_sign(x, digits, expected):
    assert style.fmt_num(x, digits) == expected


def test_a_range_with_a_negative_bound_reads_x_to_y():
    assert style.fmt_ci(-0.9, 11.5) == f"{M}0.9 to 11.5"
    assert style.fmt_ci(-2.0, -0.5) == f"{M}2.0 to {M}0.5"
    assert style.fmt_ci(0.9, 11.5) == f"0.9{D}11.5"
