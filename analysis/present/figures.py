"""Figures of the manuscript and supplement, drawn with matplotlib.

Every public function takes the :class:`analysis.results.Results` object and
returns a :class:`JournalFigure` (a ``matplotlib.figure.Figure``); nothing is
computed here except what drawing needs (positions, axis limits, and the
straight reference line of the Schoenfeld-residual panels, see
:func:`zph_figure`). Numbers are formatted only through
:mod:`analysis.present.style`.

Style: one journal style (:data:`STYLE`), applied with ``matplotlib.rc_context``
while a figure is built, displayed and saved: DejaVu Sans (ships with
matplotlib, so the same on a bare machine), 8 pt text, 0.6 pt axes without top
and right spines, the Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008),
single-column width 3.5 in and double-column width 7.2 in. Figures are laid
out in inches by hand (no layout engine), so a saved figure has exactly the
stated width.

Figures are made with ``Figure()`` and never enter pyplot's list of open
figures, so nothing needs closing and a Jupyter/Quarto cell shows a figure
exactly once: through the matplotlib formatter Quarto registers
(``set_matplotlib_formats``), or, in a plain kernel where none is registered,
through :meth:`JournalFigure._repr_png_`.

Artists that tests (or a reader of the SVG) need to find carry a ``gid``:
axes ``"<panel>-curves"`` / ``"<panel>-risk"``, curves ``"curve-<i>"``, censor
marks ``"censor-<i>"``, ``"median-<i>"``, ``"logrank-p"``, flow boxes
``"box-<step>"``, forest cells ``"forest-<column>-<row>"``, residual panels
``"zph-<term>"``, ``"figure-note"`` and ``"synthetic-footer"``.

Every figure stands alone: a note at its foot (:func:`_add_note`) defines the
abbreviations it prints (:data:`ABBREVIATIONS`), says when a median's lower
confidence limit was truncated at 0 (:func:`analysis.present.style.fmt_median_ci`)
and names the steps drawn from fewer than :data:`SPARSE_AT_RISK` patients at
risk. A group has one colour and one place in every figure
(:func:`group_color`, :func:`order_groups`); time axes and risk tables run to
the first tick at or past the last observation.

Results that could not be computed (:class:`~analysis.results.NotEstimable`)
are drawn as a message saying what and why (``style.fmt_not_estimable``): a
panel of its own in a multi-panel figure (gid ``"<panel>-empty"``, e.g. the
RFS panel when no patient achieved CR/CRi), or the whole figure
(gid ``"<figure>-empty"``); a log-rank test that could not be done prints
its reason where the P value would be.

Saving (:func:`save_figure`): PDF and SVG (vector, text kept as text) and a
600 dpi LZW-compressed RGB TIFF written through Pillow, as one atomic group
(:func:`analysis.outputs.write_group`), without creator, producer, software or
date metadata; the SVG is byte-reproducible (fixed ``svg.hashsalt``).

Reference: Okabe M, Ito K (2008). Color Universal Design (CUD): how to make
figures and presentations that are friendly to colorblind people.
https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import blended_transform_factory

from ..compute.sensitivity import HSCT_GROUPS
from ..compute.survival import risk_times_covering
from ..derive import RELSITE_LABELS, SALVGRP_LEVELS
from ..outputs import write_group
from ..results import estimable
from . import style
from .labels import CR_CRI_TERM
from .supplement import SUPPLEMENTARY_FIGURES

if TYPE_CHECKING:  # pragma: no cover
    from ..compute.survival import MedianResult
    from ..results import GroupComparison, Results, SurvivalEndpoint

__all__ = [
    "COLORS",
    "DOUBLE_COLUMN",
    "FIGURE_STEMS",
    "SINGLE_COLUMN",
    "STYLE",
    "SYNTHETIC_FOOTER",
    "TIFF_DPI",
    "JournalFigure",
    "export_all",
    "figure_makers",
    "group_color",
    "note_sparse_steps",
    "order_groups",
    "flow_figure",
    "forest_figure",
    "km_group_figure",
    "km_overall_figure",
    "save_figure",
    "zph_figure",
]

# --------------------------------------------------------------------------- style

#: Okabe & Ito (2008) colour-blind-safe palette.
COLORS = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#7F7F7F",
}
#: Order in which groups get colours (curves, risk-table rows).
GROUP_COLORS = (COLORS["blue"], COLORS["vermillion"], COLORS["green"], COLORS["orange"],
                COLORS["purple"], COLORS["sky_blue"])
#: One fixed colour per group label, the same in every figure (Figure 3, S3,
#: ...): the salvage groups keep the colours of Figure 3, and the other
#: groupings (site of extramedullary relapse, HSCT status) get colours of
#: their own, so that no colour means two different groups.
GROUP_COLOR_BY_LABEL = {
    SALVGRP_LEVELS[0]: COLORS["blue"],          # Targeted
    SALVGRP_LEVELS[1]: COLORS["vermillion"],    # Chemotherapy
    RELSITE_LABELS["cns"]: COLORS["green"],
    RELSITE_LABELS["non_cns_emd"]: COLORS["purple"],
    HSCT_GROUPS[0]: COLORS["sky_blue"],         # No HSCT
    HSCT_GROUPS[1]: COLORS["orange"],           # HSCT
}
#: Colour of a curve of all patients (no grouping), which is no group's colour.
ALL_COLOR = COLORS["black"]
#: Colours for groups not named above, in turn (none of them in GROUP_COLOR_BY_LABEL).
_OTHER_GROUP_COLORS = (COLORS["yellow"], COLORS["grey"])
#: One order of the groups everywhere: groups of a known grouping in this order.
GROUP_ORDER = (*SALVGRP_LEVELS, RELSITE_LABELS["cns"], RELSITE_LABELS["non_cns_emd"], *HSCT_GROUPS)


def group_color(label: Any, index: int = 0) -> str:
    """The colour of a group in every figure: :data:`GROUP_COLOR_BY_LABEL`, or
    for a group not named there the ``index``-th of the remaining colours."""
    return GROUP_COLOR_BY_LABEL.get(str(label), _OTHER_GROUP_COLORS[index % len(_OTHER_GROUP_COLORS)])


def order_groups(labels: Sequence[Any]) -> list[Any]:
    """``labels`` in the one order used by every figure and table
    (:data:`GROUP_ORDER`: Targeted before Chemotherapy, ...); labels not named
    there keep their order, after the named ones."""
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(labels, key=lambda g: rank.get(str(g), len(rank)))

SINGLE_COLUMN = 3.5  # inches
DOUBLE_COLUMN = 7.2  # inches
TIFF_DPI = 600
SYNTHETIC_FOOTER = "SYNTHETIC DATA \u2014 not patient data"

#: The journal style; applied with ``matplotlib.rc_context(STYLE)``.
STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.titleweight": "normal",
    "axes.labelsize": 8,
    "axes.linewidth": 0.6,
    "axes.edgecolor": COLORS["black"],
    "axes.labelcolor": COLORS["black"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.prop_cycle": cycler(color=list(GROUP_COLORS)),
    "axes.unicode_minus": True,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "xtick.minor.size": 0,
    "ytick.minor.size": 0,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": COLORS["black"],
    "ytick.color": COLORS["black"],
    "lines.linewidth": 1.0,
    "lines.markersize": 4,
    "patch.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "mathtext.default": "regular",
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.bbox": "standard",
    "savefig.pad_inches": 0.0,
    "savefig.transparent": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "cart-relapse-figures",
    "svg.image_inline": True,
}

_FOOTER_SIZE = 7
_PANEL_LETTER_SIZE = 9

#: File stems written by :func:`export_all`, in figure order: the manuscript's
#: figures, then the supplement's, numbered as supplement.qmd numbers them
#: (Figure S1 ... in :data:`analysis.present.supplement.SUPPLEMENTARY_FIGURES` order).
FIGURE_STEMS = ("fig1_flow", "fig2_km_overall", "fig3_km_salvage_group", "fig4_km_relapse_site",
                "fig5_forest") + tuple(f"figS{i}_{name.replace('-', '_')}"
                                       for i, name in enumerate(SUPPLEMENTARY_FIGURES, 1))

# metadata removed from the saved files (None drops the key)
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
_SVG_METADATA = {"Creator": None, "Date": None}


class JournalFigure(Figure):
    """A ``matplotlib.figure.Figure`` that also displays in a plain Jupyter kernel.

    Quarto (and ``%matplotlib inline`` once active) register a formatter for
    ``Figure`` that IPython uses before ``_repr_png_``; where none is
    registered, ``_repr_png_`` renders the figure in the journal style.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        with mpl.rc_context(STYLE):
            self.savefig(buf, format="png", dpi=max(float(self.dpi), 150.0))
        return buf.getvalue()


# --------------------------------------------------------------------------- small helpers


def _new_figure(width: float, height: float) -> JournalFigure:
    """A figure outside pyplot's state (call inside ``rc_context(STYLE)``)."""
    return JournalFigure(figsize=(width, height), layout=None)


def _add_axes(fig: Figure, left: float, bottom: float, width: float, height: float, gid: str):
    """Axes placed in inches from the figure's bottom-left corner."""
    w, h = fig.get_size_inches()
    ax = fig.add_axes((left / w, bottom / h, width / w, height / h))
    ax.set_gid(gid)
    return ax


def _shift_up(fig: Figure, dy: float) -> None:
    """Make ``fig`` ``dy`` inches taller, keeping everything drawn so far at its
    size and moving it up by ``dy`` (room for a note at the bottom)."""
    w, h = fig.get_size_inches()
    new_h = h + dy

    def y(frac: float) -> float:
        return (frac * h + dy) / new_h

    anchors = []
    for leg in fig.legends:
        bb = leg.get_bbox_to_anchor().transformed(fig.transFigure.inverted())
        anchors.append((leg, bb.x0, bb.y0))
    fig.set_size_inches(w, new_h)
    for ax in fig.axes:
        b = ax.get_position()
        ax.set_position((b.x0, y(b.y0), b.width, b.height * h / new_h))
    for t in fig.texts:
        x0, y0 = t.get_position()
        t.set_position((x0, y(y0)))
    for leg, x0, y0 in anchors:
        leg.set_bbox_to_anchor((x0, y(y0)), transform=fig.transFigure)
    for art in [*fig.artists, *fig.lines]:
        if isinstance(art, Line2D):
            art.set_ydata([y(v) for v in art.get_ydata()])


def _add_note(fig: Figure, synthetic: bool) -> None:
    """The note defining the figure's abbreviations (and a truncated CI limit),
    at the bottom left, above the synthetic-data footer (gid ``"figure-note"``)."""
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    note = _figure_note(texts, bool(getattr(fig, "truncated_ci", False)), getattr(fig, "sparse_steps", ()))
    if not note:
        return
    w = fig.get_size_inches()[0]
    wrapped = _wrap(note, w - 0.2, _FOOTER_SIZE)
    line_h = 0.125
    dy = line_h * len(wrapped.split("\n")) + 0.08
    _shift_up(fig, dy)
    base = 0.22 if synthetic else 0.06
    fig.text(0.06 / w, base / fig.get_size_inches()[1], wrapped, ha="left", va="bottom",
             fontsize=_FOOTER_SIZE, linespacing=1.3, gid="figure-note")


def _finish(fig: Figure, synthetic: bool) -> Figure:
    """Add the note of abbreviations, the synthetic-data footer, and create
    every tick inside the style context."""
    _add_note(fig, synthetic)
    if synthetic:
        fig.text(1 - 0.04 / fig.get_size_inches()[0], 0.04 / fig.get_size_inches()[1], SYNTHETIC_FOOTER,
                 ha="right", va="bottom", fontsize=_FOOTER_SIZE, fontweight="bold",
                 color=COLORS["vermillion"], gid="synthetic-footer")
    # Ticks are created lazily at the first draw: draw once here so that they
    # take the journal style even when the figure is later drawn outside it.
    fig.draw_without_rendering()
    return fig


_CHARS_PER_INCH = 13  # 8 pt DejaVu Sans, with room to spare


def _wrap(text: str, inches: float, size: float = 8) -> str:
    """``text`` broken into lines that fit ``inches`` of ``size`` pt text."""
    width = max(20, int(inches * _CHARS_PER_INCH * 8 / size))
    return "\n".join(textwrap.fill(line, width=width, break_on_hyphens=False) for line in text.split("\n"))


def _message_axes(fig: Figure, left: float, bottom: float, width: float, height: float, message: str,
                  gid: str) -> None:
    """An invisible axes (inches, as :func:`_add_axes`) holding a centred message
    (text gid ``gid``, axes gid ``gid + "-axes"``). The axes matters: IPython's
    figure formatter (used by Quarto) returns no image for a figure without axes."""
    ax = _add_axes(fig, left, bottom, width, height, f"{gid}-axes")
    ax.set_axis_off()
    ax.text(0.5, 0.5, _wrap(message, width), transform=ax.transAxes, ha="center", va="center", gid=gid,
            linespacing=1.4)


def _message_figure(width: float, message: str, *, synthetic: bool, gid: str, height: float = 1.2) -> JournalFigure:
    """A figure that only says why it could not be drawn (centred text, gid ``gid``)."""
    with mpl.rc_context(STYLE):
        fig = _new_figure(width, height)
        foot = 0.22 if synthetic else 0.06
        _message_axes(fig, 0.2, foot, width - 0.4, height - foot - 0.06, message, gid)
        return _finish(fig, synthetic)


def _alpha(results: Results) -> float:
    return results.settings.tests.alpha


def _level(results: Results) -> str:
    return f"{100 * (1 - _alpha(results)):g}"


def _median_method(results: Results) -> str:
    return results.settings.survival.median_ci


def _median_text(fig: Figure, m: MedianResult, level: str) -> str:
    """'Median 7.5 mo (95% CI, 4.1–10.9)', 'Median NR (95% CI, NE)',
    'Median 5.3 mo (95% CI, 0*–11.5)' (:func:`analysis.present.style.fmt_median_ci`).
    A truncated lower limit is recorded on ``fig`` so that its note says so."""
    med = style.median_ci_of(m)
    if med.truncated:
        fig.truncated_ci = True
    return f"Median {med.text(level=level, unit='mo', mark=style.TRUNCATED_MARK)}"


#: Abbreviations a figure may print, with their definitions; the note under a
#: figure defines those it prints (:func:`_figure_note`), so that each figure
#: stands alone.
ABBREVIATIONS = (
    ("allo-HSCT", r"\b[Aa]llo-HSCT\b", "allogeneic HSCT"),
    ("CI", r"\bCI\b", "confidence interval"),
    ("CNS", r"\bCNS\b", "central nervous system"),
    ("CR/CRi", r"\bCR/CRi\b", CR_CRI_TERM),
    ("EMD", r"\bEMD\b", "extramedullary disease"),
    ("HR", r"\bHR\b", "hazard ratio"),
    ("HSCT", r"(?<![Aa]llo-)\bHSCT\b", "haematopoietic stem-cell transplantation"),
    ("mo", r"\bmo\b", "months"),
    ("NE", r"\bNE\b", "not estimable"),
    ("NR", r"\bNR\b", "not reached"),
    ("TKI", r"\bTKI\b", "tyrosine kinase inhibitor"),
)


#: A step of a curve made with fewer patients at risk than this is named in the
#: figure's note (render review 2026-12-06, item 9: a jump from 0.51 to 0.90 on
#: one patient was drawn without comment).
SPARSE_AT_RISK = 3


def note_sparse_steps(fig: Figure, rows: pd.DataFrame, label: str) -> None:
    """Record on ``fig`` the event steps of one curve (a step table with
    ``time``, ``n_risk``, ``n_event``) made with fewer than
    :data:`SPARSE_AT_RISK` patients at risk, for the figure's note."""
    few = rows[(rows["n_event"] > 0) & (rows["n_risk"] < SPARSE_AT_RISK)]
    steps = getattr(fig, "sparse_steps", [])
    steps += [f"{label} at {style.fmt_num(float(t))} months ({int(n)} at risk)"
              for t, n in zip(few["time"], few["n_risk"])]
    fig.sparse_steps = steps


def _figure_note(texts: Sequence[str], truncated: bool, sparse: Sequence[str] = ()) -> str:
    """The note under a figure: the definitions of the abbreviations among
    ``texts`` (sorted as :data:`ABBREVIATIONS`), when a median's lower limit
    was truncated that note, and the steps drawn from fewer than
    :data:`SPARSE_AT_RISK` patients at risk."""
    body = "\n".join(texts)
    found = [f"{abbr}, {meaning}" for abbr, pattern, meaning in ABBREVIATIONS if re.search(pattern, body)]
    if any(a.startswith("allo-HSCT,") for a in found) and not any(a.startswith("HSCT,") for a in found):
        found.insert(next(i for i, a in enumerate(found) if a.startswith("allo-HSCT,")) + 1,
                     "HSCT, haematopoietic stem-cell transplantation")
    parts = []
    if found:
        parts.append("; ".join(found) + ".")
    if truncated:
        parts.append(f"{style.TRUNCATED_MARK}{style.TRUNCATED_NOTE[:1].upper()}{style.TRUNCATED_NOTE[1:]} "
                     f"(a survival time cannot be negative).")
    if sparse:
        parts.append(f"Steps estimated from fewer than {SPARSE_AT_RISK} patients at risk: "
                     f"{style.join_words(list(sparse))}.")
    return " ".join(parts)


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


def _pretty_level(level: Any) -> str:
    text = str(level)
    return style.fmt_relation({"Y": "Yes", "N": "No"}.get(text, text))


def _variable_labels(results: Results) -> dict[str, str]:
    return {f.column: f.label for f in results.response.factor_defs}


def _comparison_label(level: Any, reference: Any) -> str:
    """'Chemotherapy vs Targeted', '≥18 vs <18', 'Yes vs No'; a numeric covariate: 'per unit increase'."""
    if level is None or (isinstance(level, float) and math.isnan(level)):
        return "per unit increase"
    return f"{_pretty_level(level)} vs {_pretty_level(reference)}"


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
    ax.set_xticks(list(ticks), labels=[f"{t:g}" for t in ticks])
    yt = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_yticks(yt, labels=[f"{v:.1f}" for v in yt])
    ax.set_xlabel(xlabel, labelpad=2)
    ax.set_ylabel(ylabel, labelpad=3)


def _draw_risk_table(ax, rows: list[tuple[str, str, list[int]]], ticks: Sequence[float],
                     xlim: tuple[float, float], title: str) -> None:
    """Numbers under the time axis: one text per (row, tick), centred on the tick.

    rows: (row label, colour, one count per tick). Row i is drawn at y = i.
    """
    ax.set_xlim(*xlim)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks(range(len(rows)), labels=[r[0] for r in rows])
    ax.tick_params(axis="y", length=0, pad=6)
    for lab, (_, color, _) in zip(ax.get_yticklabels(), rows):
        lab.set_color(color)
    for i, (_, color, counts) in enumerate(rows):
        for t, n in zip(ticks, counts):
            ax.text(t, i, style.fmt_int(n), ha="center", va="center_baseline", color=color)
    ax.set_title(title, loc="left", fontsize=8, fontweight="bold", pad=3)


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


# --------------------------------------------------------------------------- 1. flow


def _flow_structure(flow) -> dict[str, Any]:
    steps = flow.steps
    roots = steps[steps["parent"].isna()]
    if len(roots) != 1:
        raise ValueError("the patient flow must have exactly one top step")
    root = roots.iloc[0]

    def children(step: str, kind: str | None = None) -> pd.DataFrame:
        c = steps[steps["parent"] == step]
        return c if kind is None else c[c["kind"] == kind]

    excl = children(root["step"], "exclusion")
    main = children(root["step"], "population")
    if len(main) != 1 or len(excl) > 1:
        raise ValueError("the patient flow must split the top step into one population and its exclusions")
    main = main.iloc[0]
    classes = children(main["step"], "subgroup")
    summary = children(main["step"], "population")
    if len(summary) > 1:
        raise ValueError("the patient flow has more than one summary step after the classes")
    per_class = []
    for _, c in classes.iterrows():
        kids = children(c["step"])
        if len(kids) > 1:
            raise ValueError(f"step '{c['step']}' has more than one outcome step")
        per_class.append(kids.iloc[0] if len(kids) else None)
    summary = summary.iloc[0] if len(summary) else None
    final = children(summary["step"]) if summary is not None else steps.iloc[0:0]
    return dict(root=root, exclusion=excl.iloc[0] if len(excl) else None, main=main,
                classes=[r for _, r in classes.iterrows()], per_class=per_class,
                summary=summary, final=[r for _, r in final.iterrows()],
                notes=[r for _, r in children(main["step"], "note").iterrows()])


def _short_outcome(label: str) -> str:
    """'CR/CRi after chemotherapy' -> 'CR/CRi' (the class is in the box above)."""
    return label.split(" after ")[0]


def flow_figure(results: Results) -> JournalFigure:
    """Patient flow (CONSORT-style): relapsed -> no salvage (with each reason)
    -> received salvage -> regimen classes -> CR/CRi per class -> CR/CRi overall
    -> consolidative allo-HSCT. Every count and label comes from
    ``results.derived.flow`` (steps and exclusions); percentages are of the
    parent step (``style.fmt_n_pct``)."""
    flow = results.derived.flow
    s = _flow_structure(flow)
    n_classes = len(s["classes"])
    W = DOUBLE_COLUMN
    line = 0.145  # inches per 8 pt text line
    box_h = 2 * line + 0.16
    reasons = flow.exclusions
    excl_lines = 1 + len(reasons)
    excl_h = excl_lines * line + 0.18
    gap = 0.32
    # rows from the top (y = top edge of each box row)
    y_root_top = 0.12
    y_main_top = y_root_top + box_h + max(gap * 2, excl_h + 0.3)
    y_class_top = y_main_top + box_h + 0.48
    y_pc_top = y_class_top + box_h + gap
    y_sum_top = y_pc_top + box_h + 0.48
    y_final_top = y_sum_top + box_h + gap
    bottom_pad = 0.3 if results.synthetic else 0.12
    H = (y_final_top + box_h if s["final"] else y_sum_top + box_h) + bottom_pad
    # counts beside the flow (transplanted without CR/CRi): boxes right of the last row
    note_left = W / 2 + 2.7 / 2 + 0.25
    note_w = W - 0.12 - note_left
    note_lines = [[*textwrap.wrap(str(nt["label"]), width=max(12, int(note_w / 0.075))), f"n = {int(nt['n'])}"]
                  for nt in s["notes"]]
    note_top = y_final_top if s["final"] else y_sum_top
    note_hs = [len(ls) * line + 0.18 for ls in note_lines]
    H = max(H, note_top + sum(h + 0.1 for h in note_hs) + bottom_pad)

    with mpl.rc_context(STYLE):
        fig = _new_figure(W, H)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_gid("flow")
        ax.set_xlim(0, W)
        ax.set_ylim(H, 0)  # y in inches from the top
        ax.axis("off")

        def box(step_row, x_center, y_top, width, lines, *, height=box_h, align="center", bold_first=True):
            x0 = x_center - width / 2
            patch = FancyBboxPatch((x0, y_top), width, height, boxstyle="round,pad=0,rounding_size=0.04",
                                   fc="white", ec=COLORS["black"], lw=0.6, gid=f"box-{step_row['step']}")
            ax.add_patch(patch)
            tx = x_center if align == "center" else x0 + 0.1
            first, rest = lines[0], lines[1:]
            y = y_top + 0.09 + line / 2
            texts = [ax.text(tx, y, first, ha=align, va="center", fontweight="bold" if bold_first else "normal",
                             gid=f"text-{step_row['step']}")]
            for k, t in enumerate(rest, start=1):
                texts.append(ax.text(tx, y + k * line, t, ha=align, va="center",
                                     gid=f"text-{step_row['step']}-{k}"))
            return patch, texts

        def arrow(x0, y0, x1, y1):
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", lw=0.6, color=COLORS["black"],
                                        mutation_scale=7, shrinkA=0, shrinkB=0))

        def seg(xs, ys):
            ax.plot(xs, ys, color=COLORS["black"], lw=0.6, solid_capstyle="butt")

        root, main = s["root"], s["main"]
        trunk_x = 2.55
        main_w = 2.7
        box(root, trunk_x, y_root_top, main_w, [root["label"], f"n = {int(root['n'])}"])
        box(main, trunk_x, y_main_top, main_w,
            [main["label"], f"n = {int(main['n'])}"])
        arrow(trunk_x, y_root_top + box_h, trunk_x, y_main_top)

        if s["exclusion"] is not None:
            ex = s["exclusion"]
            ex_w = 2.95
            ex_x = W - 0.12 - ex_w / 2
            ex_top = (y_root_top + box_h + y_main_top) / 2 - excl_h / 2
            lines = [f"{ex['label']} (n = {int(ex['n'])})"]
            lines += [f"\u2022 {r} (n = {int(n)})" for r, n in zip(reasons["reason"], reasons["n"])]
            box(ex, ex_x, ex_top, ex_w, lines, height=excl_h, align="left")
            arrow(trunk_x, ex_top + excl_h / 2, ex_x - ex_w / 2, ex_top + excl_h / 2)

        # regimen classes, side by side
        margin, cgap = 0.12, 0.14
        cw = (W - 2 * margin - (n_classes - 1) * cgap) / max(n_classes, 1)
        centers = [margin + cw / 2 + k * (cw + cgap) for k in range(n_classes)]
        bus1 = y_class_top - 0.24
        if n_classes:
            seg([trunk_x, trunk_x], [y_main_top + box_h, bus1])
            seg([min(centers[0], trunk_x), max(centers[-1], trunk_x)], [bus1, bus1])
        for cx, c, pc in zip(centers, s["classes"], s["per_class"]):
            arrow(cx, bus1, cx, y_class_top)
            box(c, cx, y_class_top, cw, [c["label"], f"n = {int(c['n'])}"])
            if pc is not None:
                arrow(cx, y_class_top + box_h, cx, y_pc_top)
                box(pc, cx, y_pc_top, cw,
                    [_short_outcome(pc["label"]), f"n = {style.fmt_n_pct(int(pc['n']), int(c['n']))}"])

        summary = s["summary"]
        if summary is not None:
            sum_x = W / 2
            bus2 = y_sum_top - 0.24
            bottoms = [cx for cx, pc in zip(centers, s["per_class"]) if pc is not None]
            if bottoms:
                for cx in bottoms:
                    seg([cx, cx], [y_pc_top + box_h, bus2])
                seg([min(bottoms[0], sum_x), max(bottoms[-1], sum_x)], [bus2, bus2])
                arrow(sum_x, bus2, sum_x, y_sum_top)
            box(summary, sum_x, y_sum_top, main_w,
                [summary["label"], f"n = {style.fmt_n_pct(int(summary['n']), int(main['n']))}"])
            for f in s["final"]:
                arrow(sum_x, y_sum_top + box_h, sum_x, y_final_top)
                box(f, sum_x, y_final_top, main_w,
                    [f["label"], f"n = {style.fmt_n_pct(int(f['n']), int(summary['n']))}"])
        top = note_top
        for nt, lines_, h in zip(s["notes"], note_lines, note_hs):
            box(nt, note_left + note_w / 2, top, note_w, lines_, height=h, bold_first=False)
            top += h + 0.1
        return _finish(fig, results.synthetic)


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
    W = DOUBLE_COLUMN
    panel_w = W / 2
    left, right_pad = 0.78, 0.12
    ax_w = panel_w - left - right_pad
    foot = 0.22 if results.synthetic else 0.06
    row_h = 0.16
    risk_h = row_h * len(_RISK_ROWS)
    risk_bottom = foot + 0.04
    ax_bottom = risk_bottom + risk_h + 0.26 + 0.42  # risk title + x tick labels and label
    ax_h = 2.05
    H = ax_bottom + ax_h + 0.2
    with mpl.rc_context(STYLE):
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
        return _message_figure(SINGLE_COLUMN, style.fmt_not_estimable(
            comp.reason, f"overall survival by {title[:1].lower()}{title[1:]}"),
            synthetic=results.synthetic, gid=f"{which}-empty")
    method = _median_method(results)
    level = _level(results)
    medians = comp.medians[method]
    levels = order_groups([lv for lv in comp.levels if (comp.km["group"] == lv).any()])
    if not levels:
        raise ValueError(f"no patients in any group of '{comp.column}'")

    W = SINGLE_COLUMN
    left, right_pad = 0.95, 0.12
    ax_w = W - left - right_pad
    foot = 0.22 if results.synthetic else 0.06
    row_h = 0.16
    risk_h = row_h * len(levels)
    risk_bottom = foot + 0.04
    ax_bottom = risk_bottom + risk_h + 0.26 + 0.42
    ax_h = 2.0
    legend_h = 0.22 + 0.31 * len(levels)  # title, then two lines per group
    H = ax_bottom + ax_h + legend_h + 0.08
    max_t = float(comp.km["time"].max())
    ticks = _time_ticks(_risk_times(results), max_t)
    xlim = _xlim(ticks, max_t)
    with mpl.rc_context(STYLE):
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
                   labelspacing=0.5, title=title, title_fontproperties={"weight": "bold", "size": 8},
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


# --------------------------------------------------------------------------- 4. forest

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
        return _message_figure(DOUBLE_COLUMN, style.fmt_not_estimable(results.cox.multivariable.reason,
                                                                      "multivariable Cox model"),
                               synthetic=results.synthetic, gid="forest-empty")
    rows = _forest_rows(results)
    cox = results.cox.multivariable
    n = len(rows)
    W = DOUBLE_COLUMN
    row_h = 0.27
    note_y = 0.24 if results.synthetic else 0.06
    ax_bottom = note_y + 0.2 + 0.42
    ax_h = max(n, 1) * row_h
    head_h = 0.32
    H = ax_bottom + ax_h + head_h + 0.04
    x_var, x_cmp, ax_left, ax_w, x_hr, x_p = 0.08, 1.95, 3.55, 1.9, 5.62, 7.1
    est = rows[rows["estimable"]] if n else rows
    if len(est):
        lo = min(1.0, float(est["lower"].min()))
        hi = max(1.0, float(est["upper"].max()))
    else:
        lo, hi = 0.5, 2.0
    lo, hi = lo / 1.3, hi * 1.3
    ticks = [t for t in _FOREST_HR_TICKS if lo <= t <= hi]
    with mpl.rc_context(STYLE):
        fig = _new_figure(W, H)
        ax = _add_axes(fig, ax_left, ax_bottom, ax_w, ax_h, "forest")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(n - 0.5, -0.5)
        ax.spines["left"].set_visible(False)
        ax.set_yticks([])
        ax.minorticks_off()
        ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.set_xlabel(f"Hazard ratio ({_level(results)}% CI, log scale)", labelpad=3)
        ax.axvline(1.0, color=COLORS["grey"], lw=0.6, ls=(0, (3, 2)), zorder=1)
        tr = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
        for i, r in rows.iterrows():
            if i % 2 == 0:  # light banding across the whole row helps reading across
                ax.add_patch(Rectangle((x_var - 0.06, i - 0.5), x_p + 0.04 - x_var + 0.06, 1.0, transform=tr,
                                       fc="#F0F0F0", lw=0, zorder=0, clip_on=False))
            ax.text(x_var, i, r["variable"], transform=tr, ha="left", va="center_baseline",
                    gid=f"forest-variable-{i}")
            ax.text(x_cmp, i, r["comparison"], transform=tr, ha="left", va="center_baseline",
                    gid=f"forest-comparison-{i}")
            ax.text(x_hr, i, r["hr_text"], transform=tr, ha="left", va="center_baseline", gid=f"forest-hr-{i}")
            ax.text(x_p, i, r["p_text"], transform=tr, ha="right", va="center_baseline", gid=f"forest-p-{i}")
            if r["estimable"]:
                ax.plot([r["lower"], r["upper"]], [i, i], color=COLORS["black"], lw=0.9,
                        solid_capstyle="butt", gid=f"forest-ci-{i}", clip_on=False, zorder=2)
                ax.plot([r["hr"]], [i], ls="none", marker="s", ms=4.5, color=COLORS["blue"],
                        mec=COLORS["blue"], gid=f"forest-point-{i}", zorder=3)
        head_y = -0.5 - (head_h / 2) / row_h
        for x, text, ha in ((x_var, "Variable", "left"), (x_cmp, "Comparison", "left"),
                            (x_hr, f"HR ({_level(results)}% CI)", "left"), (x_p, "P", "right")):
            ax.text(x, head_y, text, transform=tr, ha=ha, va="center_baseline", fontweight="bold")
        fig.add_artist(Line2D([(x_var - 0.06) / W, (x_p + 0.04) / W], [(ax_bottom + ax_h + 0.01) / H] * 2,
                              lw=0.6, color=COLORS["black"]))
        note = (f"Multivariable Cox model: n = {cox.n}; {cox.n_events} events"
                + (f"; {cox.n_excluded} excluded for a missing covariate" if cox.n_excluded else "")
                + ". HR > 1: higher hazard of death.")
        fig.text(x_var / W, note_y / H, note, ha="left", va="bottom", gid="forest-note")
        return _finish(fig, results.synthetic)


# --------------------------------------------------------------------------- 5. zph

_TRANSFORM_LABELS = {
    "km": "Time (Kaplan\u2013Meier scale)",
    "rank": "Time (rank scale)",
    "identity": "Months from relapse",
    "log": "Months from relapse (log scale)",
}


def _least_squares_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Intercept and slope of the ordinary least-squares line (numpy.polyfit)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def zph_figure(results: Results) -> JournalFigure:
    """Scaled Schoenfeld residuals against transformed time, one panel per
    covariate of the multivariable Cox model (``results.cox.zph``), with the
    Grambsch-Therneau P of that covariate and of the global test.

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
        return _message_figure(DOUBLE_COLUMN, style.fmt_not_estimable(zph.reason, "proportional-hazards test"),
                               synthetic=results.synthetic, gid="zph-empty")
    if zph is None:
        with mpl.rc_context(STYLE):
            fig = _new_figure(DOUBLE_COLUMN, 1.2)
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
    W = DOUBLE_COLUMN
    panel_w, panel_h = W / ncol, 2.05
    left, right_pad, bottom, top = 0.62, 0.15, 0.45, 0.42
    foot = 0.22 if results.synthetic else 0.04
    head = 0.22
    H = foot + nrow * panel_h + head
    xlabel = _TRANSFORM_LABELS.get(zph.transform, "Transformed time")
    with mpl.rc_context(STYLE):
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
                       gid=f"zph-points-{term}", zorder=2)
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
                         fontsize=8)
            ax.set_xlabel(xlabel, labelpad=2)
            ax.set_ylabel("\u03b2(t)", labelpad=2)
            ax.spines["left"].set_position(("outward", 2))
            ax.spines["bottom"].set_position(("outward", 2))
        glob = pvals.get("GLOBAL")
        fig.text(0.06 / W, 1 - 0.04 / H,
                 f"Scaled Schoenfeld residuals (circles), least-squares line (solid) and Cox coefficient "
                 f"(dashed). Global test {style.fmt_p_text(glob)}",
                 ha="left", va="top", gid="zph-global")
        return _finish(fig, results.synthetic)


# --------------------------------------------------------------------------- saving

_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _write_vector(fig: Figure, fmt: str, metadata: dict, path: Path) -> None:
    fig.savefig(path, format=fmt, metadata=metadata)


def _write_tiff(fig: Figure, path: Path) -> None:
    from PIL import Image  # Pillow is matplotlib's image dependency

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=TIFF_DPI, metadata={"Software": None})
    buf.seek(0)
    with Image.open(buf) as img:
        rgb = img.convert("RGB")
    rgb.save(path, format="TIFF", dpi=(TIFF_DPI, TIFF_DPI), compression="tiff_lzw")


def save_figure(fig: Figure, stem: str, out_dir: str | Path) -> list[Path]:
    """Write ``stem.pdf``, ``stem.svg`` and ``stem.tiff`` (600 dpi) into
    ``out_dir`` as one atomic group (all three appear, or none changes).

    PDF and SVG are vector (TrueType fonts embedded in the PDF; SVG text kept
    as text) without Creator/Producer/Date metadata; the SVG is
    byte-reproducible. The TIFF is rendered at 600 dpi, flattened to RGB on
    white and written by Pillow with LZW compression, resolution tags and no
    software or date tags. Returns the three paths.
    """
    if not _STEM_RE.match(stem):
        raise ValueError(f"invalid file stem {stem!r} (letters, digits, '_', '-', '.')")
    out = Path(out_dir)
    writers = {
        out / f"{stem}.pdf": partial(_write_vector, fig, "pdf", _PDF_METADATA),
        out / f"{stem}.svg": partial(_write_vector, fig, "svg", _SVG_METADATA),
        out / f"{stem}.tiff": partial(_write_tiff, fig),
    }
    with mpl.rc_context(STYLE):
        return write_group(writers)


def figure_makers(results: Results) -> dict[str, Any]:
    """File stem (:data:`FIGURE_STEMS`) -> a function of no arguments drawing
    that figure, for every figure of the manuscript and the supplement."""
    from . import sensitivity   # imports this module

    supplementary = {
        "zph": partial(zph_figure, results),
        "simon-makuch": partial(sensitivity.simon_makuch_figure, results),
        "cif": partial(sensitivity.cumulative_incidence_figure, results),
    }
    makers = (
        partial(flow_figure, results),
        partial(km_overall_figure, results),
        partial(km_group_figure, results, "salvage_group"),
        partial(km_group_figure, results, "relapse_site"),
        partial(forest_figure, results),
        *(supplementary[name] for name in SUPPLEMENTARY_FIGURES),
    )
    return dict(zip(FIGURE_STEMS, makers))


def export_all(results: Results, out_dir: str | Path) -> list[Path]:
    """Draw and save every figure of the manuscript and the supplement (stems
    :data:`FIGURE_STEMS`); returns the paths."""
    paths: list[Path] = []
    for stem, make in figure_makers(results).items():
        paths.extend(save_figure(make(), stem, out_dir))
    return paths
