"""Generated prose: conventions and wording that must stay true on other data.

Regression tests on the shipped synthetic cohort (values produced by our own code).
"""

from __future__ import annotations

import re

import pytest

from analysis.present import labels, style, text

ADAM_CODES = re.compile(r"\b(SALVGRP|AGEGR1|BMBURDEN|PRIORSCT|CYTORISK|BCRABL1|CD19NEG|EMDFL)\b")


@pytest.mark.parametrize("alpha,expected", [(0.05, ".05"), (0.01, ".01"), (0.1, ".1")],
                         ids=["0.05", "0.01", "0.1"])
def test_significance_level_prints_as_given(alpha, expected):
    """A threshold is not an estimate: 0.05 is '.05', never '.050' (fmt_p's two significant digits)."""
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
