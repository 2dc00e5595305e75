"""Tests of analysis.compute.response against R.

Reference values: tests/reference/response_reference.csv, written by
tests/reference/response_reference.R (run from the repository root with
``Rscript tests/reference/response_reference.R``) with R 4.2.2 (stats package;
survival 3.5.3 installed but not used).  R is not needed to run these tests.

Tolerance: rel=1e-6 against R values; a published (printed) p-value is checked
to half a unit of its last printed digit.  Values produced by our own code are
labelled "regression value".
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compute.response import (
    CHISQ,
    CHISQ_YATES,
    FFH_EXACT,
    FFH_MONTE_CARLO,
    FISHER,
    NO_VARIATION,
    SEPARATION_COMPLETE,
    SEPARATION_QUASI,
    Comparison,
    Proportion,
    compare_proportions,
    contingency_test,
    factor_comparisons,
    proportion_ci,
    response_rates,
)

from tests.conventions import r_conventions

compare_proportions = r_conventions(compare_proportions)
contingency_test = r_conventions(contingency_test)
factor_comparisons = r_conventions(factor_comparisons)
proportion_ci = r_conventions(proportion_ci)
response_rates = r_conventions(response_rates)

R_VERSION = "4.2.2"
RULE = "fisher_if_expected_lt5_else_yates"  # the published analysis's rule
SURVIVAL_VERSION = "3.5.3"  # installed alongside; these references use base R stats only
REL = 1e-6

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "response_reference.csv"


def _load_reference() -> dict[tuple[str, str], float]:
    with REFERENCE.open(newline="") as fh:
        return {(r["case"], r["quantity"]): float(r["value"]) for r in csv.DictReader(fh)}


R = _load_reference()


def _patients(counts: dict, *, by: str = "group", response: str = "cr") -> pd.DataFrame:
    """One row per patient from {level: (responders, total)}."""
    rows = []
    for level, (x, n) in counts.items():
        rows += [{by: level, response: True}] * x + [{by: level, response: False}] * (n - x)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# proportion_ci
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, n",
    [(28, 46), (4, 21), (8, 8), (1, 6), (0, 5), (0, 1), (1, 1), (32, 67)],
    ids=["28of46", "4of21", "8of8", "1of6", "0of5", "0of1", "1of1", "32of67"],
)
def test_proportion_ci_against_R_binom_test(x, n):
    """Clopper-Pearson limits, rel=1e-6 (absolute 1e-12 for the exact 0 and 1 limits).

    > binom.test(x, n)$conf.int
    """
    res = proportion_ci(x, n)
    assert isinstance(res, Proportion)
    assert (res.x, res.n) == (x, n)
    assert res.estimate == pytest.approx(x / n, rel=1e-15)
    assert res.lower == pytest.approx(R[(f"binom_{x}_{n}", "lower")], rel=REL, abs=1e-12)
    assert res.upper == pytest.approx(R[(f"binom_{x}_{n}", "upper")], rel=REL, abs=1e-12)
    assert res.method == "Clopper-Pearson exact"
    assert res.reason is None


def test_proportion_ci_conf90_against_R_binom_test():
    """rel=1e-6.

    > binom.test(28, 46, conf.level = 0.90)$conf.int
    """
    res = proportion_ci(28, 46, alpha=0.10)
    assert res.lower == pytest.approx(R[("binom_28_46_conf90", "lower")], rel=REL)
    assert res.upper == pytest.approx(R[("binom_28_46_conf90", "upper")], rel=REL)


def test_proportion_ci_n0_gives_none_and_reason():
    res = proportion_ci(0, 0)
    assert (res.estimate, res.lower, res.upper) == (None, None, None)
    assert res.reason == "no patients (n = 0)"


@pytest.mark.parametrize("x, n", [(5, 4), (-1, 3), (1.5, 3)],
                         ids=["x_gt_n", "negative", "fraction"])
def test_proportion_ci_rejects_impossible_counts(x, n):
    with pytest.raises(ValueError):
        proportion_ci(x, n)


# --------------------------------------------------------------------------
# response_rates
# --------------------------------------------------------------------------
def test_response_rates_by_group_against_R_binom_test_with_missing_and_empty_level():
    """Counts x/n and exact CIs per group; rel=1e-6.

    > binom.test(28, 46)$conf.int; binom.test(4, 21)$conf.int
    Two rows with a missing group are excluded (attrs["n_missing"] == 2); one
    targeted patient with a missing response is excluded from n and counted in
    n_missing_response; a listed level without patients gives n = 0 and None.
    """
    df = _patients({"targeted": (28, 46), "chemo": (4, 21)}, by="arm")
    extra = pd.DataFrame({"arm": [None, np.nan, "targeted"], "cr": [True, False, None]})
    df = pd.concat([df, extra], ignore_index=True)
    out = response_rates(df, response="cr", by="arm", levels=["targeted", "chemo", "none"])
    assert list(out.columns) == ["group", "x", "n", "estimate", "lower", "upper",
                                 "n_missing_response", "method", "reason"]
    assert out["group"].tolist() == ["targeted", "chemo", "none"]
    assert out["x"].tolist() == [28, 4, 0]
    assert out["n"].tolist() == [46, 21, 0]
    assert out["n_missing_response"].tolist() == [1, 0, 0]
    assert out.attrs["n_missing"] == 2
    for i, (x, n) in enumerate([(28, 46), (4, 21)]):
        assert out.loc[i, "estimate"] == pytest.approx(x / n)
        assert out.loc[i, "lower"] == pytest.approx(R[(f"binom_{x}_{n}", "lower")], rel=REL)
        assert out.loc[i, "upper"] == pytest.approx(R[(f"binom_{x}_{n}", "upper")], rel=REL)
    assert out.loc[2, "estimate"] is None and out.loc[2, "lower"] is None
    assert out.loc[2, "reason"] == "no patients (n = 0)"


def test_response_rates_overall_against_R_binom_test():
    """rel=1e-6.

    > binom.test(32, 67)$conf.int
    """
    df = _patients({"targeted": (28, 46), "chemo": (4, 21)}, by="arm")
    out = response_rates(df, response="cr")
    assert out["group"].tolist() == ["Overall"]
    assert (out.loc[0, "x"], out.loc[0, "n"]) == (32, 67)
    assert out.loc[0, "lower"] == pytest.approx(R[("binom_32_67", "lower")], rel=REL)
    assert out.loc[0, "upper"] == pytest.approx(R[("binom_32_67", "upper")], rel=REL)


def test_response_rates_rejects_non_boolean_response():
    df = pd.DataFrame({"arm": ["a", "b"], "cr": ["yes", "no"]})
    with pytest.raises(ValueError, match="must be boolean"):
        response_rates(df, response="cr", by="arm")


# --------------------------------------------------------------------------
# compare_proportions: the published comparisons
# --------------------------------------------------------------------------
def test_published_targeted_vs_chemo_against_R_chisq_test_yates():
    """28/46 vs 4/21: all expected counts >= 5 -> Yates chi-squared, published P=0.0035.

    > m <- matrix(c(28, 18, 4, 17), 2, byrow = TRUE)
    > chisq.test(m, correct = TRUE)$p.value   # 0.00355...
    > fisher.test(m)$p.value                  # 0.0017
    > chisq.test(m, correct = FALSE)$p.value  # 0.0015
    rel=1e-6 against R.  The published "0.0035" is this p-value TRUNCATED to four
    decimals (0.0035500457... would round to 0.0036), so the printed value is
    checked as 0.0035 <= p < 0.0036 rather than to half a unit of its last digit;
    Fisher (0.0017) and uncorrected chi-squared (0.0015) are outside that interval.
    """
    df = _patients({"targeted": (28, 46), "chemotherapy": (4, 21)}, by="arm")
    c = compare_proportions(df, response="cr", by="arm", levels=["targeted", "chemotherapy"], rule=RULE)
    assert isinstance(c, Comparison)
    assert c.test_used == "Pearson's chi-squared test with Yates' continuity correction"
    assert c.p == pytest.approx(R[("targeted_vs_chemo", "chisq_yates_p")], rel=REL)
    assert 0.0035 <= c.p < 0.0036  # published "P=0.0035" (truncated, see docstring)
    assert not 0.0035 <= c.p_fisher < 0.0036 and not 0.0035 <= c.p_chisq < 0.0036
    assert c.p_chisq_yates == c.p
    assert c.p_fisher == pytest.approx(R[("targeted_vs_chemo", "fisher_p")], rel=REL)
    assert c.p_chisq == pytest.approx(R[("targeted_vs_chemo", "chisq_p")], rel=REL)
    assert c.statistic_chisq_yates == pytest.approx(R[("targeted_vs_chemo", "chisq_yates_stat")],
                                                    rel=REL)
    assert c.min_expected == pytest.approx(R[("targeted_vs_chemo", "min_expected")], rel=REL)
    assert c.conventions_disagree is False
    assert c.table.loc["targeted"].tolist() == [28, 18]
    assert c.table.loc["chemotherapy"].tolist() == [4, 17]
    assert c.n_missing == 0


def test_published_cns_vs_noncns_against_R_fisher_test():
    """8/8 vs 1/6: expected counts < 5 -> Fisher's exact test, published P=0.003.

    > m <- matrix(c(8, 0, 1, 5), 2, byrow = TRUE)
    > fisher.test(m)$p.value                  # 0.002997
    > chisq.test(m, correct = TRUE)$p.value; chisq.test(m, correct = FALSE)$p.value
    rel=1e-6 against R; the published "0.003" to half a unit of its last digit.
    """
    df = _patients({"CNS": (8, 8), "non-CNS": (1, 6)}, by="emd")
    c = compare_proportions(df, response="cr", by="emd", levels=["CNS", "non-CNS"], rule=RULE)
    assert c.test_used == "Fisher's exact test"
    assert c.p == pytest.approx(R[("cns_vs_noncns", "fisher_p")], rel=REL)
    assert abs(c.p - 0.003) <= 0.0005  # published value, printed to 3 decimals
    assert c.p_chisq_yates == pytest.approx(R[("cns_vs_noncns", "chisq_yates_p")], rel=REL)
    assert c.p_chisq == pytest.approx(R[("cns_vs_noncns", "chisq_p")], rel=REL)
    assert c.min_expected == pytest.approx(R[("cns_vs_noncns", "min_expected")], rel=REL)
    assert c.min_expected < 5


@pytest.mark.parametrize(
    "rule, test_name, quantity",
    [
        ("fisher_if_expected_lt5_else_yates", CHISQ_YATES, "chisq_yates_p"),
        ("fisher", FISHER, "fisher_p"),
        ("chisq_yates", CHISQ_YATES, "chisq_yates_p"),
        ("chisq", CHISQ, "chisq_p"),
    ],
    ids=["default_rule", "fisher", "chisq_yates", "chisq"],
)
def test_rules_and_disagreement_against_R_fisher_and_chisq_test(rule, test_name, quantity):
    """9/15 vs 3/13: uncorrected chi-squared p < 0.05, Fisher and Yates > 0.05.

    > m <- matrix(c(9, 6, 3, 10), 2, byrow = TRUE)
    > fisher.test(m)$p.value; chisq.test(m, correct = TRUE)$p.value
    > chisq.test(m, correct = FALSE)$p.value
    rel=1e-6.
    """
    df = _patients({"a": (9, 15), "b": (3, 13)})
    c = compare_proportions(df, response="cr", by="group", rule=rule)
    assert c.rule == rule
    assert c.test_used == test_name
    assert c.p == pytest.approx(R[("disagree_2x2", quantity)], rel=REL)
    assert c.conventions_disagree is True


def test_compare_proportions_unknown_rule_raises():
    df = _patients({"a": (9, 15), "b": (3, 13)})
    with pytest.raises(ValueError, match="unknown rule"):
        compare_proportions(df, response="cr", by="group", rule="spss")


# --------------------------------------------------------------------------
# r x c tables: Fisher-Freeman-Halton
# --------------------------------------------------------------------------
RXC = {
    "rxc_3x2": [[5, 2], [3, 6], [1, 7]],
    "rxc_3x3": [[3, 1, 4], [2, 6, 1], [0, 3, 5]],
    "rxc_2x4": [[4, 9, 2, 6], [7, 1, 5, 3]],
}


@pytest.mark.parametrize("case", list(RXC), ids=list(RXC))
def test_fisher_freeman_halton_against_R_fisher_test(case):
    """Exact r x c p-value and Pearson chi-squared; rel=1e-6.

    > fisher.test(m)$p.value; chisq.test(m)$p.value   # m = the table, rows given row-wise
    """
    res = contingency_test(RXC[case], rule=RULE)
    assert res.fisher_method == "exact"
    assert res.p_fisher == pytest.approx(R[(case, "fisher_p")], rel=REL)
    assert res.p_chisq == pytest.approx(R[(case, "chisq_p")], rel=REL)
    assert res.statistic_chisq == pytest.approx(R[(case, "chisq_stat")], rel=REL)
    assert res.p_chisq_yates is None
    assert res.min_expected == pytest.approx(R[(case, "min_expected")], rel=REL)
    # all three tables have an expected count < 5 -> the rule picks the exact test
    assert res.test_used == FFH_EXACT
    assert res.p == res.p_fisher


def test_compare_proportions_3x2_against_R_fisher_test():
    """Three groups x response: 5/7, 3/9, 1/8.

    > fisher.test(matrix(c(5, 2, 3, 6, 1, 7), 3, byrow = TRUE))$p.value
    rel=1e-6.
    """
    df = _patients({"x": (5, 7), "y": (3, 9), "z": (1, 8)})
    c = compare_proportions(df, response="cr", by="group", rule=RULE)
    assert c.levels == ("x", "y", "z")
    assert c.test_used == FFH_EXACT
    assert c.p == pytest.approx(R[("rxc_3x2", "fisher_p")], rel=REL)
    assert c.p_chisq_yates is None
    assert c.dof == 2


def test_fisher_freeman_halton_monte_carlo_fallback_is_seeded():
    """Forced Monte-Carlo (max_tables=1): same seed, same p; close to R's exact value.

    > fisher.test(matrix(c(3, 1, 4, 2, 6, 1, 0, 3, 5), 3, byrow = TRUE))$p.value
    Tolerance: absolute 0.01 (Monte-Carlo error with 20000 tables is ~0.0015).
    """
    table = RXC["rxc_3x3"]
    a = contingency_test(table, rule=RULE, max_tables=1, rng=np.random.default_rng(7), n_resamples=20_000)
    b = contingency_test(table, rule=RULE, max_tables=1, rng=np.random.default_rng(7), n_resamples=20_000)
    assert a.fisher_method == "Monte-Carlo" and a.n_resamples == 20_000
    assert a.test_used == FFH_MONTE_CARLO
    assert a.p_fisher == b.p_fisher
    assert a.p_fisher == pytest.approx(R[("rxc_3x3", "fisher_p")], abs=0.01)
    with pytest.raises(ValueError, match="rng"):
        contingency_test(table, rule=RULE, max_tables=1)


def test_monte_carlo_fisher_freeman_halton_for_a_registry_sized_table():
    """More patients compared than Monte-Carlo tables x cells (12,000 >= 1,999 x 6), where
    scipy 1.17's fisher_exact(method=MonteCarloMethod) fails ("cannot reshape array": Table 1
    lost its p-value for prior transplant in a 12,000-patient registry with 1,000 resamples,
    and at 1,000,000 patients with the default 100,000): the p is computed, seeded, and close
    to R's exact value.

    > fisher.test(matrix(c(2030, 2000, 1950, 2100, 2010, 1910), 3, byrow = TRUE), workspace = 2e8)$p.value
    Tolerance: absolute 0.012 (4 standard errors of a Monte-Carlo p near 0.016 from 1,999 tables).
    """
    table = np.array([[2030, 2000], [1950, 2100], [2010, 1910]])
    a, b = (contingency_test(table, rule=RULE, max_tables=1, rng=np.random.default_rng(11), n_resamples=1_999)
            for _ in range(2))
    assert a.fisher_method == "Monte-Carlo" and a.test_used == CHISQ      # expected counts >= 5: chi-squared
    assert a.p_fisher == b.p_fisher
    assert a.p_fisher == pytest.approx(R[("rxc_3x2_registry", "fisher_p")], abs=0.012)


@pytest.mark.parametrize("table", [[[3, 7], [8, 2], [5, 5]], [[30, 41, 12], [28, 35, 40]], [[0, 5], [4, 1], [2, 2], [3, 0]]])
def test_monte_carlo_fisher_freeman_halton_draws_what_scipy_draws(table):
    """Where scipy's own Monte-Carlo Fisher-Freeman-Halton works, the same seed gives the same p."""
    from scipy import stats

    from analysis.compute.response import _ffh_monte_carlo_pvalue

    table = np.array(table)
    ours = _ffh_monte_carlo_pvalue(table, n_resamples=3_000, rng=np.random.default_rng(5))
    method = stats.MonteCarloMethod(n_resamples=3_000, rng=np.random.default_rng(5))
    assert ours == float(stats.fisher_exact(table, method=method).pvalue)


def test_contingency_test_2x2_published_table_against_R_chisq_test():
    """The counts-only entry point gives the same as compare_proportions; rel=1e-6.

    > chisq.test(matrix(c(28, 18, 4, 17), 2, byrow = TRUE), correct = TRUE)$p.value
    """
    res = contingency_test([[28, 18], [4, 17]], rule=RULE)
    assert res.test_used == CHISQ_YATES
    assert res.p == pytest.approx(R[("targeted_vs_chemo", "chisq_yates_p")], rel=REL)


@pytest.mark.parametrize(
    "table, message",
    [([[3, 4]], "two non-empty rows"), ([[3, 0], [4, 0]], "two non-empty columns"),
     ([[1, -1], [2, 3]], "non-negative"), ([1, 2, 3], "two-dimensional")],
    ids=["one_row", "one_column", "negative", "1d"],
)
def test_contingency_test_impossible_tables_raise(table, message):
    with pytest.raises(ValueError, match=message):
        contingency_test(table, rule=RULE)


# --------------------------------------------------------------------------
# compare_proportions: missing values and degenerate input
# --------------------------------------------------------------------------
def test_compare_proportions_missing_and_excluded_rows_against_R_chisq_test():
    """Missing group / response rows are excluded and counted; other levels excluded.

    > chisq.test(matrix(c(28, 18, 4, 17), 2, byrow = TRUE), correct = TRUE)$p.value
    rel=1e-6.
    """
    df = _patients({"targeted": (28, 46), "chemo": (4, 21), "other": (2, 3)}, by="arm")
    extra = pd.DataFrame({"arm": [None, "chemo", "targeted"], "cr": [True, None, np.nan]})
    df = pd.concat([df, extra], ignore_index=True)
    c = compare_proportions(df, response="cr", by="arm", levels=["targeted", "chemo"], rule=RULE)
    assert c.n_missing == 3
    assert c.n_excluded == 3
    assert c.p == pytest.approx(R[("targeted_vs_chemo", "chisq_yates_p")], rel=REL)


def test_compare_proportions_empty_level_raises():
    df = _patients({"a": (3, 5), "b": (1, 4)})
    with pytest.raises(ValueError, match="group 'c' has no patients"):
        compare_proportions(df, response="cr", by="group", levels=["a", "c"], rule=RULE)


def test_compare_proportions_constant_response_gives_fisher_1_and_note():
    """All patients respond: Fisher p = 1 by definition, chi-squared undefined (R: NaN)."""
    df = _patients({"a": (3, 3), "b": (4, 4)})
    c = compare_proportions(df, response="cr", by="group", rule=RULE)
    assert c.p == 1.0 and c.test_used == FISHER
    assert c.p_chisq is None and c.p_chisq_yates is None
    assert "chi-squared tests are undefined" in c.note
    c2 = compare_proportions(df, response="cr", by="group", rule="chisq")
    assert c2.p is None


# --------------------------------------------------------------------------
# factor_comparisons
# --------------------------------------------------------------------------
def _study_like_data() -> pd.DataFrame:
    arm = _patients({"targeted": (28, 46), "chemotherapy": (4, 21)}, by="arm")
    arm["emd"] = None
    emd = _patients({"CNS": (8, 8), "non-CNS": (1, 6)}, by="emd")
    emd["arm"] = None
    return pd.concat([arm, emd], ignore_index=True)


def test_factor_comparisons_published_factors_against_R_glm_and_tests():
    """Targeted vs chemotherapy (OR by glm) and CNS vs non-CNS (separation).

    > d1$arm <- factor(d1$arm, levels = c("chemo", "targeted"))
    > fit <- glm(cr ~ arm, family = binomial, data = d1,
    +            control = glm.control(epsilon = 1e-14, maxit = 100))
    > exp(coef(fit)); exp(confint.default(fit)); coef(summary(fit))[, "Pr(>|z|)"]
    > chisq.test(matrix(c(28, 18, 4, 17), 2, byrow = TRUE), correct = TRUE)$p.value
    > fisher.test(matrix(c(8, 0, 1, 5), 2, byrow = TRUE))$p.value
    rel=1e-6.  8/8 responders: no finite maximum-likelihood OR.
    """
    out = factor_comparisons(
        _study_like_data(), response="cr", rule=RULE,
        factors={"Salvage": "arm", "EMD site": "emd"},
        levels={"Salvage": ["chemotherapy", "targeted"], "EMD site": ["non-CNS", "CNS"]},
    )
    assert out["factor"].tolist() == ["Salvage", "EMD site"]
    arm = out.iloc[0]
    assert (arm["reference"], arm["level"]) == ("chemotherapy", "targeted")
    counts = (arm["x_reference"], arm["n_reference"], arm["x_level"], arm["n_level"])
    assert counts == (4, 21, 28, 46)
    assert arm["rate_level"] == pytest.approx(28 / 46)
    assert arm["test_used"] == CHISQ_YATES
    assert arm["p"] == pytest.approx(R[("targeted_vs_chemo", "chisq_yates_p")], rel=REL)
    assert arm["p_fisher"] == pytest.approx(R[("targeted_vs_chemo", "fisher_p")], rel=REL)
    assert arm["p_chisq"] == pytest.approx(R[("targeted_vs_chemo", "chisq_p")], rel=REL)
    assert arm["odds_ratio"] == pytest.approx(R[("glm_targeted_vs_chemo", "or")], rel=REL)
    assert arm["or_lower"] == pytest.approx(R[("glm_targeted_vs_chemo", "or_lower")], rel=REL)
    assert arm["or_upper"] == pytest.approx(R[("glm_targeted_vs_chemo", "or_upper")], rel=REL)
    assert arm["or_p"] == pytest.approx(R[("glm_targeted_vs_chemo", "wald_p")], rel=REL)
    assert arm["or_reason"] is None
    assert arm["n_missing"] == 14  # the EMD patients have no arm
    assert arm["p_global"] == arm["p"]

    emd = out.iloc[1]
    assert (emd["reference"], emd["level"]) == ("non-CNS", "CNS")
    assert emd["test_used"] == FISHER
    assert emd["p"] == pytest.approx(R[("cns_vs_noncns", "fisher_p")], rel=REL)
    assert emd["odds_ratio"] is None and emd["or_lower"] is None and emd["or_upper"] is None
    assert emd["or_p"] is None
    assert emd["or_reason"] == SEPARATION_QUASI
    assert emd["or_reason"].startswith("not estimable")


def test_factor_comparisons_complete_separation_does_not_crash():
    """5/5 vs 0/4: the factor predicts the response perfectly."""
    df = _patients({"a": (5, 5), "b": (0, 4)})
    out = factor_comparisons(df, response="cr", rule=RULE, factors={"F": "group"})
    row = out.iloc[0]
    assert row["odds_ratio"] is None
    assert row["or_reason"] == SEPARATION_COMPLETE == "not estimable (complete separation)"
    assert row["test_used"] == FISHER


def test_factor_comparisons_constant_response_in_a_contrast():
    """0/3 vs 0/3 within a contrast: Fisher p = 1, chi-squared and OR undefined."""
    df = _patients({"a": (0, 3), "b": (0, 3), "c": (2, 3)})
    out = factor_comparisons(df, response="cr", rule=RULE, factors={"F": "group"}).set_index("level")
    assert out.loc["b", "p"] == 1.0 and out.loc["b", "p_chisq"] is None
    assert out.loc["b", "or_reason"] == NO_VARIATION
    assert out.loc["c", "or_reason"] == SEPARATION_QUASI


def three_level_data() -> pd.DataFrame:
    """lines "1": 10/20, "2": 12/15, "3+": 3/12; 3 missing factor, 2 missing response."""
    df = _patients({"1": (10, 20), "2": (12, 15), "3+": (3, 12)}, by="lines")
    extra = pd.DataFrame({"lines": [None, None, None, "1", "2"],
                          "cr": [True, False, True, None, None]})
    return pd.concat([df, extra], ignore_index=True)


@pytest.mark.parametrize("level, case", [("2", "2_vs_1"), ("3+", "3_vs_1")],
                         ids=["2_vs_1", "3plus_vs_1"])
def test_factor_comparisons_three_levels_with_missing_against_R_glm(level, case):
    """Three-level factor with missing values; OR from the full dummy-coded glm; rel=1e-6.

    > d3$lines <- factor(d3$lines, levels = c("1", "2", "3+"))
    > ctl <- glm.control(epsilon = 1e-14, maxit = 100)          # fit to convergence
    > fit3 <- glm(cr ~ lines, family = binomial, data = d3, control = ctl)  # drops 5 NA rows
    > exp(coef(fit3)); exp(confint.default(fit3)); coef(summary(fit3))[, "Pr(>|z|)"]
    > tab3 <- table(d3$lines, factor(d3$cr, levels = c(1, 0)))
    > fisher.test(tab3[c("1", lv), ]); chisq.test(tab3[c("1", lv), ], correct = TRUE / FALSE)
    > chisq.test(tab3)$p.value   # global test: all expected counts >= 5
    """
    out = factor_comparisons(three_level_data(), response="cr", rule=RULE, factors={"Prior lines": "lines"})
    assert out["level"].tolist() == ["2", "3+"]
    row = out.set_index("level").loc[level]
    assert row["reference"] == "1"
    assert row["odds_ratio"] == pytest.approx(R[(f"glm_lines_{case}", "or")], rel=REL)
    assert row["or_lower"] == pytest.approx(R[(f"glm_lines_{case}", "or_lower")], rel=REL)
    assert row["or_upper"] == pytest.approx(R[(f"glm_lines_{case}", "or_upper")], rel=REL)
    assert row["or_p"] == pytest.approx(R[(f"glm_lines_{case}", "wald_p")], rel=REL)
    pair = "lines_2_vs_1" if level == "2" else "lines_3plus_vs_1"
    assert row["p_fisher"] == pytest.approx(R[(pair, "fisher_p")], rel=REL)
    assert row["p_chisq_yates"] == pytest.approx(R[(pair, "chisq_yates_p")], rel=REL)
    assert row["p_chisq"] == pytest.approx(R[(pair, "chisq_p")], rel=REL)
    assert row["n_missing"] == 5
    assert row["test_global"] == CHISQ
    assert row["p_global"] == pytest.approx(R[("lines_global", "chisq_p")], rel=REL)


def test_factor_comparisons_unknown_levels_key_raises():
    with pytest.raises(ValueError, match="unknown factor"):
        factor_comparisons(three_level_data(), response="cr", rule=RULE, factors={"L": "lines"},
                           levels={"other": ["1", "2"]})
