"""P-value and number style (analysis.present.style), REVIEW 2026-12-06 item 13.

Reference: AMA Manual of Style, 11th ed., 19.5 (also Blood's instructions to
authors): P values to 2 decimals, to 3 when below .01, "P < .001" below that,
no leading zero. The expected strings below are written from that rule."""

from __future__ import annotations

import pytest

from analysis.present import style as st


@pytest.mark.parametrize("p, expected", [
    (0.72, ".72"), (0.0725, ".07"), (0.05, ".05"), (0.0499, ".0499"),   # not ".05": it would read as alpha (acceptance review item 6)
     (0.0036, ".004"), (0.0030, ".003"),
    (0.0010, ".001"), (0.00104, ".001"), (0.000999, "< .001"), (1e-9, "< .001"), (0.0096, ".01"),
    (0.0095, ".01"), (0.0094, ".009"), (0.99, ".99"), (0.993, "> .99"), (0.996, "> .99"), (1.0, "> .99"),
    (0.125, ".13"), (float("nan"), "NE"), (None, "NE"),
], ids=lambda v: str(v))
def test_fmt_p_ama(p, expected):
    assert st.fmt_p(p) == expected


def test_one_threshold_everywhere():
    """Table S7 printed 'P < .001' while Table S11 printed 'P = .0010' (REVIEW item 13)."""
    assert st.fmt_p_text(0.0010) == "P = .001"
    assert st.fmt_p_text(0.0009) == "P < .001"
    assert "0010" not in st.fmt_p(0.0010)


def test_style_is_one_switchable_object():
    assert st.journal().p is st.AMA_P_STYLE
    two_sig = st.PStyle(decimals=3, small=0.001, small_decimals=4, threshold=0.0001, leading_zero=True)
    assert st.fmt_p(0.0036, style=two_sig) == "0.004"
    assert st.fmt_p(0.00036, style=two_sig) == "0.0004"
    assert st.fmt_p(0.00005, style=two_sig) == "< 0.0001"


@pytest.mark.parametrize("x, digits, expected", [
    (-0.128, 3, "\u22120.128"), (-0.9, 1, "\u22120.9"), (0.9, 1, "0.9"), (-0.0001, 1, "0.0"),
], ids=["coef", "bound", "positive", "rounds-to-zero"])
def test_negative_numbers_use_the_minus_sign(x, digits, expected):
    assert st.fmt_num(x, digits) == expected
    assert "-" not in st.fmt_num(x, digits)


def test_negative_ratio_and_ci_use_the_minus_sign():
    assert st.fmt_ratio(-0.128, 3) == "\u22120.128"
    assert st.fmt_ci(-0.9, 11.5) == "\u22120.9 to 11.5"   # a range with a negative bound reads "x to y" (REVIEW item 1)


def test_response_rates_print_with_one_convention():
    """REVIEW item 13: the abstract mixed 47.8% (overall) with 61% and 19% (by
    group) while Table 2 printed 60.9 and 19.0 for the same rates."""
    import re

    from analysis.present.numbers import build_registry
    from analysis.results import run_analysis

    texts = build_registry(run_analysis()).texts()["response"]
    rates = {k: v for k, v in texts.items() if k.startswith("pct_cr") and v != st.NOT_ESTIMABLE}
    assert len(rates) > 5
    for key, text in rates.items():
        assert re.fullmatch(rf"\d+\.\d{{{st.rate_digits()}}}%", text), (key, text)
