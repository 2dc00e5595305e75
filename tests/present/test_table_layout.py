"""Table layout in the PDF (Typst) and Word outputs, checked on what Pandoc
writes from our Markdown and what Typst compiles from it (REVIEW 2026-12-06
items 2, 3, 16, 17, 20, 26). Presentation only: no statistic, no reference value."""

from __future__ import annotations

import json
import re

import pytest

from analysis.present import docx_reference
from analysis.present import table_layout as L
from analysis.present import tables as T
from analysis.present.tables import display as TD
from analysis.present.tables import DisplayTable, Footnote
from analysis.results import run_analysis
from tests.present import pandoc_build as pb

import pandas as pd

#: Least width of one character of 9-pt table text, in points (Libertinus Serif's
#: narrowest lower-case average is above 3.3 pt; Calibri 9 pt averages about 4.4 pt).
CHAR_PT = 3.3


@pytest.fixture(scope="module")
def results():
    return run_analysis()


@pytest.fixture(scope="module")
def dictionary(results) -> DisplayTable:
    return T.dictionary_table(results)


# --------------------------------------------------------------------------- widths from content


def test_short_columns_get_their_content_and_long_ones_the_rest():
    headers = ["Variable", "Type", "Definition"]
    rows = [["cytogenetic_risk", "category", "Cytogenetic risk group at initial diagnosis " * 4]]
    w = L.column_widths(headers, rows, line=100)
    assert abs(sum(w) - 1) < 1e-9
    assert w[2] > w[0] > w[1]
    assert w[1] * 100 >= len("category") + L.CELL_PADDING          # never narrower than its word
    assert w[0] * 100 >= len("cytogenetic_risk") + L.CELL_PADDING


@pytest.mark.parametrize("cell, expected", [
    ("> .99", 5), ("15/34 vs 17/33", len("15/34")), ("Cytogenetic/molecular risk group", len("Cytogenetic/")),
    ("Ph-like; otherwise standard", len("otherwise")), ("", 0),
], ids=["short-whole", "numbers-stay-whole", "slash", "hyphen", "empty"])
def test_min_width_pieces(cell, expected):
    assert L.min_width(cell) == expected


def test_section_rows_do_not_widen_their_column():
    w = L.column_widths(["Item", "Recommendation"], [["Title and abstract", ""], ["1", "x" * 80]], ignore=[0])
    assert w[0] < 0.1


def test_pandoc_reads_the_separator_as_column_widths():
    """pandoc.org/MANUAL.html#tables: relative widths from the dashes of a grid table."""
    widths = [0.1, 0.25, 0.65]
    md = L.grid_table(["a", "b", "c"], [["x", "y", "z"]], widths=widths, aligns=["left", "center", "right"])
    native = json.loads(pb.pypandoc().convert_text(md, "json", format="markdown"))
    table = next(b for b in native["blocks"] if b["t"] == "Table")
    got = [spec[1]["c"] for spec in table["c"][2]]
    assert got == pytest.approx(widths, abs=0.01)
    assert [spec[0]["t"] for spec in table["c"][2]] == ["AlignLeft", "AlignCenter", "AlignRight"]


# --------------------------------------------------------------------------- Typst (PDF)


def _typst_columns(typst: str) -> list[float]:
    spec = re.search(r"columns: \(([^)]*)\)", typst).group(1)
    return [float(x.strip().rstrip("%")) / 100 for x in spec.split(",") if x.strip()]


def test_dictionary_columns_hold_their_longest_word_in_typst(dictionary):
    """Table S1 overprinted its columns (REVIEW item 2): every column must be at
    least as wide as its widest unbreakable piece at 9 pt."""
    typst = pb.markdown_to_typst(dictionary.to_markdown())
    shares = _typst_columns(typst)
    assert len(shares) == len(dictionary.columns)
    for share, c in zip(shares, dictionary.columns):
        need = max(L.min_width(str(v)) for v in dictionary.frame[c]) * CHAR_PT + 12     # 6-pt insets
        assert share * pb.TEXT_WIDTH_PT >= need, (c, share)


def test_dictionary_pdf_prints_names_whole_and_unhyphenated(dictionary, tmp_path):
    body = pb.markdown_to_typst(dictionary.to_markdown())
    pages = pb.compile_pdf_pages(pb.typst_document(pb.quarto_float(body, "Data dictionary.")), tmp_path)
    text = "\n".join(pages)
    tokens = set(text.split())
    for name in dictionary.frame["name"]:
        assert name in tokens, name
    assert "cat-" not in text and "egory" not in tokens                # "cat-e-gory" (REVIEW item 2)
    source = " ".join(" ".join(map(str, dictionary.frame[c])) for c in dictionary.columns)
    for a, b in re.findall(r"(\w+)-\n(\w+)", text):                   # a line ends in a hyphen only
        assert f"{a}-{b}" in source, f"{a}-{b}"                         # where the text has one
    assert len(pages) > 1 and "Synthetic data" in pages[-1]            # long table breaks; notes at its end


def _short_table(rows: int = 12) -> DisplayTable:
    frame = pd.DataFrame({"label": [f"Row {i}" for i in range(rows)], "n": [str(i) for i in range(rows)]})
    return DisplayTable(frame=frame, columns=("label", "n"), labels={"label": "", "n": "n"}, id="t",
                        footnotes=(Footnote("NOTE-AT-END of the short table."),))


def test_short_table_keeps_caption_rows_and_notes_on_one_page(tmp_path):
    """REVIEW item 17: Table 2 started at a page foot with its notes two pages on;
    a table that fits on a page is moved whole."""
    filler = "\n\n".join(["Body text paragraph that fills the page. " * 8] * 11)
    table = pb.quarto_float(pb.markdown_to_typst(_short_table().to_markdown()), "CAPTION-OF-SHORT",
                            kind="quarto-float-tbl", supplement="Table")
    pages = pb.compile_pdf_pages(pb.typst_document(filler, table), tmp_path)
    where = [i for i, p in enumerate(pages) if "CAPTION-OF-SHORT" in p]
    assert where and all(x in pages[where[0]] for x in ("Row 0", "Row 11", "NOTE-AT-END"))


def test_typst_header_sets_table_typography():
    header = pb.typst_header()
    assert "#show table: set text(size: 9pt, hyphenate: false)" in header
    assert "#show table.cell: set par(justify: false)" in header


# --------------------------------------------------------------------------- Word


def _grid(document_xml: str) -> list[int]:
    first = document_xml[document_xml.index("<w:tblGrid>"):document_xml.index("</w:tblGrid>")]
    return [int(x) for x in re.findall(r'<w:gridCol w:w="(\d+)"', first)]


@pytest.mark.parametrize("name", ["dictionary_table", "S4"])
def test_word_grid_columns_hold_their_longest_word(results, tmp_path, name):
    """REVIEW item 3: Word's grid came from dash counts (Type 143 twips = 0.1 in;
    Table S4's P column split '.7 / 2'). Each column must hold its widest
    unbreakable piece at 9 pt (about 90 twips a character in Calibri)."""
    if name == "S4":
        display = T.factor_conventions_table(results)
    else:
        display = getattr(T, name)(results)
    parts = pb.markdown_to_docx_parts(display.to_markdown(), tmp_path)
    grid = _grid(parts["word/document.xml"])
    assert len(grid) == len(display.columns)
    a4_text = 9026          # twips across A4 inside pandoc's 1-inch margins; the grid is stretched to it
    for twips, c in zip(grid, display.columns):
        need = max(L.min_width(str(v)) for v in display.frame[c]) * 80
        assert twips / sum(grid) * a4_text >= need, (c, twips, need)


def test_word_reference_sets_table_text_to_9_points(results, tmp_path):
    ref = tmp_path / "reference.docx"
    ref.write_bytes(docx_reference.set_table_text_size(pb.pandoc_default_reference()))
    parts = pb.markdown_to_docx_parts(T.table1(results).to_markdown(), tmp_path, reference=ref)
    style = re.search(r'<w:style\b[^>]*w:styleId="Table"[^>]*>.*?</w:style>', parts["word/styles.xml"], re.S).group(0)
    assert re.search(r'<w:sz w:val="18"\s*/>', style)
    assert '<w:tblStyle w:val="Table" />' in parts["word/document.xml"]
    assert "<w:sz " not in parts["word/document.xml"]       # no direct size that would override the style
    # the paragraph styles of table cells set no size of their own (else they win over the table style)
    for sid in ("Compact", "BodyText", "Normal"):
        m = re.search(rf'<w:style\b[^>]*w:styleId="{sid}"[^>]*>.*?</w:style>', parts["word/styles.xml"], re.S)
        assert m is None or "<w:sz " not in m.group(0), sid


def test_word_cell_paragraphs_have_one_alignment(results, tmp_path):
    """REVIEW item 20: two <w:jc> per cell paragraph. Pandoc writes one from our
    Markdown; the second comes from Quarto's docx float layout (see report)."""
    parts = pb.markdown_to_docx_parts(T.table1(results).to_markdown(), tmp_path)
    for ppr in re.findall(r"<w:pPr>.*?</w:pPr>", parts["word/document.xml"], re.S):
        assert ppr.count("<w:jc ") <= 1


# --------------------------------------------------------------------------- spans (grid tables)


def test_strobe_sections_span_every_column_in_typst_and_word(results, tmp_path):
    """REVIEW item 2: STROBE section rows ("Ti-tle and abstract") wrapped one
    syllable a line in the 1-cm Item column; they must span the table."""
    from analysis.present import strobe

    d = strobe.strobe_table(results)
    md = d.to_markdown()
    typst = pb.markdown_to_typst(md)
    n = len(d.columns)
    for section in dict.fromkeys(d.frame["section"]):
        assert f"table.cell(colspan: {n})[#strong[{section}]]" in typst.replace("\n", " ").replace("  ", " "), section
    document = pb.markdown_to_docx_parts(md, tmp_path)["word/document.xml"]
    assert document.count(f'<w:gridSpan w:val="{n}" />') >= len(set(d.frame["section"]))


def test_table3_spanners_are_header_cells_in_typst_and_word(results, tmp_path):
    """REVIEW item 26: the HTML had spanners (Univariable / Multivariable) while the
    PDF and Word flattened them to 'Univariable HR (95% CI)'."""
    d = T.table3(results)
    assert d.spanners
    md = d.to_markdown()
    typst = pb.markdown_to_typst(md)
    head = typst[typst.index("table.header("):typst.index("table.hline()")]
    for label, cols in d.spanners:
        assert f"table.cell(colspan: {len(cols)})[{label}]" in head
        for c in cols:
            assert f"{label} {d.labels[c]}" not in md
    document = pb.markdown_to_docx_parts(md, tmp_path)["word/document.xml"]
    first_row = document[document.index("<w:tr>"):document.index("</w:tr>")]
    assert '<w:gridSpan w:val="2" />' in first_row and '<w:tblHeader w:val="on" />' in first_row


def test_grid_table_cells_never_start_a_block():
    md = L.grid_table(["a", "b"], [["- minus", "1. one"], ["# hash", "> quote"]], widths=[0.5, 0.5],
                      aligns=["left", "left"])
    native = json.loads(pb.pypandoc().convert_text(md, "json", format="markdown"))
    table = next(b for b in native["blocks"] if b["t"] == "Table")
    kinds = re.findall(r'"t": ?"(BulletList|OrderedList|Header|BlockQuote)"', json.dumps(table))
    assert not kinds


def test_word_indents_are_paragraph_indents_not_spaces(results, tmp_path):
    """REVIEW item 20: indentation in Word was runs of no-break spaces. In Word the
    labels of indented rows are paragraphs in TableIndent<level> styles that the
    reference document indents."""
    ref = tmp_path / "reference.docx"
    ref.write_bytes(docx_reference.add_indent_styles(
        docx_reference.set_table_text_size(pb.pandoc_default_reference())))
    d = T.table1(results)
    parts = pb.markdown_to_docx_parts(d.to_markdown(word=True), tmp_path, reference=ref)
    document, styles = parts["word/document.xml"], parts["word/styles.xml"]
    indented = (d.frame["indent"].fillna(0).astype(int) > 0).sum()
    assert document.count('<w:pStyle w:val="TableIndent1" />') == indented
    assert not re.search(r">\u00a0\u00a0", document)            # no run starts with no-break spaces
    style = re.search(r'<w:style\b[^>]*w:styleId="TableIndent1"[^>]*>.*?</w:style>', styles, re.S).group(0)
    assert re.search(r'<w:ind w:left="240"\s*/>', style) and re.search(r'<w:basedOn w:val="Compact"\s*/>', style)
    # the same table in Typst keeps its visible indentation (no Word styles there)
    assert TD.MD_INDENT + "Male" in d.to_markdown()


def test_docx_format_gets_word_markdown(monkeypatch, tmp_path, results):
    from analysis.present import quarto

    info = tmp_path / "info.json"
    info.write_text(json.dumps({"format": {"identifier": {"base-format": "docx"}}}), encoding="utf-8")
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(info))
    bundle = T.table1(results)._repr_mimebundle_()
    assert 'custom-style="TableIndent1"' in bundle["text/markdown"]


@pytest.mark.parametrize("lines_before", [34, 35, 36, 37])
def test_long_table_caption_is_not_left_at_a_page_foot(tmp_path, lines_before):
    """REVIEW item 17 (Table S9's caption at the foot of p. 9, the table on p. 10):
    a table too long for a page breaks across pages, but never leaves its
    caption without rows."""
    frame = pd.DataFrame({"label": [f"Row {i} " + "long text " * 8 for i in range(120)],
                          "n": [str(i) for i in range(120)]})
    d = DisplayTable(frame=frame, columns=("label", "n"), labels={"label": "", "n": "n"}, id="t")
    source = pb.typst_document("\n\n".join(["Line."] * lines_before),
                               pb.quarto_float(pb.markdown_to_typst(d.to_markdown()), "CAPLONG"))
    pages = pb.compile_pdf_pages(source, tmp_path)
    where = next(i for i, p in enumerate(pages) if "CAPLONG" in p)
    assert "Row 0 " in pages[where] and "Row 1 " in pages[where]
    assert len(pages) > where + 1 and "Row 119" in pages[-1]
