"""The Word reference document: A4 pages, page numbers in the footer (with the
synthetic-data notice above them when the data are synthetic) and black headings.

Pandoc (and so Quarto's docx format) takes styles, page size, margins, headers
and footers from the ``reference-doc`` (the section properties of its body).
We start from pandoc's own default reference document when pandoc is reachable
(``quarto pandoc``, ``pandoc``, or the one of the pypandoc-binary package), so
the styles stay pandoc's; otherwise from a minimal document made here. The
parts are edited as OOXML: a footer part with a PAGE field, its relationship,
content type and footerReference; ``w:pgSz``/``w:pgMar`` in the section
properties (pandoc's default has none, so Word falls back to Letter); the
colour of the heading and title styles. No library in our dependencies edits
.docx files, so this is our own code, kept small.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from ..outputs import write_bytes_atomic

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
FOOTER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
REL_ID = "rIdPageFooter"

_MINIMAL = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>'
    ),
    "word/_rels/document.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
    ),
    "word/document.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:body><w:p/>'
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" '
        'w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>'
    ),
}


#: A4 portrait, 2.5 cm margins (twentieths of a point), as the PDF (_quarto.yml papersize: a4).
PAGE_SIZE = '<w:pgSz w:w="11906" w:h="16838"/>'
PAGE_MARGINS = ('<w:pgMar w:top="1417" w:right="1247" w:bottom="1417" w:left="1247" w:header="708" '
                'w:footer="708" w:gutter="0"/>')
HEADING_COLOUR = "000000"
#: Review copy (_quarto-review.yml): lines numbered on each page, body double-spaced.
LINE_NUMBERS = '<w:lnNumType w:countBy="1" w:restart="newPage"/>'
DOUBLE_SPACING = 'w:line="480" w:lineRule="auto"'
_COLOURED_STYLES = re.compile(r'(<w:style\b[^>]*w:styleId="(?:Heading\d|Title|Subtitle)"[^>]*>)(.*?)(</w:style>)',
                              flags=re.S)


def _pandoc_commands() -> list[list[str]]:
    cmds = [["quarto", "pandoc"], ["pandoc"]]
    try:
        import pypandoc

        cmds.append([pypandoc.get_pandoc_path()])
    except (ImportError, OSError):
        pass
    return cmds


def pandoc_default_reference() -> bytes | None:
    """pandoc's default reference.docx, or None when no pandoc is reachable."""
    for cmd in _pandoc_commands():
        if shutil.which(cmd[0]) is None:
            continue
        try:
            out = subprocess.run(cmd + ["--print-default-data-file", "reference.docx"],
                                 capture_output=True, check=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.stdout[:2] == b"PK":
            return out.stdout
    return None


def _minimal_reference() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in _MINIMAL.items():
            z.writestr(name, text)
    return buf.getvalue()


def _footer_xml(text: str | None) -> str:
    notice = ("" if not text else
              '<w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
              '<w:r><w:rPr><w:b/><w:color w:val="B00020"/><w:sz w:val="16"/></w:rPr>'
              f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>')
    page = ('<w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            '<w:r><w:t>1</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}">{notice}{page}</w:ftr>')


def _page_setup(doc: str, review: bool = False) -> str:
    """A4 page size and margins (and line numbers for a review copy) in the body's
    (last) section properties."""
    i = doc.rindex("<w:sectPr")
    j = doc.index("</w:sectPr>", i)
    sect = re.sub(r"<w:pg(?:Sz|Mar)\b[^>]*/>", "", doc[i:j])
    k = sect.index(">") + 1
    # schema order (CT_SectPr): header/footer references, footnotePr, endnotePr, type, pgSz, pgMar, ...
    refs = re.findall(r"<w:(?:header|footer)Reference [^>]*/>", sect)
    rest = re.sub(r"<w:(?:header|footer)Reference [^>]*/>", "", sect[k:])
    notes = "".join(re.findall(r"<w:(?:footnotePr|endnotePr)>.*?</w:(?:footnotePr|endnotePr)>|<w:type [^>]*/>",
                               rest, flags=re.S))
    rest = re.sub(r"<w:(?:footnotePr|endnotePr)>.*?</w:(?:footnotePr|endnotePr)>|<w:type [^>]*/>", "", rest,
                  flags=re.S)
    rest = re.sub(r"<w:lnNumType\b[^>]*/>", "", rest)
    numbers = LINE_NUMBERS if review else ""
    return doc[:i] + sect[:k] + "".join(refs) + notes + PAGE_SIZE + PAGE_MARGINS + numbers + rest + doc[j:]


def _black_headings(styles: str) -> str:
    """Headings, title and subtitle in black instead of the default theme blue."""
    def fix(m: re.Match) -> str:
        body = re.sub(r"<w:color\b[^>]*/>", "", m.group(2))
        if "<w:rPr>" in body:
            body = body.replace("<w:rPr>", f'<w:rPr><w:color w:val="{HEADING_COLOUR}"/>', 1)
        return m.group(1) + body + m.group(3)
    return _COLOURED_STYLES.sub(fix, styles)


def _double_spaced(styles: str) -> str:
    """Default paragraph spacing of two lines (the review copy)."""
    m = re.search(r"<w:pPrDefault>.*?</w:pPrDefault>", styles, flags=re.S)
    if m is None:
        return styles.replace("</w:docDefaults>", f"<w:pPrDefault><w:pPr><w:spacing {DOUBLE_SPACING}/></w:pPr>"
                                                  "</w:pPrDefault></w:docDefaults>")
    block = m.group(0)
    if "<w:spacing" in block:
        block = re.sub(r"<w:spacing\b([^>]*?)\s*/>",
                       lambda s: "<w:spacing" + re.sub(r'\s+w:(?:line|lineRule)="[^"]*"', "", s.group(1))
                       + f" {DOUBLE_SPACING}/>", block, count=1)
    else:
        block = block.replace("<w:pPr>", f"<w:pPr><w:spacing {DOUBLE_SPACING}/>", 1)
    return styles[:m.start()] + block + styles[m.end():]


def add_footer(docx: bytes, text: str | None, *, review: bool = False) -> bytes:
    """Return ``docx`` with A4 pages, black headings and a default page footer
    holding the page number, under ``text`` when given; ``review``: numbered
    lines and double spacing."""
    parts = _read(docx)
    doc = parts["word/document.xml"].decode("utf-8")
    if 'xmlns:r="' not in doc[: doc.index(">", doc.index("<w:document")) + 1]:
        doc = doc.replace("<w:document ", f'<w:document xmlns:r="{R_NS}" ', 1)
    ref = f'<w:footerReference w:type="default" r:id="{REL_ID}"/>'
    doc = re.sub(r"<w:footerReference [^>]*/>", "", doc)
    if "<w:sectPr" in doc:
        i = doc.rindex("<w:sectPr")
        j = doc.index(">", i)
        if doc[j - 1] == "/":  # <w:sectPr/>
            doc = doc[:i] + f"<w:sectPr>{ref}</w:sectPr>" + doc[j + 1:]
        else:
            doc = doc[: j + 1] + ref + doc[j + 1:]
    else:
        doc = doc.replace("</w:body>", f"<w:sectPr>{ref}</w:sectPr></w:body>")
    parts["word/document.xml"] = _page_setup(doc, review).encode("utf-8")
    if "word/styles.xml" in parts:
        styles = _black_headings(parts["word/styles.xml"].decode("utf-8"))
        parts["word/styles.xml"] = (_double_spaced(styles) if review else styles).encode("utf-8")
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    rels = re.sub(rf'<Relationship [^>]*Id="{REL_ID}"[^>]*/>', "", rels)
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="{REL_ID}" Type="{FOOTER_REL}" Target="footer_page.xml"/>'
                        "</Relationships>")
    parts["word/_rels/document.xml.rels"] = rels.encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    if "/word/footer_page.xml" not in ct:
        ct = ct.replace("</Types>", f'<Override PartName="/word/footer_page.xml" ContentType="{FOOTER_TYPE}"/>'
                                    "</Types>")
    parts["[Content_Types].xml"] = ct.encode("utf-8")
    parts["word/footer_page.xml"] = _footer_xml(text).encode("utf-8")
    return _write(parts)


#: Table text size in half-points (9 pt; journals ask for 8-10 pt tables, REVIEW 2026-12-06 items 3, 20).
TABLE_TEXT_HALF_POINTS = 18
TABLE_STYLE_ID = "Table"      # the table style pandoc's docx writer gives every table


def _table_style(half_points: int) -> str:
    return (f'<w:style w:type="table" w:default="1" w:styleId="{TABLE_STYLE_ID}"><w:name w:val="Table"/>'
            '<w:basedOn w:val="TableNormal"/><w:qFormat/><w:rPr>'
            f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
            '<w:tblPr><w:tblCellMar><w:left w:w="108" w:type="dxa"/><w:right w:w="108" w:type="dxa"/>'
            '</w:tblCellMar></w:tblPr></w:style>')


def set_table_text_size(docx: bytes, half_points: int = TABLE_TEXT_HALF_POINTS) -> bytes:
    """Return ``docx`` with the text of pandoc's "Table" table style set to ``half_points``.

    Pandoc writes every table with table style "Table" and its cell paragraphs
    in style "Compact" (also used by tight lists, so its size must stay). A
    table style's run properties apply to the table's text unless the
    paragraph style sets a size, which neither Compact nor its parents
    (Body Text, Normal) do in pandoc's reference document (ECMA-376 part 1,
    17.7.2 style hierarchy)."""
    parts = _read(docx)
    if "word/styles.xml" not in parts:
        parts["word/styles.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:styles xmlns:w="{W_NS}">{_table_style(half_points)}</w:styles>').encode("utf-8")
        ct = parts["[Content_Types].xml"].decode("utf-8")
        ct = ct.replace("</Types>", '<Override PartName="/word/styles.xml" ContentType="application/'
                                    'vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>')
        parts["[Content_Types].xml"] = ct.encode("utf-8")
        rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
        rels = rels.replace("</Relationships>", '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats'
                                                '.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                                                "</Relationships>")
        parts["word/_rels/document.xml.rels"] = rels.encode("utf-8")
        return _write(parts)
    styles = parts["word/styles.xml"].decode("utf-8")
    pattern = re.compile(rf'<w:style\b[^>]*w:styleId="{TABLE_STYLE_ID}"[^>]*>.*?</w:style>', re.S)
    match = pattern.search(styles)
    if match is None:
        styles = styles.replace("</w:styles>", _table_style(half_points) + "</w:styles>")
    else:
        style = re.sub(r"<w:rPr>.*?</w:rPr>", "", match.group(0), flags=re.S)
        size = f'<w:rPr><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
        # CT_Style order: name, aliases, basedOn, ..., qFormat, ..., pPr, rPr, tblPr, trPr, tcPr, tblStylePr
        at = style.find("<w:tblPr")
        at = at if at >= 0 else style.rindex("</w:style>")
        style = style[:at] + size + style[at:]
        styles = styles[:match.start()] + style + styles[match.end():]
    parts["word/styles.xml"] = styles.encode("utf-8")
    return _write(parts)


#: Indentation of an indented table row's label per level, in twips (1/6 inch).
INDENT_TWIPS = 240
INDENT_LEVELS = 4


def _indent_style(level: int) -> str:
    return (f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableIndent{level}">'
            f'<w:name w:val="TableIndent{level}"/><w:basedOn w:val="Compact"/><w:qFormat/>'
            f'<w:pPr><w:ind w:left="{INDENT_TWIPS * level}"/></w:pPr></w:style>')


def add_indent_styles(docx: bytes, levels: int = INDENT_LEVELS) -> bytes:
    """Return ``docx`` with paragraph styles ``TableIndent1`` ... for the labels of
    indented table rows (the Markdown gives them as ``custom-style`` divs;
    analysis.present.tables.display.WORD_INDENT_STYLE), a real left indent instead of
    runs of no-break spaces (REVIEW 2026-12-06 item 20)."""
    parts = _read(docx)
    styles = parts["word/styles.xml"].decode("utf-8")
    for level in range(1, levels + 1):
        styles = re.sub(rf'<w:style\b[^>]*w:styleId="TableIndent{level}"[^>]*>.*?</w:style>', "", styles,
                        flags=re.S)
        styles = styles.replace("</w:styles>", _indent_style(level) + "</w:styles>")
    parts["word/styles.xml"] = styles.encode("utf-8")
    return _write(parts)


def _read(docx: bytes) -> dict[str, bytes]:
    src = zipfile.ZipFile(io.BytesIO(docx))
    return {name: src.read(name) for name in src.namelist()}


def _write(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def write_reference_docx(path: Path, *, footer: str | None, base: bytes | None = None,
                         review: bool = False) -> Path:
    """Write the reference document: tables in 9-pt text with indent styles; with ``footer``
    None, the footer has the page number only; ``review``: the review copy's (numbered
    lines, double spacing)."""
    base = base or pandoc_default_reference() or _minimal_reference()
    data = add_indent_styles(set_table_text_size(base))
    return write_bytes_atomic(Path(path), add_footer(data, footer, review=review))
