"""The shipped synthetic cohort analysed by our engine equals R's survival package.

Reference: tests/reference/cohort_reference.json, written by
tests/reference/cohort_reference.R (R 4.2.2, survival 3.5-3) from the exported
analysis data tests/reference/cohort_os.csv and cohort_rfs.csv. Tolerance:
1e-6 relative (1e-12 absolute for zeros).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.compute import cox as cox_mod
from analysis.compute import survival as surv

from tests.conventions import r_conventions

cox_mod = r_conventions(cox_mod)
surv = r_conventions(surv)

REF = Path(__file__).resolve().parent / "reference"
REL, ABS = 1e-6, 1e-12


@pytest.fixture(scope="module")
def ref():
    return json.loads((REF / "cohort_reference.json").read_text())


@pytest.fixture(scope="module")
def data():
    return (pd.read_csv(REF / "cohort_os.csv", keep_default_na=False, na_values=[""]),
            pd.read_csv(REF / "cohort_rfs.csv"))


def close(a, b):
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a is not None and math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def test_reference_made_with_stated_versions(ref):
    assert ref["r_version"].startswith("R version 4.2.2")
    assert ref["survival_version"] == "3.5.3"


def test_exported_data_are_the_shipped_cohort(data):
    """Regression guard: if the synthetic cohort is regenerated, re-export and
    re-run the R script (see tests/reference/export_cohort.py)."""
    from tests.reference.export_cohort import frames

    os_live, rfs_live = frames()
    os_csv, rfs_csv = data
    assert list(os_csv["USUBJID"]) == list(os_live["USUBJID"])
    assert (abs(os_csv["AVAL"].to_numpy() - os_live["AVAL"].to_numpy()) < 1e-12).all()
    assert list(os_csv["EVENT"]) == list(os_live["EVENT"])
    assert (abs(rfs_csv["AVAL"].to_numpy() - rfs_live["AVAL"].to_numpy()) < 1e-12).all()


@pytest.mark.parametrize("endpoint", ["os", "rfs"])
@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_km_and_median_against_R_survfit(ref, data, endpoint, conf_type):
    """> survfit(Surv(AVAL, EVENT) ~ 1, conf.type = ...); quantile(fit, 0.5); summary(fit)"""
    d = data[0] if endpoint == "os" else data[1]
    tag = f"{endpoint}_{conf_type.replace('-', '')}"
    m = surv.km_median(d, time="AVAL", event="EVENT", method=conf_type)
    est, lo, hi = ref[f"{tag}_median"]
    assert close(m.estimate, est) and close(m.lower, lo) and close(m.upper, hi)
    km = surv.kaplan_meier(d, time="AVAL", event="EVENT", conf_type=conf_type)
    km = km[km["n_event"] > 0].reset_index(drop=True)
    for col, key in (("time", "time"), ("surv", "surv"), ("se_surv", "se"), ("lower", "lower"), ("upper", "upper")):
        got = km[col].tolist()
        want = ref[f"{tag}_{key}"]
        assert len(got) == len(want)
        assert all(close(g, w) for g, w in zip(got, want)), col


def test_followup_against_R_reverse_km(ref, data):
    """> quantile(survfit(Surv(AVAL, 1 - EVENT) ~ 1), 0.5)"""
    assert close(surv.median_followup(data[0], time="AVAL", event="EVENT").estimate, ref["followup_median"][0])


@pytest.mark.parametrize("group,key", [("SALVGRP", "logrank_salvgrp"), ("EMDGRP", "logrank_emdgrp")])
def test_logrank_against_R_survdiff(ref, data, group, key):
    """> survdiff(Surv(AVAL, EVENT) ~ group)"""
    d = data[0][data[0][group].notna()]
    lr = surv.logrank(d, time="AVAL", event="EVENT", group=group)
    assert close(lr.chisq, ref[key][0]) and close(lr.p, ref[key][1])


def test_cox_against_R_coxph(ref, data):
    """> coxph(Surv(AVAL, EVENT) ~ SALVGRP + AGEGR1 + BMBURDEN + PRIORSCT, ties = "efron") (releveled)"""
    fit = cox_mod.cox_model(data[0], time="AVAL", event="EVENT",
                            covariates=["SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT"],
                            reference={"SALVGRP": "Targeted", "AGEGR1": "<18", "BMBURDEN": "<50%", "PRIORSCT": "N"})
    t = fit.table
    for col, key in (("coef", "cox_coef"), ("se", "cox_se"), ("p", "cox_p"), ("lower", "cox_lower"),
                     ("upper", "cox_upper")):
        assert all(close(g, w) for g, w in zip(t[col], ref[key])), col
    assert all(close(g, w) for g, w in zip(fit.loglik, ref["cox_loglik"]))
    zph = cox_mod.cox_zph(data[0], time="AVAL", event="EVENT",
                          covariates=["SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT"],
                          reference={"SALVGRP": "Targeted", "AGEGR1": "<18", "BMBURDEN": "<50%", "PRIORSCT": "N"})
    assert all(close(g, w) for g, w in zip(zph.table["chisq"], ref["zph_chisq"]))
    assert all(close(g, w) for g, w in zip(zph.table["p"], ref["zph_p"]))


@pytest.mark.parametrize("variable", ["SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT"])
def test_univariable_cox_against_R_coxph(ref, data, variable):
    """> summary(coxph(Surv(AVAL, EVENT) ~ variable, ties = "efron"))  (releveled):
    coef, se, p, lower, upper of Table 3's univariable column."""
    reference = {"SALVGRP": "Targeted", "AGEGR1": "<18", "BMBURDEN": "<50%", "PRIORSCT": "N"}
    fit = cox_mod.cox_model(data[0], time="AVAL", event="EVENT", covariates=[variable],
                            reference={variable: reference[variable]})
    row = fit.table.iloc[0]
    got = [row["coef"], row["se"], row["p"], row["lower"], row["upper"]]
    assert all(close(g, w) for g, w in zip(got, ref[f"uni_{variable}"])), (got, ref[f"uni_{variable}"])
