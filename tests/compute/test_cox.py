"""Tests for analysis.compute.cox against R.

Reference values: tests/reference/cox_reference.json, written by
tests/reference/cox_reference.R with R 4.2.2 (2022-11-10 r83330) and
survival 3.5-3 (``Rscript tests/reference/cox_reference.R`` from the repository
root). R is not needed to run these tests.

Data: tests/reference/rossi.csv (lifelines' ``load_rossi``: 432 patients,
114 events, many tied times, 7 numeric covariates) and
tests/reference/cox_synthetic.csv (74 seeded patients in months, made by the R
script: a 3-level ``salvage`` with the non-default reference "inotuzumab",
``sex``, ``age``, ``blasts`` missing in 8 patients, and ``cns`` whose level
"cns3" has no events).

Tolerance: relative 1e-6 for every value compared with R (R's own fit stops at
a relative log-likelihood change of 1e-9, so agreement is ~1e-8).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compute.cox import (CoxCaution, CoxFailure, CoxNotFitted, CoxResult, ZphResult, cox_model, cox_zph,
                                  univariable_cox)

from tests.conventions import r_conventions

cox_model = r_conventions(cox_model)
cox_zph = r_conventions(cox_zph)
univariable_cox = r_conventions(univariable_cox)

REF_DIR = Path(__file__).resolve().parents[1] / "reference"
REL = 1e-6
R_VERSION = "R version 4.2.2 Patched (2022-11-10 r83330)"
SURVIVAL_VERSION = "3.5.3"

ROSSI_COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
SALVAGE_REF = {"salvage": "inotuzumab", "sex": "female"}

# case id -> (data file, time, event, covariates, reference)
MODELS = {
    "rossi": ("rossi.csv", "week", "arrest", ROSSI_COVARIATES, None),
    "synth_multi": ("cox_synthetic.csv", "time", "event", ["age", "salvage", "sex"], SALVAGE_REF),
    "synth_missing": (
        "cox_synthetic.csv",
        "time",
        "event",
        ["age", "blasts", "salvage"],
        {"salvage": "inotuzumab"},
    ),
}
UNIVARIABLE = ["age", "salvage", "sex", "blasts"]


@pytest.fixture(scope="module")
def ref() -> dict:
    with open(REF_DIR / "cox_reference.json") as fh:
        return json.load(fh)


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name)


@pytest.fixture(scope="module")
def fits() -> dict[str, CoxResult]:
    out = {}
    for case, (file, time, event, covs, reference) in MODELS.items():
        out[case] = cox_model(_data(file), time=time, event=event, covariates=covs, reference=reference)
    return out


@pytest.fixture(scope="module")
def univariable() -> pd.DataFrame:
    return univariable_cox(
        _data("cox_synthetic.csv"),
        time="time",
        event="event",
        covariates=UNIVARIABLE,
        reference={"salvage": "inotuzumab"},
    )


def _r_names(table: pd.DataFrame) -> list[str]:
    """R's coefficient names: variable name pasted to the level."""
    return [v + (lev if isinstance(lev, str) else "") for v, lev in zip(table["variable"], table["level"])]


def test_reference_file_versions(ref):
    """The JSON was made with the R and survival versions stated here.

    > R.version.string; packageVersion("survival")
    """
    assert ref["R_version"] == R_VERSION
    assert ref["survival_version"] == SURVIVAL_VERSION


def test_rossi_csv_is_lifelines_load_rossi():
    """R read tests/reference/rossi.csv; it must be lifelines' load_rossi()."""
    from lifelines.datasets import load_rossi

    pd.testing.assert_frame_equal(_data("rossi.csv"), load_rossi(), check_dtype=False)


# ---------------------------------------------------------------------------
# coefficient table
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(MODELS), ids=list(MODELS))
@pytest.mark.parametrize("column", ["coef", "se", "hr", "lower", "upper", "z", "p"])
def test_coefficients_against_R_summary_coxph(fits, ref, case, column):
    """rel 1e-6.

    > fit <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi)
    > fit <- coxph(Surv(time, event) ~ age + salvage + sex, synth)     # salvage ref inotuzumab
    > fit <- coxph(Surv(time, event) ~ age + blasts + salvage, synth)  # blasts has 8 NA
    > s <- summary(fit, conf.int = 0.95)
    > s$coefficients[, c("coef", "exp(coef)", "se(coef)", "z", "Pr(>|z|)")]
    > s$conf.int[, c("lower .95", "upper .95")]
    """
    table = fits[case].table
    names = _r_names(table)
    r = ref[case]
    assert names == list(r["coef"])  # same parameters in the same order
    expected = [r[column][k] for k in names]
    assert table[column].to_numpy() == pytest.approx(expected, rel=REL)


def test_categorical_coding_uses_explicit_reference(fits):
    """Treatment coding of the 3-level 'salvage' against 'inotuzumab' (not the
    alphabetical first level), levels in R's relevel() order."""
    t = fits["synth_multi"].table
    sal = t[t["variable"] == "salvage"]
    assert list(sal["term"]) == ["salvage[blinatumomab]", "salvage[chemotherapy]"]
    assert list(sal["level"]) == ["blinatumomab", "chemotherapy"]
    assert set(sal["reference"]) == {"inotuzumab"}
    assert fits["synth_multi"].reference == {"salvage": "inotuzumab", "sex": "female"}
    assert t.loc[t["term"] == "age", "level"].iloc[0] is None
    assert not t["monotone"].any()


# ---------------------------------------------------------------------------
# counts, log-likelihood, global tests, concordance
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(MODELS), ids=list(MODELS))
def test_counts_against_R_coxph(fits, ref, case):
    """Exact.

    > c(fit$n, fit$nevent, length(fit$na.action))
    """
    res, r = fits[case], ref[case]
    assert (res.n, res.n_events, res.n_excluded) == (r["n"], r["nevent"], r["n_excluded"])
    assert res.n_parameters == len(r["coef"])
    assert res.events_per_parameter == pytest.approx(r["nevent"] / len(r["coef"]), rel=1e-12)


@pytest.mark.parametrize("case", list(MODELS), ids=list(MODELS))
def test_loglik_against_R_coxph(fits, ref, case):
    """rel 1e-6.

    > fit$loglik
    """
    assert fits[case].loglik == pytest.approx(ref[case]["loglik"], rel=REL)


@pytest.mark.parametrize("case", list(MODELS), ids=list(MODELS))
@pytest.mark.parametrize(
    "attr, key",
    [("likelihood_ratio_test", "lr"), ("wald_test", "wald"), ("score_test", "score")],
    ids=["likelihood_ratio", "wald", "score_logrank"],
)
def test_global_tests_against_R_summary_coxph(fits, ref, case, attr, key):
    """rel 1e-6; df exact. Wald from the unrounded fit$wald.test (summary()
    rounds the printed statistic to 2 decimals).

    > s <- summary(fit); s$logtest; s$sctest
    > c(fit$wald.test, length(coef(fit)), pchisq(fit$wald.test, length(coef(fit)), lower.tail = FALSE))
    """
    got, r = getattr(fits[case], attr), ref[case][key]
    assert got.statistic == pytest.approx(r["stat"], rel=REL)
    assert got.df == r["df"]
    assert got.p == pytest.approx(r["p"], rel=REL)


@pytest.mark.parametrize("case", list(MODELS), ids=list(MODELS))
def test_concordance_against_R_coxph_concordance(fits, ref, case):
    """rel 1e-6.

    > fit$concordance["concordance"]
    """
    assert fits[case].concordance == pytest.approx(ref[case]["concordance"], rel=REL)


# ---------------------------------------------------------------------------
# univariable models
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("variable", UNIVARIABLE, ids=UNIVARIABLE)
def test_univariable_cox_against_R_separate_coxph_fits(univariable, ref, variable):
    """One coxph per covariate; rel 1e-6; counts exact.

    > fit <- coxph(Surv(time, event) ~ age, synth)   # likewise salvage, sex, blasts
    > summary(fit)$coefficients; summary(fit)$conf.int; summary(fit)$logtest
    > c(fit$n, fit$nevent, length(fit$na.action))
    """
    rows = univariable[univariable["variable"] == variable]
    r = ref[f"uni_{variable}"]
    names = _r_names(rows)
    assert names == list(r["coef"])
    for column in ["coef", "se", "hr", "lower", "upper", "z", "p"]:
        assert rows[column].to_numpy() == pytest.approx([r[column][k] for k in names], rel=REL), column
    assert set(rows["n"]) == {r["n"]}
    assert set(rows["n_events"]) == {r["nevent"]}
    assert set(rows["n_excluded"]) == {r["n_excluded"]}
    assert set(rows["lr_df"]) == {r["lr"]["df"]}
    assert rows["lr_p"].iloc[0] == pytest.approx(r["lr"]["p"], rel=REL)


def test_univariable_cox_columns_and_default_reference_note(univariable):
    """'sex' had no reference given: 'female' (first sorted level) is used and
    the model's warnings say so."""
    assert list(univariable.columns) == [
        "term", "variable", "level", "reference", "coef", "se", "hr", "lower", "upper",
        "z", "p", "monotone", "n", "n_events", "n_excluded", "lr_df", "lr_p", "warnings", "cautions",
    ]  # fmt: skip
    sex = univariable[univariable["variable"] == "sex"]
    assert sex["reference"].iloc[0] == "female"
    assert any("no reference level given for 'sex'" in w for w in sex["warnings"].iloc[0])
    assert CoxCaution("default_reference", variable="sex", level="female") in sex["cautions"].iloc[0]
    age = univariable[univariable["variable"] == "age"]
    assert age["warnings"].iloc[0] == ()


# ---------------------------------------------------------------------------
# cox.zph
# ---------------------------------------------------------------------------

ZPH_CASES = [
    ("rossi", "km"),
    ("rossi", "rank"),
    ("rossi", "identity"),
    ("rossi", "log"),
    ("synth_multi", "km"),
    ("synth_missing", "km"),
]
ZPH_IDS = [f"{c}-{t}" for c, t in ZPH_CASES]


@pytest.fixture(scope="module")
def zphs() -> dict[tuple[str, str], ZphResult]:
    out = {}
    for case, transform in ZPH_CASES:
        file, time, event, covs, reference = MODELS[case]
        out[(case, transform)] = cox_zph(
            _data(file), time=time, event=event, covariates=covs, reference=reference, transform=transform
        )
    return out


@pytest.mark.parametrize("case, transform", ZPH_CASES, ids=ZPH_IDS)
def test_cox_zph_table_against_R_cox_zph(zphs, ref, case, transform):
    """survival >= 3.0 score test, one row per term (salvage: 2 df) + GLOBAL;
    chisq and p rel 1e-6, df exact.

    > cox.zph(fit, transform = transform)$table
    """
    z, r = zphs[(case, transform)], ref[case]["zph"][transform]
    assert list(z.table["term"]) == list(r["chisq"])
    assert z.table["chisq"].to_numpy() == pytest.approx(list(r["chisq"].values()), rel=REL)
    assert list(z.table["df"]) == list(r["df"].values())
    assert z.table["p"].to_numpy() == pytest.approx(list(r["p"].values()), rel=REL)
    assert z.transform == transform


@pytest.mark.parametrize("case, transform", ZPH_CASES, ids=ZPH_IDS)
def test_cox_zph_residuals_against_R_cox_zph(zphs, ref, case, transform):
    """Scaled Schoenfeld residuals per term (a factor's levels combined, as R),
    transformed and original event times. rel 1e-6, plus abs 1e-6 times the
    largest |residual| of the term: a residual is beta_j + (scaled part), so
    values near 0 come from cancellation and their error is relative to the
    column's scale (R's beta itself is accurate to ~1e-8). x = 0 at abs 1e-12.

    > z <- cox.zph(fit, transform = transform); z$y; z$x; z$time
    """
    z, r = zphs[(case, transform)], ref[case]["zph"][transform]
    wide = z.residuals.pivot(index="event_index", columns="term", values="residual")
    for term, values in r["y"].items():
        scale = float(np.max(np.abs(values)))
        assert wide[term].to_numpy() == pytest.approx(values, rel=REL, abs=REL * scale), term
    first = z.residuals.drop_duplicates("event_index")
    assert first["transformed_time"].to_numpy() == pytest.approx(r["x"], rel=REL, abs=1e-12)
    assert first["time"].to_numpy() == pytest.approx(r["time"], rel=REL)


def test_cox_zph_differs_from_lifelines_old_test_regression():
    """Why the test is our own code: lifelines' proportional_hazard_test (the
    pre-3.0 approximation) does not give R 3.x's value for rossi 'age'
    (R: chisq 5.97398165...)."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rossi = _data("rossi.csv")
    cph = CoxPHFitter().fit(rossi, "week", "arrest")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = proportional_hazard_test(cph, rossi, time_transform="km").summary
    assert old.loc["age", "test_statistic"] != pytest.approx(5.973981653418425, rel=1e-3)


# ---------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------


def test_missing_covariate_complete_case_against_R_na_omit(fits, ref):
    """8 patients without 'blasts' are dropped and counted; 66 used.

    > fit <- coxph(Surv(time, event) ~ age + blasts + salvage, synth)
    > c(fit$n, fit$nevent, length(fit$na.action))   # 66 30 8
    """
    res = fits["synth_missing"]
    assert (res.n, res.n_excluded, res.n_events) == (66, 8, 30)
    assert (res.n, res.n_excluded) == (ref["synth_missing"]["n"], ref["synth_missing"]["n_excluded"])


def test_events_per_parameter_warning(fits):
    """synth_multi: 36 events / 4 parameters = 9 < 10 -> warning;
    rossi: 114 / 7 > 10 -> no warning."""
    assert fits["synth_multi"].events_per_parameter == pytest.approx(9.0)
    assert any("fewer than 10 events per parameter" in w for w in fits["synth_multi"].warnings)
    assert fits["rossi"].warnings == ()


def test_events_per_parameter_threshold_keyword():
    """The threshold is a keyword (here 5: 36 / 4 = 9 is enough)."""
    res = cox_model(
        _data("cox_synthetic.csv"),
        time="time",
        event="event",
        covariates=["age", "salvage", "sex"],
        reference=SALVAGE_REF,
        min_events_per_parameter=5,
    )
    assert not any("events per parameter" in w for w in res.warnings)


@pytest.fixture(scope="module")
def monotone() -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may leak (overflow, lifelines)
        return cox_model(
            _data("cox_synthetic.csv"),
            time="time",
            event="event",
            covariates=["age", "cns"],
            reference={"cns": "cns1"},
        )


def test_zero_event_level_warns_like_R_monotone_likelihood(monotone, ref):
    """Level cns3 has no events: R warns about variable 3 (cnscns3) and fits;
    we flag the same term and warn, without raising.

    > coxph(Surv(time, event) ~ age + cns, synth)
    Warning: Loglik converged before variable  3 ; coefficient may be infinite.
    """
    assert "variable  3 " in ref["synth_monotone"]["warnings"][0]
    t = monotone.table
    assert list(t["monotone"]) == [False, False, True]
    assert t.loc[2, "term"] == "cns[cns3]"
    assert t.loc[2, "coef"] < -10
    assert any("'cns3' of 'cns' has no events" in w for w in monotone.warnings)
    assert any("may be infinite" in w and "cns[cns3]" in w for w in monotone.warnings)
    # the same cautions as data, one per warning, for the presentation to word (no sentence to parse)
    assert len(monotone.cautions) == len(monotone.warnings)
    assert CoxCaution("level_without_events", variable="cns", level="cns3") in monotone.cautions
    assert CoxCaution("may_be_infinite", variable="cns", level="cns3", term="cns[cns3]") in monotone.cautions


def test_zero_event_level_other_terms_against_R_coxph(monotone, ref):
    """The finite coefficients and the log-likelihood do not depend on where
    the infinite one stopped (R: -18.1, here lower) beyond exp(-18);
    rel 1e-6.

    > fit <- coxph(Surv(time, event) ~ age + cns, synth)
    > coef(fit)[1:2]; sqrt(diag(vcov(fit)))[1:2]; fit$loglik
    """
    r = ref["synth_monotone"]
    t = monotone.table
    for column in ["coef", "se", "hr", "lower", "upper", "z", "p"]:
        assert t[column].to_numpy()[:2] == pytest.approx([r[column]["age"], r[column]["cnscns2"]], rel=REL)
    assert monotone.loglik == pytest.approx(r["loglik"], rel=REL)
    assert monotone.score_test.statistic == pytest.approx(r["score"]["stat"], rel=REL)


def test_default_reference_is_first_level_and_noted():
    """Strings: first sorted level; a category dtype: first category (as an R
    factor); unused categories are left out with a note."""
    s = _data("cox_synthetic.csv")
    res = cox_model(s, time="time", event="event", covariates=["salvage"])
    assert res.reference == {"salvage": "blinatumomab"}
    assert any("no reference level given for 'salvage'" in w for w in res.warnings)

    s["salvage"] = pd.Categorical(s["salvage"], categories=["chemotherapy", "inotuzumab", "blinatumomab", "none"])
    res = cox_model(s, time="time", event="event", covariates=["salvage"])
    assert res.reference == {"salvage": "chemotherapy"}
    assert list(res.table["level"]) == ["inotuzumab", "blinatumomab"]
    assert any("'none' of 'salvage' has no patients" in w for w in res.warnings)


def _synth() -> pd.DataFrame:
    return _data("cox_synthetic.csv")


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (lambda d: d.assign(event=0), {}, "all observations are censored"),
        (lambda d: d, {"covariates": ["nope"]}, "column 'nope' is not in the data"),
        (lambda d: d, {"covariates": []}, "at least one covariate"),
        (lambda d: d, {"reference": {"salvage": "cart"}}, "reference level 'cart' of 'salvage' has no patients"),
        (lambda d: d, {"covariates": ["age"], "reference": {"age": "1"}}, "numeric covariate 'age'"),
        (lambda d: d.assign(k=1.0), {"covariates": ["k"]}, "covariate 'k' is constant"),
        (lambda d: d.assign(k="a"), {"covariates": ["k"]}, "covariate 'k' has only one level"),
        (lambda d: d.assign(event=d["event"] * 2), {}, "must be coded 0/1"),
        (lambda d: d.assign(time=d["time"].where(d.index > 0)), {}, "time column 'time' has missing values"),
        (lambda d: d.assign(time=-d["time"]), {}, "negative"),
        (lambda d: d.assign(age2=d["age"] * 2), {"covariates": ["age", "age2"]}, "collinear"),
    ],
    ids=[
        "all-censored",
        "missing-column",
        "no-covariates",
        "unknown-reference",
        "reference-for-numeric",
        "constant",
        "single-level",
        "event-not-binary",
        "missing-time",
        "negative-time",
        "collinear",
    ],
)
def test_impossible_input_raises_value_error(change, kwargs, message):
    args = {"time": "time", "event": "event", "covariates": ["age", "salvage"], "reference": None}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        cox_model(change(_synth()), **args)


@pytest.mark.parametrize(
    "change, kwargs, failure",
    [
        (lambda d: d.assign(event=0), {}, CoxFailure("all_censored")),
        (lambda d: d, {"reference": {"salvage": "cart"}},
         CoxFailure("reference_without_patients", variable="salvage", level="cart")),
        (lambda d: d.assign(k=1.0), {"covariates": ["k"]}, CoxFailure("constant", variable="k")),
        (lambda d: d.assign(k="a"), {"covariates": ["age", "k"]}, CoxFailure("single_level", variable="k", level="a")),
        (lambda d: d.assign(k=np.nan), {"covariates": ["age", "k"]},
         CoxFailure("no_complete_cases", unrecorded=("k",))),
        (lambda d: d.assign(age=d["age"].where(d.index % 2 == 0), k=pd.Series("a", index=d.index).where(d.index % 2 == 1)),
         {"covariates": ["age", "k"]}, CoxFailure("no_complete_cases", unrecorded=())),
        (lambda d: d.assign(age2=d["age"] * 2), {"covariates": ["age", "age2"]}, CoxFailure("collinear")),
    ],
    ids=["all-censored", "unknown-reference", "constant", "single-level", "no-complete-cases-unrecorded",
         "no-complete-cases", "collinear"],
)
def test_model_not_fitted_says_why_as_data(change, kwargs, failure):
    """A model the data cannot support raises CoxNotFitted (still a ValueError
    with the same message) whose ``failure`` names the reason, covariate and
    level as data, for the presentation to word (audit item 1, left over: the
    tables printed "covariate 'SALVGRP' has only one level ('Targeted')")."""
    args = {"time": "time", "event": "event", "covariates": ["age", "salvage"], "reference": None}
    args.update(kwargs)
    data = change(_synth())
    if failure.kind == "no_complete_cases":  # every patient of the file is left out
        failure = dataclasses.replace(failure, n_patients=len(data))
    with pytest.raises(CoxNotFitted) as info:
        cox_model(data, **args)
    assert info.value.failure == failure


def test_call_errors_are_not_a_model_not_fitted():
    """A wrong call (a column not in the data) is a plain ValueError: not a
    reason that lies in the data, so nothing for a reader."""
    with pytest.raises(ValueError) as info:
        cox_model(_synth(), time="time", event="event", covariates=["nope"])
    assert not isinstance(info.value, CoxNotFitted)


def test_cox_zph_rejects_unknown_transform():
    with pytest.raises(ValueError, match="transform must be one of"):
        cox_zph(_synth(), time="time", event="event", covariates=["age"], transform="spline")


def test_results_are_frozen(fits):
    with pytest.raises(AttributeError):
        fits["rossi"].n = 1  # type: ignore[misc]


def test_reference_level_without_events_warns():
    """Reference 'cns3' has no events: both other levels' coefficients run to
    +infinity; warnings, no exception (no R value: R's estimates there depend
    on where its iterations stop)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cox_model(_synth(), time="time", event="event", covariates=["cns"], reference={"cns": "cns3"})
    assert list(res.table["monotone"]) == [True, True]
    assert (res.table["coef"] > 10).all()
    assert any("reference level 'cns3' of 'cns' has no events" in w for w in res.warnings)
