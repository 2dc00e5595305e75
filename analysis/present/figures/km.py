"""Kaplan-Meier figures: overall and relapse-free survival (Figure 2) and overall
survival by group (Figures 3 and 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl

from ...results import estimable
from .. import style
from .theme import (ALL_COLOR, COLORS, _PANEL_LETTER_SIZE, double_column, figure_rc, group_color, order_groups,
                    single_column)
from .canvas import (JournalFigure, _add_axes, _finish, _level, _median_method, _median_text, _message_axes,
                     _message_figure, _new_figure, _wrap, note_sparse_steps)
from .km_axes import risk_layout, _draw_km, _draw_risk_table, _risk_counts, _risk_times, _style_time_axis, _time_ticks, _xlim

if TYPE_CHECKING:  # pragma: no cover
    from ...results import GroupComparison, Results, SurvivalEndpoint


# --------------------------------------------------------------------------- 2. KM overall

_OVERALL_PANELS = (
    ("os", "A", "Probability of overall survival", "Months from relapse"),
    ("rfs", "B", "Probability of relapse-free survival", "Months from CR/CRi"),
)
_RISK_ROWS = (("At risk", "n_at_risk"), ("Censored", "n_censored"), ("Events", "n_events"))
_ENDPOINT_NAMES = {"os": "overall survival", "rfs": "relapse-free survival"}


def km_overall_figure(results: Results) -> JournalFigure:
    """Kaplan-Meier curves of overall survival (A, from relapse, analysis
    population) and relapse-free survival (B, from CR/CRi), each with censor
    marks (+), its median and CI by the configured method
    (``settings["survival"]["median_ci"]``) and a table of the numbers at risk,
    censored and with the event at the configured risk-table times (the x
    ticks), as survminer/lifelines print them. Curves are drawn from
    ``endpoint.km`` as steps starting at (0, 1); nothing is refitted.

    Time axis: ticks at the configured ``risk_table_months`` up to the first
    one at or past the last observed time, continued at the last spacing when
    the data run past them (:func:`_time_ticks`), so that no curve runs past
    the axis; the risk-table numbers are those of ``endpoint.risk`` at exactly
    these times.

    An endpoint that could not be analysed (``NotEstimable``, e.g. RFS when
    no patient achieved CR/CRi) gets a panel with the reason instead of a
    curve (gid ``"<endpoint>-empty"``)."""
    method = _median_method(results)
    level = _level(results)
    W = double_column()
    panel_w = W / 2
    left, right_pad = 0.78, 0.12
    ax_w = panel_w - left - right_pad
    lay = risk_layout(results.synthetic, len(_RISK_ROWS))
    risk_bottom, risk_h, ax_bottom = lay.risk_bottom, lay.risk_h, lay.ax_bottom
    ax_h = 2.05
    H = ax_bottom + ax_h + 0.2
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        for k, (attr, letter, ylabel, xlabel) in enumerate(_OVERALL_PANELS):
            ep: SurvivalEndpoint = getattr(results, attr)
            x0 = k * panel_w
            fig.text((x0 + 0.06) / W, (H - 0.04) / H, letter, ha="left", va="top",
                     fontsize=_PANEL_LETTER_SIZE, fontweight="bold", gid=f"panel-{letter}")
            if not estimable(ep):
                _message_axes(fig, x0 + left, ax_bottom, ax_w, ax_h,
                              style.fmt_not_estimable(ep.reason, _ENDPOINT_NAMES.get(attr, attr)), f"{attr}-empty")
                continue
            ax = _add_axes(fig, x0 + left, ax_bottom, ax_w, ax_h, f"{attr}-curves")
            rax = _add_axes(fig, x0 + left, risk_bottom, ax_w, risk_h, f"{attr}-risk")
            max_t = float(ep.km["time"].max())
            ticks = _time_ticks(_risk_times(results), max_t)
            xlim = _xlim(ticks, max_t)
            _draw_km(ax, ep.km, index=0, color=ALL_COLOR, label=None)
            note_sparse_steps(fig, ep.km, _ENDPOINT_NAMES.get(attr, attr))
            _style_time_axis(ax, ticks, xlim, xlabel, ylabel)
            med = ep.medians[method]
            ax.text(0.98, 0.98, f"{_median_text(fig, med, level)}\nn = {ep.n}; {ep.events} events",
                    transform=ax.transAxes, ha="right", va="top", gid="median-0", linespacing=1.4)
            rows = [(lab, COLORS["black"], _risk_counts(ep.risk, ticks, col)) for lab, col in _RISK_ROWS]
            _draw_risk_table(rax, rows, ticks, xlim, "Number of patients")
        return _finish(fig, results.synthetic)


# --------------------------------------------------------------------------- 3. KM by group

_GROUP_FIGURES = {
    "salvage_group": ("os_by_group", "Salvage therapy"),
    "relapse_site": ("os_by_emd", "Site of extramedullary relapse"),
}


def km_group_figure(results: Results, which: str) -> JournalFigure:
    """Kaplan-Meier curves of overall survival by group: ``which`` is
    "salvage_group" (``results.os_by_group``: targeted therapy vs
    chemotherapy) or "relapse_site" (``results.os_by_emd``: CNS vs non-CNS
    extramedullary relapse). One curve per level with censor marks; the
    legend gives each group's n and median (CI, configured method); the
    log-rank P (``style.fmt_p_text``) is printed in the plot; the numbers at
    risk per group are tabulated under the time axis at the x ticks.

    A comparison that could not be made (``NotEstimable``) gives a figure
    with the reason (gid ``"<which>-empty"``); a log-rank test that could
    not be done (one group only, no events) prints its reason in place of
    the P."""
    if which not in _GROUP_FIGURES:
        raise ValueError(f"which must be one of {sorted(_GROUP_FIGURES)}, not {which!r}")
    attr, title = _GROUP_FIGURES[which]
    comp: GroupComparison = getattr(results, attr)
    if not estimable(comp):
        return _message_figure(single_column(), style.fmt_not_estimable(
            comp.reason, f"overall survival by {title[:1].lower()}{title[1:]}"),
            synthetic=results.synthetic, gid=f"{which}-empty")
    method = _median_method(results)
    level = _level(results)
    medians = comp.medians[method]
    levels = order_groups([lv for lv in comp.levels if (comp.km["group"] == lv).any()])
    if not levels:
        raise ValueError(f"no patients in any group of '{comp.column}'")

    W = single_column()
    left, right_pad = 0.95, 0.12
    ax_w = W - left - right_pad
    lay = risk_layout(results.synthetic, len(levels))
    risk_bottom, risk_h, ax_bottom = lay.risk_bottom, lay.risk_h, lay.ax_bottom
    ax_h = 2.0
    legend_h = 0.22 + 0.31 * len(levels)  # title, then two lines per group
    H = ax_bottom + ax_h + legend_h + 0.08
    max_t = float(comp.km["time"].max())
    ticks = _time_ticks(_risk_times(results), max_t)
    xlim = _xlim(ticks, max_t)
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        ax = _add_axes(fig, left, ax_bottom, ax_w, ax_h, f"{which}-curves")
        rax = _add_axes(fig, left, risk_bottom, ax_w, risk_h, f"{which}-risk")
        handles = []
        for i, lv in enumerate(levels):
            color = group_color(lv, i)
            m = medians[lv]
            label = f"{lv} (n = {m.n})\n{_median_text(fig, m, level)}"
            handles.append(_draw_km(ax, comp.km[comp.km["group"] == lv], index=i, color=color, label=label))
            note_sparse_steps(fig, comp.km[comp.km["group"] == lv], str(lv))
        _style_time_axis(ax, ticks, xlim, "Months from relapse", "Probability of overall survival")
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.3 / W, 1 - 0.04 / H),
                   bbox_transform=fig.transFigure, handlelength=1.6, borderaxespad=0, borderpad=0,
                   labelspacing=0.5, title=title,
                   title_fontproperties={"weight": "bold", "size": style.journal().figure.font_size},
                   alignment="left")
        if comp.logrank is not None and not estimable(comp.logrank):
            logrank_text = _wrap(style.fmt_not_estimable(comp.logrank.reason, "log-rank test"), ax_w - 0.1)
        else:
            p = comp.logrank.p if comp.logrank is not None else None
            logrank_text = f"Log-rank {style.fmt_p_text(p)}"
        ax.text(0.03, 0.04, logrank_text, transform=ax.transAxes, ha="left", va="bottom", gid="logrank-p")
        rows = []
        for i, lv in enumerate(levels):
            rows.append((str(lv), group_color(lv, i),
                         _risk_counts(comp.risk, ticks, "n_at_risk", group=lv)))
        _draw_risk_table(rax, rows, ticks, xlim, "Number at risk")
        return _finish(fig, results.synthetic)
