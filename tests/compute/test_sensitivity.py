"""Tests for analysis.compute.sensitivity against R.

Reference values: tests/reference/sensitivity_reference.json, written by
tests/reference/sensitivity_reference.R with R 4.2.2 Patched (2022-11-10 r83330),
survival 3.5-3 and cmprsk 2.2-11 (``Rscript tests/reference/sensitivity_reference.R``).
R is not needed to run these tests.

Data (CSV files beside the R script; the tests never read the live cohort, whose
survival times are being recalibrated):

* "cohort": ADSL (the columns used here) and ADTTE of the shipped synthetic
  cohort, exported from ``run_analysis()`` by the R script's first step;
* "handmade": 16 hand-made patients (see the R script's header): HSCT on the day
  of death (H03), HSCT without CR (H09), a transplant on the day of a death in
  the HSCT state (H02 enters when H09 dies), tied relapse and non-relapse death
  (H06, H10), a CR after the landmark (H12), CD19NEG missing in two patients;
* "handmade_nohsct": the same with every transplant removed.

R derives the RFS censoring, the counting-process split (``tmerge``) and the
landmark data itself from the CSV dates, so those derivations are checked too.

Tolerance: relative 1e-6 (absolute 1e-12 for values that are 0) for every value
compared with R; counts and labels exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compute import sensitivity as sens
from analysis.derive import Definitions, Derived

from tests.conventions import r_conventions

sens = r_conventions(sens)

REF_DIR = Path(__file__).resolve().parents[1] / "reference"
REL = 1e-6
ABS = 1e-12
R_VERSION = "R version 4.2.2 Patched (2022-11-10 r83330)"
SURVIVAL_VERSION = "3.5.3"
CMPRSK_VERSION = "2.2.11"

MAIN_COVARIATES = ["SALVGRP", "AGEGR1", "BMBURDEN", "PRIORSCT"]
MAIN_REFERENCE = {"SALVGRP": "Targeted", "AGEGR1": "<18", "BMBURDEN": "<50%", "PRIORSCT": "N",
                  "CD19NEG": "N", "CYTORISK": "Standard"}
HAND_REFERENCE = {"SALVGRP": "Targeted", "CD19NEG": "N"}

# data set -> (Cox covariates, landmarks, CIF times, missing-data model: (covariates, extra))
CASES = {
    "cohort": (MAIN_COVARIATES, [3.0, 6.0], [3.0, 6.0, 12.0, 24.0], (["SALVGRP", "AGEGR1"], ["CD19NEG", "CYTORISK"])),
    "handmade": (["SALVGRP"], [3.0, 0.5], [0.5, 1.0, 2.0, 3.0, 6.0], (["SALVGRP"], ["CD19NEG"])),
    "handmade_nohsct": (["SALVGRP"], [], [1.0, 3.0], None),
}
FILES = {
    "cohort": ("sensitivity_adsl.csv", "sensitivity_adtte.csv"),
    "handmade": ("sensitivity_handmade_adsl.csv", "sensitivity_handmade_adtte.csv"),
    "handmade_nohsct": ("sensitivity_handmade_adsl.csv", "sensitivity_handmade_adtte.csv"),
}


# --------------------------------------------------------------------------- data


def _read(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF_DIR / name, keep_default_na=False, na_values=[""], dtype=str)
    for col in df.columns:
        if col.endswith("DT"):
            df[col] = pd.to_datetime(df[col])
        elif col == "AVAL":
            df[col] = df[col].astype(float)
        elif col in ("CNSR", "PARAMN"):
            df[col] = df[col].astype(int)
        else:
            df[col] = df[col].astype("string")
    return df


def _derived(case: str, days_per_month: float) -> Derived:
    adsl_file, adtte_file = FILES[case]
    adsl = _read(adsl_file)
    if case == "handmade_nohsct":
        adsl["HSCTFL"] = adsl["HSCTFL"].where(adsl["SALVFL"] != "Y", "N")
        adsl["HSCTDT"] = pd.NaT
    return Derived(adsl=adsl, adtte=_read(adtte_file), flow=None, synthetic=True,
                   definitions=Definitions(days_per_month=days_per_month, adult_age_years=18,
                                             high_marrow_burden_pct=50))


@pytest.fixture(scope="module")
def ref() -> dict:
    with open(REF_DIR / "sensitivity_reference.json") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def data(ref) -> dict[str, Derived]:
    return {case: _derived(case, ref["days_per_month"][0]) for case in CASES}


def arr(x) -> np.ndarray:
    """R vector (JSON array, null = NA) as floats with NaN."""
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def close(actual, expected) -> None:
    a = np.asarray(actual, dtype=float)
    e = arr(expected) if isinstance(expected, list) else np.asarray(expected, dtype=float)
    assert a.shape == e.shape, (a.shape, e.shape)
    np.testing.assert_allclose(a, e, rtol=REL, atol=ABS, equal_nan=True)


def test_reference_versions(ref):
    assert ref["R_version"] == [R_VERSION]
    assert ref["survival_version"] == [SURVIVAL_VERSION]
    assert ref["cmprsk_version"] == [CMPRSK_VERSION]


# --------------------------------------------------------------------------- 1. RFS censored at HSCT


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_rfs_censored_at_hsct_against_R_derivation(case, ref, data):
    """R derives the censoring from the CSV dates:
    > hs <- HSCTFL == "Y" & HSCTDT < ADT; time[hs] <- months(pmax(HSCTDT, STARTDT), STARTDT); EVENT[hs] <- 0
    """
    r = ref[case]["rfs"]
    primary = data[case].tte("RFS", population="all")
    out = sens.rfs_censored_at_hsct(data[case])
    assert list(out.columns) == list(primary.columns)
    for frame, key in ((primary, "primary"), (out, "censored_hsct")):
        frame = frame.sort_values("USUBJID")
        assert list(frame["USUBJID"]) == r[key]["USUBJID"]
        close(frame["AVAL"], r[key]["time"])
        assert list(frame["EVENT"]) == r[key]["event"]
    assert (out["EVENT"] == 1 - out["CNSR"]).all()
    n_cut = int((out["CNSDTDSC"] == sens.HSCT_CENSOR_DESC).sum())
    assert n_cut == r["censored_hsct"]["n_censored_hsct"][0]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("method", ["log", "log-log"])
def test_rfs_hsct_sensitivity_against_R_quantile(case, method, ref, data):
    """> quantile(survfit(Surv(time, EVENT) ~ 1, data = rfs, conf.type = method), 0.5)
    for the RFS data as defined and censored at HSCT."""
    tab = sens.rfs_hsct_sensitivity(data[case], method=method, alpha=0.05)
    assert list(tab["analysis"]) == list(sens.RFS_ANALYSES)
    for (_, row), key in zip(tab.iterrows(), ("primary", "censored_hsct")):
        r = ref[case]["rfs"][key]
        assert row["n"] == r["n"][0] and row["events"] == r["events"][0]
        m = r[f"median_{method}"]
        close([row["median"], row["lower"], row["upper"]], [m["median"][0], m["lower"][0], m["upper"][0]])
        assert row["median_reached"] == (m["median"][0] is not None)
        assert row["upper_reached"] == (m["upper"][0] is not None)
    assert tab["n_censored_hsct"].iloc[0] == 0


def test_rfs_without_any_hsct_is_unchanged(data):
    """No transplant at all: censoring at HSCT changes nothing (regression value: identity)."""
    d = data["handmade_nohsct"]
    pd.testing.assert_frame_equal(sens.rfs_censored_at_hsct(d), d.tte("RFS", population="all"))


def test_rfs_hsct_on_day_of_death_keeps_the_event(data):
    """H03: HSCT and death on the same day; the transplant does not precede the event."""
    out = sens.rfs_censored_at_hsct(data["handmade"]).set_index("USUBJID")
    assert out.loc["HAND-H03", "EVENT"] == 1
    assert out.loc["HAND-H03", "EVNTDESC"] == "Death without relapse"
    assert out.loc["HAND-H02", "CNSDTDSC"] == sens.HSCT_CENSOR_DESC


# --------------------------------------------------------------------------- 2. counting process and Cox


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_counting_process_against_R_tmerge(case, ref, data):
    """> base <- tmerge(os[, c("USUBJID", covs)], os, id = USUBJID, death = event(time, EVENT))
    > split <- tmerge(base, os, id = USUBJID, hsct = tdc(htime))   # htime = months to HSCT
    """
    r = ref[case]["split"]
    cp = sens.hsct_counting_process(data[case], population="salvage", covariates=CASES[case][0])
    assert list(cp["USUBJID"]) == r["USUBJID"]
    close(cp["tstart"], r["tstart"])
    close(cp["tstop"], r["tstop"])
    assert list(cp["event"]) == r["event"]
    assert list(cp["hsct"]) == r["hsct"]


def test_counting_process_hsct_on_day_of_death_not_split(data):
    """H03 (HSCT on the day of death) stays in the no-HSCT state: one row, hsct = 0, event = 1."""
    cp = sens.hsct_counting_process(data["handmade"], population="salvage")
    rows = cp[cp["USUBJID"] == "HAND-H03"]
    assert len(rows) == 1 and rows["hsct"].iloc[0] == 0 and rows["event"].iloc[0] == 1


def _r_term(term: str) -> str:
    return term.replace("[", "").replace("]", "")


@pytest.mark.parametrize("case", ["cohort", "handmade"])
def test_cox_time_dependent_hsct_against_R_coxph(case, ref, data):
    """> coxph(Surv(tstart, tstop, death) ~ hsct + SALVGRP [+ AGEGR1 + BMBURDEN + PRIORSCT],
    >       data = split, ties = "efron")
    with the references of analysis.yml (cohort) / SALVGRP = Targeted (handmade)."""
    r = ref[case]["cox_td"]
    covs = CASES[case][0]
    reference = {k: v for k, v in MAIN_REFERENCE.items() if k in covs}
    res = sens.cox_time_dependent_hsct(data[case], population="salvage", covariates=covs, reference=reference, alpha=0.05)
    tab = res.table
    assert [_r_term(t) for t in tab["term"]] == r["terms"]
    for col, key in (("coef", "coef"), ("se", "se"), ("hr", "hr"), ("lower", "lower"), ("upper", "upper"),
                     ("z", "z"), ("p", "p")):
        close(tab[col], r[key])
    close(res.loglik, r["loglik"])
    for test, key in ((res.likelihood_ratio_test, "lr"), (res.wald_test, "wald"), (res.score_test, "score")):
        close([test.statistic, test.df, test.p], r[key])
    assert res.n_intervals == r["n"][0]
    assert res.n_events == r["nevent"][0]
    assert res.ties == "efron"
    assert res.n == res.counting_process["USUBJID"].nunique()
    assert not tab["monotone"].any()


def test_cox_time_dependent_without_hsct_raises(data):
    with pytest.raises(ValueError, match="no patient has follow-up after a consolidative HSCT"):
        sens.cox_time_dependent_hsct(data["handmade_nohsct"], population="salvage", covariates=["SALVGRP"])


# --------------------------------------------------------------------------- 3. Simon-Makuch


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_simon_makuch_against_R_survfit_counting_process(case, conf_type, ref, data):
    """> summary(survfit(Surv(tstart, tstop, death) ~ hsct, data = split, conf.type = conf_type),
    >         censored = TRUE)"""
    r = ref[case]["simon_makuch"][conf_type]
    sm = sens.simon_makuch(data[case], population="salvage", alpha=0.05, conf_type=conf_type)
    rows = sm[(sm["n_event"] + sm["n_censor"]) > 0]
    strata = {"No HSCT": "hsct=0", "HSCT": "hsct=1"}
    expected = [s if s != "all" else "hsct=0" for s in r["strata"]]
    assert [strata[g] for g in rows["group"]] == expected
    close(rows["time"], r["time"])
    for col, key in (("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor"), ("surv", "surv"),
                     ("se_surv", "std_err"), ("lower", "lower"), ("upper", "upper")):
        close(rows[col], r[key])


def test_simon_makuch_without_hsct_is_the_km_of_os(ref, data):
    """No transplant: one group, equal to > summary(survfit(Surv(time, EVENT) ~ 1, data = os), censored = TRUE)."""
    sm = sens.simon_makuch(data["handmade_nohsct"], population="salvage")
    assert set(sm["group"]) == {"No HSCT"}
    r = ref["handmade_nohsct"]["os_km"]
    close(sm["time"], r["time"])
    close(sm["surv"], r["surv"])
    close(sm["se_surv"], r["std_err"])


def test_simon_makuch_entry_rows(data):
    """HSCT curve: transplants enter at their date and are at risk only after it (R's (start, stop]).
    Hand-made: H09 (HSCT day 60) dies on day 100, the day H02 is transplanted, so H02 is not at risk then."""
    sm = sens.simon_makuch(data["handmade"], population="salvage")
    hs = sm[sm["group"] == "HSCT"].reset_index(drop=True)
    dpm = data["handmade"].definitions.days_per_month
    assert hs["time"].iloc[0] == pytest.approx(60 / dpm) and hs["n_enter"].iloc[0] == 1
    assert hs["n_risk"].iloc[0] == 0 and hs["surv"].iloc[0] == 1.0
    at100 = hs[np.isclose(hs["time"], 100 / dpm)].iloc[0]
    assert at100["n_event"] == 1 and at100["n_enter"] == 1
    assert at100["n_risk"] == 3  # H01 (HSCT d90), H09, H15 (d80); not H02
    assert hs["n_enter"].sum() == 4  # H01, H02, H09, H15; not H03 (HSCT on the day of death)


# --------------------------------------------------------------------------- 4. landmark


LANDMARK_CASES = [(case, i, lm) for case, spec in CASES.items() for i, lm in enumerate(spec[1])]


@pytest.mark.parametrize("case,index,landmark", LANDMARK_CASES,
                         ids=[f"{c}-{lm:g}mo" for c, _, lm in LANDMARK_CASES])
def test_landmark_os_by_response_against_R_survdiff(case, index, landmark, ref, data):
    """> lm <- subset(os, time > L); lm$group <- CR/CRi with CRDT - RELDT <= L (months) or not
    > summary(survfit(Surv(time - L, EVENT) ~ group, data = lm), censored = TRUE)
    > survdiff(Surv(time - L, EVENT) ~ group, data = lm); quantile(fit, 0.5)"""
    r = ref[case]["landmark"][index]
    assert r["landmark"] == [landmark]
    res = sens.landmark_os_by_response(data[case], population="salvage", landmark_months=landmark, alpha=0.05)
    d = res.data.sort_values("USUBJID")
    assert list(d["USUBJID"]) == r["USUBJID"]
    assert list(d["group"].astype(str)) == r["group"]
    assert list(res.groups["group"]) == list(sens.LANDMARK_GROUPS)
    assert list(res.groups["n"]) == r["n"]
    assert list(res.groups["events"]) == r["events"]
    assert res.n_excluded == r["n_excluded"][0]
    km = r["km"]
    close(res.km["time"], km["time"])
    for col, key in (("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor"), ("surv", "surv"),
                     ("se_surv", "std_err"), ("lower", "lower"), ("upper", "upper")):
        close(res.km[col], km[key])
    if "survdiff" in r:
        lr = res.logrank
        close([lr.chisq, lr.p], [r["survdiff"]["chisq"][0], r["survdiff"]["p"][0]])
        close(lr.groups["observed"], r["survdiff"]["obs"])
        close(lr.groups["expected"], r["survdiff"]["exp"])
        close(res.groups["median"], r["median"]["median"])
        close(res.groups["lower"], r["median"]["lower"])
        close(res.groups["upper"], r["median"]["upper"])
    else:
        assert res.logrank is None and res.logrank_note is not None


def test_landmark_empty_group(data):
    """Landmark at 0.5 months, before any CR/CRi: the CR/CRi group is empty and there is no test."""
    res = sens.landmark_os_by_response(data["handmade"], population="salvage", landmark_months=0.5)
    row = res.groups.set_index("group").loc["CR/CRi"]
    assert row["n"] == 0 and np.isnan(row["median"])
    assert res.logrank is None and "has no patients" in res.logrank_note
    assert set(res.km["group"]) == {"No CR/CRi"}


def test_landmark_cr_after_landmark_counts_as_no_cr(data):
    """H12 reached CR on day 200, after the 3-month landmark: analysed as "No CR/CRi"."""
    res = sens.landmark_os_by_response(data["handmade"], population="salvage", landmark_months=3.0)
    assert res.data.set_index("USUBJID").loc["HAND-H12", "group"] == "No CR/CRi"
    assert res.n_cr_after_landmark == 1


# --------------------------------------------------------------------------- 5. competing risks


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_cumulative_incidence_against_R_survfit_multistate(case, conf_type, ref, data):
    """> survfit(Surv(time, factor(status, 0:2)) ~ 1, data = rfs_group, conf.type = conf_type)
    (Aalen-Johansen; std.err of pstate), at the requested times (summary(fit, times, extend = TRUE))
    and along the whole curve; the estimate also against > timepoints(cuminc(time, status), times)."""
    r = ref[case]["cif"]
    times = CASES[case][2]
    assert r["times"] == times
    res = sens.cumulative_incidence_relapse(data[case], times=times, alpha=0.05, conf_type=conf_type)
    assert list(res.estimates["group"].unique()) == r["groups"]
    for group in r["groups"]:
        for event in sens.CIF_EVENTS:
            est = res.estimates[(res.estimates["group"] == group) & (res.estimates["event"] == event)]
            exp = r[group][conf_type][event]
            for col in ("cif", "se", "lower", "upper", "n_risk"):
                close(est[col], exp[col])
            if r[group].get("cuminc") is not None:  # cuminc's timepoints() is NA past the last time
                known = ~np.isnan(arr(r[group]["cuminc"][event]))
                close(est["cif"].to_numpy()[known], arr(r[group]["cuminc"][event])[known])
            cur = res.curves[(res.curves["group"] == group) & (res.curves["event"] == event)]
            exp = r[group][conf_type][f"curve_{event}"]
            for col in ("time", "cif", "se", "lower", "upper", "n_risk"):
                close(cur[col], exp[col])


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_gray_test_against_R_cuminc(case, ref, data):
    """> cuminc(time, status, SALVGRP, cencode = 0)$Tests   (Gray 1988, rho = 0)"""
    r = ref[case]["cif"]["gray"]
    res = sens.cumulative_incidence_relapse(data[case], times=[1.0], alpha=0.05)
    g = res.gray_test
    assert list(g["event"]) == list(sens.CIF_EVENTS) and r["cause"] == ["1", "2"]
    close(g["statistic"], r["statistic"])
    close(g["p"], r["p"])
    assert list(g["df"]) == r["df"]


def test_cumulative_incidence_counts(data):
    """Hand-made counts: 4 relapses, 3 deaths without relapse, 3 censored among 10 in CR/CRi."""
    res = sens.cumulative_incidence_relapse(data["handmade"], times=[1.0])
    assert (res.n, res.n_relapse, res.n_death, res.n_censored) == (10, 4, 3, 3)


def test_cumulative_incidence_matches_lifelines_aalen_johansen(data):
    """lifelines AalenJohansenFitter (no tied event times of different types in the cohort, so no
    jitter) gives the same CIF and variance (Collett's delta method): regression check of the
    own implementation against the library."""
    from lifelines import AalenJohansenFitter

    d = data["cohort"]
    rfs = d.tte("RFS", population="all")
    status = np.where(rfs["EVENT"] == 0, 0, np.where(rfs["EVNTDESC"].fillna("") == "Relapse", 1, 2))
    events = pd.DataFrame({"t": rfs["AVAL"], "s": status})[status > 0].drop_duplicates()
    assert not events["t"].duplicated().any(), "precondition: no tied times of different event types"
    res = sens.cumulative_incidence_relapse(d, times=[1.0], group=None, conf_type="log-log")
    for k, event in enumerate(sens.CIF_EVENTS, start=1):
        aj = AalenJohansenFitter(calculate_variance=True).fit(rfs["AVAL"], status, event_of_interest=k)
        cur = res.curves[res.curves["event"] == event].set_index("time")
        lib = aj.cumulative_density_.iloc[:, 0].reindex(cur.index)
        np.testing.assert_allclose(cur["cif"], lib, rtol=1e-12, atol=1e-15)
        var = aj.variance_.set_axis(aj.cumulative_density_.index).reindex(cur.index)
        np.testing.assert_allclose(cur["se"] ** 2, var, rtol=1e-9, atol=1e-15)


# --------------------------------------------------------------------------- 6. missing covariates


@pytest.mark.parametrize("case", ["cohort", "handmade"])
def test_missing_covariate_sensitivity_against_R_coxph(case, ref, data):
    """> coxph(Surv(time, EVENT) ~ SALVGRP [+ AGEGR1] + CD19NEG [+ CYTORISK], data = os)        # complete case
    > os$CD19NEG[is.na(os$CD19NEG)] <- "Missing"; coxph(same formula)                          # missing category
    (factors relevel()ed to the references)."""
    covs, extra = CASES[case][3]
    reference = MAIN_REFERENCE if case == "cohort" else HAND_REFERENCE
    tab = sens.missing_covariate_sensitivity(data[case], population="salvage", covariates=covs, extra=extra,
                                             reference={k: v for k, v in reference.items() if k in covs + extra})
    assert list(tab["approach"].unique()) == ["complete_case", "missing_category"]
    for approach in ("complete_case", "missing_category"):
        r = ref[case]["missing"][approach]
        part = tab[tab["approach"] == approach].set_index(tab.loc[tab["approach"] == approach, "term"].map(_r_term))
        assert sorted(part.index) == sorted(r["terms"])
        part = part.loc[r["terms"]]
        for col in ("coef", "se", "hr", "lower", "upper", "z", "p"):
            close(part[col], r[col])
        assert (part["n"] == r["n"][0]).all() and (part["n_events"] == r["nevent"][0]).all()
    mc = tab[tab["approach"] == "missing_category"]
    assert "CD19NEG[Missing]" in set(mc["term"])
    assert (mc["n_excluded"] == 0).all()


def test_missing_covariate_rejects_numeric_extra(data):
    with pytest.raises(ValueError, match="numeric"):
        d = data["handmade"]
        adsl = d.adsl.assign(NUM=np.where(d.adsl["CD19NEG"].isna(), np.nan, 1.0))
        d2 = Derived(adsl=adsl, adtte=d.adtte, flow=None, synthetic=True, definitions=d.definitions)
        sens.missing_covariate_sensitivity(d2, population="salvage", covariates=["SALVGRP"], extra=["NUM"])


# --------------------------------------------------------------------------- input errors


def test_hsct_flag_without_date_raises(data):
    d = data["handmade"]
    adsl = d.adsl.copy()
    adsl.loc[adsl["USUBJID"] == "HAND-H01", "HSCTDT"] = pd.NaT
    d2 = Derived(adsl=adsl, adtte=d.adtte, flow=None, synthetic=True, definitions=d.definitions)
    with pytest.raises(ValueError, match="HSCTDT is missing for HAND-H01"):
        sens.hsct_counting_process(d2, population="salvage")
    with pytest.raises(ValueError, match="HSCTDT is missing"):
        sens.rfs_censored_at_hsct(d2)


@pytest.mark.parametrize("bad", [-1.0, float("nan")], ids=["negative", "nan"])
def test_landmark_rejects_bad_landmark(bad, data):
    with pytest.raises(ValueError, match="landmark_months"):
        sens.landmark_os_by_response(data["handmade"], population="salvage", landmark_months=bad)


def test_bad_alpha_and_conf_type(data):
    with pytest.raises(ValueError, match="alpha"):
        sens.simon_makuch(data["handmade"], population="salvage", alpha=1.5)
    with pytest.raises(ValueError, match="conf_type"):
        sens.cumulative_incidence_relapse(data["handmade"], times=[1.0], conf_type="plain")


def test_rfs_hsct_before_cr_date_censors_at_cr(data):
    """A transplant recorded before the CR date (H05: HSCT day 10, CR day 25) censors RFS at the CR
    date: AVAL 0, EVENT 0 (the rule of rfs_censored_at_hsct; hand-computed)."""
    d = data["handmade"]
    adsl = d.adsl.copy()
    h05 = adsl["USUBJID"] == "HAND-H05"
    adsl.loc[h05, "HSCTFL"] = "Y"
    adsl.loc[h05, "HSCTDT"] = pd.Timestamp("2020-01-11")
    d2 = Derived(adsl=adsl, adtte=d.adtte, flow=None, synthetic=True, definitions=d.definitions)
    row = sens.rfs_censored_at_hsct(d2).set_index("USUBJID").loc["HAND-H05"]
    assert row["AVAL"] == 0.0 and row["EVENT"] == 0 and row["ADT"] == row["STARTDT"]


def test_missing_category_only_where_values_are_missing(data):
    """CYTORISK is complete in the hand-made cohort: no "Missing" level and no warning about one."""
    d = data["handmade"]
    assert d.salvage["CYTORISK"].notna().all()
    tab = sens.missing_covariate_sensitivity(d, population="salvage", covariates=["SALVGRP"], extra=["CD19NEG", "CYTORISK"],
                                             reference={"SALVGRP": "Targeted", "CD19NEG": "N", "CYTORISK": "Standard"})
    mc = tab[tab["approach"] == "missing_category"]
    assert "CYTORISK[Missing]" not in set(mc["term"])
    assert not any("Missing" in w for w in mc["warnings"].iloc[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_interval_counts_equal_counting_at_each_time(seed):
    """Simon-Makuch's counts by sorting equal the counts by definition at each
    time (start < u <= stop at risk; stop == u with event 1 / 0; entries at u),
    also with ties, zero-length intervals and an interval ending before it
    starts (counted by definition)."""
    from analysis.compute.sensitivity import _interval_counts

    rng = np.random.default_rng(seed)
    n = 300
    start = rng.integers(0, 20, n).astype(float)
    stop = start + rng.integers(0, 15, n)
    if seed == 3:
        stop[:5] = start[:5] - 1  # not a counting process
    event = rng.integers(0, 2, n)
    entries = start[start > 0]
    times = np.unique(np.concatenate([stop, entries]))
    got = _interval_counts(start, stop, event, entries, times)
    want = (
        np.array([np.sum((start < u) & (u <= stop)) for u in times]),
        np.array([np.sum((stop == u) & (event == 1)) for u in times]),
        np.array([np.sum((stop == u) & (event == 0)) for u in times]),
        np.array([np.sum(entries == u) for u in times]),
    )
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
