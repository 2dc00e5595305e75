"""Every table as files: .docx, .xlsx, .csv (+ unrounded values) and .html hold
the displayed table cell for cell.

Reference: the tables as the documents display them - the Markdown that the
Typst and Word renders receive (``DisplayTable.to_markdown``) and the
great_tables HTML of the HTML renders (``DisplayTable.to_html``), parsed
independently of :mod:`analysis.present.table_files`.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from lxml import html as lhtml

from analysis.present import table_files as TF
from analysis.present.supplement import SUPPLEMENTARY_TABLES

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    paths = TF.write_table_files(results, out)
    return out, paths


@pytest.fixture(scope="module")
def table_list(results):
    return TF.all_tables(results)


def _markdown_rows(markdown: str) -> list[list[str]]:
    """Header and body rows of the Pandoc grid table, as a reader sees the
    cells: Pandoc (pypandoc-binary) reads the Markdown the Typst and Word
    renders receive, and its HTML is read back. A header spanner is joined to
    the column labels under it; a row of one cell spanning the table (a section
    heading) is that text followed by empty cells."""
    import pypandoc

    table = lhtml.fromstring(pypandoc.convert_text(markdown, "html", format="markdown-smart")).xpath("//table")[0]
    text = lambda el: re.sub(r"\s+", " ", el.text_content().replace(NBSP, " ")).strip()  # noqa: E731
    head = table.xpath("./thead/tr")
    grid: list[list[str | None]] = [[] for _ in head]       # header cells laid out with their spans
    for r, tr in enumerate(head):
        col = 0
        for c in tr:
            while col < len(grid[r]) and grid[r][col] is not None:
                col += 1
            for dr in range(int(c.get("rowspan", 1))):
                row = grid[r + dr]
                row.extend([None] * (col + int(c.get("colspan", 1)) - len(row)))
                for dc in range(int(c.get("colspan", 1))):
                    row[col + dc] = text(c) if dr == 0 or r + dr == len(head) - 1 else ""
            col += int(c.get("colspan", 1))
    width = len(grid[-1])
    spans = grid[0] if len(head) > 1 else [""] * width
    columns = grid[-1]
    rows = [[" ".join(dict.fromkeys(t for t in (s_, c) if t)) if s_ != c else c for s_, c in zip(spans, columns)]]
    for tr in table.xpath("./tbody/tr"):
        cells = tr.xpath("./td")
        if len(cells) == 1 and int(cells[0].get("colspan", 1)) == width:
            rows.append([text(cells[0])] + [""] * (width - 1))
        else:
            rows.append([text(c) for c in cells])
    return rows


def _grid_rows(g: TF.Grid, *, spanner_prefix: bool) -> list[list[str]]:
    spans = [label for label, n in g.spanners for _ in range(n)] or [""] * g.width
    header = [" ".join(t for t in (s, c.shown) if t) if spanner_prefix else c.shown for s, c in zip(spans, g.header)]
    rows = [header]
    for kind, cells in g.rows:
        rows.append([cells[0].text] + [""] * (g.width - 1) if kind == "group" else [c.shown for c in cells])
    return rows


def test_every_table_of_the_documents_is_listed(table_list):
    stems = [t.stem for t in table_list]
    assert stems[:3] == ["table1", "table2", "table3"]
    assert len(table_list) == 3 + len(SUPPLEMENTARY_TABLES)
    assert all(t.title.startswith(("Table 1.", "Table 2.", "Table 3.", "Table S")) for t in table_list)
    assert table_list[3].title.startswith("Table S1. ")


def test_titles_are_the_documents_captions(table_list):
    """Reference: the tbl-cap of sections/results.qmd's Table 1 chunk, read here as text."""
    from analysis.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "sections" / "results.qmd").read_text(encoding="utf-8")
    cap = re.search(r'#\| label: tbl-baseline\n#\| tbl-cap: "([^"]+)"', text).group(1)
    assert table_list[0].title == f"Table 1. {cap}"


def test_grid_matches_the_markdown_cell_for_cell(table_list):
    for tf in table_list:
        g = TF.grid(tf.table, tf.title)
        assert _markdown_rows(tf.table.to_markdown()) == _grid_rows(g, spanner_prefix=True), tf.stem


def test_grid_matches_the_html_cell_for_cell(table_list):
    for tf in table_list:
        g = TF.grid(tf.table, tf.title)
        doc = lhtml.fromstring(tf.table.to_html())
        body = []
        for tr in doc.xpath("//table/tbody/tr"):
            body.append([" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")])
        expected = []
        for kind, cells in g.rows:
            expected.append([cells[0].text] if kind == "group" else [" ".join(c.shown.split()) for c in cells])
        assert body == expected, tf.stem


def test_files_are_written_for_every_table(written, table_list):
    out, paths = written
    for tf in table_list:
        for fmt in TF.FORMATS:
            assert (out / f"{tf.stem}.{fmt}").is_file(), (tf.stem, fmt)
        assert (out / f"{tf.stem}.values.csv").is_file() == bool(tf.values)
    assert len(paths) == len(set(paths))


def test_csv_is_the_displayed_table(written, table_list):
    import csv

    out, _ = written
    for tf in table_list:
        g = TF.grid(tf.table, tf.title)
        with open(out / f"{tf.stem}.csv", encoding="utf-8", newline="") as fh:
            rows = [[re.sub(r" \[([a-z]+)\]", r"\1", c) for c in row] for row in csv.reader(fh)]
        assert rows == _grid_rows(g, spanner_prefix=True), tf.stem


def test_docx_is_a_word_table_with_title_and_notes(written, table_list):
    from docx import Document

    out, _ = written
    for tf in table_list:
        g = TF.grid(tf.table, tf.title)
        doc = Document(str(out / f"{tf.stem}.docx"))
        assert len(doc.tables) == 1, tf.stem
        table = doc.tables[0]
        rows = [[c.text for c in r.cells] for r in table.rows]
        if g.spanners:
            rows = rows[1:]
        expected = _grid_rows(g, spanner_prefix=False)
        # a merged group row repeats its one cell across the grid
        got = [r if kind == "body" else [r[0]] + [""] * (g.width - 1)
               for r, kind in zip(rows, ["body"] + [k for k, _ in g.rows])]
        assert got == expected, tf.stem
        paragraphs = [p.text for p in doc.paragraphs if p.text]
        assert paragraphs[0] == tf.title
        assert paragraphs[1:] == [f"{m} {t}" if m else t for m, t in g.notes], tf.stem
        for r, (kind, cells) in zip(table.rows[1 + bool(g.spanners):], g.rows):
            for cell, c in zip(r.cells, cells):
                if c.marks:       # marks are superscript runs
                    assert cell.paragraphs[0].runs[-1].font.superscript, tf.stem


def test_xlsx_table_and_unrounded_values(written, table_list, results):
    from openpyxl import load_workbook

    out, _ = written
    for tf in table_list:
        g = TF.grid(tf.table, tf.title)
        wb = load_workbook(out / f"{tf.stem}.xlsx")
        ws = wb["Table"]
        assert ws.cell(1, 1).value == tf.title
        start = 3 + bool(g.spanners)
        expected = _grid_rows(g, spanner_prefix=False)
        got = [[("" if v is None else str(v)) for v in row]
               for row in ws.iter_rows(min_row=start, max_row=start + len(g.rows), max_col=g.width, values_only=True)]
        assert got == expected, tf.stem
        notes = [ws.cell(start + len(g.rows) + 2 + i, 1).value for i in range(len(g.notes))]
        assert [str(n) for n in notes] == [f"{m} {t}" if m else t for m, t in g.notes], tf.stem
        assert [s for s in wb.sheetnames if s.startswith("Values")] == [f"Values {p}"[:31] for p in tf.values]
    # unrounded: the Cox hazard ratios as computed (Excel keeps about 16 significant digits;
    # the CSV every bit)
    wb = load_workbook(out / "table3.xlsx")
    ws = wb["Values multivariable"]
    head = [c.value for c in ws[1]]
    hr = [r[head.index("hr")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert hr == pytest.approx(list(results.cox.multivariable.table["hr"]), rel=1e-15, abs=0)
    csv = pd.read_csv(out / "table3.values.csv", float_precision="round_trip")
    multi = csv[csv["part"] == "multivariable"].reset_index(drop=True)
    assert list(multi["hr"]) == list(results.cox.multivariable.table["hr"])


def test_values_of_groups_with_an_all_missing_column_concatenate_quietly():
    """An upper limit that is not reached in one group is an all-None column
    (two-site data, Table S14): concatenating it raised pandas' FutureWarning
    about all-NA entries; the values file keeps the other groups' dtype
    (a regression value: what pandas' concat gave before the deprecation)."""
    import warnings

    import pandas as pd

    from analysis.present.table_files import _values_concat

    reached = pd.DataFrame({"group": ["CR"], "median": [11.5], "n": [3]})
    not_reached = pd.DataFrame({"group": ["NR"], "median": pd.Series([None], dtype=object), "n": [2]})
    empty = reached.iloc[0:0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = _values_concat({"a": reached, "b": not_reached, "c": empty})
    assert list(both.columns) == ["part", "group", "median", "n"]
    assert both["median"].dtype == "float64" and both["n"].dtype == "int64"
    assert both.to_csv(index=False, lineterminator="\n") == "part,group,median,n\na,CR,11.5,3\nb,NR,,2\n"
