"""Every manuscript and supplementary table as files, outside any render.

For a co-author who wants one table in Word or Excel (what gtsummary's
``as_flex_table()``/``gtsave()`` and tableone's ``to_excel()`` give), each
table is written as

* ``.docx``: a real, editable Word table (python-docx), the title above it,
  row groups as merged bold rows, indented rows, footnote marks as
  superscripts and the notes below;
* ``.xlsx``: sheet "Table" holds the same grid (title, header, body, notes;
  marks as superscripts), and a sheet per part of the unrounded numbers the
  table was formatted from ("Values …");
* ``.csv``: the displayed text (header row, then one row per displayed row,
  footnote marks as ``[a]``); ``.values.csv`` beside it: the unrounded
  numbers (a ``part`` column when the table draws on several result frames);
* ``.html``: a standalone page with the title and the great_tables table
  exactly as the HTML documents show it.

The content comes from the same code as the documents: the table functions
of :mod:`analysis.present.tables`, :mod:`~analysis.present.sensitivity`,
:mod:`~analysis.present.strobe` and :mod:`~analysis.present.adam_metadata`,
called as the .qmd chunks call them, and read through the public attributes
of the :class:`~analysis.present.tables.DisplayTable` they return. Titles
are the documents' own numbers and captions (``tbl-cap`` of the manuscript's
chunks; the caption paragraph of the supplement's ``supptbl-`` divs).
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..config import PROJECT_ROOT
from ..outputs import write_group
from ..results import Results
from . import adam_metadata, sensitivity, strobe, tables
from .supplement import SUPPLEMENTARY_TABLES

FORMATS = ("docx", "xlsx", "csv", "html")

#: Manuscript tables: file name, the chunk label in the documents, the function the chunk calls.
MANUSCRIPT_TABLES: tuple[tuple[str, str, Callable], ...] = (
    ("table1", "tbl-baseline", tables.table1),
    ("table2", "tbl-response", tables.table2),
    ("table3", "tbl-cox", tables.table3),
)
#: Supplementary tables by their name in :data:`analysis.present.supplement.SUPPLEMENTARY_TABLES`.
SUPPLEMENTARY_FUNCTIONS: dict[str, Callable] = {
    "dictionary": tables.dictionary_table,
    "flow": tables.flow_table,
    "baseline-smd": tables.table1_full,
    "conventions": tables.factor_conventions_table,
    "medians": tables.median_methods_table,
    "landmarks": tables.landmark_table,
    "cox": tables.cox_full_table,
    "zph": tables.zph_table,
    "transplant": tables.transplant_listing_table,
    "rfs-hsct": sensitivity.rfs_hsct_table,
    "td-cox": sensitivity.time_dependent_cox_table,
    "landmark-response": sensitivity.landmark_table,
    "cif": sensitivity.cumulative_incidence_table,
    "missing": sensitivity.missing_covariates_table,
    "versions": tables.versions_table,
    "define": adam_metadata.define_table,
    "strobe": strobe.strobe_table,
}


# =========================================================================== the unrounded numbers


def _frame_of(value: Any) -> pd.DataFrame | None:
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, Mapping) and value and all(dataclasses.is_dataclass(v) for v in value.values()):
        return pd.DataFrame([{"key": k, **_flat(v)} for k, v in value.items()])
    return None


def _flat(obj: Any) -> dict:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
            if not isinstance(getattr(obj, f.name), (pd.DataFrame, Mapping, tuple, list))}


def _get(results: Results, path: str) -> Any:
    obj: Any = results
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


#: Table -> {part: attribute path in Results}: the unrounded numbers the table displays.
VALUES: dict[str, dict[str, str]] = {
    "table1": {"numbers": "baseline.numbers", "tests": "baseline.tests"},
    "table2": {"by_class": "response.by_class", "by_group": "response.by_group", "by_emd": "response.by_emd",
               "factors": "response.factors"},
    "table3": {"univariable": "cox.univariable", "multivariable": "cox.multivariable.table"},
    "flow": {"steps": "cohort.derived.flow.steps", "exclusions": "cohort.derived.flow.exclusions"},
    "baseline-smd": {"numbers": "baseline.numbers", "tests": "baseline.tests", "smd": "baseline.smd_pairs"},
    "conventions": {"factors": "response.factors"},
    "medians": {"os": "os.medians", "rfs": "rfs.medians"},
    "landmarks": {"os": "os.landmarks", "rfs": "rfs.landmarks"},
    "cox": {"multivariable": "cox.multivariable.table"},
    "zph": {"zph": "cox.zph.table"},
    "transplant": {"listing": "transplant.listing"},
    "rfs-hsct": {"rfs_hsct": "sensitivity.rfs_hsct"},
    "td-cox": {"time_dependent": "sensitivity.cox_time_dependent.table"},
    "cif": {"estimates": "sensitivity.cumulative_incidence.estimates"},
    "missing": {"missing": "sensitivity.missing_covariates"},
}


def _landmark_groups(results: Results) -> dict[str, pd.DataFrame]:
    marks = getattr(results.sensitivity, "landmarks", None) or ()
    return {f"landmark_{lr.landmark:g}": lr.groups for lr in marks if isinstance(getattr(lr, "groups", None),
                                                                                   pd.DataFrame)}


#: Tables whose numbers sit in a collection of results rather than at one attribute path.
VALUES_FROM: dict[str, Callable[[Results], dict[str, pd.DataFrame]]] = {
    "landmark-response": _landmark_groups,
}


def values_frames(results: Results, name: str) -> dict[str, pd.DataFrame]:
    """The unrounded result frames behind table ``name`` (empty when it shows no computed number)."""
    out = {}
    for part, path in VALUES.get(name, {}).items():
        frame = _frame_of(_get(results, path))
        if frame is not None:
            out[part] = frame.reset_index(drop=True)
    if name in VALUES_FROM:
        out.update({k: f.reset_index(drop=True) for k, f in VALUES_FROM[name](results).items()})
    return out


# =========================================================================== the displayed grid


@dataclass(frozen=True)
class Cell:
    text: str
    marks: tuple[str, ...] = ()
    indent: int = 0

    @property
    def shown(self) -> str:
        """Text and marks as one string (the marks as the letters a reader sees after the text)."""
        return self.text + "".join(self.marks)


@dataclass(frozen=True)
class Grid:
    """A :class:`DisplayTable` as rows of cells: what every file format writes."""

    title: str
    spanners: tuple[tuple[str, int], ...]    # (label, number of columns), covering every column; () if none
    header: tuple[Cell, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]   # ("group" | "body", cells)
    notes: tuple[tuple[str, str], ...]        # (mark or "", text), in the documents' order
    align: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.header)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return " ".join(str(value).split("\n"))


def grid(table: tables.DisplayTable, title: str = "") -> Grid:
    """The displayed grid of ``table``, as its Markdown and HTML show it."""
    columns = list(table.columns)
    stub = columns[0]
    marks = table.marks()
    body: dict[tuple[int, str], list[str]] = {}
    head: dict[str, list[str]] = {}
    for i in sorted(marks, key=lambda j: marks[j]):
        f = table.footnotes[i]
        if f.rows:
            for r in f.rows:
                body.setdefault((r, f.column), []).append(marks[i])
        else:
            head.setdefault(f.column, []).append(marks[i])
    header = tuple(Cell(table.labels.get(c, c if c != stub else ""), tuple(head.get(c, []))) for c in columns)
    span_of = {c: label for label, cols in table.spanners for c in cols}
    spanners: list[tuple[str, int]] = []
    if table.spanners:
        for c in columns:
            label = span_of.get(c, "")
            if spanners and spanners[-1][0] == label and label:
                spanners[-1] = (label, spanners[-1][1] + 1)
            else:
                spanners.append((label, 1))
    rows: list[tuple[str, tuple[Cell, ...]]] = []
    current: Any = object()
    for r, rec in enumerate(table.frame.to_dict("records")):
        if table.group is not None and rec[table.group] != current:
            current = rec[table.group]
            rows.append(("group", (Cell(_text(current)),)))
        level = 0
        if table.indent is not None:
            value = rec[table.indent]
            level = 0 if _text(value) == "" else int(value)
        rows.append(("body", tuple(Cell(_text(rec[c]), tuple(body.get((r, c), [])), level if c == stub else 0)
                                   for c in columns)))
    notes = [("", n) for n in table.source_notes]
    notes += [("", f.text) for f in table.footnotes if f.column is None]
    notes += [(marks[i], table.footnotes[i].text) for i in sorted(marks, key=lambda j: marks[j])]
    align = tuple(table.align.get(c, "left" if c == stub else "center") for c in columns)
    return Grid(title=title, spanners=tuple(spanners), header=header, rows=tuple(rows), notes=tuple(notes),
                align=align)


# =========================================================================== titles from the documents

_CHUNK_RE = re.compile(r"^```\{python\}\n(.*?)^```", re.S | re.M)


def _plain(caption: str) -> str:
    """A Markdown caption as plain text: citations and emphasis marks dropped."""
    caption = re.sub(r"\s*\[@[^\]]*\]", "", caption)
    caption = re.sub(r"(\*\*|\*|__)(.+?)\1", r"\2", caption)
    return " ".join(caption.split())


def captions(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """label -> caption of every table of the documents (``tbl-cap`` and ``supptbl-`` div captions)."""
    out: dict[str, str] = {}
    files = [root / "report.qmd", root / "supplement.qmd", *sorted((root / "sections").glob("*.qmd"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for chunk in _CHUNK_RE.finditer(text):
            options = "\n".join(line[3:] for line in chunk.group(1).splitlines() if line.startswith("#| "))
            try:
                meta = yaml.safe_load(options) or {}
            except yaml.YAMLError:
                continue
            if isinstance(meta, dict) and str(meta.get("label", "")).startswith("tbl-") and meta.get("tbl-cap"):
                out[meta["label"]] = _plain(str(meta["tbl-cap"]))
        for div in re.finditer(r"^::: \{#(supptbl-[\w-]+)\}\n(.*?)^:::\s*$", text, re.S | re.M):
            caption = _CHUNK_RE.sub("", div.group(2)).strip()
            out[div.group(1)] = _plain(caption)
    return out


def numbers(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """label -> "Table 2" / "Table S3", as the documents number them."""
    out = {}
    for label, lab in strobe.document_labels(root).items():
        if lab.kind == "float" and label.startswith(("tbl-", "supptbl-")):
            out[label] = lab.text.replace("Supplementary ", "")
    return out


# =========================================================================== the tables


@dataclass(frozen=True)
class TableFile:
    stem: str            # file name without suffix
    label: str           # the documents' label (tbl-… / supptbl-…)
    title: str           # "Table 1. <caption>"
    table: tables.DisplayTable
    values: dict[str, pd.DataFrame]


def all_tables(results: Results, root: Path = PROJECT_ROOT, displays: Any = None) -> list[TableFile]:
    """Every manuscript table, then every supplementary table, in document order.
    ``displays``: builds ``fn(results)`` (an export's
    :class:`~analysis.present.shared_displays.SharedDisplays`: each table built once), else called here."""
    caps, nums = captions(root), numbers(root)
    build = displays or (lambda fn: fn(results))

    def title(label: str) -> str:
        return ". ".join(t for t in (nums.get(label, ""), caps.get(label, "")) if t)

    out = []
    for stem, label, fn in MANUSCRIPT_TABLES:
        out.append(TableFile(stem, label, title(label), build(fn), values_frames(results, stem)))
    for name in SUPPLEMENTARY_TABLES:
        if name not in SUPPLEMENTARY_FUNCTIONS:
            raise ValueError(f"supplementary table {name!r} has no function in analysis/present/table_files.py")
        label = f"supptbl-{name}"
        number = nums.get(label, "")
        digits = re.sub(r"\D", "", number)
        stem = f"table_s{int(digits):02d}_{name}" if digits else f"table_{name}"
        out.append(TableFile(stem.replace("-", "_"), label, title(label), build(SUPPLEMENTARY_FUNCTIONS[name]),
                             values_frames(results, name)))
    return out


# =========================================================================== writers


def _csv_cell(cell: Cell) -> str:
    return cell.text + "".join(f" [{m}]" for m in cell.marks)


def _header_texts(g: Grid) -> list[str]:
    """One header row: a spanner's label in front of each of its columns' labels (as in the Markdown)."""
    spans = [label for label, n in g.spanners for _ in range(n)] or [""] * g.width
    return [" ".join(t for t in (s, _csv_cell(c)) if t) for s, c in zip(spans, g.header)]


def display_frame(g: Grid) -> pd.DataFrame:
    """The displayed text as a frame: header labels as columns, group rows as rows with only the stub filled."""
    rows = []
    for kind, cells in g.rows:
        if kind == "group":
            rows.append([cells[0].text] + [""] * (g.width - 1))
        else:
            rows.append([_csv_cell(c) for c in cells])
    columns = _header_texts(g)
    return pd.DataFrame(rows, columns=pd.Index(columns), dtype=object)


def write_csv(g: Grid, path: Path) -> None:
    display_frame(g).to_csv(path, index=False, lineterminator="\n")


def write_values_csv(values: dict[str, pd.DataFrame], path: Path) -> None:
    """The unrounded numbers (17 significant digits: every float64 reads back exactly)."""
    _values_concat(values).to_csv(path, index=False, lineterminator="\n", float_format="%.17g")


def _values_concat(values: dict[str, pd.DataFrame]) -> pd.DataFrame:
    if len(values) == 1:
        return next(iter(values.values()))
    frames = [f.assign(part=k)[["part", *f.columns]] for k, f in values.items()]
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    # all-NA columns (e.g. a median not reached in one group) are left out of the
    # concat and put back by the reindex, so they do not decide the column's dtype
    # (pandas 2.1 deprecated concat's own exclusion of them, with a FutureWarning)
    return pd.concat([f.dropna(axis=1, how="all") for f in frames], ignore_index=True).reindex(columns=columns)


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def write_xlsx(g: Grid, values: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.styles import Alignment, Font

    sup = InlineFont(vertAlign="superscript")

    def rich(cell: Cell):
        if not cell.marks:
            return cell.text
        return CellRichText([cell.text, TextBlock(sup, "".join(cell.marks))] if cell.text else
                            [TextBlock(sup, "".join(cell.marks))])

    wb = Workbook()
    ws = wb.active
    ws.title = "Table"
    row = 1
    ws.cell(row=row, column=1, value=g.title).font = Font(bold=True)
    row += 2
    if g.spanners:
        col = 1
        for label, n in g.spanners:
            ws.cell(row=row, column=col, value=label or None).alignment = Alignment(horizontal="center")
            if n > 1:
                ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + n - 1)
            col += n
        row += 1
    for j, cell in enumerate(g.header, 1):
        c = ws.cell(row=row, column=j, value=rich(cell))
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal=g.align[j - 1], wrap_text=True, vertical="bottom")
    ws.freeze_panes = ws.cell(row=row + 1, column=2)
    row += 1
    for kind, cells in g.rows:
        if kind == "group":
            c = ws.cell(row=row, column=1, value=cells[0].text or None)
            c.font = Font(bold=True)
        else:
            for j, cell in enumerate(cells, 1):
                c = ws.cell(row=row, column=j, value=rich(cell))
                c.alignment = Alignment(horizontal=g.align[j - 1], indent=2 * cell.indent, wrap_text=True,
                                        vertical="top")
        row += 1
    row += 1
    for mark, text in g.notes:
        ws.cell(row=row, column=1, value=CellRichText([TextBlock(sup, mark), " " + text]) if mark else text)
        row += 1
    ws.column_dimensions["A"].width = 45
    for j in range(2, g.width + 1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = 18
    for part, frame in values.items():
        vs = wb.create_sheet(f"Values {part}"[:31])
        vs.append([str(c) for c in frame.columns])
        for rec in frame.itertuples(index=False):
            vs.append([_xlsx_value(v) for v in rec])
    wb.save(path)


def write_docx(g: Grid, path: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    where = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
             "right": WD_ALIGN_PARAGRAPH.RIGHT}
    doc = Document()
    doc.styles["Normal"].font.size = Pt(9)
    if g.width > 5:
        section = doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    title = doc.add_paragraph()
    number, _, caption = g.title.partition(". ")
    title.add_run(number + ("." if caption else "")).bold = True
    if caption:
        title.add_run(" " + caption)

    def fill(cell, content: Cell, *, bold: bool = False, align: str = "left") -> None:
        p = cell.paragraphs[0]
        p.alignment = where.get(align, WD_ALIGN_PARAGRAPH.LEFT)
        if content.indent:
            p.paragraph_format.left_indent = Cm(0.35 * content.indent)
        run = p.add_run(content.text)
        run.bold = bold
        if content.marks:
            mark = p.add_run("".join(content.marks))
            mark.font.superscript = True

    def repeat_header(row) -> None:
        tr_pr = row._tr.get_or_add_trPr()
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)

    table = doc.add_table(rows=0, cols=g.width)
    table.style = "Table Grid"
    if g.spanners:
        row = table.add_row()
        repeat_header(row)
        col = 0
        for label, n in g.spanners:
            cell = row.cells[col]
            if n > 1:
                cell = cell.merge(row.cells[col + n - 1])
            fill(cell, Cell(label), bold=True, align="center")
            col += n
    row = table.add_row()
    repeat_header(row)
    row_cells = row.cells           # python-docx walks the row's grid at every .cells: once per row
    for j, cell in enumerate(g.header):
        fill(row_cells[j], cell, bold=True, align=g.align[j])
    for kind, cells in g.rows:
        row = table.add_row()
        row_cells = row.cells
        if kind == "group":
            merged = row_cells[0].merge(row_cells[g.width - 1]) if g.width > 1 else row_cells[0]
            fill(merged, cells[0], bold=True)
        else:
            for j, cell in enumerate(cells):
                fill(row_cells[j], cell, align=g.align[j])
    for mark, text in g.notes:
        p = doc.add_paragraph()
        if mark:
            p.add_run(mark).font.superscript = True
            p.add_run(" ")
        p.add_run(text)
    doc.core_properties.title = g.title.partition(". ")[0]
    doc.save(path)


def write_html(g: Grid, table: tables.DisplayTable, path: Path) -> None:
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(g.title)}</title>\n"
        "<style>body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;margin:2em;}"
        " .caption{max-width:60em;}</style>\n</head>\n<body>\n"
        f"<p class=\"caption\"><strong>{html.escape(g.title.partition('. ')[0])}.</strong> "
        f"{html.escape(g.title.partition('. ')[2])}</p>\n"
        f"{table.to_html()}\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")


def write_table_files(results: Results, out_dir: str | Path, *, root: Path = PROJECT_ROOT,
                      displays: Any = None) -> list[Path]:
    """Write every table as .docx, .xlsx, .csv (+ .values.csv) and .html into ``out_dir``; returns the paths.

    Each table's files are written as one unit (all or none). ``displays``: see :func:`all_tables`."""
    out = Path(out_dir)
    written: list[Path] = []
    for tf in all_tables(results, root, displays):
        g = grid(tf.table, tf.title)
        base = out / tf.stem
        values_path = base.with_name(f"{tf.stem}.values.csv") if tf.values else None
        writers: dict[Path, Callable[[Path], None]] = {
            base.with_suffix(".docx"): lambda p, g=g: write_docx(g, p),
            base.with_suffix(".xlsx"): lambda p, g=g, v=tf.values: write_xlsx(g, v, p),
            base.with_suffix(".csv"): lambda p, g=g: write_csv(g, p),
            base.with_suffix(".html"): lambda p, g=g, t=tf.table: write_html(g, t, p),
        }
        if values_path is not None:
            writers[values_path] = lambda p, v=tf.values: write_values_csv(v, p)
        written += write_group(writers)
    return written
