"""Names of the analysis variables as the prose prints them.

One place for the generated methods paragraph (:mod:`.text`), the registry's
phrases (:mod:`.numbers`) and the sensitivity analyses (:mod:`.sensitivity`),
so that no ADaM column code (``SALVGRP``, ``PRIORSCT`` ...) or raw level code
(``Y``/``N``) reaches the manuscript.
"""

from __future__ import annotations

from typing import Any

from .style import fmt_relation

#: Terms spelled out once, the same in text, tables and figure notes (acceptance review item 26).
CR_CRI_TERM = "complete remission with full or incomplete haematological recovery"

#: ADSL column -> (name in running text, comparison shown after it or None).
COVARIATES: dict[str, tuple[str, str | None]] = {
    "SALVGRP": ("salvage group", "chemotherapy vs targeted therapy"),
    "AGEGR1": ("age group", "adult vs paediatric"),
    "BMBURDEN": ("bone-marrow tumour burden", None),
    "PRIORSCT": ("allogeneic transplant before relapse", None),
    "CYTORISK": ("cytogenetic risk", None),
    "BCRABL1": ("BCR::ABL1 status", None),
    "CD19NEG": ("CD19-negative/dim relapse", None),
    "EMDFL": ("extramedullary relapse", None),
    "SEX": ("sex", None),
    "AGE": ("age", "per year"),
}

#: ADSL column -> the covariate with its comparison: "salvage group (chemotherapy vs targeted therapy)".
COVARIATE_TEXT: dict[str, str] = {
    column: name + (f" ({comparison})" if comparison else "")
    for column, (name, comparison) in COVARIATES.items()
}


def covariate_text(column: str, *, adult_age_years: float | None = None) -> str:
    """:data:`COVARIATE_TEXT` of ``column``; the age group worded from its cut-off
    ("age group (≥21 vs <21 years)"), since "adult vs paediatric" holds only at 18."""
    if column == "AGEGR1" and adult_age_years is not None:
        return f"age group (\u2265{adult_age_years:g} vs <{adult_age_years:g} years)"
    return COVARIATE_TEXT.get(column, column)


def covariate_name(column: str) -> str:
    """The covariate's name alone ("salvage group"); an unknown column prints as given."""
    return COVARIATES.get(column, (column, None))[0]


def level_text(level: Any) -> str:
    """A category as running text prints it: Y/N -> 'yes'/'no', '>=18' -> '≥18',
    'Targeted' -> 'targeted' (acronyms kept: 'CNS')."""
    text = str(level)
    return {"Y": "yes", "N": "no"}.get(text, lower_first(fmt_relation(text)))


def lower_first(text: str) -> str:
    """Lower-case the first letter for use inside a sentence, unless it starts
    an acronym: 'Monoclonal antibody' -> 'monoclonal antibody', 'CAR-T
    reinfusion' and 'TKI' unchanged."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]
