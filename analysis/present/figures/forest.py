"""Figure 5: forest plot of the multivariable Cox model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from ...results import estimable
from .. import style
from ..cautions import not_estimable_reason
from .theme import COLORS, double_column, figure_rc
from .canvas import (JournalFigure, _add_axes, _comparison_label, _finish, _level, _message_figure, _new_figure,
                     _variable_labels, text_width)

if TYPE_CHECKING:  # pragma: no cover
    from ...results import Results


# --------------------------------------------------------------------------- 4. forest

#: Narrowest HR axis (inches) beside the variable and comparison columns.
_FOREST_MIN_AXIS = 1.6
_FOREST_HR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


def _forest_rows(results: Results) -> pd.DataFrame:
    tab = results.cox.multivariable.table
    labels = _variable_labels(results)
    rows = []
    for _, r in tab.iterrows():
        estimable = (not bool(r["monotone"])) and all(
            np.isfinite(float(r[c])) and float(r[c]) > 0 for c in ("hr", "lower", "upper"))
        rows.append({
            "term": r["term"],
            "variable": labels.get(r["variable"], r["variable"]),
            "comparison": _comparison_label(r["level"], r["reference"]),
            "hr_text": (f"{style.fmt_ratio(r['hr'])} ({style.fmt_ci(r['lower'], r['upper'], digits=2)})"
                        if estimable else style.NOT_ESTIMABLE),
            "p_text": style.fmt_p(r["p"]) if estimable else style.NOT_ESTIMABLE,
            "hr": float(r["hr"]), "lower": float(r["lower"]), "upper": float(r["upper"]),
            "estimable": estimable,
        })
    return pd.DataFrame(rows)


def forest_figure(results: Results) -> JournalFigure:
    """Forest plot of the multivariable Cox model (``results.cox.multivariable``):
    one row per model term with its variable, the comparison ("Chemotherapy vs
    Targeted"), the hazard ratio with its CI and the Wald P as text, and the
    HR with CI on a log-scale axis with a reference line at 1. Terms flagged
    ``monotone`` (coefficient may be infinite) print "NE" and get no point.
    A model that could not be fitted (``NotEstimable``) gives a figure with
    the reason (gid ``"forest-empty"``)."""
    if not estimable(results.cox.multivariable):
        return _message_figure(double_column(), style.fmt_not_estimable(not_estimable_reason(results.cox.multivariable),
                                                                      "multivariable Cox model"),
                               synthetic=results.synthetic, gid="forest-empty")
    rows = _forest_rows(results)
    cox = results.cox.multivariable
    n = len(rows)
    W = double_column()
    level = _level(results)
    headers = ("Variable", "Comparison", f"HR ({level}% CI)", style.p_header("P"))
    # column widths measured in the journal's font; the plot takes what is left, and when
    # less than _FOREST_MIN_AXIS is left the comparison goes under the variable's name
    pad = 0.15

    def width(texts, head) -> float:
        return max([text_width(str(t)) for t in texts] + [text_width(head, weight="bold")])

    w_var, w_cmp = width(rows["variable"] if n else [], headers[0]), width(rows["comparison"] if n else [], headers[1])
    w_hr, w_p = width(rows["hr_text"] if n else [], headers[2]), width(rows["p_text"] if n else [], headers[3])
    x_var = 0.08
    x_p = W - 0.1
    x_hr = x_p - w_p - pad - w_hr
    stacked = x_var + w_var + pad + w_cmp + pad + _FOREST_MIN_AXIS + pad > x_hr
    x_cmp = x_var if stacked else x_var + w_var + pad
    ax_left = (x_var + max(w_var, w_cmp) if stacked else x_cmp + w_cmp) + pad
    ax_w = x_hr - pad - ax_left
    row_h = 0.4 if stacked else 0.27
    note_y = 0.24 if results.synthetic else 0.06
    ax_bottom = note_y + 0.2 + 0.42
    ax_h = max(n, 1) * row_h
    head_h = 0.46 if stacked else 0.32
    H = ax_bottom + ax_h + head_h + 0.04
    est = rows[rows["estimable"]] if n else rows
    if len(est):
        lo = min(1.0, float(est["lower"].min()))
        hi = max(1.0, float(est["upper"].max()))
    else:
        lo, hi = 0.5, 2.0
    lo, hi = lo / 1.3, hi * 1.3
    ticks = [t for t in _FOREST_HR_TICKS if lo <= t <= hi]
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        ax = _add_axes(fig, ax_left, ax_bottom, ax_w, ax_h, "forest")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(n - 0.5, -0.5)
        ax.spines["left"].set_visible(False)
        ax.set_yticks([])
        ax.minorticks_off()
        ax.set_xticks(ticks, labels=[style.fmt_g(t) for t in ticks])
        ax.set_xlabel(f"Hazard ratio ({level}% CI, log scale)", labelpad=3)
        ax.axvline(1.0, color=COLORS["grey"], lw=0.6, ls=(0, (3, 2)), zorder=1)
        tr = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        for i, r in rows.iterrows():
            if i % 2 == 0:  # light banding across the whole row helps reading across
                ax.add_patch(Rectangle((x_var - 0.06, i - 0.5), x_p + 0.04 - x_var + 0.06, 1.0, transform=tr,
                                       fc="#F0F0F0", lw=0, zorder=0, clip_on=False))
            dy = 0.2 if stacked else 0.0      # stacked: variable above, comparison below
            ax.text(x_var, i - dy, r["variable"], transform=tr, ha="left", va="center_baseline",
                    gid=f"forest-variable-{i}")
            ax.text(x_cmp, i + dy, r["comparison"], transform=tr, ha="left", va="center_baseline",
                    gid=f"forest-comparison-{i}")
            ax.text(x_hr, i, r["hr_text"], transform=tr, ha="left", va="center_baseline", gid=f"forest-hr-{i}")
            ax.text(x_p, i, r["p_text"], transform=tr, ha="right", va="center_baseline", gid=f"forest-p-{i}")
            if r["estimable"]:
                ax.plot([r["lower"], r["upper"]], [i, i], color=COLORS["black"], lw=0.9,
                        solid_capstyle="butt", gid=f"forest-ci-{i}", clip_on=False, zorder=2)
                ax.plot([r["hr"]], [i], ls="none", marker="s", ms=4.5, color=COLORS["blue"],
                        mec=COLORS["blue"], gid=f"forest-point-{i}", zorder=3)
        head_y = -0.5 - (head_h / 2) / row_h
        head_dy = (0.13 / row_h) if stacked else 0.0
        for x, y, text, ha in ((x_var, head_y - head_dy, headers[0], "left"),
                               (x_cmp, head_y + head_dy, headers[1], "left"),
                               (x_hr, head_y, headers[2], "left"), (x_p, head_y, headers[3], "right")):
            ax.text(x, y, text, transform=tr, ha=ha, va="center_baseline", fontweight="bold")
        fig.add_artist(Line2D([(x_var - 0.06) / W, (x_p + 0.04) / W], [(ax_bottom + ax_h + 0.01) / H] * 2,
                              lw=0.6, color=COLORS["black"]))
        note = (f"Multivariable Cox model: n = {cox.n}; {cox.n_events} events"
                + (f"; {cox.n_excluded} excluded for a missing covariate" if cox.n_excluded else "")
                + ". HR > 1: higher hazard of death.")
        fig.text(x_var / W, note_y / H, note, ha="left", va="bottom", gid="forest-note")
        return _finish(fig, results.synthetic)
