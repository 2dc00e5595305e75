"""Generated prose: conventions and wording that must stay true on other data.

Regression tests on the shipped synthetic cohort (values produced by our own
code), and the same results re-read at a significance level of 0.001, at which
none of the cohort's comparisons is significant: the wording must change with it.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from analysis.present import labels, style, text
from analysis.present.numbers import build_registry

ADAM_CODES = re.compile(r"\b(SALVGRP|AGEGR1|BMBURDEN|PRIORSCT|CYTORISK|BCRABL1|CD19NEG|EMDFL)\b")


@pytest.mark.parametrize("alpha,expected", [(0.05, ".05"), (0.01, ".01"), (0.1, ".10"), (0.005, ".005")],
                         ids=["0.05", "0.01", "0.1", "0.005"])
def test_significance_level_prints_as_given(alpha, expected):
    """A threshold is not an estimate: 0.05 is '.05', never '.050' (fmt_p's two significant digits);
    but it has at least the decimals of a P value (AMA: 'P < .10', not '.1'; acceptance review item 1)."""
    assert style.fmt_alpha(alpha) == expected


def test_alpha_text_uses_the_p_convention(registry):
    assert registry.t.alpha_text == "P < .05"


def test_methods_paragraph_names_no_codes(results):
    methods = text.statistical_methods(results).data
    assert not ADAM_CODES.search(methods), ADAM_CODES.search(methods).group(0)
    assert "car-t" not in methods and " tki" not in methods          # acronyms kept
    assert "CAR-T reinfusion" in methods
    assert "P values below .05 were" in methods                      # the journal's P convention
    assert "@peduzzi1995" in methods


@pytest.mark.parametrize("given,expected", [
    ("Monoclonal antibody", "monoclonal antibody"), ("CAR-T reinfusion", "CAR-T reinfusion"),
    ("Chemotherapy with TKI", "chemotherapy with TKI"), ("TKI", "TKI"), ("", ""),
], ids=["word", "acronym-hyphen", "acronym-later", "acronym", "empty"])
def test_lower_first_keeps_acronyms(given, expected):
    assert labels.lower_first(given) == expected


@pytest.mark.parametrize("level,expected", [("N", "no"), ("Y", "yes"), (">=18", "≥18"), ("Targeted", "targeted"),
                                            ("CNS", "CNS")], ids=["N", "Y", "relation", "word", "acronym"])
def test_level_text(level, expected):
    assert labels.level_text(level) == expected


def _comparison_keys(t) -> dict[str, str]:
    return {k: getattr(t, k) for k in ("os_group_comparison", "os_emd_comparison", "cr_group_finding",
                                       "cr_emd_sentence", "conclusion", "cox_group_sentence",
                                       "cox_adjusted_finding")}


def test_direction_wording_on_the_shipped_cohort(registry):
    """Regression values: the shipped cohort's comparisons are significant at .05."""
    t = _comparison_keys(registry.t)
    assert t["cr_group_finding"] == "targeted salvage achieved CR/CRi more often than chemotherapy alone"
    assert t["os_group_comparison"] == "shorter after chemotherapy than after targeted therapy"
    assert t["cox_group_sentence"] == "chemotherapy was associated with shorter OS than targeted therapy"
    assert t["conclusion"].startswith("After relapse following CD19 CAR-T therapy, targeted salvage")
    assert t["conclusion"].endswith(".")
    assert "site of extramedullary disease" in t["cr_emd_sentence"]


def test_wording_follows_significance(results):
    """At alpha = 0.001 no comparison of the cohort is significant: no sentence
    may still claim a difference or an association."""
    tests = results.settings.tests.model_copy(update={"alpha": 0.001})
    strict = dataclasses.replace(results, settings=results.settings.model_copy(update={"tests": tests}))
    t = _comparison_keys(build_registry(strict).t)
    assert "did not differ significantly" in t["cr_group_finding"]
    assert "did not differ significantly" in t["cr_emd_sentence"]
    assert "site of extramedullary disease" not in t["cr_emd_sentence"]
    assert "not statistically significant" in t["cox_group_sentence"]
    assert "not statistically significant" in t["cox_adjusted_finding"]
    assert "more often" not in t["conclusion"] and "less often" not in t["conclusion"]


def test_comparisons_read_grammatically(registry, results):
    """'similar after A than after B' cannot be produced."""
    for t in (registry.t, build_registry(results).t):
        for phrase in (t.os_group_comparison, t.os_emd_comparison):
            assert not re.search(r"\b(similar|not comparable)\b.*\bthan\b", phrase), phrase
