"""Journal styles: how numbers print for the journal the manuscript goes to.

One place defines them; ``style: journal:`` in the configuration picks one,
and :mod:`analysis.present.style` formats every P value, decimal number,
interval and percentage of the text, tables and figures through the style in
use (as gtsummary's ``theme_gtsummary_journal()`` sets a theme for all tables).

The conventions follow each journal's instructions for authors, as we read
them (re-check them before submission; journals revise their instructions):

* ``blood`` — Blood (American Society of Hematology), "Instructions for
  authors", which refer to the AMA Manual of Style: "P = .004" (no leading
  zero; two decimals, three below .01; "P < .001"), en dash in intervals.
* ``jama`` — JAMA Network, "Instructions for Authors" and the AMA Manual of
  Style, 11th ed., section 19.5 (P values): as Blood; "to" between interval
  limits when one of them is negative.
* ``nejm`` — NEJM, "New Manuscripts / Statistical Methods": "P=0.004" (leading
  zero, no spaces; P values above 0.01 to two decimals, three below, "P<0.001"),
  "to" between interval limits.
* ``lancet`` — The Lancet, "Information for authors" (Statistics and house
  style): "p=0·004" (lower-case p, decimal point set as a mid-line dot,
  ·), "to" between interval limits.

Figure widths are single- and double-column widths in millimetres and the
base font size in points.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PStyle:
    """How P values print. AMA / Blood by default (AMA Manual of Style, 11th
    ed., 19.5): no leading zero, 2 decimals, 3 decimals below .01, "< .001"
    below that, "> .99" above; P in italics where the format allows."""

    decimals: int = 2            # P >= small
    small: float = 0.01
    small_decimals: int = 3      # P < small
    threshold: float = 0.001     # below: "< .001"
    leading_zero: bool = False
    upper: float = 0.99          # above: "> .99"
    italic: bool = True          # "*P*" in Markdown; plain where no markup is possible
    letter: str = "P"            # "P" or "p"
    spaced: bool = True          # "P = .04" or "P=0.04"


@dataclass(frozen=True)
class JournalStyle:
    name: str
    label: str
    p: PStyle
    decimal_mark: str = "."
    ci_separator: str = "\u2013"         # between interval limits
    ci_separator_negative: str = " to "  # when a limit is negative (a dash would read as a minus)
    rate_pct_digits: int = 1             # an outcome rate with a CI (CR/CRi, survival at a landmark)
    count_pct_digits: int = 0            # a descriptive n (%)
    figure_single_mm: float = 89.0
    figure_double_mm: float = 183.0
    figure_font_pt: float = 8.0


JOURNALS: dict[str, JournalStyle] = {
    "blood": JournalStyle("blood", "Blood", PStyle()),
    "jama": JournalStyle("jama", "JAMA", PStyle(), figure_single_mm=86.0, figure_double_mm=178.0),
    "nejm": JournalStyle("nejm", "New England Journal of Medicine",
                         PStyle(leading_zero=True, spaced=False, italic=True),
                         ci_separator=" to ", figure_single_mm=86.0, figure_double_mm=178.0),
    "lancet": JournalStyle("lancet", "The Lancet",
                           PStyle(leading_zero=True, spaced=False, italic=False, letter="p"),
                           decimal_mark="\u00b7", ci_separator=" to ", figure_single_mm=75.0,
                           figure_double_mm=154.0),
}
DEFAULT_JOURNAL = "blood"
