"""Figures of the manuscript and supplement, drawn with matplotlib.

Every public function takes the :class:`analysis.results.Results` object and
returns a :class:`JournalFigure` (a ``matplotlib.figure.Figure``); nothing is
computed here except what drawing needs (positions, axis limits, and the
straight reference line of the Schoenfeld-residual panels, see
:func:`zph_figure`). Numbers are formatted only through
:mod:`analysis.present.style`.

Style: one house style (:data:`STYLE`: 0.6 pt axes without top and right
spines, the Okabe-Ito colour-blind-safe palette, Okabe & Ito 2008) with the
font, text size and one- and two-column widths of the configured journal
(``style.journal().figure``, :func:`figure_rc`, :func:`single_column`,
:func:`double_column`), applied with ``matplotlib.rc_context`` while a figure
is built, displayed and saved; a journal's font that is not installed falls
back to matplotlib's DejaVu, so a bare machine draws the same figure. Every
number drawn (tick labels, risk tables, medians, P values) follows the
journal's decimal mark: labels come from :mod:`analysis.present.style`, and
axes labelled by matplotlib get :class:`~.canvas.JournalTickFormatter`.
Figures are laid out in inches (no layout engine), with text widths measured
in the journal's font, so a saved figure has exactly the journal's width.

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

from .theme import (COLORS, STYLE, SYNTHETIC_FOOTER, double_column, figure_rc, group_color, order_groups,
                    single_column)
from .canvas import ABBREVIATIONS, SPARSE_AT_RISK, JournalFigure, note_sparse_steps
from .flow import flow_figure
from .km import km_group_figure, km_overall_figure
from .forest import forest_figure
from .zph import zph_figure
from .files import FIGURE_STEMS, TIFF_DPI, export_all, figure_makers, save_figure

__all__ = [
    "COLORS",
    "double_column",
    "figure_rc",
    "FIGURE_STEMS",
    "single_column",
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
