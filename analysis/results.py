"""One entry point: the whole analysis, returned as a single results object.

``run_analysis(config)`` loads, validates and derives the cohort, then runs
every computation the manuscript and supplement report. The documents read
only from the returned :class:`Results` (the "analysis results dataset");
presentation modules format it. Nothing here rounds or builds strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .compute import baseline as baseline_mod
from .compute.cohort import CohortSummary, cohort_summary
from .compute import cox as cox_mod
from .compute import response as response_mod
from .compute import sensitivity as sens
from .compute import survival as surv
from .compute.transplant import TransplantResult, transplant_outcomes
from .config import Config, Covariate, SensitivitySettings, Settings, check_against_data, load_config
from . import aside as aside_module
from .aside import aside
from .derive import SALVGRP_LEVELS, SALVMOD_LABELS, Definitions, Derived, derive
from .pipeline import Cohort, load_cohort

MEDIAN_METHODS = ("spss", "log", "log-log")


@dataclass(frozen=True)
class NotEstimable:
    """A result that could not be computed on these data, and why (in words a
    reader understands). Presentation shows the reason instead of a number."""

    what: str
    reason: str
    #: why, as data, where the computation gave it (a Cox model's ``cox.CoxFailure``): what the
    #: presentation words for readers; ``reason`` is then the computation's message
    cause: Any = None

    def __bool__(self) -> bool:  # lets callers write `if result:`
        return False


def estimable(value: Any) -> bool:
    return not isinstance(value, NotEstimable)


@dataclass(frozen=True)
class Factor:
    """A candidate factor for response: ADSL column and its levels (reference first)."""

    key: str
    label: str
    column: str
    levels: tuple[str, ...]
    phrase: str = ""          # how the prose names the factor


def candidate_factors(d: Definitions) -> tuple[Factor, ...]:
    """Factors compared for CR/CRi, in the order the manuscript lists them."""
    young, adult = d.age_groups
    low, high = d.burden_groups
    return (
        Factor("salvage_group", "Salvage group", "SALVGRP", SALVGRP_LEVELS, "salvage group"),
        Factor("age_group", "Age group (years)", "AGEGR1", (young, adult), "age"),
        Factor("marrow_burden", "Marrow tumour burden (blasts)", "BMBURDEN", (low, high),
               "bone-marrow tumour burden"),
        Factor("cytogenetic_risk", "Cytogenetic risk", "CYTORISK", ("Standard", "High"), "cytogenetic risk"),
        Factor("bcr_abl1", "BCR::ABL1", "BCRABL1", ("Negative", "Positive"), "BCR::ABL1"),
        Factor("any_emd", "Extramedullary relapse", "EMDFL", ("N", "Y"), "extramedullary disease"),
        Factor("cns_vs_non_cns_emd", "EMD site (CNS vs non-CNS)", "EMDGRP", ("Non-CNS EMD", "CNS"),
               "CNS versus non-CNS extramedullary relapse"),
        Factor("cd19_negative", "CD19-negative/dim relapse", "CD19NEG", ("N", "Y"), "CD19-negative/dim relapse"),
        Factor("prior_transplant", "Allo-HSCT before relapse", "PRIORSCT", ("N", "Y"),
               "transplant before relapse"),
    )


#: Table 1 rows: (ADSL column, label, kind)
BASELINE_VARIABLES = (
    ("SEX", "Sex", "categorical"),
    ("AGE", "Age at relapse, years", "continuous"),
    ("AGEGR1", "Age group, years", "categorical"),
    ("CYTORISK", "Cytogenetic risk at diagnosis", "categorical"),
    ("BCRABL1", "BCR::ABL1", "categorical"),
    ("BMBLAST", "Bone-marrow blasts at relapse, %", "continuous"),
    ("BMBURDEN", "Marrow tumour burden", "categorical"),
    ("PRSCTTIM", "Allo-HSCT before relapse", "categorical"),
    ("CD19STAT", "CD19 status at relapse", "categorical"),
    ("RELSITE", "Site of relapse", "categorical"),
)
BASELINE_ORDER = {
    "SEX": ["M", "F"],
    "CYTORISK": ["High", "Standard"],
    "BCRABL1": ["Positive", "Negative"],
    "PRSCTTIM": ["None", "Before CAR-T", "After first CAR-T"],
    "CD19STAT": ["Positive", "Negative/dim"],
    "RELSITE": ["Bone marrow", "CNS", "Non-CNS EMD"],
}
#: Levels that record an unknown value: in Table 1 they are missing values
#: (their own count, no percentage, not in the tests), shown under this label.
UNKNOWN_LEVELS = {"CD19STAT": "Unknown", "RELSITE": "Not documented"}


#: The columns a survival endpoint's ``data`` keeps where nothing else is computed from it.
TIME_COLUMNS = ["USUBJID", "AVAL", "EVENT"]


@dataclass(frozen=True)
class SurvivalEndpoint:
    """Kaplan–Meier analysis of one endpoint in one population."""

    paramcd: str
    population: str
    data: pd.DataFrame            # ADTTE rows joined with ADSL, EVENT = 1 - CNSR
    km: pd.DataFrame              # kaplan_meier table
    medians: dict[str, surv.MedianResult]
    mean_spss: surv.MeanResult | None
    landmarks: pd.DataFrame       # survival_at the configured landmarks
    risk: pd.DataFrame            # numbers at risk / censored / events at the table times

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def events(self) -> int:
        return int(self.data["EVENT"].sum())


@dataclass(frozen=True)
class GroupComparison:
    """Survival by a grouping: KM per group, medians, log-rank."""

    column: str
    levels: tuple[str, ...]
    data: pd.DataFrame
    km: pd.DataFrame
    medians: dict[str, dict[Any, surv.MedianResult]]
    logrank: surv.LogrankResult | NotEstimable
    risk: pd.DataFrame


@dataclass(frozen=True)
class ResponseResults:
    overall: response_mod.Proportion
    by_class: pd.DataFrame
    by_group: pd.DataFrame
    by_emd: pd.DataFrame
    group_comparison: response_mod.Comparison | NotEstimable
    emd_comparison: response_mod.Comparison | NotEstimable
    factors: pd.DataFrame
    factor_defs: tuple[Factor, ...]


@dataclass(frozen=True)
class CoxResults:
    covariates: tuple[str, ...]
    reference: dict[str, str]
    multivariable: cox_mod.CoxResult | NotEstimable
    #: a row with `not_estimable` (the computation's message) and `not_fitted` (why, as cox.CoxFailure, or
    #: None) for a model that cannot be fitted
    univariable: pd.DataFrame
    zph: cox_mod.ZphResult | NotEstimable
    #: patients of the OS population the multivariable model leaves out for a missing covariate,
    #: counted also when the model cannot be fitted (every patient, when a covariate is never recorded)
    n_excluded: int = 0
    #: covariates recorded for no patient of the OS population (the multivariable model cannot be fitted)
    unrecorded: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensitivityResults:
    """Supplementary analyses (configuration section ``sensitivity``); an
    analysis switched off is None, one that cannot be computed NotEstimable."""

    rfs_hsct: pd.DataFrame | NotEstimable | None
    cox_time_dependent: Any
    simon_makuch: pd.DataFrame | NotEstimable | None
    landmarks: tuple[Any, ...]
    cumulative_incidence: Any
    missing_covariates: pd.DataFrame | NotEstimable | None


@dataclass(frozen=True)
class Results:
    """Everything the manuscript reports, unrounded."""

    cohort: Cohort
    settings: Settings
    summary: CohortSummary
    baseline: baseline_mod.BaselineResult
    response: ResponseResults
    os: SurvivalEndpoint
    rfs: SurvivalEndpoint | NotEstimable
    os_all: SurvivalEndpoint
    followup: surv.MedianResult
    os_by_group: GroupComparison | NotEstimable
    os_by_emd: GroupComparison | NotEstimable
    cox: CoxResults
    transplant: TransplantResult
    sensitivity: SensitivityResults | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def derived(self) -> Derived:
        return self.cohort.derived

    @property
    def config(self) -> Config:
        return self.cohort.config

    @property
    def synthetic(self) -> bool:
        return self.cohort.derived.synthetic


# --------------------------------------------------------------------------- pieces


def survival_endpoint(derived: Derived, paramcd: str, *, population: str, alpha: float,
                      landmarks: list[float], risk_times: list[float],
                      columns: list[str] | None = None) -> SurvivalEndpoint:
    """columns: the columns its ``data`` keeps (see :meth:`Derived.tte`; None: all)."""
    data = derived.tte(paramcd, population=population, columns=columns)
    kw = dict(time="AVAL", event="EVENT")
    if len(data) == 0:
        return NotEstimable(f"{paramcd} analysis", "no patient is in this analysis"
                            + (" (no patient achieved CR/CRi)" if paramcd == "RFS" else ""))
    medians = {m: surv.km_median(data, method=m, alpha=alpha, **kw) for m in MEDIAN_METHODS}
    mean = surv.km_mean_spss(data, alpha=alpha, **kw) if data["EVENT"].sum() > 0 else None
    return SurvivalEndpoint(
        paramcd=paramcd,
        population=population,
        data=data,
        km=surv.kaplan_meier(data, alpha=alpha, **kw),
        medians=medians,
        mean_spss=mean,
        landmarks=surv.survival_at(data, times=landmarks, alpha=alpha, **kw),
        risk=surv.risk_table(data, times=surv.risk_times_covering(risk_times, float(data["AVAL"].max())), **kw),
    )


def group_comparison(data: pd.DataFrame, column: str, levels: tuple[str, ...], *, alpha: float,
                     risk_times: list[float]) -> GroupComparison:
    # the columns it uses only (a whole analysis set per comparison held by the results: ~0.4 GB each at
    # 1,000,000 patients); new arrays: no .copy()
    sub = data[[column, "AVAL", "EVENT"]].take(np.flatnonzero(data[column].isin(levels).to_numpy(dtype=bool)))
    present = tuple(lv for lv in levels if (sub[column] == lv).any())
    if not present:
        return NotEstimable(f"survival by {column}", "no patient belongs to any of the groups compared")
    sub[column] = pd.Categorical(sub[column].astype(str), categories=list(present))
    kw = dict(time="AVAL", event="EVENT")
    if len(present) < 2:
        lr = NotEstimable("log-rank test", f"only one group has patients ({present[0]})")
    elif sub["EVENT"].sum() == 0:
        lr = NotEstimable("log-rank test", "no events in either group")
    else:
        lr = surv.logrank(sub, group=column, **kw)
    return GroupComparison(
        column=column,
        levels=present,
        data=sub,
        km=surv.kaplan_meier(sub, group=column, alpha=alpha, **kw),
        medians={m: surv.km_median_by_group(sub, group=column, method=m, alpha=alpha, **kw) for m in MEDIAN_METHODS},
        logrank=lr,
        risk=surv.risk_table(sub, times=surv.risk_times_covering(risk_times, float(sub["AVAL"].max())),
                             group=column, **kw),
    )


def _compare(salv: pd.DataFrame, by: str, levels: list[str], *, rule: str, alpha: float,
             rng: np.random.Generator, n_resamples: int):
    missing = [lv for lv in levels if not (salv[by] == lv).any()]
    if missing:
        return NotEstimable(f"CR/CRi by {by}", f"no patient in group {' and '.join(missing)}")
    return response_mod.compare_proportions(salv, response="CR", by=by, levels=levels, rule=rule, alpha=alpha,
                                            rng=rng, n_resamples=n_resamples)


def response_results(derived: Derived, *, rule: str, alpha: float, seed: int, n_resamples: int) -> ResponseResults:
    factors = candidate_factors(derived.definitions)
    # only the columns read here (a copy of the whole salvage set is ~0.4 GB at 1,000,000 patients)
    salv = derived.salvage_set(["CRFL", "SALVMOD", "SALVGRP", "EMDGRP", *(f.column for f in factors)])
    salv = salv.assign(CR=salv["CRFL"] == "Y")
    rng = np.random.default_rng(seed)
    by_class = response_mod.response_rates(salv, response="CR", by="SALVMOD",
                                           levels=list(SALVMOD_LABELS.values()), alpha=alpha)
    by_group = response_mod.response_rates(salv, response="CR", by="SALVGRP", levels=list(SALVGRP_LEVELS),
                                           alpha=alpha)
    by_emd = response_mod.response_rates(salv, response="CR", by="EMDGRP", levels=["CNS", "Non-CNS EMD"],
                                         alpha=alpha)
    parts = []
    for f in factors:
        try:
            parts.append(response_mod.factor_comparisons(
                salv, response="CR", factors={f.key: f.column}, levels={f.key: list(f.levels)},
                rule=rule, alpha=alpha, rng=rng, n_resamples=n_resamples))
        except ValueError as exc:
            parts.append(pd.DataFrame([{"factor": f.key, "column": f.column, "reference": f.levels[0],
                                        "level": f.levels[-1], "not_estimable": str(exc)}]))
    comparisons = pd.concat(parts, ignore_index=True)
    if "not_estimable" not in comparisons:
        comparisons["not_estimable"] = None
    return ResponseResults(
        overall=response_mod.proportion_ci(int(salv["CR"].sum()), len(salv), alpha=alpha),
        by_class=by_class,
        by_group=by_group,
        by_emd=by_emd,
        group_comparison=_compare(salv, "SALVGRP", list(SALVGRP_LEVELS), rule=rule, alpha=alpha, rng=rng,
                                  n_resamples=n_resamples),
        emd_comparison=_compare(salv, "EMDGRP", ["CNS", "Non-CNS EMD"], rule=rule, alpha=alpha, rng=rng,
                                n_resamples=n_resamples),
        factors=comparisons,
        factor_defs=factors,
    )


def _cause(exc: ValueError) -> Any:
    """Why a computation failed, as data, where it says (``cox.CoxNotFitted.failure``); else None."""
    return getattr(exc, "failure", None)


def cox_spec(spec: list[Covariate]) -> tuple[list[str], dict[str, str]]:
    """The Cox model's covariate columns and their reference levels, from the settings."""
    return [c.column for c in spec], {c.column: c.reference for c in spec if c.reference is not None}


def cox_results(data: pd.DataFrame, spec: list[Covariate], *, alpha: float, min_epv: float) -> CoxResults:
    covariates, reference = cox_spec(spec)
    kw = dict(time="AVAL", event="EVENT", covariates=covariates, reference=reference)
    try:
        multi = cox_mod.cox_model(data, alpha=alpha, min_events_per_parameter=min_epv, **kw)
    except ValueError as exc:
        multi = NotEstimable("multivariable Cox model", str(exc), _cause(exc))
    parts = []
    for c in covariates:
        one = dict(kw, covariates=[c], reference={k: v for k, v in reference.items() if k == c})
        try:
            parts.append(cox_mod.univariable_cox(data, alpha=alpha, min_events_per_parameter=min_epv, **one))
        except ValueError as exc:
            parts.append(pd.DataFrame([{"term": c, "variable": c, "level": None, "reference": reference.get(c),
                                        "not_estimable": str(exc), "not_fitted": _cause(exc)}]))
    uni = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if estimable(multi):
        try:
            zph = cox_mod.cox_zph(data, **kw)
        except ValueError as exc:
            zph = NotEstimable("proportional-hazards test", str(exc), _cause(exc))
    else:
        zph = NotEstimable("proportional-hazards test", multi.reason, multi.cause)
    present = [c for c in covariates if c in data.columns]
    # the model's own count (cox_mod.complete_cases), kept also when the model could not be fitted
    n_excluded = int((~cox_mod.complete_cases(data, present)).sum())
    return CoxResults(tuple(covariates), reference, multi, uni, zph, n_excluded=n_excluded,
                      unrecorded=tuple(cox_mod.unrecorded_covariates(data, present)))


def baseline_results(derived: Derived, *, rule: str, alpha: float, seed: int,
                     n_resamples: int) -> baseline_mod.BaselineResult | NotEstimable:
    """Table 1 numbers; a variable not recorded for anyone is left out (and
    listed by :func:`unrecorded_baseline_variables`).

    Levels that say a value is unknown (:data:`UNKNOWN_LEVELS`: CD19 status
    "Unknown", relapse site "Not documented") are treated as missing, as
    gtsummary does: counted on a row of their own, excluded from the
    percentages and from the tests. Categorical tests follow the configured
    rule; an r x c table too large to enumerate gets a seeded Monte-Carlo
    Fisher-Freeman-Halton p-value.
    """
    salv = derived.salvage_set(["SALVGRP", *(c for c, _, _ in BASELINE_VARIABLES)])  # only Table 1's columns
    groups = list(salv["SALVGRP"].dropna().unique())
    if len(groups) < 2:
        return NotEstimable("baseline table by salvage group",
                            "only one salvage group has patients" if groups else "no patient received salvage therapy")
    salv = salv.assign(**{c: salv[c].mask(salv[c] == lv) for c, lv in UNKNOWN_LEVELS.items()})
    recorded = [c for c, _, _ in BASELINE_VARIABLES if salv[c].notna().any()]
    cat = [c for c, _, k in BASELINE_VARIABLES if k == "categorical" and c in recorded]
    cont = [c for c, _, k in BASELINE_VARIABLES if k == "continuous" and c in recorded]
    young, adult = derived.definitions.age_groups
    low, high = derived.definitions.burden_groups
    order = dict(BASELINE_ORDER, AGEGR1=[young, adult], BMBURDEN=[low, high], SALVGRP=list(SALVGRP_LEVELS))
    return baseline_mod.baseline_table(
        salv, groupby="SALVGRP", categorical=cat, continuous=cont,
        labels={c: lab for c, lab, _ in BASELINE_VARIABLES}, order=order,
        rule=rule, alpha=alpha, rng=np.random.default_rng(seed), n_resamples=n_resamples)


def unrecorded_baseline_variables(derived: Derived) -> list[str]:
    """Table 1 variables with no value for any patient of the salvage set."""
    salv = derived.salvage_set([c for c, _, _ in BASELINE_VARIABLES])
    return [label for c, label, _ in BASELINE_VARIABLES if not salv[c].notna().any()]


def _attempt(what: str, fn, *args, **kwargs):
    """Run one supplementary computation; a ValueError becomes NotEstimable."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        return NotEstimable(what, str(exc), _cause(exc))


def sensitivity_results(derived: Derived, settings: SensitivitySettings, *, covariates: list[str],
                        reference: dict[str, str], alpha: float, method: str, times: list[float], population: str,
                        min_events_per_parameter: float) -> SensitivityResults:
    """The sensitivity analyses; ``covariates`` and ``reference``: the main Cox model's
    (:func:`cox_spec`)."""
    return SensitivityResults(**_sensitivity_parts(
        derived, settings, SENSITIVITY_FIELDS, covariates=covariates, reference=reference, alpha=alpha, method=method,
        times=times, population=population, min_events_per_parameter=min_events_per_parameter))


#: The fields of :class:`SensitivityResults`, each one analysis (or one per landmark).
SENSITIVITY_FIELDS = ("rfs_hsct", "cox_time_dependent", "simon_makuch", "landmarks", "cumulative_incidence",
                      "missing_covariates")


def _sensitivity_parts(derived: Derived, settings: SensitivitySettings, fields: Sequence[str], *,
                       covariates: list[str], reference: dict[str, str], alpha: float, method: str,
                       times: list[float], population: str, min_events_per_parameter: float) -> dict[str, Any]:
    """The fields ``fields`` of :func:`sensitivity_results`' value (each analysis is
    independent of the others: :func:`analyse` computes some in each of two processes)."""
    td = settings.time_dependent_hsct
    extra = [c.column for c in settings.missing_covariates]
    extra_ref = {c.column: c.reference for c in settings.missing_covariates if c.reference is not None}
    make = {
        "rfs_hsct": lambda: _attempt("RFS censored at HSCT", sens.rfs_hsct_sensitivity, derived, method=method,
                                     alpha=alpha)
        if settings.rfs_censor_at_hsct else None,
        "cox_time_dependent": lambda: _attempt(
            "time-dependent HSCT Cox model", sens.cox_time_dependent_hsct, derived, covariates=list(covariates),
            reference=reference, alpha=alpha, population=population, min_events_per_parameter=min_events_per_parameter)
        if td else None,
        "simon_makuch": lambda: _attempt("Simon-Makuch estimate", sens.simon_makuch, derived, alpha=alpha,
                                         population=population)
        if td else None,
        "landmarks": lambda: tuple(_attempt(f"landmark analysis at {float(m):g} months", sens.landmark_os_by_response,
                                            derived, landmark_months=float(m), method=method, alpha=alpha,
                                            population=population)
                                   for m in settings.landmark_months),
        "cumulative_incidence": lambda: _attempt("cumulative incidence of relapse", sens.cumulative_incidence_relapse,
                                                 derived, times=times, alpha=alpha)
        if settings.competing_risks else None,
        "missing_covariates": lambda: _attempt(
            "missing-covariate sensitivity", sens.missing_covariate_sensitivity, derived, covariates=list(covariates),
            reference={**reference, **extra_ref}, extra=extra, alpha=alpha, population=population,
            min_events_per_parameter=min_events_per_parameter)
        if extra else None,
    }
    return {name: make[name]() for name in fields}


def software_versions() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"Python": platform.python_version()}
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "lifelines", "tableone", "great_tables",
                "matplotlib", "pandera"):
        try:
            out[pkg] = version(pkg.replace("_", "-"))
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------- entry point


def analyse(cohort: Cohort, *, split: bool = False) -> Results:
    """Run every computation on a loaded cohort.

    The one place where settings become arguments: each computation receives
    plain values from ``cohort.config.settings`` (see analysis/config.py);
    settings that name data columns, levels or times are checked against the
    data first (ConfigError, every problem at once, nothing computed).

    ``split``: the response and sensitivity analyses run aside below
    ``aside.WORTH_FROM`` patients too (the pre-render step, whose second core is idle then).
    """
    cfg = cohort.config
    derived = cohort.derived
    st = cfg.settings
    t, sv, cx = st.tests, st.survival, st.cox
    population = sv.population
    # the analysis set's times only (every column of it: ~0.4 GB and 2.5 s at 1,000,000 patients)
    os_times = derived.tte("OS", population=population, columns=["AVAL"])["AVAL"]
    followup_months = float(os_times.max()) if len(os_times) else 0.0
    del os_times
    check_against_data(st, derived.adsl, followup_months=followup_months, path=cfg.path)
    alpha = t.alpha
    tests = dict(rule=t.two_by_two, alpha=alpha, seed=t.monte_carlo_seed, n_resamples=t.monte_carlo_samples)
    ep = dict(alpha=alpha, landmarks=list(sv.landmarks_months), risk_times=list(sv.risk_table_months))
    covariates, reference = cox_spec(cx.covariates)
    # the response and sensitivity analyses (a third of the time) run aside, in a forked process,
    # while this one computes the rest: on two cores a registry's analysis takes that much less
    # (analysis/aside.py; the values are those of calling them here, which a small cohort does)
    sensitivity_kw = dict(covariates=covariates, reference=reference, alpha=alpha, method=sv.median_ci,
                          times=ep["landmarks"], population=population,
                          min_events_per_parameter=cx.min_events_per_variable)
    side = aside(_response_and_sensitivity, derived, tests=tests, settings=st.sensitivity,
                 fields=[f for f in SENSITIVITY_FIELDS if f not in _SENSITIVITY_HERE], **sensitivity_kw,
                 enabled=aside_module.worth(len(derived.adsl))
                 or (split and len(derived.adsl) <= aside_module.WORTH_UNTIL))
    try:
        # the analysis set's OS frame keeps the columns of the Cox models and the group comparisons too (every
        # column of it was ~0.7 GB at 1,000,000 patients, held to the end); the others only what their estimates
        # use. A covariate column neither ADTTE nor ADSL has is left out, for the Cox model to say so as before.
        known = {*derived.adtte.columns, *derived.adsl.columns, "EVENT"}
        os_columns = [*TIME_COLUMNS, "SALVGRP", "EMDGRP", *(c for c in covariates if c in known)]
        os_ = survival_endpoint(derived, "OS", population=population, columns=os_columns, **ep)
        rfs = survival_endpoint(derived, "RFS", population="all", columns=TIME_COLUMNS, **ep)
        os_all = survival_endpoint(derived, "OS", population="all", columns=TIME_COLUMNS, **ep)
        cox = cox_results(os_.data, cx.covariates, alpha=alpha, min_epv=cx.min_events_per_variable)
        summary, baseline = cohort_summary(derived.adsl), baseline_results(derived, **tests)
        followup = surv.median_followup(os_.data, time="AVAL", event="EVENT", method="log", alpha=alpha)
        os_by_group = group_comparison(os_.data, "SALVGRP", SALVGRP_LEVELS, alpha=alpha, risk_times=ep["risk_times"])
        os_by_emd = group_comparison(os_.data, "EMDGRP", ("CNS", "Non-CNS EMD"), alpha=alpha,
                                     risk_times=ep["risk_times"])
        transplant = transplant_outcomes(derived.adsl, days_per_month=derived.definitions.days_per_month)
        sensitivity_here = _sensitivity_parts(derived, st.sensitivity, _SENSITIVITY_HERE, **sensitivity_kw)
    except BaseException:
        side.cancel()
        raise
    response, sensitivity_aside = side.result()
    sensitivity = SensitivityResults(**{f: {**sensitivity_here, **sensitivity_aside}[f] for f in SENSITIVITY_FIELDS})
    return Results(
        cohort=cohort,
        settings=st,
        summary=summary,
        baseline=baseline,
        response=response,
        os=os_,
        rfs=rfs,
        os_all=os_all,
        followup=followup,
        os_by_group=os_by_group,
        os_by_emd=os_by_emd,
        cox=cox,
        transplant=transplant,
        sensitivity=sensitivity,
        versions=software_versions(),
    )


#: The sensitivity analyses :func:`analyse` computes beside the main analysis; the others go with the response
#: comparisons, in the forked process at registry scale: the two halves then take about as long (100,000
#: patients: ~2.2 s CPU each; with every sensitivity analysis aside, 2.9 s against 2.1 s).
_SENSITIVITY_HERE = ("simon_makuch", "landmarks")


def _response_and_sensitivity(derived: Derived, *, tests: dict, settings: SensitivitySettings,
                              fields: Sequence[str], **kwargs) -> tuple[ResponseResults, dict[str, Any]]:
    return response_results(derived, **tests), _sensitivity_parts(derived, settings, fields, **kwargs)


def run_analysis(config: Config | None = None, *, data: str | None = None) -> Results:
    """Load, validate, derive and analyse. ``data`` overrides the configured data."""
    if config is None:
        config = load_config(data=data)
    return analyse(load_cohort(config))


# --------------------------------------------------------------------------- calibration support


def survival_targets_from_raw(raw: pd.DataFrame, config: Config | None = None,
                              dictionary=None) -> dict[str, float | None]:
    """The survival section of the published targets, computed for a raw
    (string-coded, dictionary-named) cohort without files: used to calibrate the
    synthetic cohort with exactly the functions the manuscript uses."""
    from .dictionary import load_dictionary
    from .load import to_typed

    config = config or load_config()
    dictionary = dictionary or load_dictionary(config.dictionary_path)
    d = Definitions.from_settings(config.settings.definitions)
    typed = to_typed(raw[[c for c in raw.columns if c in dictionary]].replace("", None), dictionary)
    derived = derive(typed, study_id=config.study_id, definitions=d)
    os_data = derived.tte("OS", population="salvage")
    rfs_data = derived.tte("RFS", population="all")
    kw = dict(time="AVAL", event="EVENT")
    os_med = surv.km_median(os_data, method="spss", **kw)
    rfs_med = surv.km_median(rfs_data, method="spss", **kw)
    fu = surv.median_followup(os_data, method="log", **kw)
    p_group = surv.logrank(os_data[os_data["SALVGRP"].notna()], group="SALVGRP", **kw).p
    emd = os_data[os_data["EMDGRP"].notna()]
    p_emd = surv.logrank(emd, group="EMDGRP", **kw).p if emd["EMDGRP"].nunique() == 2 else None
    covs = config.settings.cox.covariates
    cox = cox_mod.cox_model(os_data, time="AVAL", event="EVENT", covariates=[x.column for x in covs],
                            reference={x.column: x.reference for x in covs if x.reference is not None})
    row = cox.table[cox.table["variable"] == "SALVGRP"].iloc[0]
    return {
        "_os_times": os_data[["USUBJID", "AVAL", "EVENT", "SALVGRP"]],
        "_rfs_times": rfs_data[["USUBJID", "AVAL", "EVENT"]],
        "_usubjid": list(derived.adsl["USUBJID"]),
        "median_followup_months": fu.estimate,
        "os_median_months": os_med.estimate,
        "os_ci_lower": os_med.lower,
        "os_ci_upper": os_med.upper,
        "rfs_median_months": rfs_med.estimate,
        "rfs_ci_lower": rfs_med.lower,
        "rfs_ci_upper": rfs_med.upper,
        "p_os_targeted_vs_chemotherapy": p_group,
        "p_os_cns_vs_non_cns_emd": p_emd,
        "cox_hr_chemotherapy_vs_targeted": float(row["hr"]),
        "cox_hr_ci_lower": float(row["lower"]),
        "cox_hr_ci_upper": float(row["upper"]),
        "cox_p": float(row["p"]),
    }
