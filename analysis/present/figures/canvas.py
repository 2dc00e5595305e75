"""The figure canvas: :class:`JournalFigure`, axes placed in inches, the note of
abbreviations and the synthetic-data footer, message figures for results that
could not be computed, and the labels several figures share."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import ScalarFormatter

from .. import style
from ..labels import CR_CRI_TERM
from .theme import COLORS, SYNTHETIC_FOOTER, _FOOTER_SIZE, figure_rc

if TYPE_CHECKING:  # pragma: no cover
    from ...compute.survival import MedianResult
    from ...results import Results


#: The figure formats a display formatter can show a ``Figure`` in that Quarto shows in
#: every output format (``displayDataMimeType``: SVG before PNG before JPEG): where one of
#: them shows it, its PNG is not drawn (SVG would be shown instead, and a PNG would win over
#: the JPEG that ``fig-format: jpeg`` asks for). Not so for PDF, which Quarto shows only in
#: LaTeX output: there (HTML, Typst, Word) the PNG is what is seen.
SHOWN_INSTEAD_OF_PNG = ("image/svg+xml", "image/jpeg")


def _shown_otherwise(fig: Figure) -> bool:
    """Whether the display formatter formatting ``fig`` now shows it in a format of
    :data:`SHOWN_INSTEAD_OF_PNG`: an enabled formatter of that type has a ``Figure``
    printer (IPython's ``set_matplotlib_formats``, as Quarto's setup step calls it with
    ``fig-format``: SVG is the Typst default)."""
    from ..displays import active_formatter

    formatters = getattr(active_formatter(), "formatters", {})
    for mime in SHOWN_INSTEAD_OF_PNG:
        found = formatters.get(mime)
        if found is None or not found.enabled:
            continue
        try:
            found.lookup(fig)
        except KeyError:
            continue
        return True
    return False


class JournalFigure(Figure):
    """A ``matplotlib.figure.Figure`` that also displays in a plain Jupyter kernel.

    Quarto (and ``%matplotlib inline`` once active) register a formatter for
    ``Figure`` that IPython uses before ``_repr_png_``; where none is
    registered, ``_repr_png_`` renders the figure in the journal style. Where one
    is registered for SVG only (Quarto's Typst setup), IPython's PNG formatter
    still asks ``_repr_png_``, which then draws nothing: Quarto shows the SVG
    before a PNG in every format (``displayDataMimeType``, quarto-cli
    ``src/core/jupyter/display-data.ts``), so that PNG (at the Typst ``fig-dpi``,
    300) was drawn and never shown. Likewise for JPEG (``fig-format: jpeg``),
    which Quarto shows only where there is no PNG: the PNG used to win.
    """

    def _repr_png_(self) -> bytes | None:
        if _shown_otherwise(self):
            return None
        buf = io.BytesIO()
        with mpl.rc_context(figure_rc()):
            self.savefig(buf, format="png", dpi=max(float(self.dpi), 150.0))
        return buf.getvalue()


# --------------------------------------------------------------------------- small helpers


def _new_figure(width: float, height: float) -> JournalFigure:
    """A figure outside pyplot's state (call inside ``rc_context(figure_rc())``)."""
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


class JournalTickFormatter(ScalarFormatter):
    """matplotlib's automatic tick labels with the journal's decimal mark
    (Lancet '0·5'); U+2212 for a minus comes from ``axes.unicode_minus``."""

    def __call__(self, x, pos=None) -> str:
        return style.with_decimal_mark(super().__call__(x, pos))

    def get_offset(self) -> str:
        return style.with_decimal_mark(super().get_offset())


def _journal_ticks(fig: Figure) -> None:
    """Every axis whose ticks matplotlib labels itself (a ScalarFormatter, e.g.
    the residual panels) labels them in the journal's style; axes whose labels
    were set from style formatters keep them."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(JournalTickFormatter())


def _finish(fig: Figure, synthetic: bool) -> Figure:
    """Add the note of abbreviations, the synthetic-data footer, and create
    every tick inside the style context, labelled in the journal's style."""
    _journal_ticks(fig)
    _add_note(fig, synthetic)
    if synthetic:
        fig.text(1 - 0.04 / fig.get_size_inches()[0], 0.04 / fig.get_size_inches()[1], SYNTHETIC_FOOTER,
                 ha="right", va="bottom", fontsize=_FOOTER_SIZE, fontweight="bold",
                 color=COLORS["vermillion"], gid="synthetic-footer")
    # Ticks are created lazily at the first draw: draw once here so that they
    # take the journal style even when the figure is later drawn outside it.
    fig.draw_without_rendering()
    return fig


_RENDERER: list = []


@contextmanager
def _line_widths(size: float | None = None, weight: str = "normal") -> Iterator[Callable[[str], float]]:
    """A function giving the width in inches of one line of text in the journal's figure font
    (``size`` in points, default the journal's), measured by matplotlib's Agg renderer as it
    will be drawn; the style context entered once for all the lines measured meanwhile."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    if not _RENDERER:   # hinted widths differ with the resolution: the widest of screen and display
        _RENDERER.extend(RendererAgg(10, 10, dpi) for dpi in (100, 150))
    with mpl.rc_context(figure_rc()):
        prop = FontProperties(size=size or style.journal().figure.font_size, weight=weight)
        yield lambda line: max(r.get_text_width_height_descent(line, prop, ismath=False)[0] / r.dpi
                               for r in _RENDERER)


def text_width(text: str, size: float | None = None, weight: str = "normal") -> float:
    """Width in inches of the widest line of ``text`` in the journal's figure font
    (``size`` in points, default the journal's), measured by matplotlib's Agg
    renderer as it will be drawn."""
    with _line_widths(size, weight) as width:
        return max(width(line) for line in text.split("\n"))


def _wrap(text: str, inches: float, size: float | None = None) -> str:
    """``text`` broken at spaces into lines that fit ``inches`` of ``size`` pt
    text in the journal's figure font (measured, :func:`text_width`): each line
    takes words while the line still fits (a word too wide for any line has one
    of its own).

    Each line's end is found by bisection over the lines that adding one more
    word would make: a line with a word added is at least as wide (its glyphs
    are those of the shorter line, in the same places, and more), so the first
    one too wide is where line-by-line filling would stop too, with about
    log2(words) measurements a line instead of one a word (each measurement
    shapes the whole line twice; notes of 30-60 words were a third of a
    figure's build)."""
    out = []
    with _line_widths(size) as width:
        for paragraph in text.split("\n"):
            words = paragraph.split(" ")
            line, k = "", 0
            while k < len(words):
                # the lines filling would try from here: the line so far with each next word added
                trials, acc = [], line
                for word in words[k:]:
                    acc = f"{acc} {word}" if acc else word
                    trials.append(acc)
                before = [line, *trials[:-1]]               # the line each trial extends
                lo, hi = 0, len(trials)                     # the first trial too wide (over a line), in [lo, hi]
                while lo < hi:
                    mid = (lo + hi) // 2
                    if before[mid] and width(trials[mid]) > inches:
                        hi = mid
                    else:
                        lo = mid + 1
                if lo == len(trials):                       # the rest fits
                    line = trials[-1]
                    break
                out.append(before[lo])
                line, k = words[k + lo], k + lo + 1
            out.append(line)
    return "\n".join(out)


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
    with mpl.rc_context(figure_rc()):
        fig = _new_figure(width, height)
        foot = 0.22 if synthetic else 0.06
        _message_axes(fig, 0.2, foot, width - 0.4, height - foot - 0.06, message, gid)
        return _finish(fig, synthetic)


def _alpha(results: Results) -> float:
    return results.settings.tests.alpha


def _level(results: Results) -> str:
    return style.fmt_g(100 * (1 - _alpha(results)))


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
