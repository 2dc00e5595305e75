"""A Cox model's cautions, and the reasons it could not be fitted, in the reader's words.

The computation (:mod:`analysis.compute.cox`) keeps each caution as data, a
:class:`~analysis.compute.cox.CoxCaution` (what happened, to which covariate
and level), and the reason a model could not be fitted as a
:class:`~analysis.compute.cox.CoxFailure` (``NotEstimable.cause``, the
``not_fitted`` column of the univariable models); this module says them with
the names of :mod:`.labels`, so that no column code (``SALVGRP``), level code
(``>=18``, ``Y``) or model term (``SALVGRP[Chemotherapy]``) reaches a table
note or the text: "no patient in the chemotherapy group died, so its hazard
ratio cannot be estimated", "only patients in the targeted-therapy group were
analysed, so the model has no comparison for salvage group".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import style as st
from .labels import covariate_name, level_text

#: Salvage-group levels as the prose names the patients in them.
SALVAGE_GROUPS = {"Chemotherapy": "the chemotherapy group", "Targeted": "the targeted-therapy group"}


def salvage_group(level: Any) -> str:
    """A salvage-group level as the prose names its patients: "the chemotherapy group"."""
    return SALVAGE_GROUPS.get(str(level), f"the {level_text(str(level))} group")


def patients_phrase(variable: str, level: Any) -> str:
    """The patients of one level of a covariate, as the words after "no patient":
    "in the chemotherapy group", "aged ≥18 years", "with allogeneic transplant
    before relapse" (Y), "without ..." (N), "with bone-marrow tumour burden
    ≥50%"."""
    text = str(level)
    if variable == "SALVGRP":
        return "in " + salvage_group(text)
    if variable == "AGEGR1":
        return f"aged {st.fmt_relation(text)} years"
    if variable == "hsct":  # the time-dependent transplant covariate
        return "after a consolidative allo-HSCT" if text in ("1", "Y") else "without a consolidative allo-HSCT"
    name = covariate_name(variable)
    if text in ("Y", "N"):
        return f"{'with' if text == 'Y' else 'without'} {name}"
    return f"with {name} {level_text(text)}"


def caution_text(caution) -> str:
    """One caution as a clause of running text (no capital, no full stop)."""
    kind, variable, level = caution.kind, caution.variable, caution.level
    if kind == "few_events":
        return (f"{caution.n_events} events for {caution.n_parameters} model parameters: fewer than "
                f"{caution.threshold:g} events per parameter, so estimates may be unstable and over-fitted")
    if kind == "not_converged":
        return "the model's estimation did not settle on a result, so its estimates are unreliable"
    if kind == "level_without_events":
        return f"no patient {patients_phrase(variable, level)} died, so its hazard ratio cannot be estimated"
    if kind == "reference_without_events":
        return (f"no patient {patients_phrase(variable, level)} (the reference group) died, so the hazard "
                f"ratios for {covariate_name(variable)} cannot be estimated")
    if kind == "level_without_patients":
        return f"no patient {patients_phrase(variable, level)} was analysed, so that group is left out"
    if kind == "default_reference":
        return f"the reference group of {covariate_name(variable)} is {level_text(level)}, its first group"
    if kind == "no_events_after_transplant":
        return "no patient died after a consolidative allo-HSCT, so its hazard ratio cannot be estimated"
    if kind == "may_be_infinite":
        what = (covariate_name(variable) if level is None or variable is None
                else f"patients {patients_phrase(variable, level)}")
        return (f"the hazard ratio of {what} may be infinite (monotone likelihood), so it is not given")
    raise ValueError(f"unknown Cox caution {kind!r}")


def note_cautions(cautions: Any, *, marked: bool = True) -> list[str]:
    """The cautions a table note says, in words, each once. With ``marked``
    (the table marks each coefficient that may be infinite on its own row),
    those are left to the mark. ``cautions`` may be missing (NaN: a model
    that could not be fitted has none)."""
    if not isinstance(cautions, Iterable) or isinstance(cautions, str):
        return []
    out: list[str] = []
    for c in cautions:
        if marked and c.kind == "may_be_infinite":
            continue
        text = caution_text(c)
        if text not in out:
            out.append(text)
    return out


def failure_text(failure) -> str:
    """Why a Cox model could not be fitted (a ``CoxFailure``), as a clause of
    running text (no capital, no full stop)."""
    kind, variable, level, n = failure.kind, failure.variable, failure.level, failure.n_patients
    if kind == "no_complete_cases":
        everyone = f"all {n} patients" if n is not None else "every patient"
        if failure.unrecorded:
            names = st.join_words([covariate_name(c) for c in failure.unrecorded])
            return (f"{names} {'was' if len(failure.unrecorded) == 1 else 'were'} recorded for no patient, so "
                    f"{everyone} lacked a covariate of the model")
        return f"{everyone} lacked at least one covariate of the model, so no patient could be analysed"
    if kind == "all_censored":  # (the Cox models of this study are of overall survival)
        return "no patient analysed died"
    if kind == "single_level":
        return (f"only patients {patients_phrase(variable, level)} were analysed, so the model has no comparison "
                f"for {covariate_name(variable)}")
    if kind == "reference_without_patients":
        return (f"no patient {patients_phrase(variable, level)} (the reference group) was analysed, so the hazard "
                f"ratios for {covariate_name(variable)} cannot be estimated")
    if kind == "constant":
        return (f"{covariate_name(variable)} had the same value for every patient analysed, so the model has no "
                f"comparison for it")
    if kind == "collinear":
        return "the covariates are too closely related to one another (collinear) for the model to be estimated"
    raise ValueError(f"unknown reason a Cox model was not fitted {kind!r}")


def failure_reason(reason: str, failure: Any = None) -> str:
    """Why a result could not be computed, in words: the wording of ``failure``
    where the computation gave the reason as data (a Cox model's
    ``CoxFailure``), else ``reason`` as it is (the computation's own words).
    ``failure`` may be missing (None, or NaN in a frame column)."""
    if failure is None or (isinstance(failure, float) and failure != failure):
        return str(reason)
    return failure_text(failure)


def not_estimable_reason(value) -> str:
    """:func:`failure_reason` of a ``NotEstimable``."""
    return failure_reason(value.reason, getattr(value, "cause", None))
