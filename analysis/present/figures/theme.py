"""The journal look of every figure: the Okabe-Ito palette, one colour and one
place per group, column widths and the matplotlib rc settings (:data:`STYLE`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cycler import cycler

from ...compute.sensitivity import HSCT_GROUPS
from ...derive import RELSITE_LABELS, SALVGRP_LEVELS
from .. import style


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


def single_column() -> float:
    """One-column figure width, in inches, of the journal in use (``style.journal().figure``)."""
    return style.journal().figure.single_in


def double_column() -> float:
    """Two-column figure width, in inches, of the journal in use."""
    return style.journal().figure.double_in


#: The width (inches) the hand-placed layouts (flow diagram, forest plot) were
#: drawn for; their horizontal positions scale by ``double_column() / LAYOUT_WIDTH``.
LAYOUT_WIDTH = 7.2

SYNTHETIC_FOOTER = "SYNTHETIC DATA \u2014 not patient data"

#: The house style of every figure (rc settings); :func:`figure_rc` adds the
#: journal's font and size, and every figure is built, shown and saved inside
#: ``matplotlib.rc_context(figure_rc())``.
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


_SIZED = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize")


def _installed(families: tuple[str, ...]) -> list[str]:
    """``families`` that matplotlib can find on this machine, in order."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in families if f in names]


def figure_rc() -> dict[str, Any]:
    """:data:`STYLE` with the font family and size of the journal in use
    (``style.journal().figure``): the first of its fonts that is installed, then
    matplotlib's own DejaVu of the same kind, so that no figure warns about a
    missing font and a bare machine draws the same figure."""
    fig = style.journal().figure
    serif = any("Serif" in f or "Times" in f for f in fig.fonts)
    kind = "serif" if serif else "sans-serif"
    fallback = "DejaVu Serif" if serif else "DejaVu Sans"
    fonts = list(dict.fromkeys([*_installed(fig.fonts), fallback]))
    rc = dict(STYLE)
    rc.update({"font.family": kind, f"font.{kind}": fonts})
    rc.update({key: fig.font_size for key in _SIZED})
    return rc
