"""A P value that rounds to the significance level is not printed as the level
(acceptance review item 6: P = 0.05006 printed ".05" and called not
significant). AMA Manual of Style 11th ed., 19.5: where rounding would give
.05, give 3 digits; here as many as it takes to tell the value from alpha."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.present import style as st


@pytest.fixture(autouse=True)
def _restore_alpha():
    yield
    st.use_alpha(0.05)


@pytest.mark.parametrize("alpha", [0.05, 0.10, 0.01])
def test_no_p_other_than_alpha_prints_as_alpha(alpha):
    st.use_alpha(alpha)
    for p in np.concatenate([alpha + np.linspace(-0.0049, 0.0049, 99), [alpha * (1 + 1e-3), alpha * (1 - 1e-3)]]):
        p = float(p)
        text = st.fmt_p(p)
        if text.startswith(("<", ">")):
            continue
        printed = float(text)
        decimals = len(text.split(".")[1])
        assert abs(printed - p) <= 0.5 * 10 ** -decimals + 1e-12, (p, text)       # correctly rounded
        if p != alpha:
            assert printed != alpha, (p, text)


def test_alpha_itself_and_values_away_from_it_keep_the_journal_decimals():
    st.use_alpha(0.05)
    assert st.fmt_p(0.05) == ".05"
    assert st.fmt_p(0.21) == ".21" and st.fmt_p(0.004) == ".004"
    assert st.fmt_p(0.05006) == ".0501"
