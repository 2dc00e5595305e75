"""The marked-up manuscript: every number that changed since the submitted version, with its
previous value, in HTML and Word.

Input: the executed Markdown of a document (what Quarto hands to Pandoc: prose with inline
results, tables as Pandoc grid tables (pipe tables are read too), front matter with ``{{< var >}}`` shortcodes, or
resolved), the ledger of the submitted version and the ledger of this render. Output: the same
Markdown with each changed number written as a deletion and an insertion,
``[8.6]{.deletion}[9.1]{.insertion}``, and a summary at the top; Pandoc (pypandoc-binary)
turns it into HTML, where the deletion is struck through and the insertion bold and
highlighted (~~8.6~~ **9.1**), and into Word, where Pandoc's docx writer makes the two spans
real tracked changes (``w:del``/``w:ins``, author "analysis diff"), which the authors can
accept or reject.

Where a change is marked:

* prose numbers of the registry (``places`` of the ledger): the first occurrence of the new
  text in the section of the place ("Results › Survival": the heading path; "Abstract ›
  Results": the abstract paragraph with that bold lead);
* table cells (display entries): the table of the float (anchored by its ``{#label}`` or by a
  caption starting "Table 2:"), the row whose stub path and the column whose header match the
  entry's place;
* figure texts cannot be marked inside an image: they are listed in the summary.

The render produces it when the setting ``revisions.submitted_ledger`` names the submitted
version's ledger (:mod:`.render`, run by the post-render step on the executed Markdown Quarto
keeps with ``keep-md``); by hand: ``python -m analysis diff SUBMITTED.json NEW.json --markup
FILE.md``. The test suite assembles the executed Markdown with tests/qmd/harness.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ledger import HEADING_SEPARATOR
from .changes import change_report, summary_lines

AUTHOR = "analysis diff"
NBSP = "\u00a0"
_VAR_RE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
_MARK_RE = re.compile(r"\^[a-z]+\^")
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{[^{}]*\})?[ \t]*$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~^$@&])")
CSS = (".deletion{text-decoration:line-through;color:#a00}"
       ".insertion{font-weight:bold;background:#ffef9f}"
       ".revision-summary{border:1px solid #999;padding:0.5em 1em;margin-bottom:1.5em;background:#f6f6f6}")


@dataclass
class Marked:
    """What :func:`markup_markdown` did: ``marked`` ((where, old, new) marked in the text),
    ``unplaced`` ((where, old, new) of this document's changes that could not be found in it),
    ``figures`` ((where, old, new) of figure texts, listed in the summary), ``added`` (table cells
    new in this version, marked as insertions) and ``removed`` (entries of the submitted version
    that are gone, listed in the summary)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    marked: list[tuple[str, str, str]] = field(default_factory=list)
    unplaced: list[tuple[str, str, str]] = field(default_factory=list)
    figures: list[tuple[str, str, str]] = field(default_factory=list)


def _esc(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _marked(old: str | None, new: str | None, date: str) -> str:
    """``new`` in Markdown with its changed numbers marked one by one when only numbers changed
    (the words around them are the same), else the whole old and new texts."""
    from .displays import NUMBER_RE

    if old is None or new is None or NUMBER_RE.sub("#", old) != NUMBER_RE.sub("#", new):
        return _span(old, new, date)
    out, pos = [], 0
    olds = NUMBER_RE.findall(old)
    for k, m in enumerate(NUMBER_RE.finditer(new)):
        out.append(_esc(new[pos:m.start()]))
        out.append(m.group(0) if olds[k] == m.group(0) else _span(olds[k], m.group(0), date))
        pos = m.end()
    out.append(_esc(new[pos:]))
    return "".join(out)


def _replace_first(lines: list[str], rng: range, old: str, new: str, date: str, slots: dict[str, str]) -> bool:
    """Mark the first occurrence of ``new`` in ``lines[rng]`` (through a placeholder slot)."""
    pattern = _loose(new)
    grids = _grid_tables(lines)
    for i in rng:
        m = pattern.search(lines[i])
        if m:
            grid = next(((a, b) for a, b in grids if a <= i < b), None)
            if grid is not None:           # a header or cell of a grid table: keep the grid aligned
                _replace_in_grid(lines, grid, i, m.start(), m.end(), _marked(old, new, date))
                return True
            slot = f"\ue000{len(slots)}\ue001"
            slots[slot] = _marked(old, new, date)
            lines[i] = lines[i][:m.start()] + slot + lines[i][m.end():]
            return True
    return False


def _loose(text: str) -> re.Pattern:
    """``text`` as printed in Markdown: any punctuation possibly backslash-escaped (Quarto escapes
    inline results), not inside or next to a longer number."""
    parts = [("\\\\?" + re.escape(ch)) if not ch.isalnum() and not ch.isspace() else re.escape(ch) for ch in text]
    return re.compile(r"(?<![\w.])" + "".join(parts) + r"(?![\w])" if text[-1:].isalnum() else
                      r"(?<![\w.])" + "".join(parts))


def _span(old: str | None, new: str | None, date: str) -> str:
    """Deletion of ``old`` and insertion of ``new`` (either may be None: added or removed)."""
    attrs = f'author="{AUTHOR}"' + (f' date="{date}"' if date else "")
    return ((f"[{_esc(old)}]{{.deletion {attrs}}}" if old is not None else "")
            + (f"[{_esc(new)}]{{.insertion {attrs}}}" if new is not None else ""))


def _norm(text: str) -> str:
    text = _MARK_RE.sub("", str(text)).replace(NBSP, " ").replace("**", "")
    text = re.sub(r"\\(.)", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def _in_document(place: str, document: str) -> bool:
    supplement = bool(re.match(r"^(Supplement\b|Table S\d|Figure S\d)", place))
    return supplement == (Path(document).stem == "supplement")


# --------------------------------------------------------------------------- prose


def _resolve_vars(markdown: str, numbers: Mapping[str, Any]) -> str:
    def sub(m: re.Match) -> str:
        e = numbers.get(m.group(1))
        return str(e["text"]) if e is not None else m.group(0)
    return _VAR_RE.sub(sub, markdown)


def _section(lines: Sequence[str], place: str) -> tuple[int, int] | None:
    """Line range of the section a prose place names."""
    parts = place.split(HEADING_SEPARATOR)
    if parts[0] == "Supplement":
        parts = parts[1:]
    if parts and parts[0] == "Abstract":
        start = next((i for i, ln in enumerate(lines) if ln.startswith("abstract:")), None)
        if start is None:
            return None
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"^[A-Za-z_][\w-]*:", lines[i])
                    or lines[i].strip() == "---"), len(lines))
        if len(parts) > 1:
            lead = next((i for i in range(start, end) if re.match(rf"^\s*\*\*{re.escape(parts[1])}\.?\*\*", lines[i])),
                        None)
            if lead is not None:
                stop = next((i for i in range(lead + 1, end) if re.match(r"^\s*\*\*[^*]+\*\*", lines[i])), end)
                return lead, stop
        return start, end
    path: list[tuple[int, str]] = []
    best = None
    for i, ln in enumerate(lines):
        h = _HEADING_RE.match(ln)
        if not h:
            continue
        level = len(h.group(1))
        if best is not None and level <= best[1]:
            return best[0], i
        path = [(lv, t) for lv, t in path if lv < level] + [(level, h.group(2).strip())]
        if [t for _, t in path] == parts:
            best = (i, level)
    return (best[0], len(lines)) if best else None


# --------------------------------------------------------------------------- tables


def _cells(line: str) -> list[str]:
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    out, cur, i = [], "", 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            cur += body[i:i + 2]
            i += 2
            continue
        if body[i] == "|":
            out.append(cur)
            cur = ""
        else:
            cur += body[i]
        i += 1
    out.append(cur)
    return out


def _tables(lines: Sequence[str]) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            if j - i >= 2:
                out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _row_paths(lines: Sequence[str], start: int, end: int) -> list[tuple[int, str]]:
    """(line, row path) of the body rows of a pipe table, as displays.table_entries names rows."""
    out = []
    group = ""
    parents: dict[int, str] = {}
    for i in range(start + 2, end):
        cells = _cells(lines[i])
        first = cells[0] if cells else ""
        if first.strip().startswith("**") and not any(c.strip() for c in cells[1:]):
            group = _norm(first)
            parents = {}
            continue
        level = (len(first.strip()) - len(first.strip().lstrip(NBSP))) // 4
        label = _norm(first)
        parents = {lv: t for lv, t in parents.items() if lv < level}
        path = [parents[lv] for lv in sorted(parents)] + [label]
        parents[level] = label
        out.append((i, HEADING_SEPARATOR.join(p for p in ([group] if group else []) + path if p)))
    return out


def _anchor(markdown_lines: Sequence[str], float_name: str, label: str | None) -> int:
    for i, ln in enumerate(markdown_lines):
        if label and (f"{{#{label}" in ln or re.search(rf"#\|\s*label:\s*{re.escape(label)}\s*$", ln)):
            return i
        if re.match(rf"^\s*(\*\*)?{re.escape(float_name)}[:.]", ln):
            return i
    return -1


def _mark_cell(lines: list[str], anchor: int, row: str, column: str, old: str, new: str, date: str) -> bool:
    grid = _mark_grid_cell(lines, anchor, row, column, old, new, date)
    if grid is not None:
        return grid
    for start, end in _tables(lines):
        if start < anchor:
            continue
        header = [_norm(c) for c in _cells(lines[start])]
        if column not in header:
            continue
        col = header.index(column)
        for i, path in _row_paths(lines, start, end):
            if path != row:
                continue
            cells = _cells(lines[i])
            if col < len(cells) and _norm(cells[col]) == _norm(new):
                marks = "".join(_MARK_RE.findall(cells[col]))
                cells[col] = f" {_marked(old, new, date)}{marks} "
                lines[i] = "|" + "|".join(cells) + "|"
                return True
        return False
    return False


# --------------------------------------------------------------------------- grid tables
# Tables reach the Markdown as Pandoc grid tables (analysis.present.table_layout.grid_table):
# column boundaries are the "+" of the header separator (the "=" line); a cell may span several
# lines (a Word indent is a fenced div around the stub text) and a section row spans all columns.

_GRID_TOP = re.compile(r"^\+[-=:+]+\+\s*$")
_INDENT_STYLE = re.compile(r'custom-style="TableIndent(\d+)"')


def _grid_tables(lines: Sequence[str]) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(lines):
        if _GRID_TOP.match(lines[i]):
            j = i + 1
            while j < len(lines) and lines[j][:1] in ("|", "+"):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _boundaries(lines: Sequence[str], start: int, end: int) -> tuple[list[int], int]:
    """Column boundaries (positions of "+") and the line of the header separator (or -1)."""
    head = next((i for i in range(start, end) if _GRID_TOP.match(lines[i]) and "=" in lines[i]), -1)
    ref = lines[head] if head >= 0 else lines[end - 1]
    return [k for k, ch in enumerate(ref.rstrip()) if ch == "+"], head


def _segment(line: str, left: int, right: int) -> tuple[int, int]:
    """Bounds (exclusive) of the cell of ``line`` that covers the column between two boundaries."""
    lo = max((k for k in range(0, min(left, len(line) - 1) + 1) if line[k] in "|+"), default=0)
    hi = next((k for k in range(right, len(line)) if line[k] in "|+"), len(line))
    return lo, hi


def _is_rule(text: str) -> bool:
    return bool(text) and not text.strip("-=: ") and bool(text.strip())


def _grid_header(lines: Sequence[str], start: int, head: int, bounds: list[int]) -> list[str]:
    labels = []
    for j in range(len(bounds) - 1):
        parts = []
        for i in range(start + 1, head):
            lo, hi = _segment(lines[i], bounds[j], bounds[j + 1])
            text = lines[i][lo + 1:hi]
            if lines[i][lo] == "+" or _is_rule(text):
                continue
            if text.strip() and text.strip() not in parts:
                parts.append(text.strip())
        labels.append(_norm(" ".join(parts)))
    return labels


def _grid_rows(lines: Sequence[str], first: int, end: int) -> list[list[int]]:
    rows, cur = [], []
    for i in range(first, end):
        if lines[i].startswith("+"):
            if cur:
                rows.append(cur)
            cur = []
        else:
            cur.append(i)
    if cur:
        rows.append(cur)
    return rows


def _grid_cell(lines: Sequence[str], row: list[int], bounds: list[int], j: int) -> tuple[str, int, bool]:
    """(text, indent level, spans every column) of column ``j`` of a body row."""
    texts, level, full = [], 0, False
    for i in row:
        lo, hi = _segment(lines[i], bounds[j], bounds[j + 1])
        full = full or (lo <= bounds[0] and hi >= bounds[-1])
        text = lines[i][lo + 1:hi]
        m = _INDENT_STYLE.search(text)
        if m:
            level = int(m.group(1))
        if text.strip().startswith(":::"):
            continue
        texts.append(text)
    joined = " ".join(t.strip() for t in texts if t.strip())
    raw = next((t for t in texts if t.strip()), "")
    lead = raw.lstrip(" ")
    level = level or (len(lead) - len(lead.lstrip(NBSP))) // 4
    return joined, level, full


def _grid_row_paths(lines: Sequence[str], head: int, end: int, bounds: list[int]) -> list[tuple[list[int], str]]:
    """(lines, row path) of the body rows, as displays.table_entries names rows."""
    out, group, parents = [], "", {}
    for row in _grid_rows(lines, head + 1, end):
        first, level, full = _grid_cell(lines, row, bounds, 0)
        if full and first.strip().startswith("**"):
            group, parents = _norm(first), {}
            continue
        label = _norm(first)
        parents = {lv: t for lv, t in parents.items() if lv < level}
        path = [parents[lv] for lv in sorted(parents)] + [label]
        parents[level] = label
        out.append((row, HEADING_SEPARATOR.join(p for p in ([group] if group else []) + path if p)))
    return out


def _widen(lines: list[str], start: int, end: int, pos: int, delta: int) -> None:
    """Widen the grid table ``lines[start:end]`` by ``delta`` characters at the boundary ``pos``."""
    for i in range(start, end):
        s = lines[i]
        ins = next((k for k in range(pos, len(s)) if s[k] in "|+"), len(s))
        if ins < len(s) and s[ins] == "+":
            if s[ins - 1] == ":":
                ins -= 1
            fill = s[ins - 1] if s[ins - 1] in "-=" else " "
        else:
            fill = " "
        lines[i] = s[:ins] + fill * delta + s[ins:]


def _replace_in_grid(lines: list[str], grid: tuple[int, int], i: int, lo: int, hi: int, text: str) -> None:
    """Replace ``lines[i][lo:hi]`` of a grid table by ``text``, using the cell's spare spaces and
    widening its column where they do not suffice."""
    edge = next((k for k in range(hi, len(lines[i])) if lines[i][k] in "|+"), len(lines[i]))
    spare = len(lines[i][hi:edge]) - len(lines[i][hi:edge].rstrip(" "))
    need = len(text) - (hi - lo) - spare + 1   # one space before the cell edge
    if need > 0:
        _widen(lines, grid[0], grid[1], edge, need)
    s = lines[i]
    edge = next((k for k in range(hi, len(s)) if s[k] in "|+"), len(s))
    cell = (text + s[hi:edge]).rstrip(" ")
    lines[i] = s[:lo] + cell.ljust(edge - lo) + s[edge:]


def _header_col(column: str, header: list[str]) -> int:
    plain = [re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"\1", h) for h in header]
    return header.index(column) if column in header else plain.index(column) if column in plain else -1


def _mark_grid_cell(lines: list[str], anchor: int, row: str, column: str, old: str | None, new: str,
                    date: str) -> bool | None:
    """Mark a cell of the first grid table after ``anchor`` whose header has ``column``; None when
    there is no grid table there."""
    for start, end in _grid_tables(lines):
        if start < anchor:
            continue
        bounds, head = _boundaries(lines, start, end)
        if head < 0:
            continue
        col = _header_col(column, _grid_header(lines, start, head, bounds))
        if col < 0:
            continue
        for cells, path in _grid_row_paths(lines, head, end, bounds):
            if path != row:
                continue
            text, _, _ = _grid_cell(lines, cells, bounds, col)
            if _norm(text) != _norm(new):
                continue
            marks = "".join(_MARK_RE.findall(text))
            content = f" {_marked(old, new, date)}{marks} "
            width = bounds[col + 1] - bounds[col] - 1
            if len(content) > width:
                _widen(lines, start, end, bounds[col + 1], len(content) - width)
                bounds, head = _boundaries(lines, start, end)
                width = bounds[col + 1] - bounds[col] - 1
            for i in cells:
                lo, hi = _segment(lines[i], bounds[col], bounds[col + 1])
                fill = content.ljust(width) if i == cells[0] else " " * width
                lines[i] = lines[i][:lo + 1] + fill + lines[i][hi:]
            return True
        return False
    return None


# --------------------------------------------------------------------------- the document


def _float_labels(root: Path) -> dict[str, str]:
    from .places import float_name
    from ..present.strobe import document_labels

    try:
        labels = document_labels(root)
    except ValueError:
        return {}
    return {float_name(k, root): k for k, v in labels.items() if v.kind == "float"}


def markup_markdown(markdown: str, old: Mapping[str, Any], new: Mapping[str, Any], *, document: str,
                    root: str | Path = ".", date: str = "") -> tuple[str, Marked]:
    """Mark every changed number of ``document`` ("report.qmd", "supplement.qmd") in its executed
    Markdown; returns the marked Markdown (summary first) and what was marked."""
    root = Path(root)
    done = Marked()
    text = _resolve_vars(markdown, new.get("numbers") or {})
    lines = text.split("\n")
    # prose: registry numbers whose printed text changed, longest first (a phrase before its parts)
    on, nn = old.get("numbers") or {}, new.get("numbers") or {}
    prose = []
    for key, e in nn.items():
        o = on.get(key)
        if o is None or str(o.get("text")) == str(e.get("text")):
            continue
        for place in e.get("places") or []:
            if _in_document(place, document):
                prose.append((place, str(o["text"]), str(e["text"])))
    prose.sort(key=lambda p: -len(p[2]))
    slots: dict[str, str] = {}
    for place, old_text, new_text in prose:
        rng = _section(lines, place)
        if rng is None or not new_text.strip():
            done.unplaced.append((place, old_text, new_text))
            continue
        found = _replace_first(lines, range(*rng), old_text, new_text, date, slots)
        (done.marked if found else done.unplaced).append((place, old_text, new_text))
    # table cells and figure texts
    od, nd = old.get("displays") or {}, new.get("displays") or {}
    labels = _float_labels(root)
    for key, e in nd.items():
        o = od.get(key)
        if o is None or str(o.get("text")) == str(e.get("text")) or not _in_document(str(e["place"]), document):
            continue
        place, old_text, new_text = str(e["place"]), str(o["text"]), str(e["text"])
        if e.get("kind") == "figure text":
            done.figures.append((place, old_text, new_text))
            continue
        m = re.match(r"^(.*?), row (.*), column (.*)$", place)
        ok = False
        if m and e.get("kind") == "table cell":
            anchor = _anchor(lines, m.group(1), labels.get(m.group(1)))
            ok = anchor >= 0 and _mark_cell(lines, anchor, m.group(2), m.group(3), old_text, new_text, date)
        elif e.get("kind") == "table cell":      # a note under the table, or a column header
            name = place.split(",")[0]
            anchor = _anchor(lines, name, labels.get(name))
            ok = anchor >= 0 and _replace_first(lines, range(anchor, len(lines)), old_text, new_text, date, slots)
        else:                                      # a generated sentence
            rng = _section(lines, str(e.get("float") or place))
            ok = rng is not None and _replace_first(lines, range(*rng), old_text, new_text, date, slots)
        (done.marked if ok else done.unplaced).append((place, old_text, new_text))
    # table cells new in this version (a new covariate's row): insertions; entries gone: the summary
    for key, e in nd.items():
        if key in od or e.get("kind") != "table cell" or not _in_document(str(e["place"]), document):
            continue
        m = re.match(r"^(.*?), row (.*), column (.*)$", str(e["place"]))
        if m:
            anchor = _anchor(lines, m.group(1), labels.get(m.group(1)))
            if anchor >= 0 and _mark_cell(lines, anchor, m.group(2), m.group(3), None, str(e["text"]), date):
                done.added.append((str(e["place"]), str(e["text"])))
    done.removed = [(str(e["place"]), str(e["text"])) for key, e in od.items()
                    if key not in nd and _in_document(str(e["place"]), document)]
    body = "\n".join(lines)
    for slot, span in slots.items():
        body = body.replace(slot, span)
    return _with_summary(body, _summary(old, new, done)), done


def _summary(old: Mapping[str, Any], new: Mapping[str, Any], done: Marked) -> str:
    report = change_report(old, new)
    out = ["::: {.revision-summary}", "**Changes since the submitted version.** "
           + _esc(" ".join(summary_lines(report))),
           "", f"{len(done.marked)} changed number{'' if len(done.marked) == 1 else 's'} are marked in the text and "
               "tables below, each with its previous value struck through"
               + (f"; {len(done.added)} new table cell{'' if len(done.added) == 1 else 's'} are marked as insertions"
                  if done.added else "") + "."]
    if done.figures:
        out += ["", "Changed in figures:", ""]
        out += [f"- {_esc(w)}: {_marked(o, n, '')}" for w, o, n in done.figures]
    if done.removed:
        out += ["", "Removed since the submitted version:", ""]
        out += [f"- {_esc(w)}: {_span(t, None, '')}" for w, t in done.removed]
    if done.unplaced:
        out += ["", "Changed, but not found in this text:", ""]
        out += [f"- {_esc(w)}: {_marked(o, n, '')}" for w, o, n in done.unplaced]
    out += [":::", ""]
    return "\n".join(out)


def _with_summary(body: str, summary: str) -> str:
    lines = body.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is not None:
            return "\n".join(lines[:end + 1] + ["", summary] + lines[end + 1:])
    return summary + "\n" + body


def write_markup(markdown_path: str | Path, old: Mapping[str, Any], new: Mapping[str, Any], *,
                 out_dir: str | Path, document: str | None = None, root: str | Path = ".",
                 date: str = "", stem: str | None = None, keep_markdown: bool = True) -> tuple[list[Path], Marked]:
    """Mark up one executed Markdown file and write ``<stem>.md`` (unless not ``keep_markdown``),
    ``.html`` (standalone) and ``.docx`` (tracked changes) into ``out_dir``; ``stem`` defaults to
    the file's first name part + "-marked". ``document``: which manuscript document it is
    (default: from the file name, "supplement" in it means the supplement)."""
    import pypandoc

    from ..outputs import write_bytes_atomic, write_text_atomic

    src = Path(markdown_path)
    doc = document or ("supplement.qmd" if "supplement" in src.name else "report.qmd")
    marked, done = markup_markdown(src.read_text(encoding="utf-8"), old, new, document=doc, root=root, date=date)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or src.name.split(".")[0] + "-marked"
    paths = [write_text_atomic(out / f"{stem}.md", marked)] if keep_markdown else []
    fmt = "markdown-citations"   # citations stay as written: the marked copy shows numbers, not references
    # figures are files beside the executed Markdown (Quarto's <doc>_files/): found from there, and
    # embedded, so that the copy is one file wherever it is written
    resources = [f"--resource-path={src.parent.resolve()}"]
    page = pypandoc.convert_text(marked, "html", format=fmt,
                                 extra_args=["--standalone", "--embed-resources", *resources,
                                             "--metadata", f"pagetitle={stem}"])
    page = page.replace("</head>", f"<style>{html.escape(CSS, quote=False)}</style>\n</head>", 1)
    paths.append(write_text_atomic(out / f"{stem}.html", page))
    tmp = out / f".{stem}.docx.tmp"
    pypandoc.convert_text(marked, "docx", format=fmt, outputfile=str(tmp), extra_args=resources)
    data = tmp.read_bytes()
    tmp.unlink()
    paths.append(write_bytes_atomic(out / f"{stem}.docx", data))
    return paths, done
