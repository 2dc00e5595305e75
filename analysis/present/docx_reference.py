"""A Word reference document: tables in 9-pt text, and a page footer carrying the synthetic-data notice.

Pandoc (and so Quarto's docx format) takes styles, margins, headers and footers
from the ``reference-doc``. We start from pandoc's own default reference
document when pandoc is reachable (``quarto pandoc`` or ``pandoc``), so the
styles stay pandoc's; otherwise from a minimal document made here. The footer is
added by editing the OOXML parts (a footer part, its relationship, its content
type and a footerReference in the section properties). No library in our
dependencies edits .docx files, so this is our own code, kept small.
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
REL_ID = "rIdSyntheticFooter"

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


def pandoc_default_reference() -> bytes | None:
    """pandoc's default reference.docx, or None when no pandoc is reachable."""
    for cmd in (["quarto", "pandoc"], ["pandoc"]):
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


def _footer_xml(text: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
        '<w:r><w:rPr><w:b/><w:color w:val="B00020"/><w:sz w:val="16"/></w:rPr>'
        f'<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:ftr>'
    )


def add_footer(docx: bytes, text: str) -> bytes:
    """Return ``docx`` with a default page footer holding ``text``."""
    src = zipfile.ZipFile(io.BytesIO(docx))
    parts = {name: src.read(name) for name in src.namelist()}
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
    parts["word/document.xml"] = doc.encode("utf-8")
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    rels = re.sub(rf'<Relationship [^>]*Id="{REL_ID}"[^>]*/>', "", rels)
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="{REL_ID}" Type="{FOOTER_REL}" Target="footer_synthetic.xml"/>'
                        "</Relationships>")
    parts["word/_rels/document.xml.rels"] = rels.encode("utf-8")
    ct = parts["[Content_Types].xml"].decode("utf-8")
    if "/word/footer_synthetic.xml" not in ct:
        ct = ct.replace("</Types>", f'<Override PartName="/word/footer_synthetic.xml" ContentType="{FOOTER_TYPE}"/>'
                                    "</Types>")
    parts["[Content_Types].xml"] = ct.encode("utf-8")
    parts["word/footer_synthetic.xml"] = _footer_xml(text).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


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
    analysis.present.tables.WORD_INDENT_STYLE), a real left indent instead of
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


def write_reference_docx(path: Path, *, footer: str | None, base: bytes | None = None) -> Path:
    """Write the reference document (tables in 9-pt text); with ``footer`` None, without a footer."""
    base = base or pandoc_default_reference() or _minimal_reference()
    data = add_indent_styles(set_table_text_size(base))
    data = add_footer(data, footer) if footer else data
    return write_bytes_atomic(Path(path), data)
