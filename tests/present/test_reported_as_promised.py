"""What the Methods promise is reported, and no internal message reaches a
reader (render review 2026-12-06, items 11 and 12)."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.present import sensitivity as S
from analysis.present import style as st
from analysis.present import tables as T
from analysis.present.text import statistical_methods
from analysis.results import run_analysis


@pytest.fixture(scope="module")
def results():
    return run_analysis()


def test_odds_ratios_promised_by_methods_are_in_table_s4(results):
    assert "odds ratios" in statistical_methods(results).data
    frame = T.factor_conventions_frame(results)
    assert "or" in frame.columns
    factors = results.response.factors
    for (_, rec), printed in zip(factors.iterrows(), frame["or"]):
        if rec["or_reason"] is None and rec["not_estimable"] is None:
            assert printed.startswith(st.fmt_ratio(rec["odds_ratio"]) + " (")
            assert st.fmt_ratio(rec["or_upper"]) in printed
        else:
            assert printed == st.NOT_ESTIMABLE


def test_missing_covariate_note_states_references_in_words_without_internal_warnings(results):
    """Even with no reference configured for the added covariate, the note says
    the reference in words and no developer warning leaks."""
    sens = results.settings.sensitivity
    bare = sens.model_copy(update={"missing_covariates": [c.model_copy(update={"reference": None})
                                                          for c in sens.missing_covariates]})
    settings = results.settings.model_copy(update={"sensitivity": bare})
    from analysis.results import analyse

    r = analyse(dataclasses.replace(results.cohort, config=dataclasses.replace(results.config, settings=settings)))
    notes = " ".join(f.text for f in S.missing_covariates_table(r).footnotes)
    assert "no reference level given" not in notes
    assert "'CD19NEG'" not in notes and "CD19NEG" not in notes
    assert "Reference levels:" in notes
