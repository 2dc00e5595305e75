"""Kaplan-Meier statistics: survival tables, medians with confidence intervals,
restricted means, the log-rank test, reverse-KM follow-up and risk tables.

Method
------
* Product-limit estimate (Kaplan & Meier 1958) at every distinct observed time,
  ``S(t) = prod_{t_j <= t} (n_j - d_j) / n_j``. The counts (``n_j`` at risk,
  ``d_j`` events, ``c_j`` censored) are those of lifelines ``KaplanMeierFitter``'s
  event table, counted here with ``np.unique``/``np.bincount`` (the same
  integers; the fitter's pandas table costs most of a second per fit at
  registry scale). The product itself is taken here, in the same order of
  floating-point operations as R's ``survfit``, because lifelines computes
  ``exp(sum(log(...)))``, which differs from R in the last bits; those bits
  decide whether ``S`` "equals" 0.5, 0.55 or 0.45 in the median rules below.
* Standard errors: Greenwood (1926), ``Var(log S(t)) = sum d_j / (n_j (n_j - d_j))``;
  ``se(S) = S * sqrt(Var(log S))`` as R's ``summary(survfit)$std.err``
  (``NaN`` where ``S = 0``, as R). lifelines does not expose this SE.
* Pointwise confidence intervals as R's ``survfit`` (``survfit_confint``):
  ``"log"`` (R default) ``S * exp(-/+ z se_log)`` with the upper limit capped at 1;
  ``"log-log"`` (Kalbfleisch & Prentice 1980; Klein & Moeschberger 2003, 4.3.2)
  ``S^exp(+/- z se_log / log S)``; ``"plain"`` ``S -/+ z se(S)`` clipped to [0, 1].
  Where R gives ``NA`` (log: ``S = 0``; log-log: ``S`` in {0, 1}) the tables hold NaN.
  lifelines offers only the log-log ("exponential Greenwood") interval, so the
  intervals are computed here.
* Median and its interval (Brookmeyer & Crowley 1982): the times where the
  survival curve and its pointwise band cross 0.5, with R's rules from
  ``quantile.survfit`` (survival 3.5): a curve lying on 0.5 (within
  ``sqrt(.Machine$double.eps)``) over an interval gives the midpoint of that
  interval, and a curve that ends on 0.5 gives the midpoint between the time it
  reached 0.5 and the last observed time. (R's ``print(survfit)`` uses an older
  routine that, for a curve ending on 0.5, reports the time it reached 0.5; we
  follow ``quantile()``.) Written here because lifelines' median (first time
  with ``S <= 0.5``) has neither rule and no interval of this kind.
* SPSS "Means and Medians for Survival Time" (IBM SPSS Statistics KM
  procedure): median = first event time with ``S <= 0.5``; its SE is the
  Greenwood SE of ``S`` at the median divided by the slope of ``S`` between the
  last event time with ``S >= 0.55`` and the first with ``S <= 0.45`` (Collett
  2015, 2.4.2, as SPSS applies it); mean = area under ``S`` up to the largest
  observed time, with the variance of Klein & Moeschberger (2003, 4.5) without
  the ``m/(m-1)`` factor; intervals ``estimate -/+ 1.96 SE``. The exact rule was
  pinned against SPSS 31 output (tests/reference/spss_km_reference.yml).
  Threshold comparisons use an absolute tolerance of 1e-12 because, e.g.,
  ``S = 11/20`` computes as 0.54999999999999993. Written here: no Python
  library implements SPSS's rule.
* Log-rank test (Mantel 1966; Peto & Peto 1972): chi-square, degrees of freedom
  and p from lifelines ``multivariate_logrank_test``, equal to R's ``survdiff``
  (``rho = 0``); the expected numbers of events per group
  (``sum_j n_gj d_j / n_j``) are computed here because lifelines does not return them.
* Median follow-up: reverse Kaplan-Meier (Schemper & Smith 1996), i.e. the KM
  estimate with the event indicator flipped, as R's
  ``survfit(Surv(time, 1 - status) ~ 1)``.

Groups are taken in the order of the categories for a categorical column, else in
sorted order (as R's ``factor``). All functions validate their input and raise
``ValueError`` with a short message for impossible data.

References
----------
Brookmeyer R, Crowley J (1982). A confidence interval for the median survival
time. Biometrics 38:29-41.
Collett D (2015). Modelling Survival Data in Medical Research, 3rd ed. CRC Press.
Greenwood M (1926). The natural duration of cancer. Reports on Public Health and
Medical Subjects 33. HMSO.
Kalbfleisch JD, Prentice RL (1980). The Statistical Analysis of Failure Time Data. Wiley.
Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
JASA 53:457-481.
Klein JP, Moeschberger ML (2003). Survival Analysis: Techniques for Censored and
Truncated Data, 2nd ed. Springer.
Mantel N (1966). Evaluation of survival data and two new rank order statistics
arising in its consideration. Cancer Chemother Rep 50:163-170.
Schemper M, Smith TL (1996). A note on quantifying follow-up in studies of failure
time. Control Clin Trials 17:343-346.
Therneau TM (2023). survival: A Package for Survival Analysis in R, version 3.5-3.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from .._lazy import lazy

stats = lazy("scipy.stats")
lifelines_statistics = lazy("lifelines.statistics")

__all__ = [
    "CONF_TYPES",
    "MEDIAN_METHODS",
    "LogrankResult",
    "MeanResult",
    "MedianResult",
    "kaplan_meier",
    "km_mean_spss",
    "km_mean_spss_by_group",
    "km_median",
    "km_median_by_group",
    "logrank",
    "median_followup",
    "risk_table",
    "risk_times_covering",
    "survival_at",
]

CONF_TYPES = ("log", "log-log", "plain")
MEDIAN_METHODS = ("log", "log-log", "spss")

# R survival's quantile.survfit(tolerance = sqrt(.Machine$double.eps))
_R_TOL = math.sqrt(np.finfo(float).eps)
# SPSS thresholds (0.5, 0.55, 0.45): absorbs rounding such as 11/20 -> 0.54999999999999993
_SPSS_TOL = 1e-12
# SPSS prints 95% intervals as estimate -/+ 1.96 SE (1.96 exactly)
_SPSS_Z95 = 1.96


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MedianResult:
    """Median survival time with its confidence interval.

    Attributes
    ----------
    method : "log", "log-log" (R survfit, Brookmeyer-Crowley interval from the
        pointwise band of that type) or "spss" (SPSS median, estimate -/+ z SE).
    estimate : the median, or None when the curve does not fall to 0.5
        ("not reached").
    lower, upper : confidence limits, or None. A limit that is None with its
        ``*_reached`` False was not reached (the band stays above 0.5); with
        ``*_reached`` True it exists in principle but is not estimable (SPSS: the
        SE could not be estimated, see ``se_reason``).
    se : standard error of the median (SPSS method only), or None.
    reached : the survival curve fell to 0.5 during follow-up.
    lower_reached, upper_reached : for "log"/"log-log", the band giving that
        limit reached 0.5; for "spss", equal to ``reached`` (the interval is
        symmetric about the median).
    se_reason : why ``se`` is None (None when ``se`` exists).
    n, events : number of observations and of events used.
    z : the normal quantile used for the interval.
    """

    method: str
    estimate: float | None
    lower: float | None
    upper: float | None
    se: float | None
    reached: bool
    lower_reached: bool
    upper_reached: bool
    se_reason: str | None
    n: int
    events: int
    z: float


@dataclass(frozen=True)
class MeanResult:
    """SPSS-style restricted mean survival time.

    Attributes
    ----------
    estimate : area under the KM curve from 0 to ``tmax``.
    se : its standard error (Klein & Moeschberger 2003, 4.5, no m/(m-1) factor).
    lower, upper : ``estimate -/+ z * se``.
    tmax : the restriction time, the largest observed time (event or censored).
    n, events : number of observations and of events.
    z : the normal quantile used (1.96 for alpha = 0.05, as SPSS).
    """

    estimate: float
    se: float
    lower: float
    upper: float
    tmax: float
    n: int
    events: int
    z: float


@dataclass(frozen=True)
class LogrankResult:
    """Log-rank test of equal survival across groups (R ``survdiff``, rho = 0).

    Attributes
    ----------
    chisq : the log-rank chi-square statistic.
    df : degrees of freedom (number of groups - 1).
    p : upper-tail chi-square p-value.
    groups : DataFrame, one row per group, columns ``group``, ``n`` (patients),
        ``observed`` (events), ``expected`` (expected events under the null).
    """

    chisq: float
    df: int
    p: float
    groups: pd.DataFrame


# --------------------------------------------------------------------------- input


def _check_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    for col in columns:
        if col not in df.columns:
            raise ValueError(f"column '{col}' is not in the data")


def _clean(df: pd.DataFrame, time: str, event: str) -> tuple[np.ndarray, np.ndarray]:
    """Checked float times and 0/1 integer events."""
    _check_columns(df, [time, event])
    if len(df) == 0:
        raise ValueError("no observations")
    t = pd.to_numeric(df[time], errors="coerce")
    if t.isna().any():
        raise ValueError(f"column '{time}' has missing or non-numeric values")
    t = t.to_numpy(dtype=float)
    if not np.isfinite(t).all():
        raise ValueError(f"column '{time}' has infinite values")
    if (t < 0).any():
        raise ValueError(f"column '{time}' has negative times")
    e = df[event]
    if e.isna().any():
        raise ValueError(f"column '{event}' has missing values")
    e = e.to_numpy()
    if e.dtype == bool:
        e = e.astype(int)
    try:
        ef = e.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"column '{event}' must be 1 (event) or 0 (censored)") from None
    if not np.isin(ef, (0.0, 1.0)).all():
        raise ValueError(f"column '{event}' must be 1 (event) or 0 (censored)")
    return t, ef.astype(int)


def _group_levels(df: pd.DataFrame, group: str) -> list[Hashable]:
    """Group levels: category order for a categorical column, else sorted."""
    _check_columns(df, [group])
    g = df[group]
    if g.isna().any():
        raise ValueError(f"column '{group}' has missing values")
    if isinstance(g.dtype, pd.CategoricalDtype):
        levels = list(g.cat.categories)
        present = set(g.unique())
        for level in levels:
            if level not in present:
                raise ValueError(f"group '{level}' has no patients")
        return levels
    values = list(pd.unique(g))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _split(df: pd.DataFrame, group: str | None, keep: Sequence[str]) -> list[tuple[Hashable, pd.DataFrame]]:
    """(level, rows of that group) per group level; the parts hold only the
    group and ``keep`` columns (an analysis data set has ~50 columns, copying
    them all per group cost most of a KM fit at registry scale)."""
    if group is None:
        return [(None, df)]
    levels = _group_levels(df, group)
    df = df[[c for c in dict.fromkeys((group, *keep)) if c in df.columns]]
    g = df[group]
    return [(level, df.loc[g == level]) for level in levels]


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}")
    return float(stats.norm.ppf(1 - alpha / 2))


def _spss_z(alpha: float) -> float:
    """1.96 for alpha = 0.05 (SPSS prints only 95% intervals); the normal quantile otherwise."""
    return _SPSS_Z95 if alpha == 0.05 else _z(alpha)


# --------------------------------------------------------------------------- KM core


@dataclass(frozen=True)
class _Km:
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    var_log: np.ndarray  # Greenwood variance of log S (inf once S = 0)

    @property
    def se_log(self) -> np.ndarray:
        return np.sqrt(self.var_log)

    @property
    def se_surv(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.surv * self.se_log


def _counts(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times (sorted) and, at each, the numbers at risk (time >= it),
    with the event and censored: the counts of lifelines' ``event_table``
    (without its added time-0 row), by ``np.unique`` and ``np.bincount``.
    Counted here because ``KaplanMeierFitter`` builds a pandas table for them,
    which takes most of a second per fit at registry scale; the counts are the
    same integers."""
    times, inverse = np.unique(t, return_inverse=True)
    removed = np.bincount(inverse, minlength=len(times))
    n_event = np.bincount(inverse, weights=e, minlength=len(times)).astype(np.int64)
    n_risk = len(t) - np.concatenate([[0], np.cumsum(removed)[:-1]])
    return times, n_risk.astype(np.int64), n_event, (removed - n_event).astype(np.int64)


def _km(t: np.ndarray, e: np.ndarray) -> _Km:
    """KM estimate at each distinct time (counts: :func:`_counts`)."""
    times, n_risk, n_event, n_censor = _counts(t, e)
    n = n_risk.astype(float)
    d = n_event.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod((n - d) / n)  # R survfit's order of operations
        terms = np.where(d > 0, d / (n * (n - d)), 0.0)  # Greenwood (1926)
    return _Km(
        time=times.astype(float),
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        surv=surv,
        var_log=np.cumsum(terms),
    )


def _confint(surv: np.ndarray, se_log: np.ndarray, conf_type: str, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval as R survival's survfit_confint (logse = TRUE, ulimit = TRUE)."""
    p = np.asarray(surv, dtype=float)
    se = np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1.0)
        xx = np.where((p == 0) | (p == 1), np.nan, p)
        se2 = z * se / np.log(xx)
        return np.exp(-np.exp(np.log(-np.log(xx)) - se2)), np.exp(-np.exp(np.log(-np.log(xx)) + se2))


# --------------------------------------------------------------------------- public: KM table


def kaplan_meier(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    conf_type: str = "log",
    alpha: float,
) -> pd.DataFrame:
    """Kaplan-Meier table at every distinct observed time (event or censored).

    Product-limit estimate (Kaplan & Meier 1958) with Greenwood (1926) standard
    errors and R ``survfit``'s pointwise intervals (see the module docstring),
    equal to R's ``summary(survfit(Surv(time, event) ~ group, conf.type = ...),
    censored = TRUE)``.

    Returns one row per group and distinct time, columns:
    ``group`` (the group level; None when ungrouped), ``time``, ``n_risk``
    (at risk just before ``time``), ``n_event``, ``n_censor`` (at ``time``),
    ``surv`` (S just after ``time``), ``se_surv`` (Greenwood SE of S, NaN where
    S = 0 as in R), ``lower``, ``upper`` (pointwise ``1 - alpha`` limits of type
    ``conf_type``: "log" (R default), "log-log" or "plain"; NaN where R gives NA).
    """
    _check_conf_type(conf_type)
    z = _z(alpha)
    frames = []
    for level, part in _split(df, group, (time, event)):
        t, e = _clean(part, time, event)
        km = _km(t, e)
        lower, upper = _confint(km.surv, km.se_log, conf_type, z)
        frames.append(
            pd.DataFrame(
                {
                    "group": pd.Series([level] * len(km.time), dtype=object),
                    "time": km.time,
                    "n_risk": km.n_risk,
                    "n_event": km.n_event,
                    "n_censor": km.n_censor,
                    "surv": km.surv,
                    "se_surv": km.se_surv,
                    "lower": lower,
                    "upper": upper,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- medians


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float | None:
    """R survival's internal ``findq`` (quantile.survfit), for one probability.

    ``x`` are the times with the start time prepended, ``y`` the cumulative
    distribution (``1 - S`` or ``1 - band``, 0 prepended; NaN for R's NA).
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return None
    xmax = x[-1]
    # duplicated(y): keep the first occurrence of each value (NaN duplicates NaN)
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    ok = ~np.isnan(y)
    positions = np.flatnonzero(ok)

    def approx_constant_f1(shift: float) -> int | None:
        # approx(y + shift, seq_along(y), p, method = "constant", f = 1), NA pairs removed:
        # the position of the smallest (y + shift) >= p; NA beyond the largest.
        xs = y[ok] + shift
        order = np.argsort(xs, kind="stable")
        xs_sorted = xs[order]
        if p > xs_sorted[-1] or p < xs_sorted[0]:
            return None
        k = int(np.searchsorted(xs_sorted, p, side="left"))
        return int(positions[order[k]])

    i1 = approx_constant_f1(tol)
    i2 = approx_constant_f1(-tol)
    quant = None if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = None if i1 is None else (x[i1] + xmax) / 2
    return None if quant is None else float(quant)


def _median_r(km: _Km, n: int, method: str, alpha: float) -> MedianResult:
    """Median and limits as R quantile.survfit; ``method`` is the conf.type of the band."""
    z = _z(alpha)
    lower_band, upper_band = _confint(km.surv, km.se_log, method, z)
    x = np.concatenate([[0.0], km.time])

    def q(s: np.ndarray) -> float | None:
        return _findq(x, np.concatenate([[0.0], 1.0 - s]), 0.5, _R_TOL)

    estimate = q(km.surv)
    lower = q(lower_band)  # the lower band reaches 0.5 first
    upper = q(upper_band)
    return MedianResult(
        method=method,
        estimate=estimate,
        lower=lower,
        upper=upper,
        se=None,
        reached=estimate is not None,
        lower_reached=lower is not None,
        upper_reached=upper is not None,
        se_reason=f"method '{method}' gives no standard error of the median",
        n=n,
        events=int(km.n_event.sum()),
        z=z,
    )


def _median_spss(km: _Km, n: int, alpha: float) -> MedianResult:
    z = _spss_z(alpha)
    events = int(km.n_event.sum())
    is_event = km.n_event > 0
    surv = km.surv
    below = np.flatnonzero(is_event & (surv <= 0.5 + _SPSS_TOL))
    if below.size == 0:
        return MedianResult(
            method="spss", estimate=None, lower=None, upper=None, se=None,
            reached=False, lower_reached=False, upper_reached=False,
            se_reason="median not reached", n=n, events=events, z=z,
        )  # fmt: skip
    i50 = below[0]
    t50 = float(km.time[i50])
    upper_idx = np.flatnonzero(is_event & (surv >= 0.55 - _SPSS_TOL))
    lower_idx = np.flatnonzero(is_event & (surv <= 0.45 + _SPSS_TOL))
    se_s = km.se_surv[i50]
    reason = None
    if upper_idx.size == 0:
        reason = "not estimable: no event time with S >= 0.55"
    elif lower_idx.size == 0:
        reason = "not estimable: no event time with S <= 0.45"
    elif not np.isfinite(se_s):
        reason = "not estimable: Greenwood SE of S at the median is undefined (S = 0)"
    se = lower = upper = None
    if reason is None:
        u, l_ = upper_idx[-1], lower_idx[0]
        slope = (surv[u] - surv[l_]) / (km.time[l_] - km.time[u])
        se = float(se_s / slope)
        lower, upper = t50 - z * se, t50 + z * se
    return MedianResult(
        method="spss", estimate=t50, lower=lower, upper=upper, se=se,
        reached=True, lower_reached=True, upper_reached=True,
        se_reason=reason, n=n, events=events, z=z,
    )  # fmt: skip


def _median(t: np.ndarray, e: np.ndarray, method: str, alpha: float) -> MedianResult:
    if method not in MEDIAN_METHODS:
        raise ValueError(f"method must be one of {MEDIAN_METHODS}, not {method!r}")
    km = _km(t, e)
    if method == "spss":
        return _median_spss(km, len(t), alpha)
    return _median_r(km, len(t), method, alpha)


def km_median(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    method: str,
    alpha: float,
) -> MedianResult:
    """Kaplan-Meier median survival time with a ``1 - alpha`` confidence interval.

    ``method``:

    * ``"log"``: R ``quantile(survfit(...), 0.5)`` with the default log band:
      the median is where S crosses 0.5 and the limits are where the pointwise
      band crosses 0.5 (Brookmeyer & Crowley 1982), with R's midpoint rule for a
      curve lying on 0.5 over an interval and its ``sqrt(eps)`` tolerance.
    * ``"log-log"``: the same with ``conf.type = "log-log"``.
    * ``"spss"``: SPSS KM "Means and Medians": first event time with S <= 0.5,
      SE from the Greenwood SE of S and the slope of S between the last event
      time with S >= 0.55 and the first with S <= 0.45 (Collett 2015, 2.4.2);
      CI = median -/+ 1.96 SE (no truncation at 0). Where that slope cannot be
      formed, ``se``/``lower``/``upper`` are None and ``se_reason`` says why.

    Values that do not exist are None, never NaN (see :class:`MedianResult`).
    """
    t, e = _clean(df, time, event)
    return _median(t, e, method, alpha)


def km_median_by_group(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str,
    method: str,
    alpha: float,
) -> dict[Hashable, MedianResult]:
    """:func:`km_median` in each group; a dict ``{group level: MedianResult}`` in group order."""
    return {
        level: km_median(part, time=time, event=event, method=method, alpha=alpha)
        for level, part in _split(df, group, (time, event))
    }


def median_followup(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    method: str,
    alpha: float,
) -> MedianResult:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996).

    The KM estimate with the event indicator flipped (censored observations are
    the "events"), as R's ``survfit(Surv(time, 1 - status) ~ 1)``; the median and
    its interval by the same ``method`` rules as :func:`km_median`. ``n`` is the
    number of patients and ``events`` the number of censored observations.
    """
    t, e = _clean(df, time, event)
    return _median(t, 1 - e, method, alpha)


# --------------------------------------------------------------------------- means


def _mean_spss(km: _Km, n: int, alpha: float) -> MeanResult:
    """Restricted mean to the last observed time, as R survmean(rmean = "individual")."""
    z = _spss_z(alpha)
    tmax = float(km.time[-1])
    n_r = km.n_risk.astype(float)
    d = km.n_event.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_r - d == 0, 0.0, d / (n_r * (n_r - d)))
    temptime = np.concatenate([km.time, [tmax]])
    tempsurv = np.concatenate([km.surv, [km.surv[-1]]])
    hh = np.concatenate([hh, [0.0]])
    delta = np.diff(np.concatenate([[0.0], temptime]))
    rectangles = delta * np.concatenate([[1.0], tempsurv[:-1]])
    # area to the right of each time, squared, times its Greenwood increment
    areas_right = np.cumsum(rectangles[1:][::-1])
    var = float(np.sum(areas_right**2 * hh[::-1][1:]))
    mean = float(np.sum(rectangles))
    se = math.sqrt(var)
    return MeanResult(
        estimate=mean, se=se, lower=mean - z * se, upper=mean + z * se,
        tmax=tmax, n=n, events=int(km.n_event.sum()), z=z,
    )  # fmt: skip


def km_mean_spss(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    alpha: float,
) -> MeanResult:
    """SPSS KM mean survival time: area under S up to the largest observed time.

    ``Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over event times ``t_j``, with
    ``A_j`` the area under S from ``t_j`` to ``tmax`` (Klein & Moeschberger 2003,
    4.5, without the ``m/(m-1)`` factor; equal to R's
    ``summary(survfit(...), rmean = "individual")$table[, c("rmean", "se(rmean)")]``).
    CI = mean -/+ z SE with z = 1.96 for ``alpha = 0.05`` (as SPSS prints it) and
    the normal quantile for any other ``alpha``. When every observation is
    censored the mean is ``tmax`` with SE 0.
    """
    t, e = _clean(df, time, event)
    return _mean_spss(_km(t, e), len(t), alpha)


def km_mean_spss_by_group(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str,
    alpha: float,
) -> dict[Hashable, MeanResult]:
    """:func:`km_mean_spss` in each group (each restricted to its own largest time)."""
    return {
        level: km_mean_spss(part, time=time, event=event, alpha=alpha)
        for level, part in _split(df, group, (time, event))
    }


# --------------------------------------------------------------------------- log-rank


def logrank(df: pd.DataFrame, *, time: str, event: str, group: str) -> LogrankResult:
    """Log-rank test (Mantel 1966) for two or more groups, as R ``survdiff`` (rho = 0).

    Chi-square, df and p from lifelines ``multivariate_logrank_test``; observed
    and expected events per group computed here (``E_g = sum_j n_gj d_j / n_j``
    over distinct event times), which lifelines does not return.
    """
    levels = _group_levels(df, group)
    if len(levels) < 2:
        raise ValueError(f"the log-rank test needs at least two groups; found {len(levels)}")
    t, e = _clean(df, time, event)
    if e.sum() == 0:
        raise ValueError("all observations are censored")
    g = df[group].to_numpy()
    codes = np.empty(len(g), dtype=np.int64)
    for k, level in enumerate(levels):
        codes[g == level] = k
    result = lifelines_statistics.multivariate_logrank_test(t, codes, e)

    # counts at each distinct event time, by sorting (the same integers as
    # counting patient by patient, without the n x times comparisons)
    event_times, deaths = np.unique(t[e == 1], return_counts=True)
    deaths = deaths.astype(np.int64)
    at_risk = np.array([
        np.sum(codes == k) - np.searchsorted(np.sort(t[codes == k]), event_times, side="left")
        for k in range(len(levels))
    ], dtype=np.int64).reshape(len(levels), len(event_times))
    expected = (at_risk * (deaths / at_risk.sum(axis=0))).sum(axis=1)
    groups = pd.DataFrame(
        {
            "group": pd.Series(levels, dtype=object),
            "n": [int(np.sum(codes == k)) for k in range(len(levels))],
            "observed": [int(np.sum(e[codes == k])) for k in range(len(levels))],
            "expected": expected,
        }
    )
    return LogrankResult(
        chisq=float(result.test_statistic),
        df=int(result.degrees_of_freedom),
        p=float(result.p_value),
        groups=groups,
    )


# --------------------------------------------------------------------------- at fixed times


def _n_at_or_after(t: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Number of times ``>= s`` for each ``s`` of ``at`` (by sorting once)."""
    return (len(t) - np.searchsorted(np.sort(t), at, side="left")).astype(np.int64)


def _times_array(times: Sequence[float]) -> np.ndarray:
    arr = np.asarray(times, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError("no times given")
    if not np.isfinite(arr).all():
        raise ValueError("times must be finite numbers")
    return arr


def survival_at(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    times: Sequence[float],
    group: str | None = None,
    conf_type: str = "log",
    alpha: float,
) -> pd.DataFrame:
    """KM survival at given times, as R ``summary(survfit(...), times = times, extend = TRUE)``.

    S at ``t`` is the value after the last observed time ``<= t``; before the
    first observed time S = 1 with SE 0 and limits 1 (for every ``conf_type``,
    as R; in the KM table a log-log limit at S = 1 is NaN). For
    ``t`` past the last observed time (R's ``extend = TRUE``) the last value of
    S, its SE and limits are carried forward and ``n_risk`` is 0 (so S is not
    an estimate there when the last observation was censored: check ``n_risk``).

    Columns: ``group`` (None when ungrouped), ``time`` (as requested, in the
    given order), ``surv``, ``se_surv`` (Greenwood), ``lower``, ``upper``
    (pointwise, ``conf_type``), ``n_risk`` (number with time ``>= t``).
    """
    _check_conf_type(conf_type)
    z = _z(alpha)
    at = _times_array(times)
    frames = []
    for level, part in _split(df, group, (time, event)):
        t, e = _clean(part, time, event)
        km = _km(t, e)
        idx = np.searchsorted(km.time, at, side="right") - 1
        before = idx < 0
        safe = np.where(before, 0, idx)
        surv = np.where(before, 1.0, km.surv[safe])
        se_log = np.where(before, 0.0, km.se_log[safe])
        se_surv = np.where(before, 0.0, km.se_surv[safe])
        lower, upper = _confint(surv, se_log, conf_type, z)
        lower = np.where(before, 1.0, lower)  # R: S = 1 with limits 1 before the first time
        upper = np.where(before, 1.0, upper)
        frames.append(
            pd.DataFrame(
                {
                    "group": pd.Series([level] * len(at), dtype=object),
                    "time": at,
                    "surv": surv,
                    "se_surv": se_surv,
                    "lower": lower,
                    "upper": upper,
                    "n_risk": _n_at_or_after(t, at),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def risk_times_covering(times: Sequence[float], last_time: float) -> list[float]:
    """The risk-table (and time-axis tick) times for data followed up to
    ``last_time``: the configured ``times`` in order, up to the first one at or
    past ``last_time``, continued at the spacing of the last two configured
    times when none is, so that the time axis and the table cover every
    observation (as survminer's ``ggsurvplot`` does, whose axis runs to the
    last time). Configured [0, 6, ..., 36] and a last time of 42.8 give
    [0, 6, ..., 36, 42, 48]."""
    out: list[float] = []
    for t in sorted(float(x) for x in _times_array(times)):
        out.append(t)
        if t >= last_time:
            return out
    step = out[-1] - out[-2] if len(out) >= 2 else (out[-1] if out[-1] > 0 else 1.0)
    while out[-1] < last_time:
        out.append(out[-1] + step)
    return out


def risk_table(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    times: Sequence[float],
    group: str | None = None,
) -> pd.DataFrame:
    """Numbers at risk, censored and with the event at given times (a KM plot's risk table).

    Convention (survminer ``ggsurvplot(risk.table = TRUE, cumcensor = TRUE,
    cumevents = TRUE)``, i.e. R ``summary(survfit, times = t)``): ``n_at_risk``
    is the number still under observation at ``t`` (time ``>= t``; those with
    the event or censored exactly at ``t`` are counted as at risk);
    ``n_censored`` and ``n_events`` are cumulative up to and including ``t``.
    (lifelines' ``add_at_risk_counts`` uses the same cumulative counts but by
    default prints the number at risk just after ``t``.) Plain counting, done here.

    Columns: ``group`` (None when ungrouped), ``time``, ``n_at_risk``,
    ``n_censored``, ``n_events``.
    """
    at = _times_array(times)
    frames = []
    for level, part in _split(df, group, (time, event)):
        t, e = _clean(part, time, event)
        frames.append(
            pd.DataFrame(
                {
                    "group": pd.Series([level] * len(at), dtype=object),
                    "time": at,
                    "n_at_risk": _n_at_or_after(t, at),
                    "n_censored": np.array([np.sum((t <= s) & (e == 0)) for s in at], dtype=np.int64),
                    "n_events": np.array([np.sum((t <= s) & (e == 1)) for s in at], dtype=np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
