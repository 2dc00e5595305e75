"""The letter-ready change table: one row per change a reader can see.

Input: two ledgers (:func:`analysis.ledger.build_ledger`). Items are the
registry numbers the documents show (prose) and the display entries (table
cells, figure texts, generated sentences) whose printed text changed, or that
exist in one ledger only. They are combined into rows:

1. cells of one table row (or one row of a figure's risk table, one forest-plot
   row, one figure annotation) form one item: "Table 3, row Age group › ≥18";
2. items that express one change are merged: their *signatures* — the number
   tokens that disappeared and those that appeared between the two printed
   texts — are equal (and hold a decimal number or at least two tokens, so
   that two unrelated counts going from 3 to 4 stay apart), or one signature
   is contained in the other and the two share a place (a count and the
   sentence that quotes it with its percentage);
   then a merged group is split again so that the row's text shows every number that changed
   (:func:`_split`): a place stays in the row only if the text shown prints all its changed
   numbers, and two rows of one table or figure only if all their changed cells are equal;
3. each row names every place as the reader sees it, in the order the
   manuscript shows them, and rows are ordered by first appearance.

Settings that changed are described in words (:mod:`.settings`) and the
patients that changed are summarised (:mod:`.freeze`) above the table.
Writers: Markdown (:func:`to_markdown`), Word (:func:`write_docx`, python-docx).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .displays import numbers_in
from .freeze import FreezeLog, freeze_log, rows as freeze_rows, summary as freeze_summary
from .settings import settings_changes

MISSING = "\u2014"
_BIG = 10**9


@dataclass
class _Item:
    ids: list[str]
    places: list[str]
    order: tuple
    old: str | None
    new: str | None
    group: str = ""           # display row key ("" for registry numbers)
    # (column, old, new, column in the old ledger): a header such as "% (95% CI)" may itself have changed
    cells: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)

    @property
    def signature(self) -> tuple[Counter, Counter]:
        o = Counter(numbers_in(self.old or ""))
        n = Counter(numbers_in(self.new or ""))
        return o - n, n - o


@dataclass(frozen=True)
class ChangeRow:
    """One row of the change table: ``where`` (places as the reader sees them, in
    manuscript order), ``before`` and ``after`` (printed text; "—" for an
    addition or removal), ``kind`` ("changed", "added", "removed"), ``keys``
    (the ledger keys merged into the row)."""

    where: tuple[str, ...]
    before: str
    after: str
    kind: str
    keys: tuple[str, ...]

    @property
    def where_text(self) -> str:
        """The places joined for a table cell, those of one table or figure written once:
        "Table S7, row A; row B; Figure 5, row A, HR"."""
        out: list[str] = []
        previous = None
        for place in self.where:
            head, sep, rest = place.partition(", ")
            if sep and head == previous:
                out.append(rest)
            else:
                out.append(place)
            previous = head if sep and re.match(r"^(Table|Figure) S?\d+$", head) else None
        return "; ".join(out)


@dataclass(frozen=True)
class ChangeReport:
    """Rows, changed settings (descriptions), the freeze log, and which inputs changed."""

    rows: tuple[ChangeRow, ...]
    settings: tuple[str, ...]
    freeze: FreezeLog
    inputs_changed: tuple[str, ...]
    not_shown: tuple[str, ...]   # registry keys that changed but no document shows


def _order(x: Any) -> tuple:
    if x is None:
        return (_BIG,)
    if isinstance(x, (list, tuple)):
        return tuple(int(v) for v in x)
    return (int(x), -1, -1)


def _split_place(place: str) -> tuple[str, str]:
    """(row group, column) of a display place: tables by ", column ", figure risk rows by " at N months"."""
    if ", column " in place and ", row " in place:
        head, _, col = place.rpartition(", column ")
        return head, col
    m = re.match(r"^(.*?) at (\S+ months)$", place)
    if m:
        return m.group(1), m.group(2)
    return place, ""


def _paragraph(key: str, entry: Mapping[str, Any]) -> str:
    """The generated paragraph a sentence entry belongs to (its key without ", sentence N")."""
    return re.sub(r", sentence \d+$", "", key) if entry.get("kind") == "text" else ""


def _sentence_pairs(od: Mapping[str, Any], nd: Mapping[str, Any]) -> list[tuple[str | None, str | None]]:
    """(old key, new key) of the generated sentences that differ, matched by content.

    Sentence keys are numbered by position, so one sentence more or less would pair every later
    sentence with its neighbour. The two sentence lists of each paragraph are aligned instead
    (difflib.SequenceMatcher): equal sentences are unchanged wherever they moved, a sentence
    only in the old list is removed, one only in the new list added, and within a replaced block
    the sentences are paired in order when the block has as many old as new sentences, each new
    sentence otherwise with the most similar old one left (ratio at least 0.5)."""
    import difflib

    def paragraphs(d: Mapping[str, Any]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, e in d.items():
            if para := _paragraph(key, e):
                out.setdefault(para, []).append(key)
        return {p: sorted(keys, key=lambda k: _order(d[k].get("order"))) for p, keys in out.items()}

    op, np_ = paragraphs(od), paragraphs(nd)
    pairs: list[tuple[str | None, str | None]] = []
    for para in list(np_) + [p for p in op if p not in np_]:
        ok, nk = op.get(para, []), np_.get(para, [])
        ot, nt = [str(od[k].get("text")) for k in ok], [str(nd[k].get("text")) for k in nk]
        sm = difflib.SequenceMatcher(None, ot, nt, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            olds, news = list(range(i1, i2)), list(range(j1, j2))
            if len(olds) == len(news):
                pairs += [(ok[i], nk[j]) for i, j in zip(olds, news)]
                continue
            matched: dict[int, int] = {}
            last = -1
            for j in news:
                ratios = [(difflib.SequenceMatcher(None, ot[i], nt[j]).ratio(), i) for i in olds if i > last]
                best = max(ratios, default=(0.0, -1))
                if best[0] >= 0.5:
                    matched[j], last = best[1], best[1]
            pairs += [(ok[i], None) for i in olds if i not in matched.values()]
            pairs += [(ok[matched[j]] if j in matched else None, nk[j]) for j in news]
    return pairs


def _display_items(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Item]:
    """One item per changed, added or removed display entry; ``group`` is its table or figure row.
    Generated sentences are matched by content (:func:`_sentence_pairs`), not by their numbered keys."""
    od, nd = old.get("displays") or {}, new.get("displays") or {}
    items = []
    for okey, nkey in _sentence_pairs(od, nd):
        o, n = od.get(okey) if okey else None, nd.get(nkey) if nkey else None
        e = n or o
        ot = None if o is None else str(o.get("text"))
        nt = None if n is None else str(n.get("text"))
        place = str(e.get("place"))
        items.append(_Item(ids=[k for k in dict.fromkeys((nkey, okey)) if k], places=[place],
                           order=_order(e.get("order")), old=ot, new=nt, cells=[("", ot, nt, "")]))
    for key in list(nd) + [k for k in od if k not in nd]:
        o, n = od.get(key), nd.get(key)
        if _paragraph(key, n or o):
            continue
        ot = None if o is None else str(o.get("text"))
        nt = None if n is None else str(n.get("text"))
        if ot == nt:
            continue
        e = n or o
        place = str(e.get("place"))
        head, col = _split_place(place)
        old_col = col if o is None else _split_place(str(o.get("place")))[1]
        items.append(_Item(ids=[key], places=[place], order=_order(e.get("order")), old=ot, new=nt,
                           group=head, cells=[(col, ot, nt, old_col)]))
    return items


def _number_items(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[_Item], list[str]]:
    on, nn = old.get("numbers") or {}, new.get("numbers") or {}
    items, hidden = [], []
    for key in list(nn) + [k for k in on if k not in nn]:
        o, n = on.get(key), nn.get(key)
        ot = None if o is None else str(o.get("text"))
        nt = None if n is None else str(n.get("text"))
        if ot == nt:
            continue
        e = n or o
        with_displays = old.get("displays") is not None and new.get("displays") is not None
        places: list[str] = []
        for entry in (n, o):
            if entry is None:
                continue
            # with display entries, tables, figures and generated paragraphs have entries of their own
            fields = ("places",) if with_displays else ("places", "displayed_in")
            for f in fields:
                places += [p for p in (entry.get(f) or []) if p not in places]
        if not places:
            if not any((entry or {}).get(f) for entry in (n, o) for f in ("places", "displayed_in", "where")):
                hidden.append(key)
            continue
        items.append(_Item(ids=[key], places=places, order=_order(e.get("order")), old=ot, new=nt))
    return items, hidden


def _is_prose(place: str) -> bool:
    return not re.match(r"^(Table|Figure) S?\d+\b", place)


def _nontrivial(sig: tuple[Counter, Counter]) -> bool:
    """Distinctive enough to say two places show the same change: a decimal number, or more than one
    count changed (one count going from 24 to 25 in two places may be two different counts)."""
    tokens = list((sig[0] + sig[1]).elements())
    return len(tokens) >= 3 or any("." in t for t in tokens)


def _contains(big: tuple[Counter, Counter], small: tuple[Counter, Counter]) -> bool:
    return not (small[0] - big[0]) and not (small[1] - big[1]) and bool(small[0] or small[1])


def _floats(places: Sequence[str]) -> set[str]:
    return {p.split(",")[0] for p in places}


def _merge(items: list[_Item]) -> list[list[_Item]]:
    """Components of: same row of one table or figure; equal non-trivial signatures; nested
    signatures at a shared place."""
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    sigs = [it.signature for it in items]
    kinds = [(it.old is None, it.new is None) for it in items]
    first_of_group: dict[tuple, int] = {}
    for i, it in enumerate(items):
        if it.group:
            g = (it.group, kinds[i])
            if g in first_of_group:
                union(i, first_of_group[g])
            else:
                first_of_group[g] = i
    by_sig: dict[tuple, int] = {}
    for i, sig in enumerate(sigs):
        if _nontrivial(sig):
            k = (tuple(sorted(sig[0].elements())), tuple(sorted(sig[1].elements())), kinds[i])
            if k in by_sig:
                union(i, by_sig[k])
            else:
                by_sig[k] = i
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if kinds[i] != kinds[j]:
                continue
            shared = bool(set(items[i].places) & set(items[j].places))
            for big, small in ((sigs[i], sigs[j]), (sigs[j], sigs[i])):
                if _contains(big, small) and (shared or (small[0] + small[1]).total() >= 3):
                    union(i, j)
                    break
    groups: dict[int, list[_Item]] = {}
    for i, it in enumerate(items):
        groups.setdefault(find(i), []).append(it)
    return list(groups.values())


def _units(group: list[_Item]) -> dict[str, list[_Item]]:
    """A registry number or generated sentence alone, or the changed cells of one table/figure row."""
    units: dict[str, list[_Item]] = {}
    for it in sorted(group, key=lambda it: it.order):
        units.setdefault(it.group or f"number:{it.ids[0]}", []).append(it)
    return units


def _main_unit(units: Sequence[list[_Item]]) -> list[_Item]:
    """The unit whose text a row shows: the one the reader meets first (prose before tables), whole
    phrase on a tie."""
    return min(units, key=lambda ms: (min(m.order for m in ms),
                                      -sum((m.signature[0] + m.signature[1]).total() for m in ms)))


def _unit_cells(members: list[_Item]) -> tuple:
    """The (old, new) texts of a unit's changed cells, column names aside (Table 3 and Table S7 name
    their columns differently)."""
    return tuple(sorted((str(m.old), str(m.new)) for m in members))


def _covers(main: list[_Item], members: list[_Item]) -> bool:
    """Every number of the unit that changed (its signature) is printed in the main unit's texts:
    the numbers that went in its before text, those that came in its after text."""
    before = {t for m in main for t in numbers_in(m.old or "")}
    after = {t for m in main for t in numbers_in(m.new or "")}
    gone = {t for m in members for t in m.signature[0]}
    came = {t for m in members for t in m.signature[1]}
    return gone <= before and came <= after


def _split(group: list[_Item]) -> list[list[_Item]]:
    """Split a merged group so that every changed number it holds is shown in its row's text.

    A row shows only the text of its main unit (:func:`_main_unit`); another unit stays in the row
    only if that text prints every number of the unit that changed, and a row of the main unit's own
    table or figure only if all its changed cells, old and new, are equal to the main unit's (Table
    S14's median rows share the estimate but not the CI: one row each). The units left over form
    further rows by the same rule."""
    left = list(_units(group).values())
    out: list[list[_Item]] = []
    while left:
        main = _main_unit(left)
        row = [main]
        display = _display_of(main)
        for members in left:
            if members is main:
                continue
            if display and _display_of(members) == display:
                ok = _unit_cells(members) == _unit_cells(main)
            else:
                ok = _covers(main, members)
            if ok:
                row.append(members)
        out.append([it for members in row for it in members])
        left = [members for members in left if not any(members is u for u in row)]
    return out


def _display_of(members: list[_Item]) -> str:
    """The table or figure a row unit belongs to ("Table S14"); "" for prose and generated text."""
    if not members[0].group:
        return ""
    m = re.match(r"^((?:Table|Figure) S?\d+)\b", members[0].group)
    return m.group(1) if m else ""


def _row(group: list[_Item]) -> ChangeRow:
    group = sorted(group, key=lambda it: it.order)
    units = _units(group)

    def unit_places(members: list[_Item]) -> list[str]:
        if members[0].group and len(members) > 1:
            return [members[0].group]
        return list(members[0].places)

    def unit_text(members: list[_Item], which: int) -> str | None:
        if not members[0].group:
            return members[0].old if which == 1 else members[0].new
        if len(members) == 1:
            return members[0].cells[0][which]
        # each value under the column header of its own ledger (the old text under the old header)
        parts = []
        for m in members:
            column = m.cells[0][3] if which == 1 else m.cells[0][0]
            if m.cells[0][which] is not None:
                parts.append(f"{column}: {m.cells[0][which]}" if column else str(m.cells[0][which]))
        return "; ".join(parts) if parts else None

    places: list[str] = []
    for members in units.values():
        for p in unit_places(members):
            if p not in places:
                places.append(p)
    # the text shown: the unit the reader meets first (prose before tables), whole phrase on a tie
    main = _main_unit(list(units.values()))
    before, after = unit_text(main, 1), unit_text(main, 2)
    kind = "added" if before is None else "removed" if after is None else "changed"
    return ChangeRow(tuple(places), before if before is not None else MISSING,
                     after if after is not None else MISSING, kind, tuple(k for it in group for k in it.ids))


def change_report(old: Mapping[str, Any], new: Mapping[str, Any]) -> ChangeReport:
    """The rows, settings and freeze log between two ledgers."""
    from ..ledger import INPUTS

    numbers, hidden = _number_items(old, new)
    items = numbers + _display_items(old, new)
    rows = sorted((_row(part) for g in _merge(items) for part in _split(g)),
                  key=lambda r: min(it.order for it in items if it.ids[0] in r.keys))
    os_, ns = dict(old.get("stamp") or {}), dict(new.get("stamp") or {})
    inputs = tuple(name for fld, name in INPUTS if os_.get(fld) != ns.get(fld))
    settings = tuple(d for _, d in settings_changes(old.get("settings"), new.get("settings")))
    log = freeze_log(old.get("patients"), new.get("patients")) if "data" in inputs or (
        old.get("patients") and new.get("patients")) else FreezeLog()
    return ChangeReport(tuple(rows), settings, log, inputs, tuple(hidden))


# --------------------------------------------------------------------------- writers


def summary_lines(report: ChangeReport) -> list[str]:
    """Sentences above the table: inputs, settings, patients, counts."""
    from ..ledger import INPUTS

    out = ["Inputs: " + "; ".join(f"{name} {'changed' if name in report.inputs_changed else 'unchanged'}"
                                  for _, name in INPUTS) + "."]
    if report.settings:
        out.append("Settings changed: " + "; ".join(report.settings) + ".")
    if "data" in report.inputs_changed or report.freeze.any:
        out.append("Data: " + freeze_summary(report.freeze))
    kinds = Counter(r.kind for r in report.rows)
    out.append(f"{len(report.rows)} change{'' if len(report.rows) == 1 else 's'} to reported numbers"
               + (f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if kinds else "") + ".")
    return out


_CITATION_RE = re.compile(r"\s*\[[^\[\]]*?@[^\[\]]*\]")


def reader_text(text: str) -> str:
    """A ledger text as a reader sees it in the change table: Pandoc citations ("[@kaplan1958]",
    "[@yates1934; @fisher1922]") dropped, as the table files drop them from captions — the
    documents number them through the CSL style, which the ledger does not know."""
    return _CITATION_RE.sub("", str(text))


def _sections(report: ChangeReport) -> list[tuple]:
    """What every writer prints below the summary, in order: ``("table", header,
    rows)`` or ``("p", text)`` — the change table (or that nothing changed), then
    the patients whose data changed."""
    out: list[tuple] = []
    if report.rows:
        out.append(("table", ("#", "Where", "Before", "After"),
                    [(str(i), r.where_text, reader_text(r.before), reader_text(r.after))
                     for i, r in enumerate(report.rows, 1)]))
    else:
        out.append(("p", "No reported number changed."))
    prows = freeze_rows(report.freeze)
    if prows:
        out += [("p", "Patients whose data changed:"), ("table", ("USUBJID", "Site", "Change", "Fields"), prows)]
    return out


def _md(text: str) -> str:
    text = " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")
    return text or " "


def to_markdown(report: ChangeReport) -> str:
    """Summary sentences, the change table (# | Where | Before | After) and the patient log."""
    out = [" ".join(summary_lines(report))]
    for kind, *content in _sections(report):
        if kind == "p":
            out += ["", content[0]]
        else:
            header, rows = content
            rule = ["---:" if h == "#" else "---" for h in header]
            out += ["", "| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
            out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    if report.not_shown:
        out += ["", f"Also changed, but printed nowhere in the documents: {len(report.not_shown)} "
                    f"registry number{'' if len(report.not_shown) == 1 else 's'} "
                    f"({', '.join(f'`{k}`' for k in report.not_shown)})."]
    return "\n".join(out) + "\n"


def write_docx(report: ChangeReport, path: str | Path) -> Path:
    """The same content as :func:`to_markdown` as a Word document (python-docx), written atomically."""
    import docx
    from docx.shared import Pt

    from ..outputs import write_bytes_atomic

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.size = Pt(10)
    d.add_heading("Changes to reported numbers", level=1)
    for line in summary_lines(report):
        d.add_paragraph(line)

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        t = d.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            cells = t.add_row().cells
            for cell, text in zip(cells, row):
                cell.text = str(text)

    for kind, *content in _sections(report):
        if kind == "p":
            d.add_paragraph(content[0])
        else:
            table(*content)
    import io

    buf = io.BytesIO()
    d.save(buf)
    return write_bytes_atomic(Path(path), buf.getvalue())


def to_html(report: ChangeReport) -> str:
    """A standalone HTML page with the same content as :func:`to_markdown`."""
    import html

    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>Changes to reported numbers</title>",
             "<style>body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
             "th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}</style>",
             "</head>", "<body>", "<h1>Changes to reported numbers</h1>"]
    parts += [f"<p>{e(line)}</p>" for line in summary_lines(report)]

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>")
        parts.extend("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        parts.append("</tbody></table>")

    for kind, *content in _sections(report):
        if kind == "p":
            parts.append(f"<p>{e(content[0])}</p>")
        else:
            table(*content)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
