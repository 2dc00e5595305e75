"""Cox proportional-hazards models: multivariable and univariable fits, and the
Grambsch-Therneau test of proportional hazards.

Method
------
* Fitting: maximum partial likelihood with Efron's (1977) approximation for
  tied event times, no penalty, by Newton-Raphson with step halving from
  ``b = 0`` as R's ``coxph`` fits (:func:`_newton_raphson` on
  :class:`_EfronLikelihood`), iterated until the step is ~1e-12, well past
  R's stop (relative log-likelihood change 1e-9), so coefficients, standard
  errors and log-likelihoods agree with R survival 3.x to better than 1e-6
  relative. Written here, not taken from lifelines' ``CoxPHFitter``, for two
  reasons: lifelines stops on its Newton decrement (< 1e-12 at best), which on
  the study's univariable salvage-group model left the coefficient 4e-7 short
  of the maximum and its p 3.5e-6 (relative) away from R's; and its Efron
  routine loops over distinct times in Python (~0.7 s a model at 100,000
  patients) where this likelihood is vectorised. lifelines ``CoxPHFitter``
  and statsmodels ``PHReg`` are the oracles of the tests (same estimates to
  ~1e-8; same likelihood, score and information to 1e-10).
* Wald statistics, hazard ratios and confidence intervals
  ``exp(coef +/- z_{1-alpha/2} * se)`` as printed by R's ``summary(coxph)``.
* Global tests as printed by R: likelihood ratio ``2 * (l(b) - l(0))``,
  Wald ``b' V^-1 b`` and score (log-rank) ``U(0)' I(0)^-1 U(0)``, from the
  same likelihood.
* Concordance: Harrell's C of the linear predictor (lifelines
  ``concordance_index``), counting ties in the predictor as 1/2 and leaving out
  pairs tied in time, which equals R's ``coxph(...)$concordance``.
* Proportional hazards: :func:`cox_zph` reproduces R survival >= 3.0
  ``cox.zph`` (the score test of Grambsch & Therneau 1994, as rewritten in
  survival 3.0); this part is written here because lifelines'
  ``proportional_hazard_test`` implements the older approximation.

Categorical covariates (string, object, or category dtype) are expanded to
treatment-coded indicator columns against a reference level; numeric
covariates (bool counted as 0/1) enter as they are. Rows with a missing value
in any covariate are dropped (complete-case analysis) and counted.

References
----------
Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
Efron B (1977). The efficiency of Cox's likelihood function for censored data.
JASA 72:557-565.
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics
based on weighted residuals. Biometrika 81:515-526.
Harrell FE, Lee KL, Mark DB (1996). Multivariable prognostic models.
Stat Med 15:361-387.
Peduzzi P, Concato J, Feinstein AR, Holford TR (1995). Importance of events
per independent variable in proportional hazards regression analysis. II.
Accuracy and precision of regression estimates. J Clin Epidemiol 48:1503-1510.
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox
Model. Springer (sections 3.4 and 6.2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from .._lazy import lazy

stats = lazy("scipy.stats")
lifelines = lazy("lifelines")
lifelines_utils = lazy("lifelines.utils")

__all__ = [
    "CoxCaution",
    "CoxFailure",
    "CoxNotFitted",
    "CoxResult",
    "GlobalTest",
    "ZphResult",
    "cox_model",
    "complete_cases",
    "cox_zph",
    "univariable_cox",
    "unrecorded_covariates",
]

# R coxph.control(): eps = 1e-9, toler.inf = sqrt(eps); used to flag
# coefficients that may be infinite (monotone likelihood).
_R_EPS = 1e-9
_R_TOLER_INF = np.sqrt(_R_EPS)

_TRANSFORMS = ("km", "rank", "identity", "log")

# --------------------------------------------------------------------------
# result containers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalTest:
    """A chi-square test of the whole model: statistic, degrees of freedom, p."""

    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class CoxCaution:
    """One caution about a fitted Cox model, as data: what happened and to
    which covariate or level, for the presentation to say in words (the
    ``warnings`` of :class:`CoxResult` say the same for a programmer).

    ``kind`` is one of:

    ``"few_events"``: ``n_events`` for ``n_parameters`` parameters, fewer than
    ``threshold`` events per parameter; ``"not_converged"``;
    ``"level_without_patients"``: ``level`` of ``variable`` is declared but no
    analysed patient has it (left out); ``"default_reference"``: no reference
    given for ``variable``, ``level`` (its first level) used;
    ``"level_without_events"``: no event among the patients with ``level`` of
    ``variable``; ``"reference_without_events"``: the same for the reference
    level ``level``; ``"may_be_infinite"``: the likelihood still increased along
    the coefficient of ``term`` (``variable``, ``level``) when the fit stopped;
    ``"no_events_after_transplant"`` (time-dependent HSCT model only).
    """

    kind: str
    variable: str | None = None
    level: str | None = None
    term: str | None = None
    n_events: int | None = None
    n_parameters: int | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class CoxFailure:
    """Why a Cox model could not be fitted on these data, as data: what
    happened and to which covariate or level, for the presentation to say in
    words (the message of :class:`CoxNotFitted` says the same for a
    programmer).

    ``kind`` is one of:

    ``"no_complete_cases"``: every one of the ``n_patients`` patients lacks a
    covariate; ``unrecorded`` are the covariates missing for all of them (may
    be empty: each patient lacks a different one); ``"all_censored"``: no
    event among the patients analysed; ``"reference_without_patients"``: the
    configured reference ``level`` of ``variable`` has no patients;
    ``"single_level"``: every patient analysed has ``level`` of ``variable``;
    ``"constant"``: the numeric ``variable`` has one value for all;
    ``"collinear"``: the covariates are collinear (the information matrix is
    singular).
    """

    kind: str
    variable: str | None = None
    level: str | None = None
    unrecorded: tuple[str, ...] = ()
    n_patients: int | None = None


class CoxNotFitted(ValueError):
    """A Cox model that cannot be fitted on these data; ``failure`` says why as
    a :class:`CoxFailure` (the message is unchanged, for programmers and logs).
    Errors of the call itself (a column not in the data, a reference for a
    covariate not in the model) stay plain ``ValueError``."""

    def __init__(self, message: str, failure: CoxFailure) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class CoxResult:
    """One fitted Cox model (numbers only; nothing rounded).

    Attributes
    ----------
    table:
        One row per model parameter (design column), in covariate order:

        ``term`` (str) parameter name: the covariate name for a numeric
        covariate, ``"variable[level]"`` for a level of a categorical one;
        ``variable`` (str) covariate name; ``level`` (str or None) the level
        compared with the reference, None for numeric covariates;
        ``reference`` (str or None) the reference level, None for numeric;
        ``coef`` log hazard ratio; ``se`` its standard error (inverse of the
        observed information); ``hr`` = exp(coef); ``lower``/``upper`` Wald
        confidence limits exp(coef -/+ z * se) at level 1 - alpha; ``z`` =
        coef / se; ``p`` two-sided Wald p; ``monotone`` (bool) True when the
        likelihood was still rising along this coefficient at convergence
        (R's "coefficient may be infinite" check): its estimate, HR, CI and p
        are then not meaningful.
    n, n_excluded, n_events:
        Patients used; patients dropped for a missing covariate; events among
        the patients used.
    n_parameters, events_per_parameter:
        Number of model parameters (rows of ``table``) and n_events divided by
        it.
    loglik:
        (null, fitted) partial log-likelihoods, as R's ``fit$loglik``.
    likelihood_ratio_test, wald_test, score_test:
        Global tests as printed by R's ``summary(coxph)`` (the score test is
        the log-rank test for a single categorical covariate).
    concordance:
        Harrell's C as R's ``fit$concordance["concordance"]``.
    reference:
        Reference level used for each categorical covariate.
    converged:
        False when Newton-Raphson stopped without meeting its criterion.
    warnings:
        Plain-English cautions (few events per parameter, non-convergence,
        levels without events, coefficients that may be infinite, levels
        dropped, reference levels chosen by default).
    cautions:
        The same cautions as data (:class:`CoxCaution`), one per warning and in
        the same order: what the presentation words for readers.
    """

    table: pd.DataFrame
    n: int
    n_excluded: int
    n_events: int
    n_parameters: int
    events_per_parameter: float
    loglik: tuple[float, float]
    likelihood_ratio_test: GlobalTest
    wald_test: GlobalTest
    score_test: GlobalTest
    concordance: float
    reference: Mapping[str, str]
    converged: bool
    warnings: tuple[str, ...]
    cautions: tuple[CoxCaution, ...] = ()

    @property
    def levels_without_events(self) -> tuple[tuple[str, str], ...]:
        """``(variable, level)`` of each categorical level (the reference level
        included) with no event among the patients used: the coefficients of
        that covariate then tend to infinity (monotone likelihood). Read from
        :attr:`cautions`, which say the same."""
        return tuple((c.variable, c.level) for c in self.cautions
                     if c.kind in ("level_without_events", "reference_without_events"))


@dataclass(frozen=True)
class ZphResult:
    """Test of proportional hazards (R survival >= 3.0 ``cox.zph``).

    Attributes
    ----------
    table:
        One row per covariate (a categorical covariate is one multi-df term,
        as in R) and a last row ``GLOBAL``: ``term`` (str), ``chisq``, ``df``
        (int), ``p``.
    residuals:
        Scaled Schoenfeld residuals in long form, one row per event and
        covariate, events in time order: ``event_index`` (0-based order of the
        event), ``time`` (event time), ``transformed_time`` (time on the scale
        of the test, R's ``zph$x``), ``term`` (covariate name), ``residual``
        (R's ``zph$y``: beta_j + scaled residual for a numeric covariate; for a
        categorical covariate the residuals of its levels are combined with
        the coefficients as weights and centred on 1, as R does).
    transform:
        The time transform used ("km", "rank", "identity" or "log").
    """

    table: pd.DataFrame
    residuals: pd.DataFrame
    transform: str


# --------------------------------------------------------------------------
# design matrix
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    term: str
    variable: str
    level: str | None
    reference: str | None


@dataclass(frozen=True)
class _Design:
    time: np.ndarray
    event: np.ndarray
    x: np.ndarray  # n x p design matrix, float
    terms: tuple[_Term, ...]
    assign: tuple[tuple[str, tuple[int, ...]], ...]  # variable -> design columns
    reference: dict[str, str]
    n_excluded: int
    notes: tuple[str, ...]
    cautions: tuple[CoxCaution, ...]  # the notes as data, one each


def _is_categorical(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    return not pd.api.types.is_numeric_dtype(series.dtype)


def _text_values(series: pd.Series) -> np.ndarray | None:
    """The values as an object array when every one is text or missing, else None.

    For text, ``str(v)`` is ``v`` and equal values are equal text, so levels can
    be read from the distinct values (one hash per cell in C) instead of calling
    ``str`` on every cell: the same levels, fast for a registry."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return None
    values = series.to_numpy(dtype=object)
    if len(values) and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values
    return None


def _text_levels(values: np.ndarray) -> list[str]:
    return sorted(str(v) for v in pd.unique(values[pd.notna(values)]))


def _levels(series: pd.Series) -> list[str]:
    """Levels present in ``series``: category order for a category dtype
    (as an R factor), sorted order otherwise."""
    present = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = set(present.cat.categories[pd.unique(present.cat.codes)])  # the categories in use
        return [str(c) for c in series.cat.categories if c in used]
    text = _text_values(present)
    if text is not None:
        return _text_levels(text)
    return sorted({str(v) for v in present})


def _declared_levels(series: pd.Series) -> list[str]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [str(c) for c in series.cat.categories]
    text = _text_values(series)
    if text is not None:
        return _text_levels(text)
    return sorted({str(v) for v in series.dropna()})


def _coded(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """``df`` with each text covariate (object or string dtype, every value text
    or missing) as a categorical whose categories are its distinct values in
    sorted order: the levels :func:`_levels` and :func:`_declared_levels` read
    from the text are then the categories, and every missing-value check is a
    look at integer codes instead of a test of each cell (most of the time of a
    Cox model's set-up at registry scale)."""
    coded = {}
    for var in covariates:
        s = df[var]
        if _is_categorical(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            text = _text_values(s)
            if text is not None:
                codes, uniques = pd.factorize(text, use_na_sentinel=True)
                order = np.argsort(np.asarray(uniques, dtype=object)) if len(uniques) else np.array([], int)
                rank = np.empty(len(uniques) + 1, dtype=np.int64)
                rank[order] = np.arange(len(uniques))
                rank[-1] = -1  # missing
                categories = pd.Index(np.asarray(uniques, dtype=object)[order], dtype=object)
                coded[var] = pd.Categorical.from_codes(rank[codes], dtype=pd.CategoricalDtype(categories))
    return df.assign(**coded) if coded else df


def complete_cases(df: pd.DataFrame, covariates: Sequence[str]) -> pd.Series:
    """True for each row with every covariate present: the rows a model uses
    (complete-case analysis); the others are its ``n_excluded``."""
    return df[list(covariates)].notna().all(axis=1)


def unrecorded_covariates(df: pd.DataFrame, covariates: Sequence[str]) -> list[str]:
    """The covariates missing on every row (none when ``df`` has no rows): no
    model with one of them can be fitted."""
    return [c for c in covariates if len(df) and df[c].isna().all()]


def _build_design(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None,
) -> _Design:
    if not isinstance(df, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    covariates = list(covariates)
    if not covariates:
        raise ValueError("at least one covariate is required")
    if len(set(covariates)) != len(covariates):
        raise ValueError("covariates are listed more than once")
    for col in (time, event, *covariates):
        if col not in df.columns:
            raise ValueError(f"column '{col}' is not in the data")
    if time in covariates or event in covariates:
        raise ValueError("time or event column is also listed as a covariate")
    reference = dict(reference or {})
    for var in reference:
        if var not in covariates:
            raise ValueError(f"reference given for '{var}', which is not a covariate")

    if df[time].isna().any():
        raise ValueError(f"time column '{time}' has missing values")
    if df[event].isna().any():
        raise ValueError(f"event column '{event}' has missing values")
    if not pd.api.types.is_numeric_dtype(df[time].dtype):
        raise ValueError(f"time column '{time}' is not numeric")
    if not df[event].isin([0, 1]).all():
        raise ValueError(f"event column '{event}' must be coded 0/1")

    df = _coded(df[list(dict.fromkeys([time, event, *covariates]))], covariates)  # only the columns used
    complete = complete_cases(df, covariates)
    data = df.loc[complete]
    n_excluded = int((~complete).sum())
    if len(data) == 0:
        raise CoxNotFitted("no patient has all covariates (no complete cases)", CoxFailure(
            "no_complete_cases", unrecorded=tuple(unrecorded_covariates(df, covariates)), n_patients=len(df)))

    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float).astype(int)
    if (t < 0).any():
        raise ValueError(f"time column '{time}' has negative values")
    if e.sum() == 0:
        raise CoxNotFitted("all observations are censored", CoxFailure("all_censored"))

    notes: list[str] = []
    cautions: list[CoxCaution] = []
    columns: list[np.ndarray] = []
    terms: list[_Term] = []
    assign: list[tuple[str, tuple[int, ...]]] = []
    used_reference: dict[str, str] = {}

    for var in covariates:
        s = data[var]
        if _is_categorical(s):
            levels = _levels(s)
            for lev in _declared_levels(df[var]):
                if lev not in levels:
                    notes.append(
                        f"level '{lev}' of '{var}' has no patients in the analysed data and was left out"
                    )
                    cautions.append(CoxCaution("level_without_patients", variable=var, level=str(lev)))
            if var in reference:
                ref = str(reference[var])
                if ref not in levels:
                    raise CoxNotFitted(f"reference level '{ref}' of '{var}' has no patients",
                                       CoxFailure("reference_without_patients", variable=var, level=ref))
            else:
                ref = levels[0]
                notes.append(f"no reference level given for '{var}': used '{ref}', the first level")
                cautions.append(CoxCaution("default_reference", variable=var, level=str(ref)))
            if len(levels) < 2:
                raise CoxNotFitted(f"covariate '{var}' has only one level ('{ref}')",
                                   CoxFailure("single_level", variable=var, level=str(ref)))
            if isinstance(s.dtype, pd.CategoricalDtype):  # str of each value, looked up by code
                values = np.asarray([str(c) for c in s.cat.categories] + [None], dtype=object)[s.cat.codes]
            else:
                text = _text_values(s)
                values = text if text is not None else s.astype(object).map(str).to_numpy()
            idx = []
            for lev in levels:
                if lev == ref:
                    continue
                idx.append(len(columns))
                columns.append((values == lev).astype(float))
                terms.append(_Term(f"{var}[{lev}]", var, lev, ref))
            used_reference[var] = ref
            assign.append((var, tuple(idx)))
        else:
            if var in reference:
                raise ValueError(f"reference level given for numeric covariate '{var}'")
            x = s.to_numpy(dtype=float)
            if np.all(x == x[0]):
                raise CoxNotFitted(f"covariate '{var}' is constant", CoxFailure("constant", variable=var))
            assign.append((var, (len(columns),)))
            columns.append(x)
            terms.append(_Term(var, var, None, None))

    return _Design(
        time=t,
        event=e,
        x=np.column_stack(columns),
        terms=tuple(terms),
        assign=tuple(assign),
        reference=used_reference,
        n_excluded=n_excluded,
        notes=tuple(notes),
        cautions=tuple(cautions),
    )


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    var: np.ndarray
    loglik: float
    converged: bool
    score: np.ndarray  # U(beta) at the estimate (for R's "may be infinite" check)


# Largest (distinct death times) x (distinct predictor values) table counted
# with numpy in _concordance; beyond it lifelines counts.
_CONCORDANCE_CELLS = 20_000_000


def _concordance(time: np.ndarray, score: np.ndarray, event: np.ndarray) -> float:
    """Harrell's C as ``lifelines.utils.concordance_index(time, score, event)``:
    the same three integer counts and the same final division, so the same
    float to the last bit.

    lifelines walks through the patients in time order with a binary tree in
    Python (about a second per model at 100,000 patients). Here each patient's
    comparison pool (the deaths before a death; the deaths up to and including
    the time of a censored patient) is read from a table of deaths by distinct
    death time and distinct score, cumulated over time and score, so all
    patients are counted at once. Used when that table is small (a model of
    categorical covariates has few distinct scores); else lifelines counts.
    Counts: admissible pairs = size of the pool; concordant = pool members with
    a smaller score; tied = pool members with an equal score (counted 1/2).
    """
    t = np.asarray(time, dtype=float)
    s = np.asarray(score, dtype=float)
    died = np.asarray(event, dtype=float).astype(bool)
    death_times, block = np.unique(t[died], return_inverse=True)
    scores, rank = np.unique(s[died], return_inverse=True)
    n_blocks, n_scores = len(death_times), len(scores)
    if n_blocks == 0 or n_blocks * n_scores > _CONCORDANCE_CELLS or np.isnan(t).any() or np.isnan(s).any():
        return float(lifelines_utils.concordance_index(time, score, event))
    table = np.bincount(block.ravel() * n_scores + rank.ravel(), minlength=n_blocks * n_scores)
    upto = np.cumsum(table.reshape(n_blocks, n_scores), axis=0)  # deaths at or before each death time, by score
    below = np.zeros((n_blocks, n_scores + 1), dtype=np.int64)
    below[:, 1:] = np.cumsum(upto, axis=1)  # ... with a score below each distinct score (last: all)
    pool = np.where(died, np.searchsorted(death_times, t, side="left"),
                    np.searchsorted(death_times, t, side="right"))  # death times in each patient's pool
    has = pool > 0
    row, si = pool[has] - 1, s[has]
    q = np.searchsorted(scores, si, side="left")
    num_pairs = np.int64(below[row, n_scores].sum())
    num_correct = np.int64(below[row, q].sum())
    equal = (q < n_scores) & (scores[np.minimum(q, n_scores - 1)] == si)
    num_tied = np.int64(upto[row[equal], q[equal]].sum())
    if num_pairs == 0:
        raise ZeroDivisionError("No admissable pairs in the dataset.")
    return float((num_correct + num_tied / 2) / num_pairs)  # lifelines' _concordance_ratio


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of the table whose columns are given, in lexicographic
    order (first column first): the index of one row of each, and how many rows
    are alike. Each column is coded by its distinct values and the codes are
    combined into one integer per row (a 1-D sort; ``np.unique(axis=0)`` sorts
    the rows as byte strings, ~10x slower). When the codes could overflow 63
    bits (many continuous covariates) every row is kept, sorted by the columns."""
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    capacity = 1
    for col in columns:
        uniques, codes = np.unique(col, return_inverse=True)
        capacity *= len(uniques)
        if capacity >= 2**62:
            order = np.lexsort(columns[::-1])
            return order, np.ones(n, dtype=np.int64)
        key = key * len(uniques) + codes.reshape(-1)
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return first, counts


class _EfronLikelihood:
    """Log partial likelihood, score and Hessian of a Cox model with Efron's (1977)
    handling of ties, vectorised over distinct times: the quantities of
    statsmodels ``PHReg.loglike/score/hessian`` (same formulas; the sums are
    taken in another order, so they agree to ~1e-12 relative, not to the bit;
    ``PHReg`` builds its risk-set index lists patient by patient in Python,
    ~1 s a model at 100,000 patients). With
    ``S_k(t) = sum_{time_i >= t} r_i x_i^(k)`` over the risk set and
    ``D_k(t)`` the same over the ``m`` deaths at ``t`` (``r = exp(x b)``), each
    distinct event time contributes, for ``f = 0, 1/m, ..., (m-1)/m`` and
    ``c = S_0 - f D_0``: loglik ``sum_deaths x b - sum_f log c``; score
    ``sum_deaths x - sum_f (S_1 - f D_1) / c``; information
    ``sum_f [(S_2 - f D_2) / c - mean mean']`` with ``mean = (S_1 - f D_1) / c``
    (Therneau & Grambsch 2000, 3.3).

    With ``entry`` (counting-process rows ``(entry, time]``, Andersen & Gill
    1982) a row is in the risk set at ``t`` when ``entry < t <= time``, as in
    R's ``coxph(Surv(tstart, tstop, event) ~ ...)``: the risk-set sums over
    ``time >= t`` then lose the rows with ``entry >= t``. These are the
    quantities of lifelines ``CoxTimeVaryingFitter._get_gradients``, which
    loops over the distinct event times in Python (~50 s for a model at
    100,000 patients).
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, x: np.ndarray,
                 entry: np.ndarray | None = None) -> None:
        # Rows alike in (time, event, [entry,] covariates) are one row with a
        # frequency weight ``w``: every sum above is a sum of ``w`` times the
        # row's term, so the likelihood is the same (a performance device: a
        # model of a few categorical covariates on 100,000 patients has
        # ~25,000 distinct rows, a univariable one ~6,000).
        x = np.asarray(x, dtype=float)
        columns = [np.asarray(time, dtype=float), np.asarray(event, dtype=float)]
        if entry is not None:
            columns.append(np.asarray(entry, dtype=float))
        rows, counts = _distinct_rows(columns + list(x.T))  # sorted by time first
        self.t, self.e = columns[0][rows], columns[1][rows]
        self.x = x[rows]
        self.w = counts.astype(float)
        self.starts = np.flatnonzero(np.r_[True, self.t[1:] != self.t[:-1]])  # blocks of equal time
        deaths = np.add.reduceat(self.e * self.w, self.starts)
        self.event_blocks = np.flatnonzero(deaths > 0)
        self.m = np.rint(deaths[self.event_blocks]).astype(np.int64)  # deaths per event time
        # one row per death: its event time's block and its Efron fraction f
        self.block = np.repeat(np.arange(len(self.m)), self.m)
        first = np.repeat(np.cumsum(self.m) - self.m, self.m)
        self.f = (np.arange(len(self.block)) - first) / self.m[self.block]
        self.entry_order = None
        if entry is not None:
            entry = columns[2][rows]
            self.entry_order = np.argsort(entry, kind="stable")  # rows by entry time
            # rows that entered at or after each event time: entry_order[late[b]:]
            self.late = np.searchsorted(entry[self.entry_order], self.t[self.starts[self.event_blocks]],
                                        side="left")

    def _sums(self, beta: np.ndarray):
        x, e, w, p = self.x, self.e, self.w, self.x.shape[1]
        eta = x @ np.asarray(beta, dtype=float)
        eta = eta - eta.max()  # a common factor cancels in every ratio (and in the loglik)
        r = w * np.exp(eta)
        rx = r[:, None] * x
        rxx = rx[:, :, None] * x[:, None, :]

        def by_block(v: np.ndarray) -> np.ndarray:
            return np.add.reduceat(v, self.starts, axis=0)

        def at_risk(v: np.ndarray) -> np.ndarray:  # sums over time >= t: reverse cumulative over blocks
            total = np.cumsum(by_block(v)[::-1], axis=0)[::-1][self.event_blocks]
            if self.entry_order is None:
                return total
            # less the rows not yet entered (entry >= t): reverse cumulative in entry order
            entered_late = np.zeros((len(v) + 1,) + v.shape[1:])
            entered_late[:-1] = np.cumsum(v[self.entry_order][::-1], axis=0)[::-1]
            return total - entered_late[self.late]

        s0, s1, s2 = at_risk(r), at_risk(rx), at_risk(rxx)
        d0 = by_block(r * e)[self.event_blocks]
        d1 = by_block(rx * e[:, None])[self.event_blocks]
        d2 = by_block(rxx * e[:, None, None])[self.event_blocks]
        xd = (x * (e * w)[:, None]).sum(axis=0)
        etad = float((eta * e * w).sum())
        block, f = self.block, self.f
        c = s0[block] - f * d0[block]
        mean = (s1[block] - f[:, None] * d1[block]) / c[:, None]
        return dict(p=p, block=block, f=f, c=c, mean=mean, s2=s2, d2=d2, xd=xd, etad=etad)

    @staticmethod
    def _loglike(s: dict) -> float:
        return s["etad"] - float(np.log(s["c"]).sum())

    @staticmethod
    def _score(s: dict) -> np.ndarray:
        return s["xd"] - s["mean"].sum(axis=0)

    def _hessian(self, s: dict) -> np.ndarray:
        n_blocks = len(self.m)
        w1 = np.bincount(s["block"], weights=1.0 / s["c"], minlength=n_blocks)
        w2 = np.bincount(s["block"], weights=s["f"] / s["c"], minlength=n_blocks)
        info = (np.einsum("b,bjk->jk", w1, s["s2"]) - np.einsum("b,bjk->jk", w2, s["d2"])
                - s["mean"].T @ s["mean"])
        return -info

    def loglike(self, beta: np.ndarray) -> float:
        return self._loglike(self._sums(beta))

    def score(self, beta: np.ndarray) -> np.ndarray:
        return self._score(self._sums(beta))

    def hessian(self, beta: np.ndarray) -> np.ndarray:
        return self._hessian(self._sums(beta))

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(loglik, score, Hessian) at ``beta``, from one pass over the data."""
        s = self._sums(beta)
        return self._loglike(s), self._score(s), self._hessian(s)


def _newton_raphson(lik: _EfronLikelihood) -> _Fit:
    """Maximum partial likelihood (Efron ties) by Newton-Raphson with step
    halving, as R's ``coxph`` fits (Therneau & Grambsch 2000, 3.2): from
    ``b = 0``, ``b <- b + I(b)^-1 U(b)``, the step halved while the log-likelihood
    falls; stops when the log-likelihood changes by less than 1e-14 relative or
    the step is below 1e-12 (R: 1e-9 relative), at most 200 steps. Variance
    ``I(b)^-1`` at the estimate.

    Estimates agree with lifelines and R to ~1e-8 relative, the precision at
    which those stop (this fit stops later: the score at the estimate is
    ~1e-12 where lifelines leaves up to ~1e-6); checked against R in
    tests/compute/test_cox.py and tests/test_bench.py.
    """
    beta = np.zeros(lik.x.shape[1])
    ll, u, h = lik.evaluate(beta)
    converged = False
    for _ in range(200):
        try:
            step = np.linalg.solve(-h, u)
        except np.linalg.LinAlgError as exc:
            raise CoxNotFitted(
                "the Cox model cannot be fitted: the covariates are collinear "
                "or the information matrix is singular", CoxFailure("collinear")
            ) from exc
        for _halving in range(60):
            new = beta + step
            ll_new, u_new, h_new = lik.evaluate(new)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        small_change = abs(ll_new - ll) <= 1e-14 * max(1.0, abs(ll))
        small_step = float(np.max(np.abs(step))) <= 1e-12 * max(1.0, float(np.max(np.abs(new))))
        beta, ll, u, h = new, ll_new, u_new, h_new
        if small_change or small_step:
            converged = True
            break
    try:
        var = np.linalg.inv(-h)
    except np.linalg.LinAlgError as exc:
        raise CoxNotFitted(
            "the Cox model cannot be fitted: the covariates are collinear "
            "or the information matrix is singular", CoxFailure("collinear")
        ) from exc
    return _Fit(beta=beta, var=var, loglik=float(ll), converged=converged, score=u)


def _chi2_test(statistic: float, df: int) -> GlobalTest:
    return GlobalTest(statistic=float(statistic), df=int(df), p=float(stats.chi2.sf(statistic, df)))


def _check_design_events(design: _Design) -> tuple[list[str], list[CoxCaution]]:
    """Data-based cautions: categorical levels (or reference) without events,
    as text and as data."""
    notes, cautions = [], []
    for tm_var, idx in design.assign:
        if not idx or design.terms[idx[0]].level is None:
            continue
        in_any = np.zeros(len(design.time), dtype=bool)
        for j in idx:
            tm = design.terms[j]
            member = design.x[:, j] == 1.0
            in_any |= member
            if design.event[member].sum() == 0:
                cautions.append(CoxCaution("level_without_events", variable=tm_var, level=str(tm.level)))
                notes.append(
                    f"level '{tm.level}' of '{tm_var}' has no events: its hazard ratio is "
                    "not estimable (monotone likelihood, coefficient tends to minus infinity)"
                )
        if design.event[~in_any].sum() == 0:
            tm = design.terms[idx[0]]
            cautions.append(CoxCaution("reference_without_events", variable=tm_var, level=str(tm.reference)))
            notes.append(
                f"reference level '{tm.reference}' of '{tm_var}' has no events: hazard ratios "
                f"of '{tm_var}' are not estimable (monotone likelihood)"
            )
    return notes, cautions


def _cox(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    reference: Mapping[str, str] | None,
    alpha: float,
    min_events_per_parameter: float,
) -> tuple[CoxResult, _Design, _Fit]:
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be between 0 and 1")
    design = _build_design(df, time=time, event=event, covariates=covariates, reference=reference)
    model = _EfronLikelihood(design.time, design.event, design.x)
    fit = _newton_raphson(model)
    p = design.x.shape[1]
    n_events = int(design.event.sum())

    se = np.sqrt(np.diag(fit.var))
    z = fit.beta / se
    q = stats.norm.isf(alpha / 2.0)

    # R coxph.fit: a coefficient "may be infinite" when the Newton step still
    # pending at convergence, |V U(b)|, exceeds eps and toler.inf * |b|.
    step = np.abs(fit.var @ fit.score)
    monotone = (step > _R_EPS) & (step > _R_TOLER_INF * np.abs(fit.beta))

    with np.errstate(over="ignore"):  # exp overflows to inf for an infinite coefficient
        hr = np.exp(fit.beta)
        lower = np.exp(fit.beta - q * se)
        upper = np.exp(fit.beta + q * se)
    table = pd.DataFrame(
        {
            "term": [tm.term for tm in design.terms],
            "variable": [tm.variable for tm in design.terms],
            "level": [tm.level for tm in design.terms],
            "reference": [tm.reference for tm in design.terms],
            "coef": fit.beta,
            "se": se,
            "hr": hr,
            "lower": lower,
            "upper": upper,
            "z": z,
            "p": 2.0 * stats.norm.sf(np.abs(z)),
            "monotone": monotone,
        }
    )

    loglik_null, u0, h0 = model.evaluate(np.zeros(p))
    score_stat = float(u0 @ np.linalg.solve(-h0, u0))
    wald_stat = float(fit.beta @ np.linalg.solve(fit.var, fit.beta))
    lr_stat = 2.0 * (fit.loglik - loglik_null)

    lp = design.x @ fit.beta
    concordance = _concordance(design.time, -lp, design.event)

    notes, cautions = list(design.notes), list(design.cautions)
    epp = n_events / p
    if epp < min_events_per_parameter:
        notes.append(
            f"{n_events} events for {p} model parameters: fewer than "
            f"{min_events_per_parameter:g} events per parameter, so estimates may be "
            "unstable and over-fitted"
        )
        cautions.append(CoxCaution("few_events", n_events=n_events, n_parameters=int(p),
                                   threshold=float(min_events_per_parameter)))
    if not fit.converged:
        notes.append(
            "the fit did not converge (Newton-Raphson stopped before reaching the maximum "
            "of the partial likelihood): estimates are unreliable"
        )
        cautions.append(CoxCaution("not_converged"))
    event_notes, event_cautions = _check_design_events(design)
    notes.extend(event_notes)
    cautions.extend(event_cautions)
    for tm, flag in zip(design.terms, monotone):
        if flag:
            notes.append(
                f"the likelihood was still increasing along '{tm.term}' when the fit stopped: "
                "its coefficient may be infinite (monotone likelihood), so its hazard ratio, "
                "confidence interval and p value are not meaningful"
            )
            cautions.append(CoxCaution("may_be_infinite", variable=tm.variable,
                                       level=None if tm.level is None else str(tm.level), term=tm.term))

    result = CoxResult(
        table=table,
        n=int(len(design.time)),
        n_excluded=design.n_excluded,
        n_events=n_events,
        n_parameters=int(p),
        events_per_parameter=float(epp),
        loglik=(loglik_null, fit.loglik),
        likelihood_ratio_test=_chi2_test(lr_stat, p),
        wald_test=_chi2_test(wald_stat, p),
        score_test=_chi2_test(score_stat, p),
        concordance=concordance,
        reference=dict(design.reference),
        converged=fit.converged,
        warnings=tuple(notes),
        cautions=tuple(cautions),
    )
    return result, design, fit


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def one_blas_thread(fn: Callable) -> Callable:
    """``fn`` run with one BLAS thread (threadpoolctl). The Cox fits' matrix
    products are small (a few covariates): OpenBLAS's threads cost more than
    they give (a 100,000-patient model set: 1.4 s with two threads, 0.84 s with
    one), and take a core from the analyses running aside (analysis/aside.py).
    With one thread the sums are also taken in one order on every machine, so
    the last bits of an estimate no longer depend on its number of cores."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


@one_blas_thread
def cox_model(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str],
    reference: dict[str, str] | None = None,
    alpha: float,
    min_events_per_parameter: float,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (Cox 1972) by maximum partial
    likelihood with Efron's (1977) handling of ties, as R's ``coxph`` default.

    Parameters
    ----------
    df:
        One row per patient.
    time, event:
        Follow-up time and event indicator (1 = event, 0 = censored) columns;
        neither may be missing.
    covariates:
        Covariate columns. Numeric (and bool) columns enter as they are;
        string/object/category columns are treatment-coded against a
        reference level.
    reference:
        Reference level per categorical covariate. If a categorical covariate
        is missing here, its first level is used (category order for a
        category dtype, as an R factor; sorted order otherwise) and a warning
        says so.
    alpha:
        1 - confidence level of the hazard-ratio intervals.
    min_events_per_parameter:
        Below this many events per parameter a warning is issued (10, after
        Peduzzi et al. 1995).

    Returns
    -------
    CoxResult
        See the class for the contents. Rows with a missing covariate are
        excluded (complete-case analysis) and counted in ``n_excluded``.

    Raises
    ------
    ValueError
        Missing columns, missing or negative times, events not coded 0/1, all
        observations censored, a constant covariate, a categorical covariate
        with a single level, an unknown reference level, or collinear
        covariates; for the reasons that lie in the data (no complete cases,
        all censored, a single level or constant covariate, a reference level
        without patients, collinearity) a :class:`CoxNotFitted`, whose
        ``failure`` says why as data.
    """
    result, _, _ = _cox(
        df,
        time=time,
        event=event,
        covariates=covariates,
        reference=reference,
        alpha=alpha,
        min_events_per_parameter=min_events_per_parameter,
    )
    return result


@one_blas_thread
def univariable_cox(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str],
    reference: dict[str, str] | None = None,
    alpha: float,
    min_events_per_parameter: float,
) -> pd.DataFrame:
    """Fit one Cox model (see :func:`cox_model`) per covariate and stack the
    coefficient tables. Each model uses the patients with that covariate
    present (complete case per model).

    Returns
    -------
    pandas.DataFrame
        The columns of ``CoxResult.table`` (term, variable, level, reference,
        coef, se, hr, lower, upper, z, p, monotone), then per model:
        ``n`` patients used, ``n_events`` events, ``n_excluded`` patients
        dropped for a missing value of the covariate, ``lr_df`` and ``lr_p``
        the likelihood-ratio test of the covariate (all its levels at once),
        ``warnings`` (tuple of str, the model's ``CoxResult.warnings``,
        repeated on each row of the model) and ``cautions`` (the same as
        :class:`CoxCaution`, the model's ``CoxResult.cautions``).
    """
    reference = dict(reference or {})
    for var in reference:
        if var not in covariates:
            raise ValueError(f"reference given for '{var}', which is not a covariate")
    if not covariates:
        raise ValueError("at least one covariate is required")
    if len(set(covariates)) != len(covariates):
        raise ValueError("covariates are listed more than once")
    tables = []
    for var in covariates:
        ref = {var: reference[var]} if var in reference else None
        res = cox_model(
            df,
            time=time,
            event=event,
            covariates=[var],
            reference=ref,
            alpha=alpha,
            min_events_per_parameter=min_events_per_parameter,
        )
        tab = res.table.copy()
        tab["n"] = res.n
        tab["n_events"] = res.n_events
        tab["n_excluded"] = res.n_excluded
        tab["lr_df"] = res.likelihood_ratio_test.df
        tab["lr_p"] = res.likelihood_ratio_test.p
        tab["warnings"] = [res.warnings] * len(tab)
        tab["cautions"] = [res.cautions] * len(tab)
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


def _transformed_time(t: np.ndarray, e: np.ndarray, transform: str) -> np.ndarray:
    """R cox.zph time scales. "km": 1 - S(t-) with S the left-continuous
    Kaplan-Meier estimate of all patients (lifelines KaplanMeierFitter);
    "rank": average ranks of all times; "identity"; "log"."""
    if transform == "identity":
        return t.astype(float)
    if transform == "log":
        if (t <= 0).any():
            raise ValueError("the log transform needs positive times")
        return np.log(t)
    if transform == "rank":
        return stats.rankdata(t, method="average")
    kmf = lifelines.KaplanMeierFitter().fit(t, e)
    sf = kmf.survival_function_.iloc[:, 0]
    grid = sf.index.to_numpy(dtype=float)
    surv = sf.to_numpy(dtype=float)
    # index of the last grid time strictly below t (left-continuous S(t-))
    k = np.searchsorted(grid, t, side="left") - 1
    s_left = np.where(k >= 0, surv[np.clip(k, 0, None)], 1.0)
    return 1.0 - s_left


def _zph_score(
    t: np.ndarray,
    e: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    gtime: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score vector, 2p x 2p information and unscaled Schoenfeld residuals for
    the augmented model beta + theta * g(t), evaluated at (beta_hat, 0), with
    Efron ties. A transcription of survival's C routine ``zph1`` (Therneau,
    survival >= 3.0, unweighted, unstratified).

    Returns u (2p), imat (2p x 2p), schoen (events x p, events in time order),
    and the row order of the events.
    """
    n, p = x.shape
    xc = x - x.mean(axis=0)  # recentering for stability, as zph1 does
    eta = xc @ beta
    risk = np.exp(eta - eta.max())  # a common factor cancels in every ratio
    order = np.argsort(t, kind="stable")
    t_s, e_s, x_s, r_s, g_s = t[order], e[order], xc[order], risk[order], gtime[order]

    # risk-set sums over {time >= t}: reverse cumulative sums
    s0 = np.cumsum(r_s[::-1])[::-1]
    s1 = np.cumsum((r_s[:, None] * x_s)[::-1], axis=0)[::-1]
    s2 = np.cumsum((r_s[:, None, None] * x_s[:, :, None] * x_s[:, None, :])[::-1], axis=0)[::-1]

    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    n_events = int(e_s.sum())
    schoen = np.zeros((n_events, p))
    event_rows = np.flatnonzero(e_s == 1)
    pos = {row: i for i, row in enumerate(event_rows)}

    starts = np.flatnonzero(np.r_[True, t_s[1:] != t_s[:-1]])
    ends = np.r_[starts[1:], n]
    for a, b in zip(starts, ends):
        dead = a + np.flatnonzero(e_s[a:b] == 1)
        m = len(dead)
        if m == 0:
            continue
        g = g_s[a]
        d0 = r_s[dead].sum()
        d1 = (r_s[dead, None] * x_s[dead]).sum(axis=0)
        d2 = (r_s[dead, None, None] * x_s[dead, :, None] * x_s[dead, None, :]).sum(axis=0)
        c0, c1, c2 = s0[a] - d0, s1[a] - d1, s2[a] - d2
        xsum = x_s[dead].sum(axis=0)
        # the m Efron terms at once; np.add.accumulate adds them one after another,
        # in the order (and so to the bit) of zph1's loop over k = 1..m
        f = np.arange(1, m + 1) / m
        den = c0 + f * d0
        means = (c1 + f[:, None] * d1) / den[:, None]
        terms = (c2 + f[:, None, None] * d2) / den[:, None, None] - means[:, :, None] * means[:, None, :]
        mean_sum = np.add.accumulate(np.concatenate([np.zeros((1, p)), means]), axis=0)[-1]
        info = np.add.accumulate(np.concatenate([np.zeros((1, p, p)), terms]), axis=0)[-1]
        # weights are 1, so zph1's wtave = 1
        score_t = xsum - mean_sum
        u[:p] += score_t
        u[p:] += g * score_t
        imat[:p, :p] += info
        imat[:p, p:] += g * info
        imat[p:, p:] += g * g * info
        schoen[[pos[row] for row in dead]] = x_s[dead] - mean_sum / m
    imat[p:, :p] = imat[:p, p:].T
    return u, imat, schoen, order[event_rows]


@one_blas_thread
def cox_zph(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str],
    reference: dict[str, str] | None = None,
    transform: str = "km",
) -> ZphResult:
    """Test proportional hazards for the Cox model of :func:`cox_model`
    (same data, complete cases, coding and fit), as R survival >= 3.0
    ``cox.zph(fit, transform=transform)`` with its defaults
    (``terms = TRUE``, ``global = TRUE``).

    Method (Grambsch & Therneau 1994; Therneau & Grambsch 2000, section 6.2;
    survival 3.0 rewrite): the model is extended by time-varying
    coefficients beta_j + theta_j * g(t), with g the transformed event time
    centred on its mean over events, and each theta is tested by a score test
    at (beta_hat, theta = 0) using the full 2p x 2p information matrix; one
    test per covariate (a categorical covariate is one test with df = its
    number of levels - 1) and a GLOBAL test of all theta.

    Written here rather than taken from lifelines because lifelines'
    ``proportional_hazard_test`` implements the pre-3.0 approximation (which
    uses only the diagonal of the variance), and its results differ from
    current R. The computation transcribes survival's R function ``cox.zph``
    and its C routine ``zph1`` (Efron ties, no weights, no strata); it is
    checked against R in the tests.

    transform: "km" (1 - left-continuous Kaplan-Meier of all patients, the R
    default), "rank", "identity" or "log".
    """
    if transform not in _TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(_TRANSFORMS)}")
    _, design, fit = _cox(
        df,
        time=time,
        event=event,
        covariates=covariates,
        reference=reference,
        alpha=0.05,
        min_events_per_parameter=0.0,
    )
    t, e, x, beta = design.time, design.event, design.x, fit.beta
    p = x.shape[1]
    ttimes = _transformed_time(t, e, transform)
    gtime = ttimes - ttimes[e == 1].mean()
    u, imat, schoen, event_order = _zph_score(t, e, x, beta, gtime)

    names, chisq, dfs = [], [], []
    for var, idx in design.assign:
        kk = np.r_[np.arange(p), p + np.asarray(idx)]
        uu = np.r_[np.zeros(p), u[p + np.asarray(idx)]]
        chisq.append(float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu)))
        dfs.append(len(idx))
        names.append(var)
    uu = np.r_[np.zeros(p), u[p:]]
    chisq.append(float(uu @ np.linalg.solve(imat, uu)))
    dfs.append(p)
    names.append("GLOBAL")
    table = pd.DataFrame(
        {
            "term": names,
            "chisq": chisq,
            "df": dfs,
            "p": stats.chi2.sf(np.asarray(chisq), np.asarray(dfs)),
        }
    )

    # scaled Schoenfeld residuals (R cox.zph, terms = TRUE)
    n_events = schoen.shape[0]
    vmean = imat[:p, :p] / n_events
    nterm = len(design.assign)
    combine = np.zeros((p, nterm))
    shift = np.zeros(nterm)
    for i, (_, idx) in enumerate(design.assign):
        if len(idx) == 1:
            combine[idx[0], i] = 1.0
            shift[i] = beta[idx[0]]
        else:
            combine[list(idx), i] = beta[list(idx)]
            shift[i] = 1.0
    sres = schoen @ combine
    vterm = combine.T @ vmean @ combine
    scaled = np.linalg.solve(vterm, sres.T).T + shift

    ev_time = t[event_order]
    ev_x = ttimes[event_order]
    residuals = pd.DataFrame(
        {
            "event_index": np.repeat(np.arange(n_events), nterm),
            "time": np.repeat(ev_time, nterm),
            "transformed_time": np.repeat(ev_x, nterm),
            "term": np.tile([var for var, _ in design.assign], n_events),
            "residual": scaled.ravel(),
        }
    )
    return ZphResult(table=table, residuals=residuals, transform=transform)
