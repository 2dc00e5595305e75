"""Why patients are left out of a model, in words (acceptance review items 4, 13, 14).

A Cox model drops every patient with a missing covariate (complete cases). Two
different reasons hide in that count: with ``survival.population: all`` the
patients without salvage therapy have no salvage group (SALVGRP), which is not
missing data but a covariate that does not apply; the others lack a recorded
value. The notes and the Methods say which is which. Counting only, from the
analysis dataset the model was fitted on; no statistic is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..results import Results

#: ADSL column that exists only for patients who received salvage therapy.
SALVAGE_ONLY = "SALVGRP"


def population_rows(results: Results) -> pd.DataFrame:
    """ADSL rows of the overall-survival population in force (``survival.population``)."""
    adsl = results.derived.adsl
    if results.settings.survival.population == "salvage":
        return adsl[(adsl["SALVFL"] == "Y").to_numpy(dtype=bool, na_value=False)]
    return adsl


def left_out_counts(results: Results, covariates: Sequence[str]) -> tuple[int, int]:
    """(patients without salvage therapy, patients with a missing value) left out of a model with ``covariates``."""
    rows = population_rows(results)
    cols = [c for c in covariates if c in rows.columns]
    if not cols:
        return 0, 0
    incomplete = rows[cols].isna().any(axis=1)
    no_salvage = (rows["SALVFL"] != "Y").to_numpy(dtype=bool, na_value=True) if SALVAGE_ONLY in cols \
        else pd.Series(False, index=rows.index).to_numpy()
    n_no_salvage = int((incomplete.to_numpy() & no_salvage).sum())
    return n_no_salvage, int(incomplete.sum()) - n_no_salvage


def left_out_phrase(results: Results, covariates: Sequence[str], n_excluded: int, *,
                    missing_what: str = "a missing covariate") -> str:
    """'7 patients without salvage therapy left out (no salvage group)', '5 left out for a missing
    covariate', both joined with '; ', or '' when no one is left out. ``n_excluded`` is the model's own
    count; the split comes from the analysis dataset and falls back to the plain count if they disagree."""
    if not n_excluded:
        return ""
    no_salv, missing = left_out_counts(results, covariates)
    if no_salv + missing != n_excluded:
        return f"{n_excluded} left out for {missing_what}"
    parts = []
    if no_salv:
        parts.append(f"{no_salv} patient{'s' if no_salv != 1 else ''} without salvage therapy left out "
                     f"(the salvage group does not apply to them)")
    if missing:
        parts.append(f"{missing} left out for {missing_what}")
    return "; ".join(parts)


def model_warnings(results: Results) -> list[str]:
    """Warnings for whoever runs the analysis (printed to stderr by ``numbers``,
    ``prepare`` and ``export``): a Cox covariate recorded for no patient leaves
    every patient out of the multivariable model, which the data checks see only
    as an optional column left empty (``validate`` warns too). One line each: what
    happened, then what to do, naming the input column the covariate is made from
    (:func:`analysis.config.optional_input`)."""
    from ..config import optional_input
    from .labels import covariate_name

    cox = results.cox
    return [f"Warning: Cox covariate {c} ({covariate_name(c)}) is missing for every patient, so the "
            f"multivariable model leaves out all {cox.n_excluded} patients and is not fitted. Record "
            + (f"{optional_input(c)}, the column it is made from," if optional_input(c) else "its source column")
            + f" in the data, or remove {c} from `cox: covariates:` in the configuration."
            for c in cox.unrecorded]


def say_model_warnings(results: Results) -> None:
    """Print :func:`model_warnings` to stderr (``numbers``, ``prepare`` and ``export``)."""
    import sys

    for line in model_warnings(results):
        print(line, file=sys.stderr)
