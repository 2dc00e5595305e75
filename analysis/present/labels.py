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
    "SITEID": ("study site", None),
}

#: ADSL column -> the covariate with its comparison: "salvage group (chemotherapy vs targeted therapy)".
COVARIATE_TEXT: dict[str, str] = {
    column: name + (f" ({comparison})" if comparison else "")
    for column, (name, comparison) in COVARIATES.items()
}


def covariate_text(column: str, *, adult_age_years: float | None = None) -> str:
    """:data:`COVARIATE_TEXT` of ``column``; the age group worded from its cut-off
    ("age group (≥21 vs <21 years)"), since "adult vs paediatric" holds only at 18;
    another ADSL column by its ADaM label (:func:`covariate_name`)."""
    if column == "AGEGR1" and adult_age_years is not None:
        return f"age group (\u2265{adult_age_years:g} vs <{adult_age_years:g} years)"
    return COVARIATE_TEXT.get(column) or covariate_name(column)


def covariate_name(column: str) -> str:
    """The covariate's name alone ("salvage group"). A column without a name
    here (any ADSL column can be configured as a Cox covariate) is named by its
    ADaM label in running-text case ("HSCTFL" -> "consolidative allo-HSCT");
    only a column unknown to the ADaM metadata as well prints as given."""
    if column in COVARIATES:
        return COVARIATES[column][0]
    from ..adam_define import LABELS

    label = LABELS.get(column)
    if not label:
        return column
    return " ".join(lower_first(word) for word in label.removesuffix(" Flag").split())


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
