"""Column widths of a table from its content, and the Pandoc grid table that carries them.

Pandoc (and so Quarto's Typst and Word outputs) reads a pipe or grid table's
column widths from the dashes of its separator lines whenever a line of the
table is longer than ``--columns`` (72 by default): each column then gets the
share of the text width that its dashes have of the whole line
(pandoc.org/MANUAL.html#tables). Written by a tabulating
library, those dashes are as long as the longest cell, so a column of short
codes beside a column of sentences gets a sliver (the Word supplement's
0.1-inch "Type" column, REVIEW 2026-12-06 item 3). Here the shares are chosen
from the content instead, the way a browser lays out an automatic table
(W3C CSS 2.1 section 17.5.2.2): every column gets at least its widest
unbreakable piece (a word; a short cell such as a P value or "15/34 vs 17/33"
as a whole), and the rest of the line is shared in proportion to how much
each column would need to print its longest cell on one line. The table's
lines are always longer than Pandoc's 72 columns, so the widths always apply
(Typst ``columns: (…%, …%)``, Word ``w:gridCol``).
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


# --------------------------------------------------------------------------- grid tables

#: Characters across a grid table's columns: the resolution of the widths.
GRID_CHARS = 240
_BLOCK_START = re.compile(r"^(#|>|[-+*:](\s|$)|\d+[.)](\s|$))")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces only
    (words and Markdown escapes stay whole; no-break spaces do not break). A
    line break in ``text`` is kept, and a fence line (``:::``) is never broken."""
    if "\n" in text:
        return [ln for part in text.split("\n") for ln in _wrap(part, width)]
    if text.startswith(":::"):
        return [text]
    words = text.split(" ")
    lines: list[str] = []
    line = ""
    for word in words:
        if not word:
            continue
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


def _cell_block(text: str) -> str:
    """A cell's Markdown that Pandoc reads as a paragraph, not a list, heading or
    quote (a fenced div that we wrote ourselves stays a div)."""
    if text.startswith("::: {custom-style="):
        return text
    return "\\" + text if _BLOCK_START.match(text) else text


def grid_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[float],
               aligns: Sequence[str], spanners: Sequence[tuple[str, int, int]] = (),
               full_rows: Sequence[int] = ()) -> str:
    """A Pandoc grid table (pandoc.org/MANUAL.html#extension-grid_tables) of
    already-escaped Markdown cells: column shares from ``widths`` (Pandoc reads
    them from the dashes, as for pipe tables), a second header row for
    ``spanners`` (label, first column, last column; inclusive), and rows in
    ``full_rows`` as one cell spanning every column (their text in column 0).
    Pandoc 3 writes the spans as Typst ``table.cell(colspan:)`` and Word
    ``w:gridSpan``, so section rows and spanners look alike in every format."""
    n = len(headers)
    full = set(full_rows)
    cells = [list(map(_cell_block, map(str, headers)))] + [list(map(_cell_block, map(str, r))) for r in rows]
    need = [3] * n
    for r, row in enumerate(cells):
        if r - 1 in full:
            continue
        for c in range(n):
            pieces = [w for ln in row[c].split("\n")
                      for w in ([ln] if ln.startswith(":::") else ln.split(" ")) if w]
            need[c] = max(need[c], max((len(w) for w in pieces), default=0) + 2)
    span_labels = [(_cell_block(str(label)), a, b) for label, a, b in spanners]
    width = [max(need[c], round(w * GRID_CHARS)) for c, w in enumerate(widths)]
    for label, a, b in span_labels:       # a spanner's longest word must fit its columns
        longest = max((len(w) for w in label.split(" ") if w), default=0) + 2
        inner = sum(width[a:b + 1]) + (b - a)
        if longest > inner:
            width[b] += longest - inner

    def border(ch: str = "-", *, colons: bool = False) -> str:
        parts = []
        for c in range(n):
            seg = ch * width[c]
            if colons and aligns[c] in ("left", "center"):
                seg = ":" + seg[1:]
            if colons and aligns[c] in ("right", "center"):
                seg = seg[:-1] + ":"
            parts.append(seg)
        return "+" + "+".join(parts) + "+"

    def content(texts: Sequence[str], spans: Sequence[tuple[int, int]]) -> list[str]:
        wrapped = []
        for text, (a, b) in zip(texts, spans):
            inner = sum(width[a:b + 1]) + (b - a) - 2
            wrapped.append(_wrap(text, inner))
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, (a, b) in zip(wrapped, spans):
                inner = sum(width[a:b + 1]) + (b - a) - 2
                parts.append(" " + (lines[i] if i < len(lines) else "").ljust(inner) + " ")
            out.append("|" + "|".join(parts) + "|")
        return out

    lines: list[str] = []
    if span_labels:
        under = {c for _, a, b in span_labels for c in range(a, b + 1)}
        spans, texts, c = [], [], 0
        starts = {a: (label, b) for label, a, b in span_labels}
        while c < n:
            if c in starts:
                label, b = starts[c]
                spans.append((c, b))
                texts.append(label)
                c = b + 1
            else:
                spans.append((c, c))
                texts.append("")
                c += 1
        top = "+" + "+".join("-" * (sum(width[a:b + 1]) + (b - a)) for a, b in spans) + "+"
        lines.append(top)
        lines.extend(content(texts, spans))
        # between the two header rows: a rule under the spanners; columns without
        # one continue (a cell spanning both header rows holds their label)
        mid = "+" if 0 in under else "|"
        for c in range(n):
            mid += ("-" if c in under else " ") * width[c]
            right_open = c + 1 < n and (c in under or c + 1 in under)
            mid += "+" if right_open or (c + 1 == n and c in under) else "|"
        lines.append(mid)
    else:
        lines.append(border())
    lines.extend(content(cells[0], [(c, c) for c in range(n)]))
    lines.append(border("=", colons=True))
    for r, row in enumerate(cells[1:]):
        if r in full:
            lines.extend(content([row[0]], [(0, n - 1)]))
        else:
            lines.extend(content(row, [(c, c) for c in range(n)]))
        lines.append(border())
    return "\n".join(lines)
