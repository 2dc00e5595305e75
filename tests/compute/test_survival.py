"""Tests for analysis/compute/survival.py (Kaplan-Meier statistics).

References
----------
* R: values from R 4.2.2 Patched (2022-11-10 r83330) with survival 3.5-3, stored
  at full precision in tests/reference/survival_reference.json by
  tests/reference/survival_reference.R, which reads the km_*.csv files beside
  it. Compared at rel=1e-6 (absolute 1e-12 for values that are 0); R's NA/NaN
  must be NaN in our tables and None in our result objects. Every case in the
  JSON is tested: a new data set needs only its CSV and one line in the R script.
* SPSS: printed values of SPSS 31.0.1.0 ``KM time BY sex /STATUS=status EVENT(1)
  /PRINT TABLE MEAN`` in tests/reference/spss_km_reference.yml (copy of
  shared/spss_km_reference.yml). Compared to an absolute 1e-9.
* Hand calculations, written out in the test, for the SPSS rule on constructed
  edge cases (exact arithmetic; compared at absolute 1e-12).

Edge-case data sets (tests/reference/km_edge_*.csv, all one group "all"):
edge_half_interval (S = 0.5 exactly on [5, 8)), edge_half_end (S ends at 0.5),
edge_all_censored, edge_no_censoring (ties, an event at time 0),
edge_single_event (one patient), edge_not_reached (S stays above 0.5),
edge_055 (S = 11/20 = 0.55 exactly after 9 events, computed as 0.54999999999999993).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.compute import survival as sv
from analysis.compute.survival import (
    LogrankResult,
    MeanResult,
    MedianResult,
    kaplan_meier,
    km_mean_spss,
    km_mean_spss_by_group,
    km_median,
    km_median_by_group,
    logrank,
    median_followup,
    risk_table,
    survival_at,
)

from tests.conventions import r_conventions

sv = r_conventions(sv)
kaplan_meier = r_conventions(kaplan_meier)
km_mean_spss = r_conventions(km_mean_spss)
km_mean_spss_by_group = r_conventions(km_mean_spss_by_group)
km_median = r_conventions(km_median)
km_median_by_group = r_conventions(km_median_by_group)
logrank = r_conventions(logrank)
median_followup = r_conventions(median_followup)
risk_table = r_conventions(risk_table)
survival_at = r_conventions(survival_at)

REF_DIR = Path(__file__).resolve().parents[1] / "reference"
R_VERSION = "R version 4.2.2 Patched (2022-11-10 r83330)"
SURVIVAL_VERSION = "3.5.3"
REL = 1e-6  # R reference, full precision
SPSS_ABS = 1e-9  # SPSS printed values (11-14 significant digits)

with open(REF_DIR / "survival_reference.json") as fh:
    REF = json.load(fh)
with open(REF_DIR / "spss_km_reference.yml") as fh:
    SPSS = yaml.safe_load(fh)


def load_csv(dataset: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / REF["datasets"][dataset]["file"], dtype={"group": str})


def curve_data(dataset: str, curve: str) -> pd.DataFrame:
    d = load_csv(dataset)
    return d if curve == "overall" else d.loc[d["group"] == curve]


def nan_array(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected, *, rel=REL, abs_=1e-12) -> None:
    """Elementwise |a - e| <= max(rel * |e|, abs_), NaN only where R has NA/NaN."""
    a = np.asarray(actual, dtype=float)
    e = nan_array(expected) if isinstance(expected, list) else np.asarray(expected, dtype=float)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
    np.testing.assert_allclose(a, e, rtol=rel, atol=abs_, equal_nan=True)


def same_or_none(value, expected) -> bool:
    if expected is None:
        return value is None
    return value is not None and value == pytest.approx(expected, rel=REL)


CURVES = [(ds, c) for ds, v in REF["datasets"].items() for c in v["curves"]]
CURVE_IDS = [f"{ds}-{c}" for ds, c in CURVES]
GROUPED = [ds for ds, v in REF["datasets"].items() if "survdiff" in v]
CONF_SUFFIX = {"log": "log", "log-log": "loglog", "plain": "plain"}


def test_reference_was_made_with_stated_R_versions():
    """> R.version.string; packageVersion("survival")"""
    assert REF["r_version"] == R_VERSION
    assert REF["survival_version"] == SURVIVAL_VERSION


@pytest.mark.parametrize(
    ("dataset", "loader", "columns"),
    [
        ("waltons", "load_waltons", ("T", "E", "group")),
        ("leukemia", "load_leukemia", ("t", "status", None)),
        ("larynx", "load_larynx", ("time", "death", None)),
    ],
    ids=["waltons", "leukemia", "larynx"],
)
def test_reference_csv_equals_lifelines_dataset(dataset, loader, columns):
    """The CSVs R read are the lifelines data sets (provenance of the R reference)."""
    import lifelines.datasets

    src = getattr(lifelines.datasets, loader)()
    d = load_csv(dataset)
    time_col, event_col, group_col = columns
    np.testing.assert_array_equal(d["time"].to_numpy(), src[time_col].to_numpy(dtype=float))
    np.testing.assert_array_equal(d["status"].to_numpy(), src[event_col].to_numpy())
    if dataset == "waltons":
        expected_group = src[group_col].to_numpy()
    elif dataset == "leukemia":
        expected_group = ("Rx" + src["Rx"].astype(str)).to_numpy()
    else:
        expected_group = np.select(
            [src.Stage_II == 1, src.Stage_III == 1, src.Stage_IV == 1], ["II", "III", "IV"], "I"
        )
    np.testing.assert_array_equal(d["group"].to_numpy(), expected_group)


def test_reference_csv_equals_spss_yml_data():
    """km_spss.csv holds the times of spss_km_reference.yml ("+" = censored)."""
    d = load_csv("spss")
    for g in ("sex_1", "sex_2"):
        tokens = SPSS["data"][g].split()
        part = d.loc[d["group"] == g]
        assert part["time"].tolist() == [float(tok.rstrip("+")) for tok in tokens]
        assert part["status"].tolist() == [0 if tok.endswith("+") else 1 for tok in tokens]


# --------------------------------------------------------------------------- KM table


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_kaplan_meier_against_R_survfit(dataset, curve, conf_type):
    """> s <- summary(survfit(Surv(time, status) ~ 1, data, conf.type = conf_type), censored = TRUE)
    > s$time; s$n.risk; s$n.event; s$n.censor; s$surv; s$std.err; s$lower; s$upper
    (rel = 1e-6; NaN exactly where R has NA/NaN)."""
    ref = REF["datasets"][dataset]["curves"][curve]["km"]
    km = kaplan_meier(curve_data(dataset, curve), time="time", event="status", conf_type=conf_type)
    assert list(km.columns) == [
        "group", "time", "n_risk", "n_event", "n_censor", "surv", "se_surv", "lower", "upper",
    ]  # fmt: skip
    assert km["group"].isna().all()
    assert_close(km["time"], ref["time"])
    assert km["n_risk"].tolist() == ref["n_risk"]
    assert km["n_event"].tolist() == ref["n_event"]
    assert km["n_censor"].tolist() == ref["n_censor"]
    assert_close(km["surv"], ref["surv"])
    assert_close(km["se_surv"], ref["std_err"])
    suffix = CONF_SUFFIX[conf_type]
    assert_close(km["lower"], ref[f"lower_{suffix}"])
    assert_close(km["upper"], ref[f"upper_{suffix}"])


@pytest.mark.parametrize("dataset", GROUPED)
def test_kaplan_meier_grouped_against_R_survfit_strata(dataset):
    """> summary(survfit(Surv(time, status) ~ group, data), censored = TRUE)
    (per stratum, in level order; rel = 1e-6)."""
    d = load_csv(dataset)
    km = kaplan_meier(d, time="time", event="status", group="group")
    levels = REF["datasets"][dataset]["groups"]
    assert list(pd.unique(km["group"])) == levels
    for level in levels:
        ref = REF["datasets"][dataset]["curves"][level]["km"]
        part = km.loc[km["group"] == level]
        assert_close(part["time"], ref["time"])
        assert_close(part["surv"], ref["surv"])
        assert_close(part["se_surv"], ref["std_err"])
        assert_close(part["lower"], ref["lower_log"])
        assert_close(part["upper"], ref["upper_log"])


def test_kaplan_meier_surv_bitwise_equal_to_R_survfit():
    """> sprintf("%.17g", survfit(Surv(time, status) ~ 1, data)$surv)
    S is the product in R's order of operations, so it is bit-for-bit R's value
    (this decides the 0.5/0.55/0.45 comparisons of the median rules)."""
    for dataset, curve in CURVES:
        km = kaplan_meier(curve_data(dataset, curve), time="time", event="status")
        ref = REF["datasets"][dataset]["curves"][curve]["km"]["surv"]
        assert km["surv"].tolist() == ref, f"{dataset}-{curve}"


# --------------------------------------------------------------------------- medians (R)


def _no_nan(result) -> bool:
    return not any(isinstance(v, float) and math.isnan(v) for v in vars(result).values())


@pytest.mark.parametrize("method", ["log", "log-log"])
@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_km_median_against_R_quantile_survfit(dataset, curve, method):
    """> q <- quantile(survfit(Surv(time, status) ~ 1, data, conf.type = method), probs = 0.5)
    > c(q$quantile, q$lower, q$upper)
    (rel = 1e-6; R's NA must be None with the matching *_reached flag False)."""
    ref = REF["datasets"][dataset]["curves"][curve]
    med, lower, upper = ref["median"][method]["quantile"]
    r = km_median(curve_data(dataset, curve), time="time", event="status", method=method)
    assert isinstance(r, MedianResult)
    assert r.method == method
    assert same_or_none(r.estimate, med)
    assert same_or_none(r.lower, lower)
    assert same_or_none(r.upper, upper)
    assert (r.reached, r.lower_reached, r.upper_reached) == (med is not None, lower is not None, upper is not None)
    assert r.se is None and r.se_reason
    assert (r.n, r.events) == (ref["n"], ref["events"])
    assert r.z == pytest.approx(1.959963984540054, rel=1e-15)
    assert _no_nan(r)


def test_km_median_follows_quantile_not_print_when_curve_ends_at_half():
    """> fit <- survfit(Surv(time, status) ~ 1, data = edge_half_end)   # S ends at 0.5
    > quantile(fit, 0.5)$quantile        # 4.5: midpoint of 3 (S reaches 0.5) and 6 (last time)
    > summary(fit)$table["median"]       # 3: print(fit) uses an older rule
    We follow quantile.survfit; the two R routines agree on every other case here."""
    ref = REF["datasets"]["edge_half_end"]["curves"]["overall"]["median"]["log"]
    assert ref["quantile"][0] == 4.5 and ref["table"][0] == 3
    r = km_median(load_csv("edge_half_end"), time="time", event="status", method="log")
    assert r.estimate == 4.5
    for dataset, curve in CURVES:
        if dataset != "edge_half_end":
            for method in ("log", "log-log"):
                m = REF["datasets"][dataset]["curves"][curve]["median"][method]
                assert m["quantile"] == m["table"], f"{dataset}-{curve}-{method}"


@pytest.mark.parametrize("method", ["log", "log-log"])
@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_median_followup_against_R_reverse_km(dataset, curve, method):
    """> q <- quantile(survfit(Surv(time, 1 - status) ~ 1, data, conf.type = method), probs = 0.5)
    > c(q$quantile, q$lower, q$upper)      (rel = 1e-6; NA -> None)"""
    ref = REF["datasets"][dataset]["curves"][curve]
    med, lower, upper = ref["followup"][method]
    r = median_followup(curve_data(dataset, curve), time="time", event="status", method=method)
    assert same_or_none(r.estimate, med)
    assert same_or_none(r.lower, lower)
    assert same_or_none(r.upper, upper)
    assert r.events == ref["n"] - ref["events"]  # censored observations are the "events"
    assert _no_nan(r)


@pytest.mark.parametrize("method", ["log", "log-log", "spss"])
def test_km_median_by_group_equals_per_group_calls(method):
    """km_median_by_group = km_median on each group, in level order (regression of the wrapper)."""
    d = load_csv("larynx")
    out = km_median_by_group(d, time="time", event="status", group="group", method=method)
    assert list(out) == ["I", "II", "III", "IV"]
    for level, result in out.items():
        assert result == km_median(d.loc[d["group"] == level], time="time", event="status", method=method)


# --------------------------------------------------------------------------- SPSS


SPSS_GROUPS = ["sex_1", "sex_2", "overall"]


def _spss_data(group: str) -> pd.DataFrame:
    return curve_data("spss", group)


@pytest.mark.parametrize("group", SPSS_GROUPS)
def test_km_median_spss_against_SPSS_printed(group):
    """SPSS 31: KM time BY sex /STATUS=status EVENT(1) /PRINT TABLE MEAN.
    "Means and Medians for Survival Time": median, Std. Error, 95% CI (absolute 1e-9)."""
    p = SPSS["spss_printed"][group]
    r = km_median(_spss_data(group), time="time", event="status", method="spss")
    assert r.method == "spss" and r.reached and r.se_reason is None
    assert r.estimate == pytest.approx(p["median"], abs=SPSS_ABS)
    assert r.se == pytest.approx(p["median_se"], abs=SPSS_ABS)
    assert r.lower == pytest.approx(p["median_lower"], abs=SPSS_ABS)
    assert r.upper == pytest.approx(p["median_upper"], abs=SPSS_ABS)
    assert r.z == 1.96


@pytest.mark.parametrize("group", SPSS_GROUPS)
def test_km_mean_spss_against_SPSS_printed(group):
    """SPSS 31: KM ... /PRINT TABLE MEAN. "Means and Medians for Survival Time": mean,
    Std. Error, 95% CI = mean -/+ 1.96 SE (absolute 1e-9)."""
    p = SPSS["spss_printed"][group]
    r = km_mean_spss(_spss_data(group), time="time", event="status")
    assert isinstance(r, MeanResult)
    assert r.estimate == pytest.approx(p["mean"], abs=SPSS_ABS)
    assert r.se == pytest.approx(p["mean_se"], abs=SPSS_ABS)
    assert r.lower == pytest.approx(p["mean"] - 1.96 * p["mean_se"], abs=SPSS_ABS)
    assert r.upper == pytest.approx(p["mean"] + 1.96 * p["mean_se"], abs=SPSS_ABS)
    assert r.tmax == _spss_data(group)["time"].max()


@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_km_mean_spss_against_R_rmean_individual(dataset, curve):
    """> summary(survfit(Surv(time, status) ~ 1, data), rmean = "individual")$table[c("rmean", "se(rmean)")]
    (restricted to the curve's own last time; rel = 1e-6)."""
    rmean, se = REF["datasets"][dataset]["curves"][curve]["rmean"]
    r = km_mean_spss(curve_data(dataset, curve), time="time", event="status")
    assert r.estimate == pytest.approx(rmean, rel=REL)
    assert r.se == pytest.approx(se, rel=REL, abs=1e-12)


def test_km_mean_spss_by_group_against_SPSS_printed():
    """SPSS 31 KM ... BY sex: each group's mean restricted to its own largest time (absolute 1e-9)."""
    out = km_mean_spss_by_group(load_csv("spss"), time="time", event="status", group="group")
    assert list(out) == ["sex_1", "sex_2"]
    for g, r in out.items():
        assert r.estimate == pytest.approx(SPSS["spss_printed"][g]["mean"], abs=SPSS_ABS)


# --------------------------------------------------------------------------- log-rank


@pytest.mark.parametrize("dataset", GROUPED)
def test_logrank_against_R_survdiff(dataset):
    """> sd <- survdiff(Surv(time, status) ~ group, data, rho = 0)
    > sd$n; sd$obs; sd$exp; sd$chisq; pchisq(sd$chisq, df, lower.tail = FALSE)
    (rel = 1e-6; counts and df exact)."""
    ref = REF["datasets"][dataset]["survdiff"]
    r = logrank(load_csv(dataset), time="time", event="status", group="group")
    assert isinstance(r, LogrankResult)
    assert r.chisq == pytest.approx(ref["chisq"], rel=REL)
    assert r.p == pytest.approx(ref["p"], rel=REL)
    assert r.df == ref["df"]
    assert list(r.groups.columns) == ["group", "n", "observed", "expected"]
    assert r.groups["group"].tolist() == REF["datasets"][dataset]["groups"]
    assert r.groups["n"].tolist() == ref["n"]
    assert r.groups["observed"].tolist() == ref["observed"]
    assert_close(r.groups["expected"], ref["expected"])


def test_logrank_follows_categorical_order():
    """Levels of a categorical group column keep their category order (R factor levels)."""
    d = load_csv("larynx")
    d["group"] = pd.Categorical(d["group"], categories=["IV", "III", "II", "I"])
    r = logrank(d, time="time", event="status", group="group")
    ref = REF["datasets"]["larynx"]["survdiff"]
    assert r.groups["group"].tolist() == ["IV", "III", "II", "I"]
    assert_close(r.groups["expected"], ref["expected"][::-1])
    assert r.chisq == pytest.approx(ref["chisq"], rel=REL)


# --------------------------------------------------------------------------- fixed times


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_survival_at_against_R_summary_times(dataset, curve, conf_type):
    """> summary(survfit(Surv(time, status) ~ 1, data, conf.type = conf_type),
    +         times = c(0, 6, 12, ..., max(time) + 1), extend = TRUE)
    time, n.risk, surv, std.err, lower, upper (rel = 1e-6; includes times before the
    first observation and past the last one)."""
    ref = REF["datasets"][dataset]["curves"][curve]["at"]
    out = survival_at(
        curve_data(dataset, curve), time="time", event="status", times=ref["time"], conf_type=conf_type
    )
    assert list(out.columns) == ["group", "time", "surv", "se_surv", "lower", "upper", "n_risk"]
    assert_close(out["time"], ref["time"])
    assert_close(out["surv"], ref["surv"])
    assert_close(out["se_surv"], ref["std_err"])
    suffix = CONF_SUFFIX[conf_type]
    assert_close(out["lower"], ref[f"lower_{suffix}"])
    assert_close(out["upper"], ref[f"upper_{suffix}"])
    assert out["n_risk"].tolist() == ref["n_risk"]


@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_risk_table_against_R_summary_times_cumulative(dataset, curve):
    """> s <- summary(survfit(Surv(time, status) ~ 1, data), times = ..., extend = TRUE)
    > s$n.risk; cumsum(s$n.event); cumsum(s$n.censor)      (survminer's risk table; exact)"""
    ref = REF["datasets"][dataset]["curves"][curve]["at"]
    out = risk_table(curve_data(dataset, curve), time="time", event="status", times=ref["time"])
    assert list(out.columns) == ["group", "time", "n_at_risk", "n_censored", "n_events"]
    assert out["n_at_risk"].tolist() == ref["n_risk"]
    assert out["n_events"].tolist() == ref["n_event_cum"]
    assert out["n_censored"].tolist() == ref["n_censor_cum"]


def test_survival_at_and_risk_table_grouped_against_R():
    """> summary(survfit(Surv(time, status) ~ group, waltons), times = ..., extend = TRUE)"""
    d = load_csv("waltons")
    levels = REF["datasets"]["waltons"]["groups"]
    times = REF["datasets"]["waltons"]["times"]
    at = survival_at(d, time="time", event="status", times=times, group="group")
    rt = risk_table(d, time="time", event="status", times=times, group="group")
    for level in levels:
        ref = REF["datasets"]["waltons"]["curves"][level]["at"]
        assert_close(at.loc[at["group"] == level, "surv"], ref["surv"])
        assert rt.loc[rt["group"] == level, "n_at_risk"].tolist() == ref["n_risk"]
        assert rt.loc[rt["group"] == level, "n_events"].tolist() == ref["n_event_cum"]


def test_survival_at_keeps_requested_order_and_carries_last_value_past_end():
    """Past the last observation S, SE and limits are carried forward with n_risk = 0
    (R extend = TRUE); requested order is kept. Regression values from edge_not_reached
    (last observation censored at 10; S(7) = 8/9 * 5/6 * 3/4 = 5/9)."""
    d = load_csv("edge_not_reached")
    out = survival_at(d, time="time", event="status", times=[100, 7, 0.5])
    assert out["time"].tolist() == [100, 7, 0.5]
    assert out["surv"].tolist() == pytest.approx([5 / 9, 5 / 9, 1.0], rel=1e-12)
    assert out["n_risk"].tolist() == [0, 4, 10]
    assert out["se_surv"].iloc[0] == out["se_surv"].iloc[1] > 0


# --------------------------------------------------------------------------- edge cases


def test_median_not_reached_is_none_not_nan():
    """> quantile(survfit(Surv(time, status) ~ 1, edge_not_reached), 0.5)  # NA, lower 5, upper NA
    SPSS rule: no event time with S <= 0.5 -> not reached."""
    d = load_csv("edge_not_reached")
    for method in ("log", "log-log", "spss"):
        r = km_median(d, time="time", event="status", method=method)
        assert r.estimate is None and not r.reached and r.upper is None and not r.upper_reached
        assert _no_nan(r)
    spss = km_median(d, time="time", event="status", method="spss")
    assert spss.se is None and spss.lower is None and spss.se_reason == "median not reached"


def test_upper_limit_not_reached_against_R_leukemia_Rx0():
    """> print(survfit(Surv(time, status) ~ 1, subset(leukemia, group == "Rx0")))
    median 23, 0.95LCL 16, 0.95UCL NA."""
    r = km_median(curve_data("leukemia", "Rx0"), time="time", event="status", method="log")
    assert (r.estimate, r.lower, r.upper) == (23, 16, None)
    assert r.reached and r.lower_reached and not r.upper_reached


def test_all_censored():
    """> survfit(Surv(time, status) ~ 1, edge_all_censored)  # S = 1 throughout, median NA
    (R reference cases above); here: SPSS mean = tmax with SE 0, log-rank refuses."""
    d = load_csv("edge_all_censored")
    km = kaplan_meier(d, time="time", event="status")
    assert (km["surv"] == 1).all() and (km["se_surv"] == 0).all()
    assert km_median(d, time="time", event="status", method="spss").estimate is None
    mean = km_mean_spss(d, time="time", event="status")
    assert (mean.estimate, mean.se, mean.tmax) == (11, 0, 11)
    d2 = pd.concat([d.assign(group="a"), d.assign(group="b")])
    with pytest.raises(ValueError, match="all observations are censored"):
        logrank(d2, time="time", event="status", group="group")


def test_no_censoring_with_ties_and_time_zero():
    """> summary(survfit(Surv(time, status) ~ 1, edge_no_censoring), censored = TRUE)
    (full table in the R cases); here: the last step reaches S = 0 where R's SE is NaN."""
    km = kaplan_meier(load_csv("edge_no_censoring"), time="time", event="status")
    assert (km["n_censor"] == 0).all()
    assert km["time"].iloc[0] == 0 and km["n_event"].iloc[0] == 1
    assert km["n_event"].tolist() == [1, 1, 2, 1, 3, 1, 1, 1]
    assert km["surv"].iloc[-1] == 0 and math.isnan(km["se_surv"].iloc[-1])


def test_single_observation():
    """> quantile(survfit(Surv(3, 1) ~ 1), 0.5)   # 3, NA, NA
    SPSS: median 3, SE not estimable (no event time with S >= 0.55)."""
    d = load_csv("edge_single_event")
    km = kaplan_meier(d, time="time", event="status")
    assert len(km) == 1 and km["surv"].iloc[0] == 0
    r = km_median(d, time="time", event="status", method="log")
    assert (r.estimate, r.lower, r.upper) == (3, None, None)
    s = km_median(d, time="time", event="status", method="spss")
    assert s.estimate == 3 and s.reached and s.se is None and s.lower is None and s.upper is None
    assert s.se_reason == "not estimable: no event time with S >= 0.55"
    assert _no_nan(s)


def test_half_on_interval_R_midpoint_vs_SPSS_first_time():
    """S = 0.5 exactly on [5, 8) (events at 1-5, censored 6, 7; events 8, 9; censored 10).
    > quantile(survfit(Surv(time, status) ~ 1, edge_half_interval), 0.5)$quantile   # 6.5
    SPSS rule, by hand: median = 5 (first event time with S <= 0.5);
    u = 4 (S = 0.6), l = 8 (S = 0.5 * 2/3 = 1/3), slope = (0.6 - 1/3) / 4 = 1/15;
    Greenwood SE of S at 5 = 0.5 * sqrt(1/5 - 1/10) = sqrt(0.025);
    SE = 15 sqrt(0.025); CI = 5 -/+ 1.96 SE (absolute 1e-12)."""
    d = load_csv("edge_half_interval")
    r_log = km_median(d, time="time", event="status", method="log")
    assert r_log.estimate == REF["datasets"]["edge_half_interval"]["curves"]["overall"]["median"]["log"]["quantile"][0]
    assert r_log.estimate == 6.5
    s = km_median(d, time="time", event="status", method="spss")
    se = 15 * math.sqrt(0.025)
    assert s.estimate == 5
    assert s.se == pytest.approx(se, abs=1e-12)
    assert (s.lower, s.upper) == pytest.approx((5 - 1.96 * se, 5 + 1.96 * se), abs=1e-12)


def test_half_at_end_SPSS_se_not_estimable():
    """S ends at 0.5 (events 1-3, censored 4-6): SPSS median 3 (S = 0.5 counts);
    no event time with S <= 0.45, so SE and CI are None with a reason.
    > quantile(survfit(Surv(time, status) ~ 1, edge_half_end), 0.5)$quantile   # 4.5"""
    s = km_median(load_csv("edge_half_end"), time="time", event="status", method="spss")
    assert s.estimate == 3 and s.reached
    assert (s.se, s.lower, s.upper) == (None, None, None)
    assert s.lower_reached and s.upper_reached  # exists in principle: not estimable, not "not reached"
    assert s.se_reason == "not estimable: no event time with S <= 0.45"


def test_spss_055_floating_point_trap():
    """Events at 1-9 (n = 20): S = 11/20 = 0.55, computed as 0.54999999999999993 (as R);
    events at 12 (S = 0.5) and 13 (S = 0.45); censored 14-22.
    SPSS rule by hand: median 12; u = 9 (S = 0.55 counts), l = 13, slope = 0.10 / 4;
    Greenwood var of S at 12 = 0.25 * (1/11 - 1/20 + 1/110) = 0.0125;
    SE = sqrt(0.0125) / 0.025 = sqrt(20). (Missing the trap would take u = 8, slope 0.03.)
    > quantile(survfit(Surv(time, status) ~ 1, edge_055), 0.5)$quantile   # 12.5 (R midpoint)"""
    d = load_csv("edge_055")
    km = kaplan_meier(d, time="time", event="status")
    s9 = km.loc[km["time"] == 9, "surv"].item()
    assert s9 < 0.55 and s9 == pytest.approx(0.55, abs=1e-15)  # the trap is really there
    s = km_median(d, time="time", event="status", method="spss")
    assert s.estimate == 12
    assert s.se == pytest.approx(math.sqrt(20), abs=1e-12)
    assert (s.lower, s.upper) == pytest.approx((12 - 1.96 * math.sqrt(20), 12 + 1.96 * math.sqrt(20)), abs=1e-12)
    assert km_median(d, time="time", event="status", method="log").estimate == 12.5


def test_spss_alpha_other_than_005_uses_normal_quantile():
    """SPSS prints only 95% intervals (z = 1.96); other alpha use the normal quantile (regression value)."""
    r = km_mean_spss(_spss_data("overall"), time="time", event="status", alpha=0.10)
    assert r.z == pytest.approx(1.6448536269514722, rel=1e-12)
    assert r.upper - r.estimate == pytest.approx(r.z * r.se, rel=1e-12)


@pytest.mark.parametrize(("dataset", "curve"), CURVES, ids=CURVE_IDS)
def test_kaplan_meier_alpha_010_against_R_survfit_conf_int_090(dataset, curve):
    """> summary(survfit(Surv(time, status) ~ 1, data, conf.int = 0.90), censored = TRUE)$lower / $upper
    (rel = 1e-6)."""
    ref = REF["datasets"][dataset]["curves"][curve]["km"]
    km = kaplan_meier(curve_data(dataset, curve), time="time", event="status", alpha=0.10)
    assert_close(km["lower"], ref["lower_log90"])
    assert_close(km["upper"], ref["upper_log90"])


# --------------------------------------------------------------------------- bad input


GOOD = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "e": [1, 0, 1, 1], "g": ["a", "a", "b", "b"]})


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (GOOD, {"time": "x", "event": "e"}, "column 'x' is not in the data"),
        (GOOD.iloc[:0], {"time": "t", "event": "e"}, "no observations"),
        (GOOD.assign(t=[1.0, np.nan, 3, 4]), {"time": "t", "event": "e"}, "column 't' has missing"),
        (GOOD.assign(t=[1.0, -2, 3, 4]), {"time": "t", "event": "e"}, "column 't' has negative times"),
        (GOOD.assign(t=[1.0, np.inf, 3, 4]), {"time": "t", "event": "e"}, "column 't' has infinite values"),
        (GOOD.assign(e=[1, 2, 0, 1]), {"time": "t", "event": "e"}, r"column 'e' must be 1 \(event\) or 0"),
        (GOOD.assign(e=["y", "n", "y", "y"]), {"time": "t", "event": "e"}, r"column 'e' must be 1 \(event\) or 0"),
        (GOOD.assign(e=[1, None, 0, 1]), {"time": "t", "event": "e"}, "column 'e' has missing values"),
        (GOOD, {"time": "t", "event": "e", "conf_type": "logit"}, "conf_type must be one of"),
        (GOOD, {"time": "t", "event": "e", "alpha": 1.5}, "alpha must be between 0 and 1"),
        (GOOD.assign(g=["a", None, "b", "b"]), {"time": "t", "event": "e", "group": "g"}, "column 'g' has missing"),
        (
            GOOD.assign(g=pd.Categorical(["a", "a", "b", "b"], categories=["a", "b", "c"])),
            {"time": "t", "event": "e", "group": "g"},
            "group 'c' has no patients",
        ),
    ],
    ids=[
        "missing-column", "empty", "nan-time", "negative-time", "infinite-time", "event-code-2",
        "event-strings", "nan-event", "bad-conf-type", "bad-alpha", "nan-group", "empty-category",
    ],
)  # fmt: skip
def test_kaplan_meier_rejects_impossible_input(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(frame, **kwargs)


def test_km_median_rejects_unknown_method():
    with pytest.raises(ValueError, match="method must be one of"):
        km_median(GOOD, time="t", event="e", method="brookmeyer")


def test_logrank_rejects_single_group():
    with pytest.raises(ValueError, match="at least two groups; found 1"):
        logrank(GOOD.assign(g="a"), time="t", event="e", group="g")


@pytest.mark.parametrize("bad_times", [[], [1.0, np.nan]], ids=["empty", "nan"])
def test_survival_at_rejects_bad_times(bad_times):
    with pytest.raises(ValueError, match="times"):
        survival_at(GOOD, time="t", event="e", times=bad_times)


def test_event_column_may_be_boolean():
    """Boolean events equal 0/1 events (regression)."""
    a = kaplan_meier(GOOD, time="t", event="e")
    b = kaplan_meier(GOOD.assign(e=GOOD["e"].astype(bool)), time="t", event="e")
    pd.testing.assert_frame_equal(a, b)


def test_module_constants():
    assert sv.CONF_TYPES == ("log", "log-log", "plain")
    assert sv.MEDIAN_METHODS == ("log", "log-log", "spss")


@pytest.mark.parametrize("times,last,expected", [
    ([0, 6, 12, 18, 24, 30, 36], 42.8, [0, 6, 12, 18, 24, 30, 36, 42, 48]),
    ([0, 6, 12, 18, 24, 30, 36], 40.7, [0, 6, 12, 18, 24, 30, 36, 42]),
    ([0, 6, 12, 18, 24, 30, 36], 17.9, [0, 6, 12, 18]),
    ([0, 6, 12], 12.0, [0, 6, 12]),
    ([12, 0, 6], 13.0, [0, 6, 12, 18]),
    ([0], 5.0, [0, 1, 2, 3, 4, 5]),
], ids=["past-last-tick", "between-ticks", "inside", "at-last-tick", "unsorted", "one-time"])
def test_risk_times_covering_reach_the_last_observation(times, last, expected):
    """Convention (survminer's time axis runs to the data's end): the configured
    times up to the first at or past the last time, continued at the last spacing."""
    from analysis.compute.survival import risk_times_covering

    assert risk_times_covering(times, last) == expected
