"""Drawing parts of every Kaplan-Meier figure: the time axis and its ticks, step
curves with censor marks, and the table of numbers at risk under the axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...compute.survival import risk_times_covering
from .. import style
from .canvas import text_width

if TYPE_CHECKING:  # pragma: no cover
    from ...results import Results


@dataclass(frozen=True)
class RiskLayout:
    """Heights under a Kaplan-Meier panel, in inches from the figure's bottom:
    ``foot`` (room for the synthetic-data label), ``risk_bottom`` and ``risk_h``
    (the numbers-at-risk table), ``ax_bottom`` (the curves' axes, above the
    table's title, the x tick labels and the axis label)."""

    foot: float
    risk_bottom: float
    risk_h: float
    ax_bottom: float


RISK_ROW_HEIGHT = 0.16   # inches per row of the numbers-at-risk table
#: The smallest size (points) the numbers at risk shrink to when they do not fit between their
#: times at the journal's size (a registry's four- and five-digit counts under 6-month ticks).
RISK_MIN_FONT_SIZE = 6.0
_RISK_GAP = 0.04         # inches left between neighbouring numbers at risk


def risk_layout(synthetic: bool, n_rows: int, note_h: float = 0.0) -> RiskLayout:
    """The layout every KM figure uses below its curves: the foot, a note of
    ``note_h`` inches above it (0 for none), a risk table of ``n_rows`` rows,
    then 0.26 in for the table's title and 0.42 in for the x tick labels and label."""
    foot = 0.22 if synthetic else 0.06
    risk_h = RISK_ROW_HEIGHT * n_rows
    risk_bottom = foot + note_h + 0.04
    return RiskLayout(foot, risk_bottom, risk_h, risk_bottom + risk_h + 0.26 + 0.42)


def _time_ticks(risk_times: Sequence[float], max_time: float) -> list[float]:
    """The configured risk-table times up to the first one at or past the last
    observed time (of :func:`analysis.compute.survival.risk_times_covering`,
    the times of the results' risk tables, those that were configured): the
    numbers at risk are given at exactly these times; the x axis runs on to
    the last observation (:func:`_xlim`)."""
    if not list(risk_times):
        raise ValueError("no risk-table times configured")
    # only the configured times (acceptance review item 17: [0, 3, ..., 12] printed 16 columns to 45);
    # the axis still runs to the last observation (_xlim)
    configured = {float(t) for t in risk_times}
    return [t for t in risk_times_covering(risk_times, max_time) if t in configured]


def _xlim(ticks: Sequence[float], max_time: float) -> tuple[float, float]:
    right = max(ticks[-1], max_time)
    span = right - min(0.0, ticks[0])
    pad = 0.03 * span  # room for the risk-table numbers centred on the end ticks
    return (min(0.0, ticks[0]) - pad, right + pad)


def _risk_times(results: Results) -> list[float]:
    return list(results.settings.survival.risk_table_months)

def _step_xy(km: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Step-curve vertices from a KM table: start at (0, 1), then (time, surv)."""
    x = np.concatenate([[0.0], km["time"].to_numpy(dtype=float)])
    y = np.concatenate([[1.0], km["surv"].to_numpy(dtype=float)])
    return x, y


def _draw_km(ax, km: pd.DataFrame, *, index: int, color: str, label: str | None):
    """Step curve and censor marks of one KM table; returns the curve's Line2D."""
    x, y = _step_xy(km)
    (curve,) = ax.plot(x, y, drawstyle="steps-post", color=color, lw=1.1, label=label,
                       gid=f"curve-{index}", solid_joinstyle="miter", clip_on=False, zorder=3)
    cens = km[km["n_censor"] > 0]
    ax.plot(cens["time"].to_numpy(dtype=float), cens["surv"].to_numpy(dtype=float), ls="none",
            marker="+", ms=4.5, mew=0.8, color=color, gid=f"censor-{index}", clip_on=False, zorder=4)
    return curve


def _style_time_axis(ax, ticks: Sequence[float], xlim: tuple[float, float], xlabel: str, ylabel: str) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(0, 1.0)
    ax.spines["left"].set_bounds(0, 1)
    ax.spines["bottom"].set_bounds(ticks[0], max(ticks[-1], xlim[1]))   # to the data's end past the last tick
    ax.set_xticks(list(ticks), labels=[style.fmt_g(t) for t in ticks])
    yt = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_yticks(yt, labels=[style.fmt_num(v, 1) for v in yt])
    ax.set_xlabel(xlabel, labelpad=2)
    ax.set_ylabel(ylabel, labelpad=3)


def _risk_number_fit(texts: Sequence[str], ticks: Sequence[float], inches_per_month: float
                     ) -> tuple[float | None, int]:
    """Font size and stride of the numbers at risk so that neighbouring numbers of a row do not
    run into each other: (None, 1), the journal's size at every tick, when the widest number fits
    between the closest ticks; else the largest size, down to :data:`RISK_MIN_FONT_SIZE` in
    half-points, at which it fits; else that size at every k-th tick (the smallest k that fits).
    Digits have one width in the figure fonts, so the longest text is the widest (measured,
    :func:`.canvas.text_width`); the synthetic cohort's two-digit counts fit at once."""
    widest = max(texts, key=len, default="")

    def fits(size: float | None, every: int) -> bool:
        shown = list(ticks)[::every]
        room = min((b - a for a, b in zip(shown, shown[1:])), default=float("inf")) * inches_per_month
        return text_width(widest, size) + _RISK_GAP <= room

    if fits(None, 1):
        return None, 1
    size = float(style.journal().figure.font_size)
    while size - 0.5 >= RISK_MIN_FONT_SIZE and not fits(size, 1):
        size -= 0.5
    every = 1
    while every < len(ticks) and not fits(size, every):
        every += 1
    return size, every


def _draw_risk_table(ax, rows: list[tuple[str, str, list[int]]], ticks: Sequence[float],
                     xlim: tuple[float, float], title: str) -> None:
    """Numbers under the time axis: one text per (row, tick), centred on the tick;
    smaller, or at every k-th tick only, where they would run into each other
    (:func:`_risk_number_fit`).

    rows: (row label, colour, one count per tick). Row i is drawn at y = i.
    """
    ax.set_xlim(*xlim)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks(range(len(rows)), labels=[r[0] for r in rows])
    texts = [[style.fmt_int(n) for n in counts] for _, _, counts in rows]
    inches_per_month = ax.get_position().width * ax.figure.get_size_inches()[0] / (xlim[1] - xlim[0])
    size, every = _risk_number_fit([t for row in texts for t in row], ticks, inches_per_month)
    # the row labels keep 3 pt clear of the first numbers (centred on the first time, they can reach
    # past the axis's left end): the usual 6 pt from the axis unless that is too little
    first = max((row[0] for row in texts if row), key=len, default="")
    overhang = text_width(first, size) / 2 - (ticks[0] - xlim[0]) * inches_per_month
    ax.tick_params(axis="y", length=0, pad=max(6.0, 72 * overhang + 3))
    for lab, (_, color, _) in zip(ax.get_yticklabels(), rows):
        lab.set_color(color)
    shrunk = {} if size is None else {"fontsize": size}
    for i, ((_, color, _), row) in enumerate(zip(rows, texts)):
        for k, (t, text) in enumerate(zip(ticks, row)):
            if k % every == 0:
                ax.text(t, i, text, ha="center", va="center_baseline", color=color, **shrunk)
    ax.set_title(title, loc="left", fontsize=style.journal().figure.font_size, fontweight="bold", pad=3)


def _risk_counts(risk: pd.DataFrame, ticks: Sequence[float], column: str, group: Any = None) -> list[int]:
    """Counts of ``column`` at exactly each tick (one row of ``risk`` per tick)."""
    part = risk if group is None else risk[risk["group"] == group]
    out = []
    for t in ticks:
        hit = part[np.isclose(part["time"].to_numpy(dtype=float), t, rtol=0, atol=1e-9)]
        if len(hit) != 1:
            raise ValueError(f"the risk table has no single row at {t:g} months")
        out.append(int(hit[column].iloc[0]))
    return out
