"""Supplementary figure: scaled Schoenfeld residuals of the Cox model."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np

from ...results import estimable
from .. import style
from ..cautions import not_estimable_reason
from .theme import COLORS, double_column, figure_rc
from .canvas import (JournalFigure, _add_axes, _comparison_label, _finish, _message_figure, _new_figure,
                     _variable_labels, _wrap)

if TYPE_CHECKING:  # pragma: no cover
    from ...results import Results


# --------------------------------------------------------------------------- 5. zph

_TRANSFORM_LABELS = {
    "km": "Time (Kaplan\u2013Meier scale)",
    "rank": "Time (rank scale)",
    "identity": "Months from relapse",
    "log": "Months from relapse (log scale)",
}


#: A panel with more residuals than this draws them as one image (at the resolution the figure is
#: saved or shown at: 600 dpi in the submission PDF and SVG) instead of a vector circle each: one
#: circle per event made the figure of a 100,000-patient registry tens of megabytes (5.8 MB of
#: SVG at 12,000 patients) and slow to draw, open and print. The synthetic cohort's panels (and
#: any of a few hundred events) stay vector, byte for byte as before.
DENSE_POINTS = 2_000


def _least_squares_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Intercept and slope of the ordinary least-squares line (numpy.polyfit)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def zph_figure(results: Results) -> JournalFigure:
    """Scaled Schoenfeld residuals against transformed time, one panel per
    covariate of the multivariable Cox model (``results.cox.zph``), with the
    Grambsch-Therneau P of that covariate and of the global test. A panel of
    more than :data:`DENSE_POINTS` residuals draws them as an image.

    Smooth: an ordinary least-squares straight line (``numpy.polyfit``,
    degree 1), chosen over a lowess or spline because the score test of
    Grambsch & Therneau (1994) is a test for a linear trend of the residuals in
    the transformed time, so the line shows what is tested. A dashed line marks
    the model's (time-constant) coefficient for one-parameter terms. When the
    test is not available (``zph`` is None) an empty-state figure says so; when
    it is not estimable (``NotEstimable``) the figure gives the reason
    (gid ``"zph-empty"``)."""
    zph = results.cox.zph
    if zph is not None and not estimable(zph):
        return _message_figure(double_column(), style.fmt_not_estimable(not_estimable_reason(zph), "proportional-hazards test"),
                               synthetic=results.synthetic, gid="zph-empty")
    if zph is None:
        with mpl.rc_context(figure_rc()):
            fig = _new_figure(double_column(), 1.2)
            fig.text(0.5, 0.55, "Proportional-hazards diagnostics are not available:\n"
                     "the test could not be computed for this model.", ha="center", va="center",
                     gid="zph-empty")
            return _finish(fig, results.synthetic)
    terms = [t for t in zph.table["term"] if t != "GLOBAL"]
    pvals = dict(zip(zph.table["term"], zph.table["p"]))
    labels = _variable_labels(results)
    tab = results.cox.multivariable.table
    ncol = 2 if len(terms) > 1 else 1
    nrow = math.ceil(len(terms) / ncol)
    W = double_column()
    panel_w, panel_h = W / ncol, 2.05
    left, right_pad, bottom, top = 0.62, 0.15, 0.45, 0.42
    foot = 0.22 if results.synthetic else 0.04
    heading = _wrap(f"Scaled Schoenfeld residuals (circles), least-squares line (solid) and Cox coefficient "
                    f"(dashed). Global test {style.fmt_p_text(pvals.get('GLOBAL'))}", W - 0.12)
    head = 0.22 + 0.14 * heading.count("\n")
    H = foot + nrow * panel_h + head
    xlabel = _TRANSFORM_LABELS.get(zph.transform, "Transformed time")
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        for k, term in enumerate(terms):
            r, c = divmod(k, ncol)
            x0 = c * panel_w
            y0 = foot + (nrow - 1 - r) * panel_h
            ax = _add_axes(fig, x0 + left, y0 + bottom, panel_w - left - right_pad,
                           panel_h - bottom - top, f"zph-{term}")
            part = zph.residuals[zph.residuals["term"] == term]
            x = part["transformed_time"].to_numpy(dtype=float)
            y = part["residual"].to_numpy(dtype=float)
            ax.scatter(x, y, s=7, facecolors="none", edgecolors=COLORS["grey"], linewidths=0.6,
                       gid=f"zph-points-{term}", zorder=2, rasterized=bool(len(x) > DENSE_POINTS))
            fit = _least_squares_line(x, y)
            if fit is not None:
                xs = np.array([x.min(), x.max()])
                ax.plot(xs, fit[0] + fit[1] * xs, color=COLORS["blue"], lw=1.1, gid=f"zph-line-{term}",
                        zorder=3)
            coef_rows = tab[tab["variable"] == term]
            if len(coef_rows) == 1:
                ax.axhline(float(coef_rows["coef"].iloc[0]), color=COLORS["vermillion"], lw=0.8,
                           ls=(0, (4, 2)), gid=f"zph-coef-{term}", zorder=1)
                cmp = _comparison_label(coef_rows["level"].iloc[0], coef_rows["reference"].iloc[0])
            else:
                cmp = None
            name = labels.get(term, term)
            head_text = name if cmp is None else f"{name}: {cmp}"
            ax.set_title(f"{head_text}\n{style.fmt_p_text(pvals.get(term))}", loc="left", pad=4,
                         fontsize=style.journal().figure.font_size)
            ax.set_xlabel(xlabel, labelpad=2)
            ax.set_ylabel("\u03b2(t)", labelpad=2)
            ax.spines["left"].set_position(("outward", 2))
            ax.spines["bottom"].set_position(("outward", 2))
        fig.text(0.06 / W, 1 - 0.04 / H, heading, ha="left", va="top", gid="zph-global")
        return _finish(fig, results.synthetic)
