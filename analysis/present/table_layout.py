"""Column widths of a table from its content, and the Pandoc pipe table that carries them.

Pandoc (and so Quarto's Typst and Word outputs) reads a pipe table's column
widths from the dashes of its separator line whenever a line of the table is
longer than ``--columns`` (72 by default): each column then gets the share of
the text width that its separator cell has of the whole separator line
(pandoc.org/MANUAL.html#tables, "pipe_tables"). Written by a tabulating
library, those dashes are as long as the longest cell, so a column of short
codes beside a column of sentences gets a sliver (the Word supplement's
0.1-inch "Type" column, REVIEW 2026-12-06 item 3). Here the shares are chosen
from the content instead, the way a browser lays out an automatic table
(W3C CSS 2.1 section 17.5.2.2): every column gets at least its widest
unbreakable piece (a word; a short cell such as a P value or "15/34 vs 17/33"
as a whole), and the rest of the line is shared in proportion to how much
each column would need to print its longest cell on one line. The separator
is always longer than Pandoc's 72 columns, so the widths always apply (Typst
``columns: (…%, …%)``, Word ``w:gridCol``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Characters of 9-pt table text across the A4 text column (16.6 cm; Typst's
#: default Libertinus Serif sets about 130 average characters, Word's Calibri about 110).
LINE_CHARS = 118
#: Padding of a cell, in characters (Typst inset 6 pt each side; Word 0.075 in each side).
CELL_PADDING = 2
#: A cell at most this long is never broken (P values, counts, short CIs).
KEEP_WHOLE = 10
#: Total length of the separator line's cells: the resolution of the widths.
SEPARATOR_CHARS = 240


#: Where a line may break inside a long cell: at a space, and after a slash or a
#: hyphen before a letter (Unicode line breaking, UAX 14: classes SP, SY, HY;
#: not inside a number such as "15/34", rule LB25). Typst and Word both break there.
_BREAK = re.compile(r"(?<=[/-])(?=[^\W\d_])|\s+")


def min_width(text: str, *, header: bool = False) -> int:
    """The widest piece of ``text`` that must not be broken: the whole cell when it
    is short (body cells only), otherwise its longest unbreakable piece."""
    text = text.strip()
    if not text:
        return 0
    if not header and len(text) <= KEEP_WHOLE:
        return len(text)
    return max(len(piece) for piece in _BREAK.split(text))


def natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]], *, padding: int = CELL_PADDING,
                  ignore: Sequence[int] = ()) -> int:
    """Characters the table needs to print every column's longest cell on one line."""
    skip = set(ignore)
    total = 0
    for c, h in enumerate(headers):
        cells = [len(str(row[c]).strip()) for r, row in enumerate(rows) if r not in skip]
        total += max([len(h.strip()), *cells]) + padding
    return total


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                  line: int = LINE_CHARS, padding: int = CELL_PADDING,
                  ignore: Sequence[int] = ()) -> list[float]:
    """Shares of the line width (summing to 1) for each column, from the cells' text.

    ``rows`` holds plain display text; rows whose positions are in ``ignore``
    (e.g. section rows that span the table) do not widen their columns.
    """
    n = len(headers)
    lo = [min_width(h, header=True) for h in headers]
    hi = [len(h.strip()) for h in headers]
    skip = set(ignore)
    for r, row in enumerate(rows):
        if r in skip:
            continue
        for c in range(n):
            cell = str(row[c]).strip()
            lo[c] = max(lo[c], min_width(cell))
            hi[c] = max(hi[c], len(cell))
    lo = [x + padding for x in lo]
    hi = [max(h + padding, x) for h, x in zip(hi, lo)]
    available = max(line, 1)
    if sum(hi) <= available:
        # everything fits on one line: spread the spare width in proportion to the content
        widths = [h * available / sum(hi) for h in hi]
    elif sum(lo) < available:
        spare = (available - sum(lo)) / (sum(hi) - sum(lo))
        widths = [x + (h - x) * spare for x, h in zip(lo, hi)]
    else:
        widths = [float(x) for x in lo]           # too wide whatever we do: keep the words whole
    total = sum(widths)
    return [w / total for w in widths]


def separator(widths: Sequence[float], aligns: Sequence[str], *, chars: int = SEPARATOR_CHARS) -> str:
    """A pipe-table separator line whose cell lengths are ``widths`` of ``chars``
    (alignment colons included, as Pandoc counts them)."""
    cells = []
    for share, how in zip(widths, aligns):
        length = max(3, round(share * chars))
        if how == "left":
            cells.append(":" + "-" * (length - 1))
        elif how == "right":
            cells.append("-" * (length - 1) + ":")
        elif how == "center":
            cells.append(":" + "-" * (length - 2) + ":")
        else:
            cells.append("-" * length)
    return "|" + "|".join(cells) + "|"


def pipe_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[float],
               aligns: Sequence[str]) -> str:
    """A Pandoc pipe table of already-escaped Markdown cells with the given column shares."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    return "\n".join([line(headers), separator(widths, aligns)] + [line(r) for r in rows])
