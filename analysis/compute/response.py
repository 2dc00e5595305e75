"""Response proportions and their comparison between groups.

Pure functions: data in, unrounded numbers out (frozen dataclasses or tidy
DataFrames).  No I/O, no printing, no formatting.

Contents
--------
proportion_ci
    Binomial proportion with Clopper-Pearson exact confidence interval
    (Clopper & Pearson 1934), via :func:`scipy.stats.binomtest`.
response_rates
    Response rate with exact CI per group.
contingency_test
    Tests of independence for an r x c table of counts under a configurable
    choice rule (default: the SPSS Crosstabs habit, see below).
compare_proportions
    Response (True/False) compared between the levels of a grouping column.
factor_comparisons
    One row per level-vs-reference contrast for several factors, with the
    rule's test, the alternative tests and a univariable logistic-regression
    odds ratio (Wald CI).

The choice rule ``"fisher_if_expected_lt5_else_yates"``
-------------------------------------------------------
The habit of SPSS Crosstabs users (and of the source publication): for a 2x2
table report Fisher's exact test (two-sided; Fisher 1935) when any expected
count is < 5 (Cochran 1954), otherwise Pearson's chi-squared test with Yates'
continuity correction (Yates 1934).  For a larger r x c table the analogue is
the Fisher-Freeman-Halton exact test (Freeman & Halton 1951) when any expected
count is < 5, otherwise Pearson's chi-squared test (Yates' correction is only
defined for 2x2 tables; R's ``chisq.test(correct=TRUE)`` also ignores it
there).  The other selectable rules are ``"fisher"``, ``"chisq_yates"`` and
``"chisq"``.  Every result names the test that produced its p-value and also
carries the p-values of the other conventions, so that a reader can see when
they disagree about p < 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from .._lazy import lazy

stats = lazy("scipy.stats")
special = lazy("scipy.special")

__all__ = [
    "RULES",
    "Proportion",
    "TableTest",
    "Comparison",
    "proportion_ci",
    "response_rates",
    "contingency_test",
    "compare_proportions",
    "factor_comparisons",
]

#: Names of the selectable test-choice rules.
RULES: tuple[str, ...] = ("fisher_if_expected_lt5_else_yates", "fisher", "chisq_yates", "chisq")

CLOPPER_PEARSON = "Clopper-Pearson exact"
FISHER = "Fisher's exact test"
FFH_EXACT = "Fisher–Freeman–Halton exact test"
FFH_MONTE_CARLO = "Fisher–Freeman–Halton test (Monte-Carlo p-value)"
CHISQ_YATES = "Pearson's chi-squared test with Yates' continuity correction"
CHISQ = "Pearson's chi-squared test"
SEPARATION_COMPLETE = "not estimable (complete separation)"
SEPARATION_QUASI = "not estimable (quasi-complete separation)"
NO_VARIATION = "not estimable (all compared patients have the same response)"

# Relative tolerance for "at least as extreme" in the exact tests: a table
# counts when P(table) <= P(observed) * (1 + 1e-7), as in R's fisher.test.
_REL_TOL = 1e-7


# --------------------------------------------------------------------------
# Single proportions
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Proportion:
    """A binomial proportion x/n with a Clopper-Pearson exact CI.

    Attributes
    ----------
    x, n : number of successes and of trials.
    estimate : x / n (0-1), or None when n == 0.
    lower, upper : limits of the two-sided (1 - alpha) exact CI, or None when n == 0.
    method : name of the interval method.
    alpha : 1 - confidence level.
    reason : why estimate/lower/upper are None (n == 0), else None.
    """

    x: int
    n: int
    estimate: float | None
    lower: float | None
    upper: float | None
    method: str = CLOPPER_PEARSON
    alpha: float = 0.05
    reason: str | None = None


def proportion_ci(x: int, n: int, *, alpha: float) -> Proportion:
    """Proportion x/n with the Clopper-Pearson exact (1 - alpha) CI.

    Clopper & Pearson (1934), the interval of R's ``binom.test()$conf.int``:
    lower = Beta quantile(alpha/2; x, n - x + 1) (0 when x = 0), upper =
    Beta quantile(1 - alpha/2; x + 1, n - x) (1 when x = n).  Computed with
    :meth:`scipy.stats.binomtest(...).proportion_ci(method="exact")`.

    n == 0 is not an error: the estimate and limits are None and ``reason``
    says why.
    """
    x_int, n_int = _as_count(x, "x"), _as_count(n, "n")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if x_int > n_int:
        raise ValueError(f"x ({x_int}) exceeds n ({n_int})")
    if n_int == 0:
        return Proportion(x=0, n=0, estimate=None, lower=None, upper=None, alpha=alpha,
                          reason="no patients (n = 0)")
    ci = stats.binomtest(x_int, n_int).proportion_ci(confidence_level=1.0 - alpha, method="exact")
    return Proportion(x=x_int, n=n_int, estimate=x_int / n_int, lower=float(ci.low),
                      upper=float(ci.high), alpha=alpha)


def response_rates(
    df: pd.DataFrame,
    *,
    response: str,
    by: str | None = None,
    levels: list | None = None,
    alpha: float,
) -> pd.DataFrame:
    """Response rate with Clopper-Pearson exact CI overall or per group.

    Parameters
    ----------
    df : one row per patient.
    response : boolean column (True = response; 0/1 accepted; missing allowed).
    by : grouping column, or None for a single row with group ``"Overall"``.
    levels : groups to report, in this order.  Default: the categories of a
        categorical column, else the sorted observed values.  A listed level
        without patients gives a row with n = 0 and None estimates.
    alpha : 1 - confidence level.

    Returns
    -------
    DataFrame, one row per group, columns:

    group : group value (``"Overall"`` when ``by`` is None).
    x : responders.
    n : patients with a known response in the group (the denominator).
    estimate, lower, upper : x/n and its exact CI (0-1 scale), None when n = 0.
    n_missing_response : patients of the group whose response is missing
        (excluded from n).
    method : ``"Clopper-Pearson exact"``.
    reason : None, or why the estimate is missing (n = 0).

    ``result.attrs["n_missing"]`` holds the number of rows excluded because
    ``by`` is missing (0 when ``by`` is None); ``result.attrs["n_excluded"]``
    those whose group is not among ``levels``.
    """
    _require_columns(df, [response] + ([by] if by is not None else []))
    y = _boolean_response(df[response], response)
    if by is None:
        groups = pd.Series("Overall", index=df.index, dtype=object)
        level_list: list = ["Overall"]
        n_missing_group = 0
    else:
        groups = df[by]
        n_missing_group = int(groups.isna().sum())
        level_list = list(levels) if levels is not None else _observed_levels(groups)
    rows = []
    for level in level_list:
        in_group = (groups == level).fillna(False).to_numpy(dtype=bool)
        known = in_group & y.notna().to_numpy()
        x = int(y[known].astype(bool).sum())
        n = int(known.sum())
        prop = proportion_ci(x, n, alpha=alpha)
        rows.append({
            "group": level,
            "x": x,
            "n": n,
            "estimate": prop.estimate,
            "lower": prop.lower,
            "upper": prop.upper,
            "n_missing_response": int(in_group.sum() - n),
            "method": prop.method,
            "reason": prop.reason,
        })
    out = _frame(rows, ["group", "x", "n", "estimate", "lower", "upper", "n_missing_response",
                        "method", "reason"], object_columns=["estimate", "lower", "upper"])
    out.attrs["n_missing"] = n_missing_group
    in_levels = groups.isin(level_list) if by is not None else pd.Series(True, index=df.index)
    out.attrs["n_excluded"] = int((~in_levels & groups.notna()).sum())
    return out


# --------------------------------------------------------------------------
# Tests of independence for a table of counts
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TableTest:
    """Result of :func:`contingency_test` on an r x c table of counts.

    Attributes
    ----------
    shape : (rows, columns) of the table tested.
    rule : the choice rule applied.
    test_used : plain name of the test whose p-value is ``p``.
    p : p-value under the rule.
    p_fisher : Fisher's exact test (2x2, two-sided) or Fisher-Freeman-Halton
        test (r x c).
    fisher_method : ``"exact"`` or ``"Monte-Carlo"``.
    n_resamples : Monte-Carlo tables drawn (None when exact).
    p_chisq_yates : Pearson chi-squared with Yates' correction (2x2 only, else None).
    p_chisq : Pearson chi-squared without correction.
    statistic_chisq_yates, statistic_chisq : the X-squared statistics.
    dof : degrees of freedom of the chi-squared tests.
    min_expected : smallest expected count under independence.
    expected_threshold : the rule's "expected count < threshold" cut-off.
    conventions_disagree : True when the available p-values (Fisher, Yates,
        uncorrected) do not all fall on the same side of ``alpha``.
    alpha : significance level used for ``conventions_disagree``.
    """

    shape: tuple[int, int]
    rule: str
    test_used: str
    p: float
    p_fisher: float
    fisher_method: str
    n_resamples: int | None
    p_chisq_yates: float | None
    p_chisq: float
    statistic_chisq_yates: float | None
    statistic_chisq: float
    dof: int
    min_expected: float
    expected_threshold: float
    conventions_disagree: bool
    alpha: float


def contingency_test(
    table: Any,
    *,
    rule: str,
    expected_threshold: float = 5.0,
    alpha: float,
    rng: np.random.Generator | None = None,
    n_resamples: int,
    max_tables: int = 2_000_000,
) -> TableTest:
    """Test independence in an r x c table of counts under a choice rule.

    Tests computed (all of them, every time):

    * Fisher's exact test, two-sided (Fisher 1935), for a 2x2 table:
      :func:`scipy.stats.fisher_exact` (same p as R ``fisher.test``).
    * Fisher-Freeman-Halton exact test (Freeman & Halton 1951) for a larger
      table: p = sum of the probabilities of all tables with the observed
      margins that are no more probable than the observed one (relative
      tolerance 1e-7, as R ``fisher.test``).  **Own code**: scipy has no exact
      r x c algorithm (its ``PermutationMethod`` enumerates the n! permutations
      of patients, impossible at n = 67), so the tables are enumerated here
      with numpy, column by column.  When the enumeration would exceed
      ``max_tables`` partial tables the Monte-Carlo p-value of
      :func:`scipy.stats.fisher_exact` with ``scipy.stats.MonteCarloMethod``
      is used instead (``n_resamples`` tables drawn with the generator ``rng``,
      p = (b + 1)/(B + 1) as R ``fisher.test(simulate.p.value=TRUE)``); the
      caller must then pass a seeded ``rng``.
    * Pearson's chi-squared test with and (2x2 only) without Yates' continuity
      correction (Yates 1934): :func:`scipy.stats.chi2_contingency`, same as R
      ``chisq.test(correct=TRUE/FALSE)`` (the correction is min(0.5, |O - E|)).

    The rule then picks the reported p (see the module docstring):
    ``"fisher_if_expected_lt5_else_yates"`` (default), ``"fisher"``,
    ``"chisq_yates"`` (uncorrected chi-squared for tables larger than 2x2, as
    R does) or ``"chisq"``.

    Rows or columns whose total is zero are dropped before testing (they carry
    no information; R's fisher.test does the same), so every expected count is
    positive.  If fewer than two rows or columns remain, the table cannot be
    tested and ValueError is raised.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    counts = np.asarray(table)
    if counts.ndim != 2:
        raise ValueError("table must be two-dimensional")
    if np.any(pd.isna(counts)):
        raise ValueError("table contains missing counts")
    counts_f = counts.astype(float)
    if np.any(counts_f < 0) or np.any(counts_f != np.round(counts_f)):
        raise ValueError("table must contain non-negative integer counts")
    counts = counts_f.astype(np.int64)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.shape[0] < 2:
        raise ValueError("fewer than two non-empty rows; nothing to compare")
    if counts.shape[1] < 2:
        raise ValueError("fewer than two non-empty columns; nothing to compare")

    is_2x2 = counts.shape == (2, 2)
    expected = stats.contingency.expected_freq(counts)
    min_expected = float(expected.min())
    dof = (counts.shape[0] - 1) * (counts.shape[1] - 1)

    # Fisher / Fisher-Freeman-Halton
    n_used: int | None = None
    if is_2x2:
        p_fisher = float(stats.fisher_exact(counts, alternative="two-sided").pvalue)
        fisher_method = "exact"
        fisher_name = FISHER
    else:
        exact = _ffh_exact_pvalue(counts, max_tables=max_tables)
        if exact is not None:
            p_fisher, fisher_method, fisher_name = exact, "exact", FFH_EXACT
        else:
            if rng is None:
                raise ValueError("exact Fisher-Freeman-Halton test too large; pass a seeded rng "
                                 "for a Monte-Carlo p-value")
            p_fisher = _ffh_monte_carlo_pvalue(counts, n_resamples=n_resamples, rng=rng)
            fisher_method, fisher_name, n_used = "Monte-Carlo", FFH_MONTE_CARLO, n_resamples

    # Pearson chi-squared (expected counts are > 0 after dropping empty margins)
    res = stats.chi2_contingency(counts, correction=False)
    p_chisq, stat_chisq = float(res.pvalue), float(res.statistic)
    p_yates: float | None = None
    stat_yates: float | None = None
    if is_2x2:
        res_y = stats.chi2_contingency(counts, correction=True)
        p_yates, stat_yates = float(res_y.pvalue), float(res_y.statistic)

    if rule == "fisher":
        test_used, p = fisher_name, p_fisher
    elif rule == "chisq":
        test_used, p = CHISQ, p_chisq
    elif rule == "chisq_yates":
        test_used, p = (CHISQ_YATES, p_yates) if is_2x2 else (CHISQ, p_chisq)
    elif min_expected < expected_threshold:
        test_used, p = fisher_name, p_fisher
    else:
        test_used, p = (CHISQ_YATES, p_yates) if is_2x2 else (CHISQ, p_chisq)

    available = [v for v in (p_fisher, p_yates, p_chisq) if v is not None]
    disagree = len({v < alpha for v in available}) > 1
    return TableTest(
        shape=(int(counts.shape[0]), int(counts.shape[1])),
        rule=rule,
        test_used=test_used,
        p=p,
        p_fisher=p_fisher,
        fisher_method=fisher_method,
        n_resamples=n_used,
        p_chisq_yates=p_yates,
        p_chisq=p_chisq,
        statistic_chisq_yates=stat_yates,
        statistic_chisq=stat_chisq,
        dof=dof,
        min_expected=min_expected,
        expected_threshold=expected_threshold,
        conventions_disagree=disagree,
        alpha=alpha,
    )


# --------------------------------------------------------------------------
# Comparing a binary response between groups
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """Response compared between the levels of a grouping column.

    Attributes
    ----------
    table : contingency table, index = levels (named after ``by``), columns =
        ``[True, False]`` (responders, non-responders; named after ``response``).
    expected : expected counts under independence, same layout.
    levels : the levels compared, in table order.
    rule : the choice rule applied.
    test_used : plain name of the test whose p-value is ``p``.
    p : p-value under the rule (None when that test is undefined, see ``note``).
    p_fisher : Fisher's exact (2x2) or Fisher-Freeman-Halton (r x c) p.
    fisher_method : ``"exact"`` or ``"Monte-Carlo"``.
    p_chisq_yates : chi-squared with Yates' correction; None for r x c tables.
    p_chisq : chi-squared without correction.
    statistic_chisq_yates, statistic_chisq, dof : chi-squared statistics and df.
    min_expected : smallest expected count.
    conventions_disagree : True when p_fisher, p_chisq_yates and p_chisq (those
        available) do not all fall on the same side of ``alpha``.
    alpha : level used for ``conventions_disagree``.
    n_missing : rows excluded because ``by`` or ``response`` is missing.
    n_excluded : rows with a known group not among ``levels``.
    note : None, or why a p-value is missing.
    """

    table: pd.DataFrame
    expected: pd.DataFrame
    levels: tuple
    rule: str
    test_used: str
    p: float | None
    p_fisher: float
    fisher_method: str
    p_chisq_yates: float | None
    p_chisq: float | None
    statistic_chisq_yates: float | None
    statistic_chisq: float | None
    dof: int
    min_expected: float
    conventions_disagree: bool
    alpha: float
    n_missing: int
    n_excluded: int
    note: str | None = None


def compare_proportions(
    df: pd.DataFrame,
    *,
    response: str,
    by: str,
    levels: list | None = None,
    rule: str,
    expected_threshold: float = 5.0,
    alpha: float,
    rng: np.random.Generator | None = None,
    n_resamples: int,
) -> Comparison:
    """Compare the proportion of ``response`` between the levels of ``by``.

    Builds the levels x (True, False) table of counts and tests it with
    :func:`contingency_test` (Fisher 1935; Freeman & Halton 1951; Yates 1934;
    Pearson chi-squared; choice rule after Cochran 1954 / SPSS Crosstabs, see
    the module docstring).

    Rows with a missing ``by`` or ``response`` are excluded and counted in
    ``n_missing``; rows whose group is not in ``levels`` are excluded and
    counted in ``n_excluded``.  A level without patients raises ValueError
    ("group 'X' has no patients").  When all compared patients have the same
    response, Fisher's p is 1, the chi-squared p-values are None (undefined,
    R gives NaN) and ``note`` says so.
    """
    _require_columns(df, [response, by])
    y = _boolean_response(df[response], response)
    g = df[by]
    level_list = list(levels) if levels is not None else _observed_levels(g)
    if len(level_list) < 2:
        raise ValueError(f"column '{by}' needs at least two levels to compare, got {level_list!r}")
    if len(set(level_list)) != len(level_list):
        raise ValueError(f"levels of '{by}' are repeated: {level_list!r}")
    missing = g.isna() | y.isna()
    in_levels = g.isin(level_list)
    n_missing = int(missing.sum())
    n_excluded = int((~missing & ~in_levels).sum())
    keep = (~missing & in_levels).to_numpy()
    # each kept patient's level by one hash lookup (instead of comparing every cell with every level)
    code = pd.Index(level_list, dtype=object).get_indexer(g[keep].to_numpy(dtype=object))
    y_k = y[keep].to_numpy(dtype=bool)
    resp = np.bincount(code[y_k], minlength=len(level_list)).astype(int)
    tot = np.bincount(code, minlength=len(level_list)).astype(int)
    for lv, n in zip(level_list, tot):
        if n == 0:
            raise ValueError(f"group '{lv}' has no patients")
    counts = np.column_stack([resp, tot - resp])
    index = pd.Index(level_list, name=by)
    columns = pd.Index([True, False], name=response)
    table = pd.DataFrame(counts, index=index, columns=columns)
    expected = pd.DataFrame(stats.contingency.expected_freq(counts), index=index, columns=columns)

    if resp.sum() == 0 or resp.sum() == tot.sum():
        return _constant_response_comparison(table, expected, level_list, rule, alpha, n_missing,
                                             n_excluded, bool(resp.sum() > 0))
    res = contingency_test(counts, rule=rule, expected_threshold=expected_threshold, alpha=alpha,
                           rng=rng, n_resamples=n_resamples)
    return Comparison(
        table=table,
        expected=expected,
        levels=tuple(level_list),
        rule=rule,
        test_used=res.test_used,
        p=res.p,
        p_fisher=res.p_fisher,
        fisher_method=res.fisher_method,
        p_chisq_yates=res.p_chisq_yates,
        p_chisq=res.p_chisq,
        statistic_chisq_yates=res.statistic_chisq_yates,
        statistic_chisq=res.statistic_chisq,
        dof=res.dof,
        min_expected=res.min_expected,
        conventions_disagree=res.conventions_disagree,
        alpha=alpha,
        n_missing=n_missing,
        n_excluded=n_excluded,
    )


def _constant_response_comparison(table, expected, level_list, rule, alpha, n_missing, n_excluded,
                                  all_respond) -> Comparison:
    """All compared patients share one response: Fisher p = 1, chi-squared undefined."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    is_2x2 = len(level_list) == 2
    fisher_name = FISHER if is_2x2 else FFH_EXACT
    if rule in ("fisher", "fisher_if_expected_lt5_else_yates"):
        test_used, p = fisher_name, 1.0  # expected counts of 0 < threshold
    else:
        test_used, p = (CHISQ_YATES if is_2x2 and rule == "chisq_yates" else CHISQ), None
    which = "responded" if all_respond else "did not respond"
    return Comparison(
        table=table, expected=expected, levels=tuple(level_list), rule=rule, test_used=test_used,
        p=p, p_fisher=1.0, fisher_method="exact", p_chisq_yates=None, p_chisq=None,
        statistic_chisq_yates=None, statistic_chisq=None, dof=len(level_list) - 1,
        min_expected=0.0, conventions_disagree=False, alpha=alpha, n_missing=n_missing,
        n_excluded=n_excluded,
        note=f"all compared patients {which}; chi-squared tests are undefined",
    )


# --------------------------------------------------------------------------
# Factor-by-factor table with odds ratios
# --------------------------------------------------------------------------
_FACTOR_COLUMNS = [
    "factor", "column", "reference", "level",
    "x_reference", "n_reference", "rate_reference",
    "x_level", "n_level", "rate_level",
    "p", "test_used", "p_fisher", "p_chisq_yates", "p_chisq", "min_expected",
    "conventions_disagree",
    "odds_ratio", "or_lower", "or_upper", "or_p", "or_reason",
    "p_global", "test_global", "n_missing",
]


def factor_comparisons(
    df: pd.DataFrame,
    *,
    response: str,
    factors: dict[str, str],
    levels: dict[str, list] | None = None,
    rule: str,
    alpha: float,
    expected_threshold: float = 5.0,
    rng: np.random.Generator | None = None,
    n_resamples: int,
) -> pd.DataFrame:
    """Univariable comparisons of the response rate across several factors.

    Parameters
    ----------
    response : boolean response column.
    factors : ``{factor key: column}``, in the order wanted.
    levels : optional ``{factor key: [reference, level 2, ...]}``; the first
        level is the reference.  Default: categorical order, else sorted
        observed values (so False before True).
    rule, expected_threshold, alpha, rng, n_resamples : see :func:`contingency_test`.

    For each factor with levels L0 (reference), L1, ..., one row per contrast
    Lk vs L0, using only the patients in Lk or L0 with known factor and
    response:

    * the 2x2 test chosen by ``rule`` and the three alternative p-values
      (:func:`compare_proportions`);
    * the odds ratio of response (Lk vs L0) from a univariable logistic
      regression, ``statsmodels`` GLM Binomial with logit link (as R
      ``glm(family=binomial)``), with the **Wald** (1 - alpha) CI
      exp(beta +/- z * SE) (as R ``confint.default``, *not* the
      profile-likelihood ``confint(glm)``, which statsmodels does not provide)
      and the Wald p-value.  With dummy coding the model is saturated, so the
      contrast's coefficient and SE are the same whether fitted on the
      two levels or on all levels of the factor.  When a cell of the 2x2
      table is zero the maximum-likelihood estimate does not exist
      (Albert & Anderson 1984): OR, CI and p are None and ``or_reason`` is
      ``"not estimable (complete separation)"`` (two zero cells, the factor
      predicts the response perfectly) or ``"not estimable (quasi-complete
      separation)"`` (one zero cell, e.g. 8/8 responders); when nobody or
      everybody in the two levels responded it is ``"not estimable (all
      compared patients have the same response)"``.  Every reason starts with
      ``"not estimable ("``.

    Returns
    -------
    DataFrame, one row per contrast, columns:

    factor, column : factor key and data column.
    reference, level : the two levels compared (level vs reference).
    x_reference, n_reference, rate_reference : responders, patients, x/n (0-1)
        in the reference level; likewise x_level, n_level, rate_level.
    p, test_used : the rule's p-value and the name of its test.
    p_fisher, p_chisq_yates, p_chisq : Fisher's exact, chi-squared with Yates'
        correction, uncorrected chi-squared (None when undefined).
    min_expected : smallest expected count of the 2x2 table.
    conventions_disagree : the three p-values are not on the same side of alpha.
    odds_ratio, or_lower, or_upper, or_p : OR (level vs reference), Wald CI,
        Wald p; None when not estimable.
    or_reason : None, or why the OR is not estimable.
    p_global, test_global : the rule's test of the whole factor (all levels x
        response); equals p/test_used for a two-level factor.
    n_missing : patients excluded because the factor or the response is missing.
    """
    if not factors:
        raise ValueError("no factors given")
    _require_columns(df, [response] + list(factors.values()))
    levels = levels or {}
    unknown = set(levels) - set(factors)
    if unknown:
        raise ValueError(f"levels given for unknown factor(s): {sorted(unknown)}")
    y = _boolean_response(df[response], response)
    rows = []
    for key, column in factors.items():
        g = df[column]
        level_list = list(levels[key]) if key in levels else _observed_levels(g)
        if len(level_list) < 2:
            raise ValueError(f"factor '{key}' has fewer than two levels: {level_list!r}")
        overall = compare_proportions(df, response=response, by=column, levels=level_list,
                                      rule=rule, expected_threshold=expected_threshold,
                                      alpha=alpha, rng=rng, n_resamples=n_resamples)
        ref = level_list[0]
        for lv in level_list[1:]:
            if len(level_list) == 2:
                cmp = overall
            else:
                cmp = compare_proportions(df, response=response, by=column, levels=[ref, lv],
                                          rule=rule, expected_threshold=expected_threshold,
                                          alpha=alpha, rng=rng, n_resamples=n_resamples)
            x_ref, nonresp_ref = (int(v) for v in cmp.table.loc[ref])
            x_lv, nonresp_lv = (int(v) for v in cmp.table.loc[lv])
            n_ref, n_lv = x_ref + nonresp_ref, x_lv + nonresp_lv
            lor = _logistic_odds_ratio(x_ref, n_ref, x_lv, n_lv, alpha=alpha)
            rows.append({
                "factor": key,
                "column": column,
                "reference": ref,
                "level": lv,
                "x_reference": x_ref,
                "n_reference": n_ref,
                "rate_reference": x_ref / n_ref,
                "x_level": x_lv,
                "n_level": n_lv,
                "rate_level": x_lv / n_lv,
                "p": cmp.p,
                "test_used": cmp.test_used,
                "p_fisher": cmp.p_fisher,
                "p_chisq_yates": cmp.p_chisq_yates,
                "p_chisq": cmp.p_chisq,
                "min_expected": cmp.min_expected,
                "conventions_disagree": cmp.conventions_disagree,
                **lor,
                "p_global": overall.p,
                "test_global": overall.test_used,
                "n_missing": overall.n_missing,
            })
    return _frame(rows, _FACTOR_COLUMNS,
                  object_columns=["p", "p_chisq_yates", "p_chisq", "odds_ratio", "or_lower",
                                  "or_upper", "or_p", "p_global"])


def _logistic_odds_ratio(x_ref: int, n_ref: int, x_lv: int, n_lv: int, *,
                         alpha: float) -> dict[str, Any]:
    """Univariable logistic regression (GLM Binomial, logit) of response on level indicator.

    Fitted on the four cells of the 2x2 table with frequency weights, which is
    the same likelihood as one row per patient (R ``glm(y ~ level)`` on
    individual data): the same estimate, SE and Wald p, in constant memory
    (one row per patient took 5.5 GiB at 1,000,000 patients)."""
    # statsmodels' modules, not statsmodels.api (which imports its time-series
    # and graphics modules too: ~3 s)
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    cells = [x_ref, n_ref - x_ref, x_lv, n_lv - x_lv]
    zeros = sum(c == 0 for c in cells)
    empty = {"odds_ratio": None, "or_lower": None, "or_upper": None, "or_p": None}
    if x_ref + x_lv in (0, n_ref + n_lv):
        return {**empty, "or_reason": NO_VARIATION}
    if zeros:
        perfect = (cells[0] == 0 and cells[3] == 0) or (cells[1] == 0 and cells[2] == 0)
        return {**empty, "or_reason": SEPARATION_COMPLETE if perfect else SEPARATION_QUASI}
    y = np.array([1.0, 0.0, 1.0, 0.0])
    design = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    fit = GLM(y, design, family=families.Binomial(), freq_weights=np.asarray(cells, dtype=float)).fit(tol=1e-12)
    beta, se, p = float(fit.params[1]), float(fit.bse[1]), float(fit.pvalues[1])
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return {
        "odds_ratio": math.exp(beta),
        "or_lower": math.exp(beta - z * se),
        "or_upper": math.exp(beta + z * se),
        "or_p": p,
        "or_reason": None,
    }


# --------------------------------------------------------------------------
# Fisher-Freeman-Halton p-values, exact and Monte-Carlo (own code, see contingency_test)
# --------------------------------------------------------------------------
def _ffh_monte_carlo_pvalue(counts: np.ndarray, *, n_resamples: int, rng: np.random.Generator) -> float:
    """Monte-Carlo Fisher-Freeman-Halton p: what ``scipy.stats.fisher_exact(counts,
    method=MonteCarloMethod(n_resamples=n_resamples, rng=rng))`` computes, with the same
    draws (tables with the observed margins from ``scipy.stats.random_table`` seeded by
    ``rng``; each table's probability is the statistic, a smaller one more extreme;
    p = (tables at most as probable + 1) / (n_resamples + 1), by
    ``scipy.stats.monte_carlo_test``), so the same p where scipy's works.

    Written here because scipy's own statistic (1.17, ``_fisher_exact_monte_carlo_method``)
    tells a batch of resampled tables from the observed table by its size alone (more
    numbers than patients), and so fails ("cannot reshape array") once the patients
    compared are at least n_resamples x cells: 600,000 in a 3 x 2 table at the default
    100,000 resamples, 6,000 with 1,000. Here the statistic is told by its input's shape."""
    shape = counts.shape
    tables = stats.random_table(counts.sum(axis=1), counts.sum(axis=0), seed=rng)

    def rvs(size):
        return tables.rvs(size=size[0]).reshape(size)

    def statistic(flat, axis):      # flat: (..., cells), the last axis one table's cells
        return tables.pmf(flat.reshape(flat.shape[:-1] + shape))

    res = stats.monte_carlo_test(counts.ravel(), rvs, statistic, vectorized=True, n_resamples=n_resamples,
                                 alternative="less")
    return float(res.pvalue)


def _ffh_exact_pvalue(counts: np.ndarray, *, max_tables: int) -> float | None:
    """Exact Fisher-Freeman-Halton p by full enumeration, or None if too large.

    P(table | margins) = prod(r_i!) prod(c_j!) / (n! prod(n_ij!)) (Freeman &
    Halton 1951); p = sum of P over tables with P <= P_observed * (1 + 1e-7).
    Tables are built column by column; each partial table is the vector of
    remaining row totals plus the accumulated sum of log(n_ij!).
    """
    t = counts
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows -> fewer ways to split each column
    row_tot = t.sum(axis=1)
    col_tot = np.sort(t.sum(axis=0))  # largest column last: it is determined by the others
    n_rows = len(row_tot)
    gammaln = special.gammaln
    log_const = gammaln(row_tot + 1).sum() + gammaln(col_tot + 1).sum() - gammaln(t.sum() + 1)
    log_p_obs = log_const - gammaln(t + 1).sum()

    remaining = row_tot[None, :].astype(np.int64)
    acc = np.zeros(1)
    for c_j in col_tot[:-1]:
        n_splits = math.comb(int(c_j) + n_rows - 1, n_rows - 1)
        if n_splits * len(remaining) > max_tables:
            return None
        splits = _compositions(int(c_j), n_rows)
        splits = splits[(splits <= remaining.max(axis=0)).all(axis=1)]
        if len(splits) * len(remaining) > max_tables:
            return None
        ok = (splits[None, :, :] <= remaining[:, None, :]).all(axis=2)
        k, s = np.nonzero(ok)
        acc = acc[k] + gammaln(splits + 1).sum(axis=1)[s]
        remaining = remaining[k] - splits[s]
    log_p = log_const - (acc + gammaln(remaining + 1).sum(axis=1))
    extreme = log_p <= log_p_obs + math.log1p(_REL_TOL)
    return float(min(1.0, math.exp(special.logsumexp(log_p[extreme]))))


def _compositions(total: int, parts: int) -> np.ndarray:
    """All vectors of ``parts`` non-negative integers summing to ``total`` (stars and bars)."""
    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    if parts == 2:
        a = np.arange(total + 1, dtype=np.int64)
        return np.column_stack([a, total - a])
    bars = np.array(list(combinations(range(total + parts - 1), parts - 1)), dtype=np.int64)
    edges = np.column_stack([np.full(len(bars), -1), bars, np.full(len(bars), total + parts - 1)])
    return np.diff(edges, axis=1) - 1


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def _as_count(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a count, got a boolean")
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}") from None
    if not math.isfinite(as_float) or as_float < 0 or as_float != int(as_float):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(as_float)


def _frame(rows: list[dict], columns: list[str], *, object_columns: list[str]) -> pd.DataFrame:
    """DataFrame from row dicts; ``object_columns`` keep None (not NaN) for missing values."""
    out = pd.DataFrame(rows, columns=columns)
    for c in object_columns:
        out[c] = pd.Series([r[c] for r in rows], index=out.index, dtype=object)
    return out


def _require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise ValueError(f"column(s) not in data: {', '.join(map(repr, absent))}")


def _boolean_response(s: pd.Series, name: str) -> pd.Series:
    """Response as an object Series of True/False/None; rejects anything else."""
    known = s[s.notna()]
    bad = [v for v in pd.unique(known) if not (isinstance(v, (bool, np.bool_))
                                               or (isinstance(v, (int, float, np.integer,
                                                                  np.floating))
                                                   and v in (0, 1)))]
    if bad:
        raise ValueError(f"response column '{name}' must be boolean (True/False or 1/0), "
                         f"found {bad[:3]!r}")
    values = np.full(len(s), None, dtype=object)
    # bool(v) of each known value, converted in C (astype(object) gives Python bools)
    values[s.notna().to_numpy(dtype=bool)] = known.to_numpy(dtype=bool).astype(object)
    return pd.Series(values, index=s.index, dtype=object)


def _observed_levels(s: pd.Series) -> list:
    """Observed non-missing levels: category order for categoricals, else sorted."""
    present = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):
        seen = set(present)
        return [c for c in s.cat.categories if c in seen]
    values = list(pd.unique(present))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)
