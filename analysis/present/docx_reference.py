"""A Word reference document whose page footer carries the synthetic-data notice.

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


def write_reference_docx(path: Path, *, footer: str | None, base: bytes | None = None) -> Path:
    """Write the reference document; with ``footer`` None, without a footer."""
    base = base or pandoc_default_reference() or _minimal_reference()
    data = add_footer(base, footer) if footer else base
    return write_bytes_atomic(Path(path), data)
