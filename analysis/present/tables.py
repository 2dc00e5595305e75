"""The manuscript's tables and the supplementary tables, formatted from :class:`Results`.

Every table is made in two steps:

1. ``*_frame(results) -> pandas.DataFrame``: the display strings, one row per
   displayed row (tidy; a ``section`` column where the table has row groups,
   an ``indent`` column (0, 1, 2) where rows are indented under a heading row,
   a ``test`` column naming the test behind each P value). Every number is
   formatted with :mod:`analysis.present.style`.
2. ``table1(results)`` etc.: a :class:`DisplayTable` built on that same frame.
   In a Jupyter kernel (and so in a Quarto chunk) it displays, according to
   :func:`analysis.present.quarto.declared_format`, as

   * HTML (``"html"`` and other HTML formats): the great_tables table (fixed
     ``id``; column spanners, row groups, indented rows, lettered footnotes on
     the P values naming the tests, general notes, the source note), sent as
     ``text/markdown`` holding a raw HTML block, never as ``text/html``
     (which makes Quarto add jQuery and RequireJS; see ``to_raw_html_markdown``);
   * anything else (``"typst"``, ``"docx"``, ...): a Pandoc grid table built
     from the same frame (column widths from the content, row-group rows in
     bold spanning every column, spanners as a header row, indented rows led
     by no-break spaces, or in Word paragraphs of an indented style), footnote
     marks as Pandoc superscripts (``^a^``), then the source note and
     footnotes as plain paragraphs. Plain Unicode
     ("<", "≥", "–", "χ²", apostrophes as they are), no HTML entities and no
     HTML tags: Quarto passes great_tables' HTML to Typst with the entities
     left literal (``&lt;``, ``&#x27;``), so the HTML is never used there.

   When Quarto does not declare the format (``QUARTO_EXECUTE_INFO`` exists
   from Quarto 1.8; 1.6 and 1.7 do not set it), the table offers both
   ``text/html`` and ``text/markdown`` and Quarto chooses: for HTML targets
   ``text/html`` comes first, for every other target ``text/markdown``
   (``displayDataMimeType`` in quarto-cli ``src/core/jupyter/display-data.ts``).
   So a Typst or Word render never falls back to the HTML whatever the version.

   Quarto documents the Markdown route for computed tables: a chunk with
   ``#| label: tbl-…`` and ``#| tbl-cap:`` whose result is a ``text/markdown``
   output (``IPython.display.Markdown(tabulate(...))`` in Quarto's "Tables ›
   Computations" and "Cross References" examples) becomes a captioned,
   cross-referenceable table in every format. The label must start with ``tbl-``
   and be given together with ``tbl-cap`` (quarto-cli issue 9369: a caption
   without a label does not show in Typst). Captions come from ``tbl-cap``,
   so the tables have no title of their own (``title=`` adds one).

This module formats only: it computes no statistic (no lifelines, scipy or
statsmodels), and reads every number from the :class:`Results` object.
No source pseudonym and no date of any patient is shown.

Results that could not be computed on the data at hand (a
:class:`~analysis.results.NotEstimable` in the results, or a row with a
``not_estimable`` reason) are shown, never dropped silently: a whole table
or section that cannot be estimated becomes one row whose label reads
"Not estimable: <reason>." (``style.fmt_not_estimable``); a single missing
test or model prints "NE" with a marked footnote giving the reason. No cell
or note ever reads "nan" or "None".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..compute.baseline import OVERALL, BaselineResult
from ..dictionary import Dictionary
from ..results import (BASELINE_VARIABLES, MEDIAN_METHODS, UNKNOWN_LEVELS, CoxResults, NotEstimable, ResponseResults, Results,
                       SurvivalEndpoint, estimable, unrecorded_baseline_variables)
from . import style as st
from . import table_layout as layout
from .exclusions import left_out_phrase
from .labels import CR_CRI_TERM
from .quarto import HTML_FORMATS, declared_format

__all__ = [
    "DisplayTable",
    "Footnote",
    "SYNTHETIC_NOTE",
    "table1", "table1_frame", "table1_full", "table1_full_frame",
    "table2", "table2_frame",
    "table3", "table3_frame",
    "dictionary_table", "dictionary_frame",
    "factor_conventions_table", "factor_conventions_frame",
    "median_methods_table", "median_methods_frame",
    "landmark_table", "landmark_frame",
    "zph_table", "zph_frame",
    "cox_full_table", "cox_full_frame",
    "transplant_summary_table", "transplant_summary_frame",
    "transplant_listing_table", "transplant_listing_frame",
    "versions_table", "versions_frame",
    "flow_table", "flow_frame",
]

SYNTHETIC_NOTE = "Synthetic data \u2014 not patient data."
#: The ADSL column of the salvage groups: Table 2 compares it in its own section.
GROUP_COLUMN = "SALVGRP"
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


@dataclass(frozen=True, eq=False)
class DisplayTable:
    """A formatted table that displays as HTML or Markdown according to the output format.

    Attributes
    ----------
    frame : the display frame (strings; hidden helper columns allowed).
    columns : the displayed columns, in order; the first holds the row labels (stub).
    labels : column -> header label (the stub's label included).
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
        """The great_tables HTML fragment (``<div id=...><style>…</style><table>…</table></div>``)."""
        return self.as_gt().as_raw_html()

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


# =========================================================================== shared helpers


def _alpha(results: Results) -> float:
    return results.settings.tests.alpha


def _level(alpha: float) -> int:
    return int(round(100 * (1 - alpha)))


def _alpha_text(alpha: float) -> str:
    return st.fmt_alpha(alpha)


def _source_notes(synthetic: bool) -> tuple[str, ...]:
    return (SYNTHETIC_NOTE,) if synthetic else ()


def _pct(x: float | None, digits: int = st.RATE_PCT_DIGITS) -> str:
    """A proportion (0-1) as a percentage without the sign: 0.4776 -> '47.8'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return st.NOT_ESTIMABLE
    return st.fmt_num(100 * x, digits)


def _pct_ci(est: float | None, lower: float | None, upper: float | None,
            digits: int = st.RATE_PCT_DIGITS) -> str:
    """'47.8 (35.4–60.3)' from proportions on the 0-1 scale."""
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return st.NOT_ESTIMABLE
    lo = None if lower is None else 100 * lower
    hi = None if upper is None else 100 * upper
    return f"{_pct(est, digits)} ({st.fmt_ci(lo, hi, digits=digits)})"


def _level_text(variable: str, level: Any) -> str:
    """A level as printed: sex M/F -> Male/Female, Y/N -> Yes/No, '>=' -> '≥'."""
    text = _text(level)
    if variable == "SEX" and text in ("M", "F"):
        return {"M": "Male", "F": "Female"}[text]
    if text in ("Y", "N"):
        return {"Y": "Yes", "N": "No"}[text]
    return st.fmt_relation(text)


def _empty_group_text(reason: str, variable: str, label: str) -> str:
    """A computation's "group 'Y' has no patients" in the reader's words: "no patient with
    extramedullary relapse: Yes" (labels, not codes; acceptance review item 5)."""
    return re.sub(r"group '([^']*)' has no patients",
                  lambda m: f"no patient in the group {label}: {_level_text(variable, m.group(1))}", reason)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _sentence(text: str) -> str:
    text = _capitalise(st.fmt_relation(text.strip()))
    return text if text.endswith((".", "!", "?")) else text + "."


def _variable_labels(results: Results) -> dict[str, str]:
    """ADSL column -> label: the response factors' labels, then Table 1's."""
    labels = {c: lab for c, lab, _ in BASELINE_VARIABLES}
    labels.update({f.column: f.label for f in results.response.factor_defs})
    return labels


def _test_footnotes(frame: pd.DataFrame, *, column: str = "P", test: str = "test") -> tuple[Footnote, ...]:
    """One marked footnote per test named in ``frame[test]``, on the P cells of its rows."""
    rows: dict[str, list[int]] = {}
    for i, name in enumerate(frame[test]):
        if name:
            rows.setdefault(str(name), []).append(i)
    return tuple(Footnote(name, column, tuple(r)) for name, r in rows.items())


def _rule_note(rule: str) -> str:
    notes = {
        "fisher_if_expected_lt5_else_yates": (
            "P values: Fisher's exact test when any expected count was below 5, otherwise "
            "Pearson's \u03c7\u00b2 test with Yates' continuity correction (tables larger than 2 \u00d7 2: "
            "Fisher\u2013Freeman\u2013Halton exact test, or Pearson's \u03c7\u00b2 test)."),
        "fisher": "P values: Fisher's exact test (Fisher\u2013Freeman\u2013Halton for tables larger than 2 \u00d7 2).",
        "chisq_yates": "P values: Pearson's \u03c7\u00b2 test with Yates' continuity correction.",
        "chisq": "P values: Pearson's \u03c7\u00b2 test without continuity correction.",
    }
    return notes.get(rule, f"P values: rule {rule}.")


def _reserved(names: Sequence[str], reserved: Sequence[str]) -> None:
    clash = [n for n in names if n in reserved]
    if clash:
        raise ValueError(f"group name(s) {clash} clash with the table's own columns")


def _configured_rule(results: Results) -> str:
    """The configured 2 × 2 test rule (for notes when no comparison was made)."""
    return results.settings.tests.two_by_two


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _split_not_estimable(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with numbers, rows carrying a ``not_estimable`` reason) of a results frame."""
    if "not_estimable" not in table.columns or table.empty:
        return table, table.iloc[0:0]
    failed = table["not_estimable"].map(lambda v: not _is_missing(v))
    return table[~failed], table[failed]


def _whole_table_not_estimable(columns: Sequence[str], label_column: str, reason: str, *,
                               what: str | None = None, **values: Any) -> pd.DataFrame:
    """A one-row display frame saying why the table could not be made."""
    rec = {c: "" for c in columns}
    rec.update(values)
    rec[label_column] = st.fmt_not_estimable(reason, what)
    return pd.DataFrame([rec], columns=list(columns))


# =========================================================================== Table 1


def _table1(baseline: BaselineResult, *, synthetic: bool, smd: bool, id: str,
            title: str | None = None, unrecorded: Sequence[str] = (),
            decimals: Mapping[str, int] | None = None) -> DisplayTable:
    """Table 1 from a BaselineResult (the salvage set by salvage group).
    ``unrecorded``: labels of variables left out because no patient has a value (noted)."""
    nums, tests = baseline.numbers, baseline.tests
    groups = [OVERALL] + [g for g in baseline.groups]
    names = [str(g) for g in groups]
    _reserved(names, ("variable", "row", "indent", "label", "P", "test", "SMD"))
    sizes = {str(g): int(n) for g, n in zip(baseline.group_sizes["group"], baseline.group_sizes["n"])}
    records: list[dict] = []

    def add(variable: str, row: str, indent: int, label: str, cells: Mapping[str, str],
            p: str = "", test: str = "", smd_text: str = "") -> None:
        rec = {"variable": variable, "row": row, "indent": indent, "label": label}
        rec.update({n: cells.get(n, "") for n in names})
        rec.update({"P": p, "test": test})
        if smd:
            rec["SMD"] = smd_text
        records.append(rec)

    for t in tests.itertuples(index=False):
        sub = nums[nums["variable"] == t.variable]
        tested = t.test != "not tested"
        p_text = st.fmt_p(t.p)
        test_text = st.fmt_test(t.test) if tested else f"Not tested: {t.note}" if t.note else "Not tested"
        smd_text = st.fmt_num(t.smd, 2)
        if t.kind == "categorical":
            add(t.variable, "variable", 0, f"{t.label}, n (%)", {}, p_text, test_text, smd_text)
            for level in pd.unique(sub["level"]):
                cells = {}
                for rec in sub[sub["level"] == level].itertuples(index=False):
                    cells[str(rec.group)] = st.fmt_n_pct(int(rec.n), int(rec.n_available), digits=st.COUNT_PCT_DIGITS)
                add(t.variable, "level", 1, _level_text(t.variable, level), cells)
        else:
            values = sub[["median", "min", "max"]].to_numpy(dtype=float).ravel()
            values = values[~pd.isna(values)]
            digits = (decimals or {}).get(t.variable)
            if digits is None:
                digits = 0 if len(values) and all(float(v).is_integer() for v in values) else 1
            cells = {}
            for rec in sub.itertuples(index=False):
                if int(rec.n) == 0:
                    cells[str(rec.group)] = st.DASH
                else:
                    cells[str(rec.group)] = (f"{st.fmt_num(rec.median, digits)} "
                                             f"({st.fmt_ci(rec.min, rec.max, digits=digits)})")
            add(t.variable, "variable", 0, f"{t.label}, median (min{st.DASH}max)", cells, p_text, test_text,
                smd_text)
        missing = sub.drop_duplicates("group").set_index("group")["n_missing"]
        if (missing > 0).any():
            add(t.variable, "missing", 1, UNKNOWN_LEVELS.get(t.variable, "Missing"),
                {str(g): str(int(n)) for g, n in missing.items()})

    columns = ["variable", "row", "indent", "label", *names, "P", "test"] + (["SMD"] if smd else [])
    frame = pd.DataFrame(records, columns=columns)
    labels = {"label": "Characteristic", "P": "P", "SMD": "SMD"}
    labels.update({n: f"{n} (n = {sizes.get(n, 0)})" for n in names})
    notes = [Footnote("Percentages and P values are of patients with a known value; missing, unknown and "
                      "not documented values are counted on a row of their own.")]
    if baseline.n_missing_group:
        notes.append(Footnote(f"{baseline.n_missing_group} patients with an unknown group are not shown."))
    if unrecorded:
        notes.append(Footnote("Not shown, because no patient has a recorded value: " + "; ".join(unrecorded) + "."))
    if smd:
        notes.append(Footnote("SMD, absolute standardized mean difference between the groups (continuous "
                              "variables: from means and SDs; categorical variables: method of Yang and Dalton)."))
    display = ("label", *names, "P") + (("SMD",) if smd else ())
    return DisplayTable(frame=frame, columns=display, labels=labels, id=id, indent="indent",
                        footnotes=tuple(notes) + _test_footnotes(frame),
                        source_notes=_source_notes(synthetic), title=title)


def _recorded_decimals(results: Results, baseline: BaselineResult) -> dict[str, int]:
    """Decimals of each continuous summary from the variable as recorded (0 when every recorded
    value of the column is whole, else 1), not from its medians: a median of 55.5 from whole
    numbers prints as the other cells do (acceptance review item 12: "56.0 (0.0–93.0)" beside "52 (0–93)")."""
    adsl = results.derived.adsl
    out = {}
    for v in baseline.numbers.loc[baseline.numbers["kind"] == "continuous", "variable"].unique():
        if v in adsl.columns:
            values = pd.to_numeric(adsl[v], errors="coerce").dropna().to_numpy(dtype=float)
            if len(values):
                out[v] = 0 if all(float(x).is_integer() for x in values) else 1
    return out


def _table1_of(results: Results, *, smd: bool, id: str, title: str | None = None) -> DisplayTable:
    """Table 1 of the results; one "Not estimable: <reason>." row when the
    baseline comparison could not be made (e.g. only one salvage group)."""
    baseline = results.baseline
    if estimable(baseline):
        return _table1(baseline, synthetic=results.synthetic, smd=smd, id=id, title=title,
                       unrecorded=unrecorded_baseline_variables(results.derived),
                       decimals=_recorded_decimals(results, baseline))
    columns = ["variable", "row", "indent", "label", "P", "test"] + (["SMD"] if smd else [])
    frame = _whole_table_not_estimable(columns, "label", baseline.reason, what="comparison by salvage group",
                                       row="not_estimable", indent=0)
    return DisplayTable(frame=frame, columns=("label",), labels={"label": "Characteristic"}, id=id,
                        indent="indent", source_notes=_source_notes(results.synthetic), title=title)


def table1_frame(results: Results) -> pd.DataFrame:
    """Table 1 display frame: baseline characteristics of the salvage set.

    Columns: ``variable`` (ADSL column), ``row`` ("variable" heading row,
    "level" of a categorical variable, "missing"), ``indent`` (0/1),
    ``label``, then one column per group named by the group ("Overall",
    "Targeted", "Chemotherapy"; categorical "n (%)" with whole-number
    percentages of patients with a known value, continuous
    "median (min–max)", missing counts), ``P`` (style.fmt_p, on the heading
    row), ``test`` (the test's printed name, on the heading row). When the
    comparison is not estimable (``results.baseline`` is NotEstimable) the
    frame has one row (``row`` "not_estimable", ``label`` "Comparison by
    salvage group not estimable: <reason>.") and no group columns; variables
    that no patient has are left out and named in a note.
    """
    return _table1_of(results, smd=False, id="gt-table1").frame


def table1(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 1: baseline characteristics of the salvage set by salvage group, with P values."""
    return _table1_of(results, smd=False, id="gt-table1", title=title)


def table1_full_frame(results: Results) -> pd.DataFrame:
    """:func:`table1_frame` plus an ``SMD`` column (absolute standardized mean difference, 2 decimals)."""
    return _table1_of(results, smd=True, id="gt-table1-full").frame


def table1_full(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary version of Table 1, with the SMD column."""
    return _table1_of(results, smd=True, id="gt-table1-full", title=title)


# =========================================================================== Table 2


def _table2(response: ResponseResults, *, synthetic: bool, alpha: float, id: str = "gt-table2",
            title: str | None = None, rule: str) -> DisplayTable:
    """Table 2 from the response results. ``rule`` (the configured 2 × 2 rule)
    is named in the notes when the salvage groups could not be compared."""
    level = _level(alpha)
    records: list[dict] = []

    def add(section: str, label: str, indent: int, cr: str, pct: str, p: str = "", test: str = "",
            key: str = "") -> None:
        records.append({"section": section, "key": key, "label": label, "indent": indent, "cr": cr,
                        "pct": pct, "P": p, "test": test})

    o = response.overall
    add("Overall", "All patients with salvage therapy", 0, f"{o.x}/{o.n}", _pct_ci(o.estimate, o.lower, o.upper),
        key="overall")
    for rec in response.by_class.itertuples(index=False):
        add("By regimen class", str(rec.group), 0, f"{rec.x}/{rec.n}", _pct_ci(rec.estimate, rec.lower, rec.upper),
            key="class")
    cmp = response.group_comparison
    factors = response.factors
    # the salvage-group factor is not repeated under "By factor" (REVIEW 14); why it
    # could not be compared is said here
    group_keys = [f.key for f in response.factor_defs if f.column == GROUP_COLUMN]
    group_failed = factors[factors["factor"].isin(group_keys)]
    group_reasons = [str(r) for r in group_failed.get("not_estimable", pd.Series(dtype=object)) if not _is_missing(r)]
    if estimable(cmp):
        cmp_p, cmp_test = st.fmt_p(cmp.p), st.fmt_test(cmp.test_used)
    else:
        cmp_p = st.NOT_ESTIMABLE
        cmp_test = st.fmt_not_estimable("; ".join(dict.fromkeys(
            _empty_group_text(r, GROUP_COLUMN, "salvage group") for r in [str(cmp.reason), *group_reasons])))
    for i, rec in enumerate(response.by_group.itertuples(index=False)):
        p, test = (cmp_p, cmp_test) if i == 0 else ("", "")
        add("By salvage group", str(rec.group), 0, f"{rec.x}/{rec.n}", _pct_ci(rec.estimate, rec.lower, rec.upper),
            p, test, key="group")
    excluded = []
    disagree = []
    for fdef in response.factor_defs:
        rows = factors[factors["factor"] == fdef.key]
        if rows.empty or fdef.column == GROUP_COLUMN:   # shown once, with CIs, "By salvage group" (REVIEW 14)
            continue
        rows, failed = _split_not_estimable(rows)
        if rows.empty:  # the comparison could not be made: say why on the factor's row
            reason = "; ".join(dict.fromkeys(_empty_group_text(str(r), fdef.column, fdef.label)
                                             for r in failed["not_estimable"]))
            add("By factor", fdef.label, 0, "", "", st.NOT_ESTIMABLE, st.fmt_not_estimable(reason),
                key=f"factor:{fdef.key}")
            continue
        first = rows.iloc[0]
        add("By factor", fdef.label, 0, "", "", st.fmt_p(first["p_global"]),
            "" if _is_missing(first["test_global"]) else st.fmt_test(str(first["test_global"])),
            key=f"factor:{fdef.key}")
        add("By factor", _level_text(fdef.column, first["reference"]), 1,
            f"{int(first['x_reference'])}/{int(first['n_reference'])}", _pct(first["rate_reference"]),
            key=f"level:{fdef.key}")
        for rec in rows.itertuples(index=False):
            add("By factor", _level_text(fdef.column, rec.level), 1, f"{int(rec.x_level)}/{int(rec.n_level)}",
                _pct(rec.rate_level), key=f"level:{fdef.key}")
        for rec in failed.itertuples(index=False):
            add("By factor", _level_text(fdef.column, rec.level), 1, "", st.NOT_ESTIMABLE, key=f"level:{fdef.key}")
        if int(first["n_missing"]) > 0:
            excluded.append(f"{fdef.label}, {int(first['n_missing'])}")
        if any(v is True or (not _is_missing(v) and bool(v)) for v in rows["conventions_disagree"]):
            disagree.append(fdef.label)
    frame = pd.DataFrame(records, columns=["section", "key", "label", "indent", "cr", "pct", "P", "test"])
    notes = [Footnote(f"CR/CRi, {CR_CRI_TERM}; "
                      f"{level}% CI, exact (Clopper\u2013Pearson) confidence interval. By factor: "
                      f"percentages without intervals."),
             Footnote(_rule_note(cmp.rule if estimable(cmp) else rule))]
    if excluded:
        notes.append(Footnote("Patients with an unknown or not applicable factor are left out of that "
                              "comparison: " + "; ".join(excluded) + "."))
    if disagree:
        notes.append(Footnote(f"The P-value conventions (Fisher's exact test, \u03c7\u00b2 with and without "
                              f"Yates' correction) disagree about P < {_alpha_text(alpha)} for: "
                              + "; ".join(disagree) + " (see the supplementary table of test conventions)."))
    labels = {"label": "", "cr": "CR/CRi, n/N", "pct": f"% ({level}% CI)", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "cr", "pct", "P"), labels=labels, id=id,
                        group="section", indent="indent", footnotes=tuple(notes) + _test_footnotes(frame),
                        source_notes=_source_notes(synthetic), title=title)


def table2_frame(results: Results) -> pd.DataFrame:
    """Table 2 display frame: CR/CRi after salvage.

    Columns: ``section`` ("Overall", "By regimen class", "By salvage group",
    "By factor"), ``key`` (row kind: overall, class, group, factor:<key>,
    level:<key>), ``label``, ``indent``, ``cr`` ("x/n"), ``pct`` (percentage to
    one decimal, with the exact CI where the results hold one:
    "47.8 (35.4–60.3)"), ``P`` (style.fmt_p; salvage groups: on the first
    group's row; factors: on the factor's heading row), ``test`` (printed
    name of the test behind ``P``). A comparison that could not be made
    has ``P`` "NE" and ``test`` "Not estimable: <reason>." (a marked
    footnote); a factor that could not be compared has its heading row only.
    """
    return _table2(results.response, synthetic=results.synthetic, alpha=_alpha(results),
                   rule=_configured_rule(results)).frame


def table2(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 2: CR/CRi after salvage, overall, by regimen class, by salvage group and by factor."""
    return _table2(results.response, synthetic=results.synthetic, alpha=_alpha(results), title=title,
                   rule=_configured_rule(results))


# =========================================================================== Table 3


def _hr_text(row: Mapping | None) -> str:
    if row is None:
        return ""
    if bool(row["monotone"]):
        return st.NOT_ESTIMABLE
    ci = st.fmt_ci(None, None, lower_text=st.fmt_ratio(float(row["lower"])),
                   upper_text=st.fmt_ratio(float(row["upper"])))
    return f"{st.fmt_ratio(float(row['hr']))} ({ci})"


def _p_text(row: Mapping | None) -> str:
    if row is None:
        return ""
    return st.NOT_ESTIMABLE if bool(row["monotone"]) else st.fmt_p(float(row["p"]))


_COX_TABLE_COLUMNS = ["term", "variable", "level", "reference", "coef", "se", "hr", "lower", "upper", "z", "p",
                      "monotone"]


def _reasons(failed: pd.DataFrame, variable: str) -> str | None:
    """The ``not_estimable`` reasons of ``variable``'s rows, joined; None if there are none."""
    if failed.empty:
        return None
    texts = [str(r) for r in failed.loc[failed["variable"] == variable, "not_estimable"]]
    return "; ".join(dict.fromkeys(texts)) or None


def _left_out(results: Results) -> str:
    """Who the multivariable model leaves out and why (:func:`analysis.present.exclusions.left_out_phrase`)."""
    multi = results.cox.multivariable
    return left_out_phrase(results, results.cox.covariates, multi.n_excluded) if estimable(multi) else ""


def _table3(cox: CoxResults, *, labels: Mapping[str, str], synthetic: bool, alpha: float,
            id: str = "gt-table3", title: str | None = None, left_out: str = "") -> DisplayTable:
    multi = cox.multivariable
    multi_ok = estimable(multi)
    mt = multi.table if multi_ok else pd.DataFrame(columns=_COX_TABLE_COLUMNS)
    ut, u_failed = _split_not_estimable(cox.univariable)
    if "variable" not in ut.columns:
        ut = pd.DataFrame(columns=_COX_TABLE_COLUMNS)
    level = _level(alpha)
    records = []
    monotone_rows: dict[str, list[int]] = {"uni_hr": [], "multi_hr": []}
    uni_ne_rows: dict[str, list[int]] = {}

    def find(table: pd.DataFrame, var: str, lev: Any) -> dict | None:
        for row in table[table["variable"] == var].to_dict("records"):
            level_ = None if pd.isna(row["level"]) else row["level"]
            if level_ == lev:
                return row
        return None

    for var in cox.covariates:
        section = labels.get(var, var)
        m_rows, u_rows = mt[mt["variable"] == var], ut[ut["variable"] == var]
        u_reason = _reasons(u_failed, var)
        if m_rows.empty and u_rows.empty:  # no model gave a number: say why, once
            reason = u_reason or (multi.reason if not multi_ok else "no coefficient for this covariate")
            records.append({"section": section, "variable": var, "level": None,
                            "label": st.fmt_not_estimable(reason), "indent": 0,
                            "uni_hr": "", "uni_p": "", "multi_hr": "", "multi_p": ""})
            continue
        numeric = all(pd.isna(v) for v in list(m_rows["level"]) + list(u_rows["level"]))
        if numeric:
            levels: list = [None]
        else:
            ref = cox.reference.get(var)
            if ref is None:
                ref = next((r for r in list(m_rows["reference"]) + list(u_rows["reference"]) if r is not None), None)
            records.append({"section": section, "variable": var, "level": ref,
                            "label": f"{_level_text(var, ref)} (reference)", "indent": 0,
                            "uni_hr": "1.00" if len(u_rows) else "", "uni_p": "",
                            "multi_hr": "1.00" if len(m_rows) else "", "multi_p": ""})
            levels = list(dict.fromkeys([*m_rows["level"], *u_rows["level"]]))
        for lev in levels:
            u, m = find(ut, var, lev), find(mt, var, lev)
            label = "Per unit increase" if lev is None else _level_text(var, lev)
            rec = {"section": section, "variable": var, "level": lev, "label": label, "indent": 0,
                   "uni_hr": _hr_text(u), "uni_p": _p_text(u), "multi_hr": _hr_text(m), "multi_p": _p_text(m)}
            if u is None and u_reason:
                rec["uni_hr"] = rec["uni_p"] = st.NOT_ESTIMABLE
                uni_ne_rows.setdefault(st.fmt_not_estimable(u_reason, "univariable model"), []).append(len(records))
            if m is None and not multi_ok:
                rec["multi_hr"] = rec["multi_p"] = st.NOT_ESTIMABLE
            records.append(rec)
            for key, row in (("uni_hr", u), ("multi_hr", m)):
                if row is not None and bool(row["monotone"]):
                    monotone_rows[key].append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["section", "variable", "level", "label", "indent", "uni_hr", "uni_p",
                                           "multi_hr", "multi_p"])
    notes = [Footnote(f"Cox proportional-hazards models of overall survival from relapse. HR, hazard ratio; "
                      f"CI, {level}% Wald confidence interval. P values from Wald tests; tied event times "
                      f"handled by Efron's method.")]
    marked = []
    if multi_ok:
        text = (f"Multivariable model: {multi.n} patients, {multi.n_events} events, {multi.n_parameters} "
                f"parameters ({st.fmt_num(multi.events_per_parameter, 1)} events per parameter)")
        if multi.n_excluded:
            text += "; " + (left_out or f"{multi.n_excluded} patients left out for a missing covariate")
        notes.append(Footnote(text + "."))
    else:
        marked.append(Footnote(st.fmt_not_estimable(multi.reason, "multivariable model"), "multi_hr"))
    per_model = ut.drop_duplicates("variable")[["variable", "n", "n_events", "n_excluded"]] if len(ut) else ut
    if len(per_model) and per_model["n"].nunique() == 1 and per_model["n_events"].nunique() == 1:
        notes.append(Footnote(f"Univariable models: one model per covariate, each with "
                              f"{int(per_model['n'].iloc[0])} patients and {int(per_model['n_events'].iloc[0])} "
                              f"events."))
    elif len(per_model):
        parts = [f"{labels.get(r.variable, r.variable)}, {int(r.n)} patients and {int(r.n_events)} events"
                 for r in per_model.itertuples(index=False)]
        notes.append(Footnote("Univariable models (one per covariate): " + "; ".join(parts) + "."))
    for w in (multi.warnings if multi_ok else ()):
        notes.append(Footnote(f"Caution, multivariable model: {st.fmt_relation(w)}."))
    seen = set()
    for rec in (ut.drop_duplicates("variable").itertuples(index=False) if len(ut) else ()):
        for w in rec.warnings:
            if (rec.variable, w) not in seen:
                seen.add((rec.variable, w))
                notes.append(Footnote(f"Caution, univariable model of {labels.get(rec.variable, rec.variable)}: "
                                      f"{st.fmt_relation(w)}."))
    for key, which in (("uni_hr", "univariable"), ("multi_hr", "multivariable")):
        if monotone_rows[key]:
            marked.append(Footnote(f"Not estimable in the {which} model: the coefficient may be infinite "
                                   f"(monotone likelihood).", key, tuple(monotone_rows[key])))
    marked.extend(Footnote(text, "uni_hr", tuple(rows)) for text, rows in uni_ne_rows.items())
    labels_ = {"label": "", "uni_hr": f"HR ({level}% CI)", "uni_p": "P", "multi_hr": f"HR ({level}% CI)",
               "multi_p": "P"}
    return DisplayTable(frame=frame, columns=("label", "uni_hr", "uni_p", "multi_hr", "multi_p"), labels=labels_,
                        id=id, group="section",
                        spanners=(("Univariable", ("uni_hr", "uni_p")), ("Multivariable", ("multi_hr", "multi_p"))),
                        footnotes=tuple(notes) + tuple(marked), source_notes=_source_notes(synthetic), title=title)


def table3_frame(results: Results) -> pd.DataFrame:
    """Table 3 display frame: univariable and multivariable Cox models of OS.

    Columns: ``section`` (covariate label), ``variable`` (ADSL column),
    ``level`` (the level; the reference level on its "(reference)" row; None
    for a numeric covariate), ``label``, ``indent``, ``uni_hr`` / ``multi_hr``
    ("1.95 (0.95–4.01)"; "1.00" on the reference row; "NE" for a coefficient
    that may be infinite), ``uni_p`` / ``multi_p`` (style.fmt_p of the Wald p).
    A model that could not be fitted prints "NE" (the multivariable model: with a
    marked note on its column label giving the reason); a covariate for which
    no model could be fitted has one row whose ``label`` reads
    "Not estimable: <reason>.".
    """
    return _table3(results.cox, labels=_variable_labels(results), synthetic=results.synthetic,
                   left_out=_left_out(results),
                   alpha=_alpha(results)).frame


def table3(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 3: univariable and multivariable Cox models for overall survival, side by side."""
    return _table3(results.cox, labels=_variable_labels(results), synthetic=results.synthetic,
                   left_out=_left_out(results),
                   alpha=_alpha(results), title=title)


# =========================================================================== supplementary


def _dictionary(source: Dictionary | Results) -> tuple[Dictionary, bool]:
    if isinstance(source, Results):
        return source.cohort.dictionary, source.synthetic
    if isinstance(source, Dictionary):
        return source, False
    raise ValueError("dictionary_table needs a Dictionary or a Results object")


def dictionary_frame(source: Dictionary | Results) -> pd.DataFrame:
    """The data dictionary (``Dictionary.to_frame()``), one row per variable,
    columns name, label, type, unit, codes, range, required, definition (text),
    and ``format``: type, unit and range in one cell as the table prints them
    ("number, years, 0–100"), which keeps the table within a portrait page."""
    dictionary, _ = _dictionary(source)
    frame = dictionary.to_frame()
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    frame["format"] = [", ".join(p for p in parts if p)
                       for parts in zip(frame["type"], frame["unit"], frame["range"])]
    return frame


def dictionary_table(source: Dictionary | Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the data dictionary. Takes the Dictionary or the Results.
    Six columns (type, unit and range share one), so that the variable names and
    codes print whole on a portrait page (REVIEW 2026-12-06 items 2, 3, 24)."""
    dictionary, synthetic = _dictionary(source)
    frame = dictionary_frame(dictionary)
    labels = {"name": "Variable", "label": "Label", "format": "Type, unit, range", "codes": "Codes",
              "required": "Required", "definition": "Definition"}
    notes = (Footnote(f"Dates are written {dictionary.date_format}; no date of any patient is shown in the "
                      f"manuscript."),)
    align = {c: "left" for c in labels}
    return DisplayTable(frame=frame, columns=tuple(labels), labels=labels, id="gt-s-dictionary",
                        footnotes=notes, source_notes=_source_notes(synthetic), align=align, title=title)


def _factor_conventions(results: Results, title: str | None = None) -> DisplayTable:
    alpha = _alpha(results)
    labels_of = {f.key: f.label for f in results.response.factor_defs}
    columns_of = {f.key: f.column for f in results.response.factor_defs}
    records = []
    or_reasons: dict[str, list[str]] = {}
    for rec in results.response.factors.itertuples(index=False):
        column = columns_of.get(rec.factor, rec.column)
        if not _is_missing(getattr(rec, "not_estimable", None)):
            records.append({
                "factor": labels_of.get(rec.factor, rec.factor),
                "comparison": f"{_level_text(column, rec.level)} vs {_level_text(column, rec.reference)}",
                "cr": "", "min_expected": "", "P": st.NOT_ESTIMABLE,
                "test": st.fmt_not_estimable(_empty_group_text(str(rec.not_estimable), column,
                                                               labels_of.get(rec.factor, rec.factor))),
                "p_fisher": st.NOT_ESTIMABLE, "p_yates": st.NOT_ESTIMABLE, "p_chisq": st.NOT_ESTIMABLE,
                "disagree": "", "or": st.NOT_ESTIMABLE,
            })
            continue
        if _is_missing(rec.or_reason) and not _is_missing(rec.odds_ratio):
            odds = f"{st.fmt_ratio(rec.odds_ratio)} ({st.fmt_ci(None, None, lower_text=st.fmt_ratio(rec.or_lower), upper_text=st.fmt_ratio(rec.or_upper))})"
        else:
            odds = st.NOT_ESTIMABLE
            or_reasons.setdefault(str(rec.or_reason).removeprefix("not estimable (").rstrip(")"), []).append(
                labels_of.get(rec.factor, rec.factor))
        records.append({
            "factor": labels_of.get(rec.factor, rec.factor),
            "comparison": f"{_level_text(column, rec.level)} vs {_level_text(column, rec.reference)}",
            "cr": (f"{int(rec.x_level)}/{int(rec.n_level)} vs {int(rec.x_reference)}/{int(rec.n_reference)}"),
            "min_expected": st.fmt_num(rec.min_expected, 1),
            "P": st.fmt_p(rec.p),
            "test": st.fmt_test(str(rec.test_used)),
            "p_fisher": st.fmt_p(rec.p_fisher),
            "p_yates": st.fmt_p(rec.p_chisq_yates),
            "p_chisq": st.fmt_p(rec.p_chisq),
            "disagree": "Yes" if bool(rec.conventions_disagree) else "No",
            "or": odds,
        })
    frame = pd.DataFrame(records, columns=["factor", "comparison", "cr", "or", "min_expected", "P", "test",
                                           "p_fisher", "p_yates", "p_chisq", "disagree"])
    a = _alpha_text(alpha)
    level = _level(alpha)
    labels = {"factor": "Factor", "comparison": "Comparison", "cr": "CR/CRi, n/N",
              "or": f"OR ({level}% CI)", "min_expected":
              "Smallest expected count", "P": "P (rule)", "p_fisher": "Fisher's exact",
              "p_yates": "\u03c7\u00b2, Yates", "p_chisq": "\u03c7\u00b2, uncorrected",
              "disagree": f"Disagree about P < {a}"}
    cmp = results.response.group_comparison
    notes = (Footnote(_rule_note(cmp.rule if estimable(cmp) else _configured_rule(results))),
             Footnote(f"OR, univariable odds ratio of CR/CRi (level vs reference) from logistic regression, with "
                      f"{level}% Wald confidence interval."),
             Footnote(f"Disagree: the three P values do not all fall on the same side of {a}. "
                      f"NE: the test is undefined (all compared patients had the same response)."))
    notes += tuple(Footnote(f"OR not estimable ({reason}): {'; '.join(names)}.") for reason, names in or_reasons.items())
    return DisplayTable(frame=frame, columns=("factor", "comparison", "cr", "or", "min_expected", "P", "p_fisher",
                                              "p_yates", "p_chisq", "disagree"),
                        labels=labels, id="gt-s-conventions", footnotes=notes + _test_footnotes(frame),
                        source_notes=_source_notes(results.synthetic), title=title)


def factor_conventions_frame(results: Results) -> pd.DataFrame:
    """Every factor comparison under every P-value convention.

    Columns: ``factor`` (label), ``comparison`` ("≥18 vs <18"), ``cr``
    ("x/n vs x/n", level vs reference), ``min_expected`` (one decimal),
    ``P`` (the configured rule's p), ``test`` (its test), ``p_fisher``,
    ``p_yates``, ``p_chisq`` (style.fmt_p; "NE" where undefined),
    ``disagree`` ("Yes"/"No": the conventions fall on different sides of alpha).
    A comparison that could not be made has every P "NE", ``test``
    "Not estimable: <reason>." (a marked footnote) and empty counts.
    """
    return _factor_conventions(results).frame


def factor_conventions_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: each factor comparison by Fisher, Yates and uncorrected χ², with a disagreement flag."""
    return _factor_conventions(results, title)


_ENDPOINT_NAMES = {"OS": "Overall survival from relapse", "RFS": "Relapse-free survival from CR/CRi"}


def _endpoint_section(ep: SurvivalEndpoint) -> str:
    return f"{_ENDPOINT_NAMES.get(ep.paramcd, ep.paramcd)} (n = {ep.n}, {ep.events} events)"


def _endpoints(results: Results) -> list[tuple[str, SurvivalEndpoint | NotEstimable]]:
    """(paramcd, endpoint) of OS and RFS; the endpoint may be NotEstimable."""
    return [("OS", results.os), ("RFS", results.rfs)]


def _median_methods(results: Results, title: str | None = None) -> DisplayTable:
    primary = results.settings.survival.median_ci
    level = _level(_alpha(results))
    method_labels = {"spss": "Median, SPSS (estimate \u00b1 {z} SE)",
                     "log": "Median, Brookmeyer\u2013Crowley (log)",
                     "log-log": "Median, Brookmeyer\u2013Crowley (log\u2013log)"}
    records = []
    primary_rows, se_reasons, truncated = [], {}, []
    for paramcd, ep in _endpoints(results):
        if not estimable(ep):
            records.append({"section": _ENDPOINT_NAMES.get(paramcd, paramcd), "endpoint": paramcd, "method": "",
                            "label": st.fmt_not_estimable(ep.reason), "estimate": "", "ci": "", "se": ""})
            continue
        section = _endpoint_section(ep)
        for method in MEDIAN_METHODS:
            m = ep.medians.get(method)
            if m is None:
                continue
            med = st.median_ci_of(m)   # NR / NE / truncated lower limit: the rules of every median
            est, ci = med.estimate, med.ci
            if med.truncated:
                truncated.append(len(records))
            if method == "spss":
                se = st.fmt_num(m.se, 2) if m.se is not None else (st.NOT_ESTIMABLE if m.reached else NOT_APPLICABLE)
            else:
                se = NOT_APPLICABLE
            records.append({"section": section, "endpoint": ep.paramcd, "method": method,
                            "label": method_labels.get(method, method).format(z=st.fmt_num(m.z, 3).rstrip("0")),
                            "estimate": est, "ci": ci, "se": se})
            if method == primary:
                primary_rows.append(len(records) - 1)
            if method == "spss" and m.se is None and m.reached and m.se_reason:
                se_reasons.setdefault(_sentence(m.se_reason), []).append(len(records) - 1)
        mean = ep.mean_spss
        if mean is not None:
            records.append({"section": section, "endpoint": ep.paramcd, "method": "mean-spss",
                            "label": f"Mean, SPSS (restricted to {st.fmt_num(mean.tmax)} months)",
                            "estimate": st.fmt_num(mean.estimate), "ci": st.fmt_ci(mean.lower, mean.upper),
                            "se": st.fmt_num(mean.se, 2)})
        else:
            records.append({"section": section, "endpoint": ep.paramcd, "method": "mean-spss",
                            "label": "Mean, SPSS", "estimate": st.NOT_ESTIMABLE, "ci": st.NOT_ESTIMABLE,
                            "se": st.NOT_ESTIMABLE})
    frame = pd.DataFrame(records, columns=["section", "endpoint", "method", "label", "estimate", "ci", "se"])
    from .numbers import spss_z_text   # the multiplier as used (1.96 at alpha .05), not an undefined "z"

    notes = [Footnote("Kaplan\u2013Meier estimates, in months. SPSS: median = first event time with S \u2264 0.5, "
                      f"interval = median \u00b1 {spss_z_text(results)} SE; Brookmeyer\u2013Crowley: interval where the pointwise band "
                      "of that type crosses 0.5 (R survival quantile.survfit). Mean: area under the curve up to "
                      "the longest follow-up. NR, not reached; NE, not estimable.")]
    marked = []
    if primary_rows:
        marked.append(Footnote("Method reported in the manuscript.", "label", tuple(primary_rows)))
    for text, rows in se_reasons.items():
        marked.append(Footnote(f"SE {text[:1].lower()}{text[1:]}", "se", tuple(rows)))
    if truncated:
        marked.append(Footnote(f"{st.TRUNCATED_NOTE[:1].upper()}{st.TRUNCATED_NOTE[1:]}: the interval extends "
                               f"below 0, and a survival time cannot be negative.", "ci", tuple(truncated)))
    labels = {"label": "", "estimate": "Estimate, months", "ci": f"{level}% CI", "se": "SE"}
    return DisplayTable(frame=frame, columns=("label", "estimate", "ci", "se"), labels=labels,
                        id="gt-s-medians", group="section", footnotes=tuple(notes) + tuple(marked),
                        source_notes=_source_notes(results.synthetic), title=title)


def median_methods_frame(results: Results) -> pd.DataFrame:
    """Medians of OS and RFS by every method, and the SPSS mean.

    Columns: ``section`` (endpoint with n and events), ``endpoint`` (OS/RFS),
    ``method`` (spss, log, log-log, mean-spss), ``label``, ``estimate``
    (months, one decimal; "NR" not reached), ``ci`` ("4.2–13.1"; a bound "NR"
    when not reached, "NE" when not estimable; "NE" alone when neither bound
    is estimable), ``se`` (two decimals; SPSS rows only, "" where the method
    has no SE). An endpoint that could not be analysed (e.g. RFS when no
    patient achieved CR/CRi) has one row: ``method`` "", ``label``
    "Not estimable: <reason>.", other cells empty.
    """
    return _median_methods(results).frame


def median_methods_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: OS and RFS medians by the SPSS, log and log-log methods, and the SPSS mean (SE)."""
    return _median_methods(results, title)


def _landmarks(results: Results, title: str | None = None) -> DisplayTable:
    level = _level(_alpha(results))
    records, carried = [], []
    for paramcd, ep in _endpoints(results):
        if not estimable(ep):
            records.append({"section": _ENDPOINT_NAMES.get(paramcd, paramcd), "endpoint": paramcd, "time": "",
                            "label": st.fmt_not_estimable(ep.reason), "surv": "", "n_risk": ""})
            continue
        section = _endpoint_section(ep)
        for rec in ep.landmarks.itertuples(index=False):
            records.append({"section": section, "endpoint": ep.paramcd, "time": f"{rec.time:g}",
                            "label": f"At {rec.time:g} months",
                            "surv": _pct_ci(rec.surv, None if pd.isna(rec.lower) else rec.lower,
                                            None if pd.isna(rec.upper) else rec.upper),
                            "n_risk": str(int(rec.n_risk))})
            if int(rec.n_risk) == 0:
                carried.append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["section", "endpoint", "time", "label", "surv", "n_risk"])
    notes = [Footnote(f"Kaplan\u2013Meier estimates (%) with {level}% pointwise confidence intervals "
                      f"(log transformation, Greenwood variance). At risk: patients still followed at that time.")]
    if carried:
        notes.append(Footnote("No patient remained at risk: the last estimate is carried forward.", "surv",
                              tuple(carried)))
    labels = {"label": "", "surv": f"Survival, % ({level}% CI)", "n_risk": "At risk"}
    return DisplayTable(frame=frame, columns=("label", "surv", "n_risk"), labels=labels, id="gt-s-landmarks",
                        group="section", footnotes=tuple(notes), source_notes=_source_notes(results.synthetic),
                        title=title)


def landmark_frame(results: Results) -> pd.DataFrame:
    """OS and RFS at the configured landmarks.

    Columns: ``section`` (endpoint), ``endpoint``, ``time`` (months, as
    configured), ``label``, ``surv`` ("62.8 (51.6–76.3)", percent),
    ``n_risk`` (number still at risk). An endpoint that could not be
    analysed has one row: ``time`` "", ``label`` "Not estimable: <reason>.".
    """
    return _landmarks(results).frame


def landmark_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: survival at the landmarks (6 and 12 months) for OS and RFS, with CIs."""
    return _landmarks(results, title)


_ZPH_TRANSFORMS = {"km": "1 \u2212 Kaplan\u2013Meier (R default)", "rank": "rank", "identity": "identity",
                   "log": "log"}


def _zph(results: Results, title: str | None = None) -> DisplayTable:
    labels_of = _variable_labels(results)
    zph = results.cox.zph
    records = []
    if zph is not None and estimable(zph):
        for rec in zph.table.itertuples(index=False):
            records.append({"term": rec.term, "label": "Global test" if rec.term == "GLOBAL" else
                            labels_of.get(rec.term, rec.term), "chisq": st.fmt_num(rec.chisq, 2),
                            "df": str(int(rec.df)), "P": st.fmt_p(rec.p)})
        note = (f"Grambsch\u2013Therneau score test of proportional hazards for the multivariable Cox model "
                f"(as R survival \u2265 3.0 cox.zph); time transform: "
                f"{_ZPH_TRANSFORMS.get(zph.transform, zph.transform)}.")
    elif zph is not None:  # NotEstimable: say why in the table
        records.append({"term": "", "label": st.fmt_not_estimable(zph.reason), "chisq": "", "df": "", "P": ""})
        note = ("Grambsch\u2013Therneau score test of proportional hazards for the multivariable Cox model "
                "(as R survival \u2265 3.0 cox.zph).")
    else:
        note = "The test of proportional hazards could not be computed for this model."
    frame = pd.DataFrame(records, columns=["term", "label", "chisq", "df", "P"])
    labels = {"label": "Covariate", "chisq": "\u03c7\u00b2", "df": "df", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "chisq", "df", "P"), labels=labels, id="gt-s-zph",
                        footnotes=(Footnote(note),), source_notes=_source_notes(results.synthetic), title=title)


def zph_frame(results: Results) -> pd.DataFrame:
    """Proportional-hazards test: ``term`` (covariate or GLOBAL), ``label``,
    ``chisq`` (2 decimals), ``df``, ``P``. When the test is not estimable, one
    row: ``term`` "", ``label`` "Not estimable: <reason>.", other cells empty."""
    return _zph(results).frame


def zph_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: test of proportional hazards (cox.zph) per covariate and global."""
    return _zph(results, title)


def _cox_full(results: Results, title: str | None = None) -> DisplayTable:
    labels_of = _variable_labels(results)
    cox = results.cox
    multi = cox.multivariable
    multi_ok = estimable(multi)
    level = _level(_alpha(results))
    records, monotone = [], []
    empty = {"coef": "", "se": "", "hr": "", "ci": "", "z": "", "P": ""}
    if not multi_ok:
        records.append({"section": "Multivariable model", "term": "", "label": st.fmt_not_estimable(multi.reason),
                        **empty})
    sections = ([("Multivariable model", multi.table)] if multi_ok else []) + [("Univariable models",
                                                                                  cox.univariable)]
    for section, table in sections:
        for rec in table.itertuples(index=False):
            name = labels_of.get(rec.variable, rec.variable)
            if not _is_missing(getattr(rec, "not_estimable", None)):
                records.append({"section": section, "term": rec.term,
                                "label": st.fmt_not_estimable(str(rec.not_estimable), name), **empty})
                continue
            label = name if rec.level is None or (isinstance(rec.level, float) and math.isnan(rec.level)) else (
                f"{name}: {_level_text(rec.variable, rec.level)} vs {_level_text(rec.variable, rec.reference)}")
            records.append({"section": section, "term": rec.term, "label": label,
                            "coef": st.fmt_num(rec.coef, 3), "se": st.fmt_num(rec.se, 3),
                            "hr": st.fmt_ratio(rec.hr),
                            "ci": st.fmt_ci(None, None, lower_text=st.fmt_ratio(rec.lower),
                                            upper_text=st.fmt_ratio(rec.upper)),
                            "z": st.fmt_num(rec.z, 2), "P": st.fmt_p(rec.p)})
            if bool(rec.monotone):
                monotone.append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["section", "term", "label", "coef", "se", "hr", "ci", "z", "P"])

    def test_text(name: str, t) -> str:
        return f"{name} \u03c7\u00b2 = {st.fmt_num(t.statistic, 2)}, df = {t.df}, {st.fmt_p_text(t.p)}"

    notes = [
        Footnote(f"Cox proportional-hazards models of overall survival from relapse (Efron's method for ties). "
                 f"coef, log hazard ratio; SE, its standard error; HR, hazard ratio with {level}% Wald CI; "
                 f"z and P, Wald test."),
    ]
    if multi_ok:
        notes.append(Footnote(
            f"Multivariable model: {multi.n} patients, {multi.n_events} events, {multi.n_parameters} "
            f"parameters ({st.fmt_num(multi.events_per_parameter, 1)} events per parameter)"
            + (", " + left_out_phrase(results, results.cox.covariates, multi.n_excluded) if multi.n_excluded else "")
            + ". "
            + "; ".join([test_text("Likelihood-ratio test", multi.likelihood_ratio_test),
                         test_text("Wald test", multi.wald_test),
                         test_text("score (log-rank) test", multi.score_test)])
            + f"; concordance (Harrell's C) {st.fmt_num(multi.concordance, 3)}."))
        notes.extend(Footnote(f"Caution, multivariable model: {st.fmt_relation(w)}.") for w in multi.warnings)
    marked = ()
    if monotone:
        marked = (Footnote("The coefficient may be infinite (monotone likelihood): its HR, CI and P are not "
                           "meaningful.", "label", tuple(monotone)),)
    labels = {"label": "", "coef": "coef", "se": "SE", "hr": "HR", "ci": f"{level}% CI", "z": "z", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "coef", "se", "hr", "ci", "z", "P"), labels=labels,
                        id="gt-s-cox", group="section", footnotes=tuple(notes) + marked,
                        source_notes=_source_notes(results.synthetic), title=title)


def cox_full_frame(results: Results) -> pd.DataFrame:
    """Full Cox output: ``section`` ("Multivariable model", "Univariable models"),
    ``term``, ``label`` ("Salvage group: Chemotherapy vs Targeted"), ``coef``,
    ``se`` (3 decimals), ``hr``, ``ci`` (2 decimals), ``z`` (2 decimals), ``P``.
    A model that could not be fitted has one row whose ``label`` says why
    ("Not estimable: <reason>." for the multivariable model, "<covariate> not
    estimable: <reason>." for a univariable one) and empty cells."""
    return _cox_full(results).frame


def cox_full_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the Cox models in full, with the global tests and concordance in the notes."""
    return _cox_full(results, title)


def _transplant_summary(results: Results, title: str | None = None) -> DisplayTable:
    t = results.transplant
    records = [
        {"section": "Patients", "label": "Received salvage therapy", "indent": 0, "value": str(t.n_salvage)},
        {"section": "Patients", "label": "CR/CRi after salvage", "indent": 0,
         "value": st.fmt_n_pct(t.n_cr, t.n_salvage)},
        {"section": "Patients", "label": "Consolidative allo-HSCT", "indent": 0,
         "value": st.fmt_n_pct(t.n_hsct, t.n_cr)},
        {"section": "Patients", "label": "First allo-HSCT", "indent": 1, "value": st.fmt_n_pct(t.n_first, t.n_hsct)},
        {"section": "Patients", "label": "Second allo-HSCT", "indent": 1,
         "value": st.fmt_n_pct(t.n_second, t.n_hsct)},
    ]
    for outcome, n in t.outcomes.items():
        if outcome == "Not in CR/CRi before transplant" and not n:     # a row only for a patient it describes
            continue
        records.append({"section": "Outcome after allo-HSCT", "label": outcome, "indent": 0,
                        "value": st.fmt_n_pct(int(n), t.n_hsct)})
    frame = pd.DataFrame(records, columns=["section", "label", "indent", "value"])
    notes = (Footnote("Percentages: CR/CRi of patients with salvage therapy; allo-HSCT of patients in CR/CRi; "
                      "first or second allo-HSCT and outcomes of transplanted patients."),)
    return DisplayTable(frame=frame, columns=("label", "value"), labels={"label": "", "value": "n (%)"},
                        id="gt-s-transplant", group="section", indent="indent", footnotes=notes,
                        source_notes=_source_notes(results.synthetic), title=title)


def transplant_summary_frame(results: Results) -> pd.DataFrame:
    """Consolidative allo-HSCT: ``section``, ``label``, ``indent``, ``value`` ("7 (22%)")."""
    return _transplant_summary(results).frame


def transplant_summary_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: consolidative allo-HSCT after salvage, counts and outcomes."""
    return _transplant_summary(results, title)


_LISTING_LABELS = {"no": "No.", "age": "Age, years", "regimen": "Salvage regimen",
                   "response": "Best response", "sequence": "Allo-HSCT", "cr_to_hsct": "CR to allo-HSCT, months",
                   "outcome": "Outcome", "followup": "Follow-up after allo-HSCT, months"}


def _transplant_listing(results: Results, title: str | None = None) -> DisplayTable:
    lst = results.transplant.listing
    records = []
    for rec in lst.itertuples(index=False):
        records.append({"no": str(int(rec.LISTNO)),
                        "age": st.fmt_num(rec.AGE, 0), "regimen": _text(rec.SALVMOD),
                        "response": _text(rec.BESTRESP), "sequence": _text(rec.HSCTSEQ),
                        "cr_to_hsct": st.fmt_num(rec.CR_TO_HSCT_MONTHS, 1), "outcome": _text(rec.OUTCOME),
                        "followup": st.fmt_num(rec.FOLLOWUP_AFTER_HSCT_MONTHS, 1)})
    frame = pd.DataFrame(records, columns=list(_LISTING_LABELS))
    notes = (Footnote("No., a sequence number for this listing only (ordered by transplant date); it links to "
                      "no other record. Follow-up runs to death or last contact."),)
    return DisplayTable(frame=frame, columns=tuple(_LISTING_LABELS), labels=_LISTING_LABELS,
                        id="gt-s-transplant-listing", footnotes=notes,
                        source_notes=_source_notes(results.synthetic), title=title)


def transplant_listing_frame(results: Results) -> pd.DataFrame:
    """Listing of transplanted patients: ``no`` (LISTNO, the only identifier),
    ``site``, ``age`` (whole years), ``regimen``, ``response``, ``sequence``,
    ``cr_to_hsct``, ``outcome``, ``followup`` (months, one decimal). No dates."""
    return _transplant_listing(results).frame


def transplant_listing_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: listing of the patients with consolidative allo-HSCT."""
    return _transplant_listing(results, title)


def _versions(results: Results, title: str | None = None) -> DisplayTable:
    records = [{"section": "Software", "label": k, "value": str(v)} for k, v in results.versions.items()]
    records.append({"section": "Inputs", "label": "Data files (SHA-256, first 16 hex digits)",
                    "value": str(results.cohort.data_hash)})
    records.append({"section": "Inputs", "label": "Analysis settings (SHA-256, first 16 hex digits)",
                    "value": str(results.config.analysis_hash())})
    records.append({"section": "Inputs", "label": "Synthetic data", "value": "Yes" if results.synthetic else "No"})
    frame = pd.DataFrame(records, columns=["section", "label", "value"])
    return DisplayTable(frame=frame, columns=("label", "value"), labels={"label": "", "value": "Version"},
                        id="gt-s-versions", group="section", source_notes=_source_notes(results.synthetic),
                        align={"value": "left"}, title=title)


def versions_frame(results: Results) -> pd.DataFrame:
    """Software versions (``results.versions``) and input fingerprints:
    ``section`` ("Software", "Inputs"), ``label``, ``value``."""
    return _versions(results).frame


def versions_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: software versions and the fingerprints of the inputs."""
    return _versions(results, title)


def _flow(results: Results, title: str | None = None) -> DisplayTable:
    flow = results.derived.flow
    steps = flow.steps
    parent_of = dict(zip(steps["step"], steps["parent"]))

    def depth(step: str) -> int:
        d, p = 0, parent_of.get(step)
        while p is not None and not (isinstance(p, float) and math.isnan(p)) and d < 20:
            d, p = d + 1, parent_of.get(p)
        return d

    records = []
    for rec in steps.itertuples(index=False):
        label = rec.label
        if str(rec.step).startswith("cr_") and str(rec.parent).startswith("class_"):
            label = "CR/CRi"  # indented under its regimen class
        records.append({"step": rec.step, "kind": rec.kind, "label": label, "indent": depth(rec.step),
                        "n": str(int(rec.n))})
        if rec.kind == "exclusion":
            for ex in flow.exclusions.itertuples(index=False):
                records.append({"step": f"{rec.step}:reason", "kind": "reason", "label": str(ex.reason),
                                "indent": depth(rec.step) + 1, "n": str(int(ex.n))})
    frame = pd.DataFrame(records, columns=["step", "kind", "label", "indent", "n"])
    notes = (Footnote("Every patient who relapsed after CD19 CAR-T therapy is accounted for; indented rows are "
                      "subsets of the row above them."),)
    return DisplayTable(frame=frame, columns=("label", "n"), labels={"label": "", "n": "n"}, id="gt-s-flow",
                        indent="indent", footnotes=notes, source_notes=_source_notes(results.synthetic),
                        title=title)


def flow_frame(results: Results) -> pd.DataFrame:
    """Patient flow: ``step`` (PatientFlow step, or "<step>:reason"), ``kind``
    (population, exclusion, subgroup, reason), ``label``, ``indent`` (depth
    under the first step), ``n``; the reasons for no salvage follow their step."""
    return _flow(results).frame


def flow_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the patient-flow steps and the reasons for no salvage, with n."""
    return _flow(results, title)
