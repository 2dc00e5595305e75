"""The display object of every table: :class:`DisplayTable` (HTML through great_tables,
Pandoc grid tables for Typst and Word) and :class:`Footnote`, with the Markdown escaping
they share. See :mod:`analysis.present.tables` for how a table displays."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from .. import style as st
from .. import table_layout as layout
from ..quarto import HTML_FORMATS, declared_format


NBSP = "\u00a0"
#: Markdown indentation per level (no-break spaces survive Pandoc's cell trimming).
MD_INDENT = NBSP * 4
#: Word paragraph style of an indented stub cell (defined by analysis.present.docx_reference).
WORD_INDENT_STYLE = "TableIndent{level}"
WORD_FORMATS = frozenset({"docx"})
#: HTML stub indentation per level, in px, on great_tables' 5-px cell padding.
HTML_INDENT_PX = 16
GT_PAD_PX = 5

NOT_APPLICABLE = ""

# =========================================================================== display object


@dataclass(frozen=True)
class Footnote:
    """A note under a table.

    With ``column`` the note is marked (a, b, c, ... in the order great_tables
    assigns them: column labels first, then body cells by row): on the cells of
    frame rows ``rows`` (0-based positions) in that column, or on the column's
    label when ``rows`` is empty. Without ``column`` it is a general note,
    printed without a mark.
    """

    text: str
    column: str | None = None
    rows: tuple[int, ...] = ()


#: Where a table keeps its HTML once made (:meth:`DisplayTable.to_html`): not a field.
_HTML = "_html"


@dataclass(frozen=True, eq=False)
class DisplayTable:
    """A formatted table that displays as HTML or Markdown according to the output format.

    Attributes
    ----------
    frame : the display frame (strings; hidden helper columns allowed).
    columns : the displayed columns, in order; the first holds the row labels (stub).
    labels : column -> header label (the stub's label included); the statistic P
        in a label or note is set in the journal's letter (``style.p_header``).
    id : the great_tables id (fixed, so the HTML is deterministic). Not a
        Quarto label: the chunk's ``tbl-`` label is the cross-reference.
    group : column of row-group (section) labels, or None. Rows of a group
        must be contiguous.
    indent : column of indentation levels (int) of the stub, or None.
    spanners : (label, columns) pairs over adjacent columns; a header row above
        their labels in HTML and in Markdown alike.
    footnotes : :class:`Footnote` objects (general notes and marked notes).
    source_notes : lines under the table (e.g. the synthetic-data note).
    align : column -> "left" | "center" | "right" (default: stub left, others center).
    title : optional title above the table (captions normally come from ``tbl-cap``).
    """

    frame: pd.DataFrame
    columns: tuple[str, ...]
    labels: Mapping[str, str]
    id: str
    group: str | None = None
    indent: str | None = None
    spanners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    source_notes: tuple[str, ...] = ()
    align: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None

    def __post_init__(self) -> None:
        frame = self.frame.reset_index(drop=True)
        object.__setattr__(self, "frame", frame)
        object.__setattr__(self, "columns", tuple(self.columns))
        # the statistic P in every header as the journal writes it (Lancet "p"): one place for
        # every table, so the documents and the table files (table_files.py) agree
        object.__setattr__(self, "labels", {c: st.p_header(str(v)) for c, v in self.labels.items()})
        object.__setattr__(self, "footnotes", tuple(replace(f, text=st.p_header(f.text)) for f in self.footnotes))
        if not self.columns:
            raise ValueError("a table needs at least one column")
        needed = list(self.columns) + [c for c in (self.group, self.indent) if c is not None]
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise ValueError(f"column(s) not in the display frame: {', '.join(map(repr, absent))}")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError("a column is displayed twice")
        if self.group is not None and len(frame):
            seen: set = set()
            previous = object()
            for value in frame[self.group]:
                if value != previous:
                    if value in seen:
                        raise ValueError(f"rows of group {value!r} are not contiguous")
                    seen.add(value)
                    previous = value
        spanned = [c for _, cols in self.spanners for c in cols]
        if any(c not in self.columns[1:] for c in spanned) or len(set(spanned)) != len(spanned):
            raise ValueError("spanners must cover displayed, non-stub columns, each at most once")
        for label, cols in self.spanners:
            at = sorted(self.columns.index(c) for c in cols)
            if at != list(range(at[0], at[0] + len(at))):
                raise ValueError(f"spanner {label!r} must cover adjacent columns")
        marked_texts = []
        for f in self.footnotes:
            if f.column is None:
                continue
            if f.column not in self.columns:
                raise ValueError(f"footnote column {f.column!r} is not displayed")
            if any(r < 0 or r >= len(frame) for r in f.rows):
                raise ValueError(f"footnote rows out of range: {f.rows}")
            marked_texts.append(f.text)
        if len(set(marked_texts)) != len(marked_texts):
            raise ValueError("two marked footnotes have the same text; merge their cells")

    # ------------------------------------------------------------------ marks

    def marks(self) -> dict[int, str]:
        """Footnote index -> mark letter, in great_tables' order (column labels
        by column, then body cells by row and column)."""
        col_pos = {c: i for i, c in enumerate(self.columns)}
        keys = []
        for i, f in enumerate(self.footnotes):
            if f.column is None:
                continue
            if not f.rows:
                keys.append(((0, 0, col_pos[f.column]), i))
            else:
                keys.append(((1, min(f.rows), col_pos[f.column]), i))
        return {i: _letter(k) for k, (_, i) in enumerate(sorted(keys))}

    def _cell_marks(self) -> tuple[dict[tuple[int, str], list[str]], dict[str, list[str]]]:
        body: dict[tuple[int, str], list[str]] = {}
        head: dict[str, list[str]] = {}
        marks = self.marks()
        for i in sorted(marks, key=lambda j: marks[j]):
            f = self.footnotes[i]
            if f.rows:
                for r in f.rows:
                    body.setdefault((r, f.column), []).append(marks[i])
            else:
                head.setdefault(f.column, []).append(marks[i])
        return body, head

    def _alignment(self, column: str) -> str:
        return self.align.get(column, "left" if column == self.columns[0] else "center")

    # ------------------------------------------------------------------ HTML

    def as_gt(self):
        """The great_tables ``GT`` object (for tests and for saving)."""
        from great_tables import GT, loc, style

        stub = self.columns[0]
        cols = list(self.columns) + ([self.group] if self.group and self.group not in self.columns else [])
        data = self.frame[cols].astype(object).where(self.frame[cols].notna(), "")
        data[list(self.columns)] = data[list(self.columns)].map(lambda v: _keep_relation(_text(v)))
        gt = GT(data, rowname_col=stub, groupname_col=self.group, id=self.id)
        if self.title:
            gt = gt.tab_header(title=self.title)
        gt = gt.tab_stubhead(label=self.labels.get(stub, ""))
        others = [c for c in self.columns[1:]]
        if others:
            gt = gt.cols_label(cases={c: _html_label(self.labels.get(c, c)) for c in others})
        for k, (label, span_cols) in enumerate(self.spanners):
            gt = gt.tab_spanner(label=label, columns=list(span_cols), id=f"{self.id}-span{k + 1}")
        by_align: dict[str, list[str]] = {}
        for c in others:
            by_align.setdefault(self._alignment(c), []).append(c)
        for how, cs in by_align.items():
            gt = gt.cols_align(align=how, columns=cs)
        if self.indent is not None:
            levels = self.frame[self.indent].fillna(0).astype(int)
            for lv in sorted(set(levels) - {0}):
                rows = [int(i) for i in levels.index[levels == lv]]
                # great_tables has five indent classes of 5 px; with three levels capped
                # at 5 two levels looked alike (REVIEW item 25): the padding is set per level
                gt = gt.tab_stub_indent(rows=rows, indent=min(5, lv))
                gt = gt.tab_style(style=style.css(f"padding-left: {GT_PAD_PX + HTML_INDENT_PX * lv}px"),
                                  locations=loc.stub(rows=rows))
        for f in self.footnotes:
            if f.column is None:
                gt = gt.tab_footnote(f.text)
            elif not f.rows:
                where = loc.stubhead() if f.column == stub else loc.column_labels(columns=[f.column])
                gt = gt.tab_footnote(f.text, locations=where, placement="right")
            elif f.column == stub:
                gt = gt.tab_footnote(f.text, locations=loc.stub(rows=list(f.rows)), placement="right")
            else:
                gt = gt.tab_footnote(f.text, locations=loc.body(columns=[f.column], rows=list(f.rows)),
                                     placement="right")
        gt = gt.opt_footnote_marks("letters")
        # notes flush left, like the source note (REVIEW item 26)
        gt = gt.opt_css(f"#{self.id} .gt_footnote, #{self.id} .gt_sourcenote {{ text-align: left; }}")
        if self.is_wide():
            # fit the text column, long text wrapping, instead of a hidden overflow (REVIEW item 24)
            shares = self.column_shares()
            gt = gt.cols_width(cases={c: f"{100 * w:.1f}%" for c, w in zip(self.columns, shares)})
            gt = gt.tab_options(table_width="100%", table_layout="fixed")
        for note in self.source_notes:
            gt = gt.tab_source_note(note)
        return gt

    def to_html(self) -> str:
        """The great_tables HTML fragment (``<div id=...><style>…</style><table>…</table></div>``).

        Made once per table (great_tables takes ~25 ms a table) and kept with it, also when
        it is pickled: the background worker's set takes the tables the displays drawn ahead
        made, HTML included (:meth:`analysis.present.ahead.Ahead.table`). A table is not
        changed once made (frozen; its frame is read, never written)."""
        html = self.__dict__.get(_HTML)
        if html is None:
            html = self.as_gt().as_raw_html()
            object.__setattr__(self, _HTML, html)
        return html

    # ------------------------------------------------------------------ Markdown

    def _header_labels(self, *, plain: bool = False) -> list[str]:
        _, head = self._cell_marks()
        out = []
        for c in self.columns:
            text = self.labels.get(c, c if c != self.columns[0] else "")
            marks = head.get(c, [])
            if plain:
                out.append(text + "".join(marks))
            else:
                out.append(_italic_p(_md_escape(text), "*") + "".join(f"^{m}^" for m in marks))
        return out

    def _grid(self, *, word: bool = False) -> tuple[list[list[str]], list[list[str]], list[int]]:
        """Markdown cells, their plain text (for widths) and the positions of section rows.

        With ``word``, an indented stub cell is a paragraph in the Word style
        ``TableIndent<level>`` (a fenced div with ``custom-style``, which Pandoc's
        docx writer maps to a paragraph style, pandoc.org/MANUAL.html#custom-styles;
        the reference document indents it) instead of leading no-break spaces."""
        body, _ = self._cell_marks()
        stub = self.columns[0]
        rows: list[list[str]] = []
        plain: list[list[str]] = []
        sections: list[int] = []
        current = object()
        for r, rec in enumerate(self.frame.to_dict("records")):
            if self.group is not None and rec[self.group] != current:
                current = rec[self.group]
                label = _text(current)
                row = [""] * len(self.columns)
                row[0] = f"**{_md_escape(label)}**" if label else ""
                sections.append(len(rows))
                rows.append(row)
                plain.append([""] * len(self.columns))
            cells, texts = [], []
            for c in self.columns:
                text = _keep_relation(_text(rec[c]))
                if c == stub and self.indent is not None:
                    level = rec[self.indent]
                    level = 0 if level is None or (isinstance(level, float) and math.isnan(level)) else int(level)
                    if word and level > 0:
                        marks = body.get((r, c), [])
                        cell = _md_escape(text) + "".join(f"^{m}^" for m in marks)
                        cells.append(f'::: {{custom-style="{WORD_INDENT_STYLE.format(level=level)}"}}\n'
                                     f"{cell}\n:::")
                        texts.append(MD_INDENT * level + text + "".join(marks))
                        continue
                    text = MD_INDENT * level + text
                marks = body.get((r, c), [])
                cells.append(_md_escape(text) + "".join(f"^{m}^" for m in marks))
                texts.append(text + "".join(marks))
            rows.append(cells)
            plain.append(texts)
        return rows, plain, sections

    def column_shares(self) -> list[float]:
        """Each displayed column's share of the text width, from the content
        (:func:`analysis.present.table_layout.column_widths`)."""
        _, plain, sections = self._grid()
        return layout.column_widths(self._header_labels(plain=True), plain, ignore=sections)

    def is_wide(self) -> bool:
        """True when the longest cells of all columns do not fit on one line of text width."""
        _, plain, sections = self._grid()
        return layout.natural_width(self._header_labels(plain=True), plain, ignore=sections) > layout.LINE_CHARS

    def to_markdown(self, *, word: bool = False) -> str:
        """A Pandoc grid table from the display frame, then the notes as paragraphs.

        Column widths come from the content (:mod:`analysis.present.table_layout`);
        a section (row-group) label is a bold row spanning every column, and
        column spanners are a header row above their columns, as in the HTML
        (REVIEW items 2 and 26: STROBE sections wrapped in the 1-cm Item
        column; Table 3's spanners were flattened in the PDF and Word)."""
        rows, plain, sections = self._grid(word=word)
        aligns = [self._alignment(c) for c in self.columns]
        widths = layout.column_widths(self._header_labels(plain=True), plain, ignore=sections)
        position = {c: i for i, c in enumerate(self.columns)}
        spanners = [(_md_escape(label), min(position[c] for c in cols), max(position[c] for c in cols))
                    for label, cols in self.spanners]
        table = layout.grid_table(self._header_labels(), rows, widths=widths, aligns=aligns,
                                  spanners=spanners, full_rows=sections)
        paragraphs = []
        if self.title:
            paragraphs.append(f"**{_md_escape(self.title)}**")
        paragraphs.append(table)
        paragraphs.extend(_md_paragraph(n) for n in self.source_notes)
        paragraphs.extend(_md_paragraph(f.text) for f in self.footnotes if f.column is None)
        marks = self.marks()
        for i in sorted(marks, key=lambda j: marks[j]):
            paragraphs.append(f"^{marks[i]}^ " + _md_paragraph(self.footnotes[i].text))
        return "\n\n".join(paragraphs) + "\n"

    # ------------------------------------------------------------------ Jupyter

    def to_raw_html_markdown(self) -> str:
        """The great_tables HTML as a Pandoc raw HTML block (```` ```{=html} ````).

        What Quarto does itself with ``text/html`` display data, minus its widget
        scan: any ``text/html`` output makes Quarto inject jQuery and RequireJS
        from CDNs (``haveOutputType(nb, [application/javascript, text/html])``,
        quarto-cli src/core/jupyter/widgets.ts; REVIEW 2026-12-06 item 23).
        Static great_tables HTML needs neither."""
        return "```{=html}\n" + self.to_html().strip("\n") + "\n```\n"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        markdown = self.to_markdown()
        fmt = declared_format()
        if fmt is None:                       # Quarto < 1.8 or plain Jupyter: Quarto picks by format
            return {"text/html": self.to_html(), "text/markdown": markdown, "text/plain": markdown}
        if fmt in HTML_FORMATS:
            return {"text/markdown": self.to_raw_html_markdown(), "text/plain": markdown}
        if fmt in WORD_FORMATS:
            return {"text/markdown": self.to_markdown(word=True), "text/plain": markdown}
        return {"text/markdown": markdown, "text/plain": markdown}

    def __repr__(self) -> str:
        return f"DisplayTable(id={self.id!r}, rows={len(self.frame)}, columns={list(self.columns)})"


def _html_label(label: str):
    """A column label for great_tables, with an italic P where there is one."""
    from great_tables import md

    italic = _italic_p(label, "*")
    return md(italic) if italic != label else label


def _letter(k: int) -> str:
    """great_tables' "letters" marks: a..z, then aa, bb, ..."""
    return chr(ord("a") + k % 26) * (k // 26 + 1)


_P_WORD = re.compile(r"(?<![\w*])P(?![\w*])")


def _italic_p(label: str, mark: str) -> str:
    """The statistic P in a column label set in italics ('Univariable P' ->
    'Univariable *P*'), as AMA style prints it (the journal's ``PStyle.italic``)."""
    if not st.journal().p.italic:
        return label
    return _P_WORD.sub(f"{mark}P{mark}", label)


def _keep_relation(text: str) -> str:
    """'> .99' with a no-break space, so a P value never wraps after its sign."""
    return re.sub(r"^([<>\u2264\u2265]) ", "\\1" + NBSP, text)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


_MD_ALWAYS = re.compile(r"([\\`*_\[\]|$@^~])")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_ENTITY = re.compile(r"&(?=#|[A-Za-z][A-Za-z0-9]*;)")


def _md_escape(text: str) -> str:
    """Escape what Pandoc's Markdown would interpret in a table cell or note
    (emphasis, code, links, pipes, math, citations, super/subscript, raw HTML,
    entities); every other character, Unicode included, stays as it is."""
    text = " ".join(str(text).split("\n"))
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_TAG.sub(r"\\<", text)
    return _MD_ENTITY.sub(r"\\&", text)


def _md_paragraph(text: str) -> str:
    """A note as a paragraph: escaped, and not readable as a list, heading or quote."""
    out = _md_escape(text)
    out = re.sub(r"^(\d+)([.)])(\s)", r"\1\\\2\3", out)
    if out[:1] in ("#", ">", "-", "+", ":", "*"):
        out = "\\" + out
    return out
