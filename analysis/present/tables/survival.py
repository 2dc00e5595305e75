"""Supplementary survival tables: medians by every CI method, and survival at
the landmarks."""

from __future__ import annotations

import pandas as pd

from ...results import MEDIAN_METHODS, NotEstimable, Results, SurvivalEndpoint, estimable
from .. import style as st
from .display import DisplayTable, Footnote, NOT_APPLICABLE
from .common import _alpha, _level, _pct_ci, _sentence, _source_notes


_ENDPOINT_NAMES = {"OS": "Overall survival from relapse", "RFS": "Relapse-free survival from CR/CRi"}


def _endpoint_section(ep: SurvivalEndpoint) -> str:
    return f"{_ENDPOINT_NAMES.get(ep.paramcd, ep.paramcd)} (n = {ep.n}, {ep.events} events)"


def _endpoints(results: Results) -> list[tuple[str, SurvivalEndpoint | NotEstimable]]:
    """(paramcd, endpoint) of OS and RFS; the endpoint may be NotEstimable."""
    return [("OS", results.os), ("RFS", results.rfs)]


def _median_methods(results: Results, title: str | None = None) -> DisplayTable:
    primary = results.settings.survival.median_ci
    level = _level(_alpha(results))
    method_labels = {"spss": "Median, SPSS (estimate \u00b1 {z} SE)",
                     "log": "Median, Brookmeyer\u2013Crowley (log)",
                     "log-log": "Median, Brookmeyer\u2013Crowley (log\u2013log)"}
    records = []
    primary_rows, se_reasons, truncated = [], {}, []
    for paramcd, ep in _endpoints(results):
        if not estimable(ep):
            records.append({"section": _ENDPOINT_NAMES.get(paramcd, paramcd), "endpoint": paramcd, "method": "",
                            "label": st.fmt_not_estimable(ep.reason), "estimate": "", "ci": "", "se": ""})
            continue
        section = _endpoint_section(ep)
        for method in MEDIAN_METHODS:
            m = ep.medians.get(method)
            if m is None:
                continue
            med = st.median_ci_of(m)   # NR / NE / truncated lower limit: the rules of every median
            est, ci = med.estimate, med.ci
            if med.truncated:
                truncated.append(len(records))
            if method == "spss":
                se = st.fmt_num(m.se, 2) if m.se is not None else (st.NOT_ESTIMABLE if m.reached else NOT_APPLICABLE)
            else:
                se = NOT_APPLICABLE
            records.append({"section": section, "endpoint": ep.paramcd, "method": method,
                            "label": method_labels.get(method, method).format(z=st.fmt_num(m.z, 3).rstrip("0")),
                            "estimate": est, "ci": ci, "se": se})
            if method == primary:
                primary_rows.append(len(records) - 1)
            if method == "spss" and m.se is None and m.reached and m.se_reason:
                se_reasons.setdefault(_sentence(m.se_reason), []).append(len(records) - 1)
        mean = ep.mean_spss
        if mean is not None:
            records.append({"section": section, "endpoint": ep.paramcd, "method": "mean-spss",
                            "label": f"Mean, SPSS (restricted to {st.fmt_num(mean.tmax)} months)",
                            "estimate": st.fmt_num(mean.estimate), "ci": st.fmt_ci(mean.lower, mean.upper),
                            "se": st.fmt_num(mean.se, 2)})
        else:
            records.append({"section": section, "endpoint": ep.paramcd, "method": "mean-spss",
                            "label": "Mean, SPSS", "estimate": st.NOT_ESTIMABLE, "ci": st.NOT_ESTIMABLE,
                            "se": st.NOT_ESTIMABLE})
    frame = pd.DataFrame(records, columns=["section", "endpoint", "method", "label", "estimate", "ci", "se"])
    half = st.fmt_num(0.5, 1)
    from ..numbers import spss_z_text   # the multiplier as used (1.96 at alpha .05), not an undefined "z"

    notes = [Footnote(f"Kaplan\u2013Meier estimates, in months. SPSS: median = first event time with S \u2264 {half}, "
                      f"interval = median \u00b1 {spss_z_text(results)} SE; Brookmeyer\u2013Crowley: interval where the pointwise band "
                      f"of that type crosses {half} (R survival quantile.survfit). Mean: area under the curve up to "
                      "the longest follow-up. NR, not reached; NE, not estimable.")]
    marked = []
    if primary_rows:
        marked.append(Footnote("Method reported in the manuscript.", "label", tuple(primary_rows)))
    for text, rows in se_reasons.items():
        marked.append(Footnote(f"SE {text[:1].lower()}{text[1:]}", "se", tuple(rows)))
    if truncated:
        marked.append(Footnote(f"{st.TRUNCATED_NOTE[:1].upper()}{st.TRUNCATED_NOTE[1:]}: the interval extends "
                               f"below 0, and a survival time cannot be negative.", "ci", tuple(truncated)))
    labels = {"label": "", "estimate": "Estimate, months", "ci": f"{level}% CI", "se": "SE"}
    return DisplayTable(frame=frame, columns=("label", "estimate", "ci", "se"), labels=labels,
                        id="gt-s-medians", group="section", footnotes=tuple(notes) + tuple(marked),
                        source_notes=_source_notes(results.synthetic), title=title)


def median_methods_frame(results: Results) -> pd.DataFrame:
    """Medians of OS and RFS by every method, and the SPSS mean.

    Columns: ``section`` (endpoint with n and events), ``endpoint`` (OS/RFS),
    ``method`` (spss, log, log-log, mean-spss), ``label``, ``estimate``
    (months, one decimal; "NR" not reached), ``ci`` ("4.2–13.1"; a bound "NR"
    when not reached, "NE" when not estimable; "NE" alone when neither bound
    is estimable), ``se`` (two decimals; SPSS rows only, "" where the method
    has no SE). An endpoint that could not be analysed (e.g. RFS when no
    patient achieved CR/CRi) has one row: ``method`` "", ``label``
    "Not estimable: <reason>.", other cells empty.
    """
    return _median_methods(results).frame


def median_methods_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: OS and RFS medians by the SPSS, log and log-log methods, and the SPSS mean (SE)."""
    return _median_methods(results, title)


def _landmarks(results: Results, title: str | None = None) -> DisplayTable:
    level = _level(_alpha(results))
    records, carried = [], []
    for paramcd, ep in _endpoints(results):
        if not estimable(ep):
            records.append({"section": _ENDPOINT_NAMES.get(paramcd, paramcd), "endpoint": paramcd, "time": "",
                            "label": st.fmt_not_estimable(ep.reason), "surv": "", "n_risk": ""})
            continue
        section = _endpoint_section(ep)
        for rec in ep.landmarks.itertuples(index=False):
            records.append({"section": section, "endpoint": ep.paramcd, "time": f"{rec.time:g}",
                            "label": f"At {st.fmt_g(rec.time)} months",
                            "surv": _pct_ci(rec.surv, None if pd.isna(rec.lower) else rec.lower,
                                            None if pd.isna(rec.upper) else rec.upper),
                            "n_risk": str(int(rec.n_risk))})
            if int(rec.n_risk) == 0:
                carried.append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["section", "endpoint", "time", "label", "surv", "n_risk"])
    notes = [Footnote(f"Kaplan\u2013Meier estimates (%) with {level}% pointwise confidence intervals "
                      f"(log transformation, Greenwood variance). At risk: patients still followed at that time.")]
    if carried:
        notes.append(Footnote("No patient remained at risk: the last estimate is carried forward.", "surv",
                              tuple(carried)))
    labels = {"label": "", "surv": f"Survival, % ({level}% CI)", "n_risk": "At risk"}
    return DisplayTable(frame=frame, columns=("label", "surv", "n_risk"), labels=labels, id="gt-s-landmarks",
                        group="section", footnotes=tuple(notes), source_notes=_source_notes(results.synthetic),
                        title=title)


def landmark_frame(results: Results) -> pd.DataFrame:
    """OS and RFS at the configured landmarks.

    Columns: ``section`` (endpoint), ``endpoint``, ``time`` (months, as
    configured), ``label``, ``surv`` ("62.8 (51.6–76.3)", percent),
    ``n_risk`` (number still at risk). An endpoint that could not be
    analysed has one row: ``time`` "", ``label`` "Not estimable: <reason>.".
    """
    return _landmarks(results).frame


def landmark_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: survival at the landmarks (6 and 12 months) for OS and RFS, with CIs."""
    return _landmarks(results, title)
