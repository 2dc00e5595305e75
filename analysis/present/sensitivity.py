"""Tables and figures of the supplementary sensitivity analyses, and the
paragraph that explains them (the immortal-time guardrail).

The analyses themselves are :mod:`analysis.compute.sensitivity` (see its
module docstring), run by :func:`analysis.results.run_analysis` into
``results.sensitivity`` (:class:`analysis.results.SensitivityResults`). Each
entry there is None when the analysis is switched off in ``analysis.yml``
(section ``sensitivity``), a :class:`~analysis.results.NotEstimable` when it
could not be computed on these data, or the result. Every display function
here takes the :class:`~analysis.results.Results` object and returns a
:class:`~analysis.present.tables.DisplayTable`, a
:class:`~analysis.present.figures.JournalFigure` or an
``IPython.display.Markdown``; a switched-off or non-estimable analysis gives a
one-row table ("Switched off in the analysis configuration ...",
"Not estimable: <reason>") or a figure that says so, never an error, so the
supplement renders with any configuration.

Formatting only: no statistic is computed here (no lifelines, scipy or
statsmodels); every number is read from ``results`` and printed with
:mod:`analysis.present.style`. Reading needs a few lookups that are not
statistics: the number at risk at a risk-table time is the ``n_risk`` of the
first row of the step table at or after that time (the step tables have a row
at every time the risk set changes, so that is exact); group sizes are the
risk sets at the first row; totals are sums of counts.

No source pseudonym and no date of any patient is shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from IPython.display import Markdown

from ..compute.sensitivity import CIF_EVENTS, HSCT_GROUPS, LANDMARK_GROUPS, RFS_ANALYSES
from ..results import NotEstimable, Results
from . import style as st
from .figures.canvas import JournalFigure, _add_axes, _finish, _new_figure, _wrap, note_sparse_steps
from .figures.km_axes import risk_layout, _draw_risk_table, _style_time_axis, _time_ticks, _xlim
from .figures.theme import ALL_COLOR, double_column, figure_rc, group_color, order_groups, single_column
from .cautions import not_estimable_reason, note_cautions
from .supplement import supplementary_names
from .tables import DisplayTable, Footnote
from .tables.common import _level_text, global_tests_text, _source_notes, _variable_labels
from .exclusions import left_out_phrase, population_rows
from .numbers import spss_z_text
from .text import COVARIATE_TEXT

__all__ = [
    "CONFIG_KEYS",
    "SIMON_MAKUCH_NOTE",
    "cumulative_incidence_figure",
    "cumulative_incidence_table",
    "guardrail_text",
    "landmark_table",
    "missing_covariates_table",
    "rfs_hsct_table",
    "simon_makuch_figure",
    "state",
    "time_dependent_cox_table",
]

#: SensitivityResults field -> the analysis.yml key (section ``sensitivity``) that switches it on.
CONFIG_KEYS = {
    "rfs_hsct": "rfs_censor_at_hsct",
    "cox_time_dependent": "time_dependent_hsct",
    "simon_makuch": "time_dependent_hsct",
    "landmarks": "landmark_months",
    "cumulative_incidence": "competing_risks",
    "missing_covariates": "missing_covariates",
}
#: What each analysis is called in a switched-off or not-estimable display.
_NAMES = {
    "rfs_hsct": "Relapse-free survival censored at consolidative HSCT",
    "cox_time_dependent": "Cox model with HSCT as a time-dependent covariate",
    "simon_makuch": "Simon\u2013Makuch estimate of overall survival by HSCT status",
    "landmarks": "Landmark analysis of overall survival by CR/CRi",
    "cumulative_incidence": "Cumulative incidence of relapse and non-relapse mortality",
    "missing_covariates": "Cox model with covariates not assessed in every patient",
}
#: Caption-ready note of the Simon-Makuch figure (also printed in it).
SIMON_MAKUCH_NOTE = (
    "HSCT status is updated at transplant: every patient starts in the No HSCT group at relapse and moves "
    "to the HSCT group on the day of consolidative allo-HSCT (Simon\u2013Makuch), so no time before the "
    "transplant is credited to the HSCT group.")

_MEDIAN_METHODS = {
    "spss": "median \u00b1 {z} standard errors (SPSS)",
    "log": "Brookmeyer\u2013Crowley interval from the log-transformed pointwise band (R survfit)",
    "log-log": "Brookmeyer\u2013Crowley interval from the log\u2013log-transformed pointwise band",
}
_CONF_TYPES = {"log": "log", "log-log": "log\u2013log", "plain": "untransformed"}
_EVENT_LABELS = {CIF_EVENTS[0]: "Relapse", CIF_EVENTS[1]: "Non-relapse mortality"}
_FOOTER_SIZE = 7


# =========================================================================== helpers


def _alpha(results: Results) -> float:
    return results.settings.tests.alpha


def _level(results: Results) -> str:
    return st.fmt_g(100 * (1 - _alpha(results)))


def _sens_settings(results: Results):
    return results.settings.sensitivity


def state(results: Results, field: str) -> tuple[Any, str | None]:
    """(value, message) of one sensitivity analysis: ``message`` is None when
    there is a result to show, otherwise the sentence a display prints
    instead ("Switched off in the analysis configuration (analysis.yml,
    sensitivity: competing_risks)." or "Not estimable: <reason>.")."""
    if field not in CONFIG_KEYS:
        raise ValueError(f"unknown sensitivity analysis {field!r}; one of {sorted(CONFIG_KEYS)}")
    sens = results.sensitivity
    value = None if sens is None else getattr(sens, field)
    if value is None or (field == "landmarks" and len(value) == 0):
        return None, (f"Switched off in the analysis configuration (analysis.yml, sensitivity: "
                      f"{CONFIG_KEYS[field]}).")
    if isinstance(value, NotEstimable):
        return value, _not_estimable(value)
    return value, None


def _not_estimable(value: NotEstimable) -> str:
    reason = st.fmt_relation(not_estimable_reason(value).strip())  # a Cox model's reason in words, not its message
    return f"Not estimable: {reason}" + ("" if reason.endswith(".") else ".")


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _num(x: Any) -> float | None:
    return None if _missing(x) else float(x)


def _status_table(results: Results, field: str, message: str, *, id: str, title: str | None) -> DisplayTable:
    frame = pd.DataFrame([{"label": _NAMES[field], "status": message}])
    return DisplayTable(frame=frame, columns=("label", "status"), labels={"label": "Analysis", "status": "Result"},
                        id=id, source_notes=_source_notes(results.synthetic),
                        align={"status": "left"}, title=title)


def _status_figure(results: Results, field: str, message: str) -> JournalFigure:
    with mpl.rc_context(figure_rc()):
        wrapped = _wrap(f"{_NAMES[field]}: {message}", single_column() - 0.3)
        fig = _new_figure(single_column(), 1.2)
        # an (invisible) axes: IPython's inline formatter draws no image for a figure without one, and
        # the reader got "<JournalFigure size 1050x421.5 with 0 Axes>" (acceptance review item 3)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        ax.text(0.5, 0.58, wrapped, ha="center", va="center", gid="sensitivity-empty", transform=ax.transAxes)
        return _finish(fig, results.synthetic)


def _median_cells(est: Any, lower: Any, upper: Any, *, method: str, reached: bool, lower_reached: bool,
                  upper_reached: bool) -> tuple[str, str, bool]:
    """('7.5', '4.1–10.9', truncated) by :func:`analysis.present.style.fmt_median_ci`
    (NR not reached, NE not estimable or no interval, a lower limit below 0 as
    0 with ``truncated`` True)."""
    m = st.fmt_median_ci(_num(est), _num(lower), _num(upper), method=method, reached=reached,
                         lower_reached=lower_reached, upper_reached=upper_reached)
    return m.estimate, m.ci, m.truncated


def _median_method_text(results: Results, method: str) -> str:
    """The interval method in words, with the SPSS multiplier as used ('median ± 1.96 standard errors (SPSS)')."""
    return _MEDIAN_METHODS.get(method, method).format(z=spss_z_text(results))


def _truncated_footnote(rows: Sequence[int], results: Results) -> tuple[Footnote, ...]:
    """The marked note on CI cells whose lower limit was truncated at 0 (none without such cells)."""
    if not rows:
        return ()
    return (Footnote(f"{st.TRUNCATED_NOTE[:1].upper()}{st.TRUNCATED_NOTE[1:]}: the interval (median \u00b1 "
                     f"{spss_z_text(results)} SE) "
                     f"extends below 0, and a survival time cannot be negative.", "ci", tuple(rows)),)


def _hr_cells(row: Mapping | None) -> tuple[str, str]:
    """('1.82 (0.88–3.77)', '.11'); NE for a coefficient that may be infinite; ('', '') without a row."""
    if row is None:
        return "", ""
    if bool(row["monotone"]) or _missing(row["hr"]):
        return st.NOT_ESTIMABLE, st.NOT_ESTIMABLE
    ci = st.fmt_ci(None, None, lower_text=st.fmt_ratio(_num(row["lower"])),
                   upper_text=st.fmt_ratio(_num(row["upper"])))
    return f"{st.fmt_ratio(_num(row['hr']))} ({ci})", st.fmt_p(_num(row["p"]))


def _term_label(results: Results, variable: str, level: Any, reference: Any) -> str:
    """'Salvage group: Chemotherapy vs Targeted' (a numeric covariate: 'Age, per unit increase')."""
    name = _variable_labels(results).get(variable, COVARIATE_TEXT.get(variable, variable))
    if _missing(level):
        return f"{name}, per unit increase"
    return f"{name}: {_level_text(variable, level)} vs {_level_text(variable, reference)}"


def _pct_ci(est: Any, lower: Any, upper: Any) -> str:
    """A proportion (0-1) as '30.5 (17.6–52.7)'; '0.0 (NE)' where the interval is undefined."""
    e = _num(est)
    if e is None:
        return st.NOT_ESTIMABLE
    lo, hi = _num(lower), _num(upper)
    text = st.fmt_rate(e)
    if lo is None and hi is None:
        return f"{text} ({st.NOT_ESTIMABLE})"
    ci = st.fmt_ci(None if lo is None else 100 * lo, None if hi is None else 100 * hi, digits=st.rate_digits())
    return f"{text} ({ci})"


def _risk_at(rows: pd.DataFrame, ticks: Sequence[float]) -> list[int]:
    """Number at risk at each tick: ``n_risk`` of the first row at or after it (0 past the last row).

    Exact for the step tables read here, which have a row at every time the
    risk set changes (exits and, for the Simon-Makuch groups, entries)."""
    times = rows["time"].to_numpy(dtype=float)
    n = rows["n_risk"].to_numpy()
    out = []
    for t in ticks:
        idx = np.searchsorted(times, float(t) - 1e-9, side="left")
        out.append(int(n[idx]) if idx < len(times) else 0)
    return out


def _risk_times(results: Results) -> list[float]:
    return list(results.settings.survival.risk_table_months)


def _months_text(values: Sequence[float]) -> str:
    items = [st.fmt_g(float(v)) for v in values]
    if len(items) <= 1:
        return "".join(items) + " months"
    return ", ".join(items[:-1]) + " and " + items[-1] + " months"


# =========================================================================== 1. RFS censored at HSCT


def rfs_hsct_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: relapse-free survival as defined and with follow-up
    censored at consolidative allo-HSCT (``results.sensitivity.rfs_hsct``).

    Frame columns: ``analysis`` ("As defined", "Censored at HSCT"), ``label``,
    ``n`` (patients), ``events`` (relapses or deaths), ``censored_hsct``
    (observations censored at the transplant), ``median`` (months, one
    decimal; NR not reached, NE not estimable), ``ci`` ("4.1–10.9"),
    by the configured median method (``survival.median_ci``).
    """
    value, message = state(results, "rfs_hsct")
    if message:
        return _status_table(results, "rfs_hsct", message, id="gt-s-rfs-hsct", title=title)
    labels_of = {RFS_ANALYSES[0]: "As defined (relapse or death)",
                 RFS_ANALYSES[1]: "Censored at consolidative allo-HSCT"}
    records, truncated = [], []
    for rec in value.to_dict("records"):
        med, ci, cut = _median_cells(rec["median"], rec["lower"], rec["upper"], method=str(rec["method"]),
                                     reached=bool(rec["median_reached"]), lower_reached=bool(rec["lower_reached"]),
                                     upper_reached=bool(rec["upper_reached"]))
        if cut:
            truncated.append(len(records))
        records.append({"analysis": rec["analysis"], "label": labels_of.get(rec["analysis"], rec["analysis"]),
                        "n": st.fmt_int(int(rec["n"])), "events": st.fmt_int(int(rec["events"])),
                        "censored_hsct": st.fmt_int(int(rec["n_censored_hsct"])), "median": med, "ci": ci})
    frame = pd.DataFrame(records, columns=["analysis", "label", "n", "events", "censored_hsct", "median", "ci"])
    method = str(value["method"].iloc[0]) if len(value) else ""
    level = _level(results)
    notes = (
        Footnote("Relapse-free survival from CR/CRi after salvage to relapse or death. Censored at consolidative "
                 "allo-HSCT: follow-up ends on the day of the transplant when it came before relapse or death, "
                 "so that the estimate describes remission without transplant; the transplant is not an event."),
        Footnote(f"Kaplan\u2013Meier median with {level}% CI: {_median_method_text(results, method)}. "
                 f"NR, not reached; NE, not estimable."),
    )
    labels = {"label": "", "n": "Patients", "events": "Relapses or deaths", "censored_hsct": "Censored at HSCT",
              "median": "Median, months", "ci": f"{level}% CI"}
    return DisplayTable(frame=frame, columns=("label", "n", "events", "censored_hsct", "median", "ci"),
                        labels=labels, id="gt-s-rfs-hsct", footnotes=notes + _truncated_footnote(truncated, results),
                        source_notes=_source_notes(results.synthetic), title=title)


# =========================================================================== 2. time-dependent Cox


def time_dependent_cox_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the OS Cox model with consolidative HSCT as a
    time-dependent covariate (``results.sensitivity.cox_time_dependent``),
    beside the main multivariable model (``results.cox.multivariable``).

    Frame columns: ``term``, ``label`` ("Consolidative allo-HSCT
    (time-dependent): Yes vs No", "Salvage group: Chemotherapy vs
    Targeted"), ``main_hr`` / ``td_hr`` ("1.82 (0.88–3.77)"; NE for a
    coefficient that may be infinite; "" where the term is not in that model),
    ``main_p`` / ``td_p`` (style.fmt_p of the Wald p).
    """
    td, message = state(results, "cox_time_dependent")
    if message:
        return _status_table(results, "cox_time_dependent", message, id="gt-s-td-cox", title=title)
    main = results.cox.multivariable
    main_rows = ({r["term"]: r for r in main.table.to_dict("records")}
                 if not isinstance(main, NotEstimable) else {})
    records, monotone, main_monotone = [], [], []
    for rec in td.table.to_dict("records"):
        if rec["variable"] == "hsct":
            label = "Consolidative allo-HSCT (time-dependent): Yes vs No"
        else:
            label = _term_label(results, rec["variable"], rec["level"], rec["reference"])
        main_hr, main_p = _hr_cells(main_rows.get(rec["term"]))
        if isinstance(main, NotEstimable) and rec["variable"] != "hsct":
            main_hr, main_p = st.NOT_ESTIMABLE, st.NOT_ESTIMABLE
        td_hr, td_p = _hr_cells(rec)
        records.append({"term": rec["term"], "label": label, "main_hr": main_hr, "main_p": main_p,
                        "td_hr": td_hr, "td_p": td_p})
        if bool(rec["monotone"]):
            monotone.append(len(records) - 1)
        main_row = main_rows.get(rec["term"])
        if main_row is not None and bool(main_row["monotone"]):
            main_monotone.append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["term", "label", "main_hr", "main_p", "td_hr", "td_p"])
    level = _level(results)
    fit = (f"Time-dependent model: {td.n} patients ({td.n_hsct} with follow-up after a transplant), "
           f"{td.n_events} deaths, {td.n_parameters} parameters "
           f"({st.fmt_num(td.events_per_parameter, 1)} events per parameter)"
           + (", " + left_out_phrase(results, results.cox.covariates, td.n_excluded) if td.n_excluded else "")
           + "; "
           + global_tests_text(td) + ".")
    notes = [
        Footnote(f"Cox proportional-hazards models of overall survival from relapse (Efron's method for ties); "
                 f"HR, hazard ratio with {level}% Wald CI; P, Wald test. Consolidative allo-HSCT enters as a "
                 f"time-dependent covariate (counting-process data): each patient counts as untransplanted from "
                 f"relapse until the day of the transplant and as transplanted afterwards; a transplant on the "
                 f"day of death or last contact is not counted. The main model has the baseline covariates "
                 f"only; HSCT is not in it."),
        Footnote(fit),
    ]
    if isinstance(main, NotEstimable):
        notes.append(Footnote(f"Main model: {_not_estimable(main)}"))
    # in words; a coefficient that may be infinite is marked on its row instead
    notes.extend(Footnote(f"Caution, time-dependent model: {w}.") for w in note_cautions(td.cautions))
    infinite = "the coefficient may be infinite (monotone likelihood): its HR, CI and P are not meaningful."
    marked = tuple(Footnote(text, column, tuple(rows))
                   for text, column, rows in ((f"Main model: {infinite}", "main_hr", main_monotone),
                                              (infinite[:1].upper() + infinite[1:], "td_hr", monotone)) if rows)
    labels = {"label": "", "main_hr": f"HR ({level}% CI)", "main_p": "P", "td_hr": f"HR ({level}% CI)",
              "td_p": "P"}
    return DisplayTable(frame=frame, columns=("label", "main_hr", "main_p", "td_hr", "td_p"), labels=labels,
                        id="gt-s-td-cox",
                        spanners=(("Main model", ("main_hr", "main_p")),
                                  ("HSCT time-dependent", ("td_hr", "td_p"))),
                        footnotes=tuple(notes) + marked, source_notes=_source_notes(results.synthetic),
                        title=title)


# =========================================================================== 3. Simon-Makuch


def _sm_parts(sm: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per group: its rows, the start of its curve, the patients at risk from
    time 0 and the patients ever in the group.

    "No HSCT": every patient not transplanted on the day of relapse is at risk
    from time 0, i.e. the risk set of the first row. "HSCT": patients
    transplanted on the day of relapse are at risk from time 0 (the risk set
    of the first row, which excludes patients entering at that row's time);
    the others enter at their transplant (``n_enter``)."""
    out = {}
    for label in HSCT_GROUPS:
        rows = sm[sm["group"] == label].sort_values("time", kind="stable").reset_index(drop=True)
        if rows.empty:
            continue
        at_start = int(rows["n_risk"].iloc[0])
        if label == HSCT_GROUPS[0]:
            start, n = 0.0, at_start
        else:
            start = 0.0 if at_start > 0 else float(rows.loc[rows["n_enter"] > 0, "time"].iloc[0])
            n = at_start + int(rows["n_enter"].sum())
        out[label] = {"rows": rows, "start": start, "n": n, "at_start": at_start}
    return out


def simon_makuch_figure(results: Results) -> JournalFigure:
    """Supplementary figure: Simon–Makuch estimate of overall survival by
    consolidative HSCT as a time-dependent group (``results.sensitivity.simon_makuch``).

    One step curve per group ("No HSCT" from relapse; "HSCT" from the first
    transplant, at 1), censor marks (+; in "No HSCT" a transplant ends the
    patient's time there and shows as a mark), the legend with the number of
    patients ever in each group, the HR for HSCT from the time-dependent Cox
    model where estimable, the numbers at risk at the configured risk-table
    times, and :data:`SIMON_MAKUCH_NOTE`. A switched-off or non-estimable
    analysis gives a figure that says so.
    """
    sm, message = state(results, "simon_makuch")
    if message:
        return _status_figure(results, "simon_makuch", message)
    parts = _sm_parts(sm)
    labels = list(parts)
    n_total = sum(p["at_start"] for p in parts.values())
    deaths = int(sm["n_event"].sum())
    W = single_column()
    left, right_pad = 0.95, 0.12
    ax_w = W - left - right_pad
    td, td_message = state(results, "cox_time_dependent")
    hr_line = None
    if td_message is None:
        row = td.table[td.table["variable"] == "hsct"]
        if len(row):
            rec = row.iloc[0].to_dict()
            hr, _ = _hr_cells(rec)
            hr_line = (f"Time-dependent Cox model, HSCT vs no HSCT: HR {hr}; {st.fmt_p_text(_num(rec['p']))}"
                       if hr != st.NOT_ESTIMABLE else
                       "Time-dependent Cox model, HSCT vs no HSCT: HR not estimable (monotone likelihood)")
    paragraphs = [f"n = {n_total} patients; {deaths} deaths."] + ([hr_line] if hr_line else []) + [SIMON_MAKUCH_NOTE]
    text_lines = _wrap("\n".join(paragraphs), W - 0.12, _FOOTER_SIZE).split("\n")
    line_h = 0.135
    notes_h = line_h * len(text_lines) + 0.06
    lay = risk_layout(results.synthetic, len(labels), notes_h)
    foot, risk_bottom, risk_h, ax_bottom = lay.foot, lay.risk_bottom, lay.risk_h, lay.ax_bottom
    ax_h = 2.0
    legend_h = 0.22 + 0.17 * len(labels)
    H = ax_bottom + ax_h + legend_h + 0.08
    max_t = float(sm["time"].max())
    ticks = _time_ticks(_risk_times(results), max_t)
    xlim = _xlim(ticks, max_t)
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        ax = _add_axes(fig, left, ax_bottom, ax_w, ax_h, "simon-makuch-curves")
        rax = _add_axes(fig, left, risk_bottom, ax_w, risk_h, "simon-makuch-risk")
        handles, risk_rows = [], []
        for i, label in enumerate(HSCT_GROUPS):
            if label not in parts:
                continue
            p = parts[label]
            rows = p["rows"]
            color = group_color(label, i)
            x = np.concatenate([[p["start"]], rows["time"].to_numpy(dtype=float)])
            y = np.concatenate([[1.0], rows["surv"].to_numpy(dtype=float)])
            (curve,) = ax.plot(x, y, drawstyle="steps-post", color=color, lw=1.1, label=f"{label} (n = {p['n']})",
                               gid=f"curve-{i}", solid_joinstyle="miter", clip_on=False, zorder=3)
            cens = rows[rows["n_censor"] > 0]
            ax.plot(cens["time"].to_numpy(dtype=float), cens["surv"].to_numpy(dtype=float), ls="none",
                    marker="+", ms=4.5, mew=0.8, color=color, gid=f"censor-{i}", clip_on=False, zorder=4)
            handles.append(curve)
            note_sparse_steps(fig, rows, label)
            risk_rows.append((label, color, _risk_at(rows, ticks)))
        _style_time_axis(ax, ticks, xlim, "Months from relapse", "Probability of overall survival")
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.3 / W, 1 - 0.04 / H),
                   bbox_transform=fig.transFigure, handlelength=1.6, borderaxespad=0, borderpad=0,
                   labelspacing=0.4, title="HSCT status (time-dependent)",
                   title_fontproperties={"weight": "bold", "size": st.journal().figure.font_size}, alignment="left")
        _draw_risk_table(rax, risk_rows, ticks, xlim, "Number at risk")
        fig.text(0.06 / W, (foot + notes_h - 0.02) / H, "\n".join(text_lines), ha="left", va="top",
                 fontsize=_FOOTER_SIZE, linespacing=1.3, gid="simon-makuch-note")
        return _finish(fig, results.synthetic)


# =========================================================================== 4. landmark


def _landmark_limit_reached(x: Any, *, method: str) -> bool:
    """Whether a landmark group's CI limit was reached: for the
    Brookmeyer–Crowley methods a missing limit was not (the band stays above
    0.5); for SPSS a missing limit of a reached median is not estimable (and a
    median not reached has no interval, see :func:`analysis.present.style.fmt_median_ci`)."""
    return not (_missing(x) and method in ("log", "log-log"))


def landmark_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: landmark analysis of overall survival by CR/CRi
    (``results.sensitivity.landmarks``), one block per configured landmark.

    Frame columns: ``section`` ("Landmark at 3 months from relapse"),
    ``landmark`` (months, as configured), ``group`` ("CR/CRi", "No CR/CRi"),
    ``label``, ``n`` (patients alive and followed at the landmark), ``events``
    (deaths after it), ``median`` (months from the landmark; NR, NE; "–" for an
    empty group), ``ci``, ``P`` (log-rank, on the block's first row; NE when
    no test could be done). A landmark that could not be analysed gives one
    row whose ``label`` says why.
    """
    values, message = state(results, "landmarks")
    if message:
        return _status_table(results, "landmarks", message, id="gt-s-landmark-response", title=title)
    configured = list(_sens_settings(results).landmark_months)
    level = _level(results)
    records, no_test, block_notes, methods, truncated = [], {}, [], set(), []
    for k, lm in enumerate(values):
        months = float(lm.landmark) if not isinstance(lm, NotEstimable) else (
            float(configured[k]) if k < len(configured) else math.nan)
        section = f"Landmark at {st.fmt_g(months)} months from relapse"
        if isinstance(lm, NotEstimable):
            records.append({"section": section, "landmark": f"{months:g}", "group": "",
                            "label": _not_estimable(lm), "n": "", "events": "", "median": "", "ci": "", "P": ""})
            continue
        methods.add(lm.method)
        first = len(records)
        for rec in lm.groups.to_dict("records"):
            n = int(rec["n"])
            if n == 0:
                med = ci = st.DASH
            else:
                med, ci, cut = _median_cells(
                    rec["median"], rec["lower"], rec["upper"], method=lm.method, reached=bool(rec["median_reached"]),
                    lower_reached=_landmark_limit_reached(rec["lower"], method=lm.method),
                    upper_reached=_landmark_limit_reached(rec["upper"], method=lm.method))
                if cut:
                    truncated.append(len(records))
            label = ("CR/CRi by the landmark" if rec["group"] == LANDMARK_GROUPS[0]
                     else "No CR/CRi by the landmark")
            records.append({"section": section, "landmark": f"{months:g}", "group": rec["group"], "label": label,
                            "n": st.fmt_int(n), "events": st.fmt_int(int(rec["events"])), "median": med,
                            "ci": ci, "P": ""})
        if lm.logrank is not None:
            records[first]["P"] = st.fmt_p(lm.logrank.p)
        else:
            records[first]["P"] = st.NOT_ESTIMABLE
            no_test.setdefault(f"No log-rank test: {lm.logrank_note or 'not estimable'}.", []).append(first)
        total = lm.n_at_risk + lm.n_excluded
        block_notes.append(
            f"{st.fmt_g(months)} months: {lm.n_at_risk} of {total} patients were alive and under follow-up after the "
            f"landmark ({lm.n_excluded} died or were censored by then); {lm.n_cr_after_landmark} of them reached "
            f"CR/CRi only after the landmark and are analysed as No CR/CRi.")
    frame = pd.DataFrame(records, columns=["section", "landmark", "group", "label", "n", "events", "median", "ci",
                                           "P"])
    method_text = "; ".join(_median_method_text(results, m) for m in sorted(methods)) or "not computed"
    notes = [Footnote("Landmark analysis: patients alive and under follow-up at the landmark are grouped by "
                      "CR/CRi reached on or before it, and survival is timed from the landmark, so that no "
                      "survival before the landmark is credited to either group. Deaths, deaths after the "
                      "landmark; P, log-rank test.")]
    notes.append(Footnote(f"Median overall survival from the landmark, months, with {level}% CI: {method_text}. "
                          f"NR, not reached; NE, not estimable; {st.DASH}, no patient in the group."))
    notes.extend(Footnote(t) for t in block_notes)
    marked = tuple(Footnote(text, "P", tuple(rows)) for text, rows in no_test.items()) + _truncated_footnote(truncated, results)
    labels = {"label": "", "n": "Patients", "events": "Deaths", "median": "Median OS, months", "ci": f"{level}% CI",
              "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "n", "events", "median", "ci", "P"), labels=labels,
                        id="gt-s-landmark-response", group="section", footnotes=tuple(notes) + marked,
                        source_notes=_source_notes(results.synthetic), title=title)


# =========================================================================== 5. competing risks


def _cif_group_sizes(ci) -> dict[str, int]:
    """Patients per group: the risk set at the group's first observed time."""
    first = ci.curves[ci.curves["event"] == CIF_EVENTS[0]].sort_values("time", kind="stable")
    return {str(g): int(rows["n_risk"].iloc[0]) for g, rows in first.groupby("group", sort=False)}


def _group_label(group: str, n: int | None) -> str:
    name = "All patients in CR/CRi" if group == "All" else str(group)
    return name if n is None else f"{name} (n = {n})"


def cumulative_incidence_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: cumulative incidence of relapse and of non-relapse
    mortality (death without relapse) after CR/CRi, at the configured times,
    overall and by salvage group, with Gray's test
    (``results.sensitivity.cumulative_incidence``).

    Frame columns: ``section`` ("All patients in CR/CRi (n = 32)", then each
    group; last "Comparison of the groups"), ``group``, ``time`` (months, as
    requested), ``label`` ("At 6 months", "Gray's test, P"), ``relapse`` and
    ``nrm`` (percent, one decimal, with the pointwise CI: "30.5 (17.6–52.7)";
    on the test row style.fmt_p of Gray's P), ``n_risk`` (patients still
    followed without either event).
    """
    ci, message = state(results, "cumulative_incidence")
    if message:
        return _status_table(results, "cumulative_incidence", message, id="gt-s-cif", title=title)
    sizes = _cif_group_sizes(ci)
    est = ci.estimates
    records, carried, zero, capped = [], [], [], []
    present = list(pd.unique(est["group"]))
    ordered = [g for g in present if g == "All"] + order_groups([g for g in present if g != "All"])
    for group in ordered:   # all patients, then the groups in the order of every other table and figure
        part = est[est["group"] == group]
        section = _group_label(str(group), sizes.get(str(group)))
        for t in pd.unique(part["time"]):
            cells = {}
            n_risk = None
            for ev, col in ((CIF_EVENTS[0], "relapse"), (CIF_EVENTS[1], "nrm")):
                row = part[(part["event"] == ev) & (part["time"] == t)].iloc[0]
                cells[col] = _pct_ci(row["cif"], row["lower"], row["upper"])
                n_risk = int(row["n_risk"])
                if _num(row["cif"]) == 0.0:
                    zero.append((len(records), col))
                upper, cif = _num(row["upper"]), _num(row["cif"])
                if upper is not None and cif is not None and upper >= 1.0 > cif:
                    capped.append((len(records), col))
            records.append({"section": section, "group": str(group), "time": f"{float(t):g}",
                            "label": f"At {st.fmt_g(float(t))} months", **cells, "n_risk": st.fmt_int(n_risk)})
            if n_risk == 0:
                carried.append(len(records) - 1)
    gray = ci.gray_test
    if gray is not None:
        p = {r["event"]: r["p"] for r in gray.to_dict("records")}
        records.append({"section": "Comparison of the groups", "group": "", "time": "", "label": "Gray's test, P",
                        "relapse": st.fmt_p(_num(p.get(CIF_EVENTS[0]))), "nrm": st.fmt_p(_num(p.get(CIF_EVENTS[1]))),
                        "n_risk": ""})
    frame = pd.DataFrame(records, columns=["section", "group", "time", "label", "relapse", "nrm", "n_risk"])
    level = _level(results)
    notes = [
        Footnote(f"Cumulative incidence (%) from the date of CR/CRi, with relapse and death without relapse "
                 f"(non-relapse mortality) as competing events (Aalen\u2013Johansen estimator), with {level}% "
                 f"pointwise CI ({_CONF_TYPES.get(ci.conf_type, ci.conf_type)} transformation, delta-method "
                 f"variance). At risk: patients still followed without either event."),
        Footnote(f"{ci.n} patients in CR/CRi: {ci.n_relapse} relapses, {ci.n_death} deaths without relapse, "
                 f"{ci.n_censored} censored."),
    ]
    if gray is not None:
        notes.append(Footnote("Gray's test (\u03c1 = 0) compares the cumulative incidence of each event across the "
                              "groups."))
        if gray["p"].isna().any():
            notes.append(Footnote("NE on the test row: the variance of Gray's statistic is singular for these "
                                  "data, so the test is not defined."))
    elif ci.group is not None:
        notes.append(Footnote("Gray's test was not done: fewer than two groups have patients."))
    marked = []
    zero_rows: dict[str, list[int]] = {}
    for r, col in zero:
        zero_rows.setdefault(col, []).append(r)
    for col, rows in zero_rows.items():
        what = "relapse" if col == "relapse" else "death without relapse"
        marked.append(Footnote(f"No {what} by this time: the interval is not defined (NE).", col, tuple(rows)))
    capped_rows: dict[str, list[int]] = {}
    for r, col in capped:
        capped_rows.setdefault(col, []).append(r)
    for col, rows in capped_rows.items():
        what = "relapse" if col == "relapse" else "non-relapse mortality"
        marked.append(Footnote(f"Upper limit of the {what} interval truncated at 100% (the {_CONF_TYPES.get(ci.conf_type, ci.conf_type)}-"
                               f"transformed interval extends beyond it, as R survfit truncates it); few patients "
                               f"remain at risk.", col, tuple(rows)))
    if carried:
        marked.append(Footnote("No patient remained at risk: the last estimate is carried forward.", "n_risk",
                               tuple(carried)))
    labels = {"label": "", "relapse": f"Relapse, % ({level}% CI)",
              "nrm": f"Non-relapse mortality, % ({level}% CI)", "n_risk": "At risk"}
    return DisplayTable(frame=frame, columns=("label", "relapse", "nrm", "n_risk"), labels=labels, id="gt-s-cif",
                        group="section", footnotes=tuple(notes) + tuple(marked),
                        source_notes=_source_notes(results.synthetic), title=title)


def cumulative_incidence_figure(results: Results) -> JournalFigure:
    """Supplementary figure: cumulative incidence of relapse (A) and of
    non-relapse mortality (B) after CR/CRi, one step curve per salvage group
    (all patients when there is no grouping or only one group), with Gray's P
    per panel, the numbers at risk at the configured risk-table times and a
    note with the patients and events (``results.sensitivity.cumulative_incidence``)."""
    ci, message = state(results, "cumulative_incidence")
    if message:
        return _status_figure(results, "cumulative_incidence", message)
    curves = ci.curves
    sizes = _cif_group_sizes(ci)
    groups = order_groups([g for g in pd.unique(curves["group"]) if g != "All"])
    if len(groups) < 2:
        groups = ["All"]
    gray = {} if ci.gray_test is None else {r["event"]: r["p"] for r in ci.gray_test.to_dict("records")}
    W = double_column()
    panel_w = W / 2
    left, right_pad = 1.1, 0.12
    ax_w = panel_w - left - right_pad
    lay = risk_layout(results.synthetic, len(groups), note_h=0.2)
    foot, risk_bottom, risk_h, ax_bottom = lay.foot, lay.risk_bottom, lay.risk_h, lay.ax_bottom
    ax_h = 2.0
    legend_h = 0.24 + 0.17 * len(groups)
    H = ax_bottom + ax_h + legend_h + 0.08
    max_t = float(curves["time"].max())
    ticks = _time_ticks(_risk_times(results), max_t)
    xlim = _xlim(ticks, max_t)
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        for k, (event, letter) in enumerate(zip(CIF_EVENTS, ("A", "B"))):
            x0 = k * panel_w
            ax = _add_axes(fig, x0 + left, ax_bottom, ax_w, ax_h, f"cif-{letter}-curves")
            rax = _add_axes(fig, x0 + left, risk_bottom, ax_w, risk_h, f"cif-{letter}-risk")
            handles, risk_rows = [], []
            for i, g in enumerate(groups):
                rows = curves[(curves["group"] == g) & (curves["event"] == event)].sort_values("time", kind="stable")
                color = group_color(g, i) if g != "All" else ALL_COLOR
                x = np.concatenate([[0.0], rows["time"].to_numpy(dtype=float)])
                y = np.concatenate([[0.0], rows["cif"].to_numpy(dtype=float)])
                (curve,) = ax.plot(x, y, drawstyle="steps-post", color=color, lw=1.1,
                                   label=_group_label(str(g), sizes.get(str(g))), gid=f"cif-{letter}-curve-{i}",
                                   solid_joinstyle="miter", clip_on=False, zorder=3)
                handles.append(curve)
                note_sparse_steps(fig, rows, f"{_group_label(str(g), None)}, {_EVENT_LABELS[event].lower()}")
                risk_rows.append((_group_label(str(g), None) if g != "All" else "All", color,
                                  _risk_at(rows, ticks)))
            _style_time_axis(ax, ticks, xlim, "Months from CR/CRi", "Cumulative incidence")
            if event in gray:
                ax.text(0.03, 0.96, f"Gray's test {st.fmt_p_text(_num(gray[event]))}", transform=ax.transAxes,
                        ha="left", va="top", gid=f"cif-{letter}-gray-p")
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=((x0 + 0.3) / W, 1 - 0.04 / H),
                       bbox_transform=fig.transFigure, handlelength=1.6, borderaxespad=0, borderpad=0,
                       labelspacing=0.4, title=_EVENT_LABELS[event],
                       title_fontproperties={"weight": "bold", "size": st.journal().figure.font_size},
                       alignment="left")
            _draw_risk_table(rax, risk_rows, ticks, xlim, "Number at risk")
            fig.text((x0 + 0.06) / W, (H - 0.04) / H, letter, ha="left", va="top", fontsize=9, fontweight="bold",
                     gid=f"panel-{letter}")
        fig.text(0.06 / W, (foot + 0.02) / H,
                 f"{ci.n} patients in CR/CRi: {ci.n_relapse} relapses, {ci.n_death} deaths without relapse, "
                 f"{ci.n_censored} censored. Time zero: the date of CR/CRi.", ha="left", va="bottom",
                 fontsize=_FOOTER_SIZE, gid="cif-note")
        return _finish(fig, results.synthetic)


# =========================================================================== 6. missing covariates


def missing_covariates_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the OS Cox model with covariates not assessed in
    every patient, complete-case analysis beside a "Missing" category
    (``results.sensitivity.missing_covariates``).

    Frame columns: ``term``, ``label`` ("CD19-negative/dim relapse: Missing
    vs No"), ``cc_hr``, ``cc_p`` (complete case), ``mc_hr``, ``mc_p``
    (missing as a category): "2.39 (1.13–5.04)" and style.fmt_p; NE for a
    coefficient that may be infinite; "" where the term is not in that model.
    """
    value, message = state(results, "missing_covariates")
    if message:
        return _status_table(results, "missing_covariates", message, id="gt-s-missing", title=title)
    approaches = (("complete_case", "cc"), ("missing_category", "mc"))
    terms: dict[str, dict[str, Any]] = {}
    for rec in value.to_dict("records"):
        terms.setdefault(rec["term"], {"variable": rec["variable"], "level": rec["level"],
                                       "reference": rec["reference"]})[rec["approach"]] = rec
    records, monotone = [], {"cc_hr": [], "mc_hr": []}
    for term, info in terms.items():
        rec = {"term": term, "label": _term_label(results, info["variable"], info["level"], info["reference"])}
        for approach, prefix in approaches:
            row = info.get(approach)
            rec[f"{prefix}_hr"], rec[f"{prefix}_p"] = _hr_cells(row)
            if row is not None and bool(row["monotone"]):
                monotone[f"{prefix}_hr"].append(len(records))
        records.append(rec)
    frame = pd.DataFrame(records, columns=["term", "label", "cc_hr", "cc_p", "mc_hr", "mc_p"])
    level = _level(results)
    extra = [c.column for c in _sens_settings(results).missing_covariates]
    names = [_variable_labels(results).get(c, COVARIATE_TEXT.get(c, c)) for c in extra]
    notes = [Footnote(f"Cox proportional-hazards models of overall survival from relapse (Efron's method for "
                      f"ties) with the covariates of the main model and {'; '.join(names) or 'the added covariates'}"
                      f". Complete case: patients with a missing value are left out. Missing as a category: a "
                      f"missing value of an added covariate is its own level, which keeps the patients without "
                      f"that value but can bias the other coefficients (missing-indicator method), so it is a "
                      f"sensitivity analysis. "
                      f"HR, hazard ratio with {level}% Wald CI; P, Wald test.")]
    seen: dict[str, list[str]] = {}
    for approach, prefix in approaches:
        rows = value[value["approach"] == approach]
        if rows.empty:
            continue
        first = rows.iloc[0]
        name = "Complete case" if approach == "complete_case" else "Missing as a category"
        used = list(results.cox.covariates) + (extra if approach == "complete_case" else [])
        notes.append(Footnote(f"{name}: {int(first['n'])} patients, {int(first['n_events'])} deaths"
                              + (", " + left_out_phrase(results, used, int(first["n_excluded"]),
                                                        missing_what="a missing value of "
                                                        + ("a covariate" if approach == "complete_case"
                                                           else "a main-model covariate"))
                                 if int(first["n_excluded"]) else "") + "."))
        # the references are stated below, a coefficient that may be infinite is marked on its row
        for w in note_cautions([c for c in first["cautions"] if c.kind != "default_reference"]):
            seen.setdefault(w, []).append(name.lower())
    refs = value.drop_duplicates("variable")
    refs = refs[refs["reference"].notna()]
    if len(refs):
        labels_of = _variable_labels(results)
        notes.append(Footnote("Reference levels: " + "; ".join(
            f"{labels_of.get(v, COVARIATE_TEXT.get(v, v))}, {_level_text(v, ref)}"
            for v, ref in zip(refs["variable"], refs["reference"])) + "."))
    for w, where in seen.items():
        notes.append(Footnote(f"Caution ({' and '.join(where)}): {w}."))
    marked = tuple(Footnote(f"{'Complete case' if col == 'cc_hr' else 'Missing as a category'}: the coefficient "
                            f"may be infinite (monotone likelihood), so its HR, CI and P are not meaningful.",
                            col, tuple(rows)) for col, rows in monotone.items() if rows)
    labels = {"label": "", "cc_hr": f"HR ({level}% CI)", "cc_p": "P", "mc_hr": f"HR ({level}% CI)", "mc_p": "P"}
    return DisplayTable(frame=frame, columns=("label", "cc_hr", "cc_p", "mc_hr", "mc_p"), labels=labels,
                        id="gt-s-missing",
                        spanners=(("Complete case", ("cc_hr", "cc_p")), ("Missing as a category", ("mc_hr", "mc_p"))),
                        footnotes=tuple(notes) + marked, source_notes=_source_notes(results.synthetic), title=title)


# =========================================================================== guardrail paragraph


def _supp(name: str) -> list[str]:
    """['Supplementary Table S11', 'Supplementary Figure S3'] for the floats named ``name`` in
    analysis.present.supplement (a table, a figure or both); [] when none is listed."""
    names = supplementary_names()
    stem = name.replace("-", "_")
    return [f"Supplementary {names[k]}" for k in (f"tbl_s_{stem}", f"fig_s_{stem}") if k in names]


def _cite(*names: str) -> str:
    where = [w for n in names for w in _supp(n)]
    return f" ({'; '.join(where)})" if where else ""


def supplement_intro(results: Results) -> Markdown:
    """The opening paragraph of the supplement's sensitivity section: why the analyses were done, or,
    when every one is switched off in ``analysis.yml``, that none was performed (the supplement said
    "Why these analyses were done ... is described in the manuscript" while the manuscript said none
    was performed; acceptance review item 3)."""
    cfg = _sens_settings(results)
    if not (cfg.time_dependent_hsct or cfg.landmark_months or cfg.rfs_censor_at_hsct or cfg.competing_risks
            or cfg.missing_covariates):
        return Markdown("No sensitivity analysis was performed: every one is switched off in the analysis "
                        "configuration (analysis.yml, section sensitivity), so the tables and figures of this "
                        "section say so in place of results.\n")
    return Markdown("Why these analyses were done, and how, is described in the manuscript (Methods, Statistical "
                    "analysis): response and consolidative transplantation occur after time zero and are not "
                    "used as baseline groupings for overall survival. An analysis switched off in the analysis "
                    "configuration says so in place of its results.\n")


def guardrail_text(results: Results) -> Markdown:
    """The immortal-time guardrail as a paragraph for the methods and the supplement.

    Says which groupings are post-baseline (CR/CRi after salvage, consolidative
    allo-HSCT), that they were not used as baseline groupings for overall
    survival, and how each sensitivity analysis that is switched on in
    ``analysis.yml`` (section ``sensitivity``) handles them, citing the
    supplementary tables and figures by their numbers
    (:func:`analysis.present.supplement.supplementary_names`). Built from the
    configuration, so switching an analysis off removes its sentence.
    """
    cfg = _sens_settings(results)
    sentences = [
        "Response to salvage (CR/CRi) and consolidative allogeneic HSCT occur after time zero (the relapse after "
        "CAR-T therapy, from which overall survival is timed). They are therefore post-baseline events and were "
        "not used as baseline groupings for overall survival: comparing patients with and without such an event "
        "from relapse onwards would credit the group with the event with the time its patients had to survive "
        "to reach it (immortal-time bias) [@anderson1983; @suissa2008]."
    ]
    if cfg.time_dependent_hsct:
        sentences.append(
            "Instead, HSCT entered the Cox model for overall survival as a time-dependent covariate, each patient "
            "counting as untransplanted until the day of the transplant [@therneau2000]"
            + _cite("td-cox") + ", and overall survival by HSCT status was displayed with the Simon\u2013Makuch "
            "method, in which patients move from the untransplanted to the transplanted group on the day of "
            "transplant [@simon1984]" + _cite("simon-makuch") + ".")
    if cfg.landmark_months:
        months = list(cfg.landmark_months)
        sentences.append(
            f"Overall survival by response was compared in a landmark analysis at {_months_text(months)} after "
            "relapse: patients alive and under follow-up at the landmark were grouped by CR/CRi reached by then, "
            "and survival was timed from the landmark" + _cite("landmark-response") + ".")
    if cfg.rfs_censor_at_hsct:
        sentences.append(
            "Relapse-free survival, which starts at CR/CRi, was also estimated with follow-up censored at "
            "consolidative HSCT, so that it describes remission without transplant" + _cite("rfs-hsct") + ".")
    if cfg.competing_risks:
        sentences.append(
            "The cumulative incidence of relapse after CR/CRi was estimated with death without relapse as a "
            "competing event with the Aalen\u2013Johansen estimator [@aalen1978] and compared between salvage groups with "
            "Gray's test [@gray1988]" + _cite("cif") + ".")
    if cfg.missing_covariates:
        names = [COVARIATE_TEXT.get(c.column, _variable_labels(results).get(c.column, c.column))
                 for c in cfg.missing_covariates]
        joined = st.join_words(names)
        rows = population_rows(results)
        missing = [(n, int(rows[c.column].isna().sum())) for n, c in zip(names, cfg.missing_covariates)
                   if c.column in rows.columns]
        counts = st.join_words([f"{n}, {k}" for n, k in missing if k])
        sentences.append(
            f"{joined[:1].upper()}{joined[1:]} {'was' if len(names) == 1 else 'were'} added to the Cox model for "
            "overall survival in a complete-case analysis and, as a sensitivity analysis, with missing values as a "
            "separate category" + _cite("missing")
            + (f" (patients without a recorded value: {counts})." if counts
               else "; no value was missing, so both approaches use the same patients."))
    if len(sentences) == 1:
        sentences.append("No sensitivity analysis of these groupings was performed.")
    return Markdown(" ".join(sentences) + "\n")
