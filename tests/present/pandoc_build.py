"""Build what Quarto builds from our Markdown, without Quarto: Pandoc 3.x (PyPI
pypandoc-binary) writes Typst and Word; the Typst compiler (PyPI typst)
makes the PDF. Tests that need them skip where they are not installed.

The Typst document is shaped as Quarto writes it (quarto-cli
src/resources/formats/typst/pandoc/quarto/typst-template.typ and
typst.template): our `include-in-header` from _quarto.yml, Quarto's
`#set table(inset: 6pt, stroke: none)`, a justified body (`set par(justify:
true)` in its article function), and each table in a float figure of kind
"quarto-float-tbl" / "quarto-float-supptbl" with the caption on top.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml

from analysis.config import PROJECT_ROOT

#: Text width of the A4 page with _quarto.yml's 2.2 cm side margins, in points.
TEXT_WIDTH_PT = (21.0 - 4.4) / 2.54 * 72


def pypandoc():
    return pytest.importorskip("pypandoc")


def typst_header() -> str:
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    return "\n".join(h["text"] for h in cfg["format"]["typst"]["include-in-header"] if isinstance(h, dict))


def markdown_to_typst(markdown: str) -> str:
    return pypandoc().convert_text(markdown, "typst", format="markdown")


def quarto_float(body_typst: str, caption: str, *, kind: str = "quarto-float-supptbl",
                 supplement: str = "Table S") -> str:
    return (f'#figure([\n{body_typst}\n], caption: figure.caption(position: top, [{caption}]), '
            f'kind: "{kind}", supplement: "{supplement}", numbering: "1")\n')


def typst_document(*blocks: str) -> str:
    return ('#set page(paper: "a4", margin: (x: 2.2cm, y: 2.5cm))\n#set text(size: 10pt)\n'
            + typst_header() + "\n#set table(inset: 6pt, stroke: none)\n#set par(justify: true)\n"
            + "\n".join(blocks))


def compile_pdf_pages(source: str, tmp_path: Path) -> list[str]:
    """Compile Typst source; the text of each page (pypdf)."""
    typst = pytest.importorskip("typst")
    pypdf = pytest.importorskip("pypdf")
    (tmp_path / "doc.typ").write_text(source, encoding="utf-8")
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"))
    return [p.extract_text() for p in pypdf.PdfReader(str(tmp_path / "doc.pdf")).pages]


def markdown_to_docx_parts(markdown: str, tmp_path: Path, *, reference: Path | None = None) -> dict[str, str]:
    """The XML parts (document.xml, styles.xml) of the docx Pandoc writes."""
    out = tmp_path / "doc.docx"
    args = [f"--reference-doc={reference}"] if reference else []
    pypandoc().convert_text(markdown, "docx", format="markdown", outputfile=str(out), extra_args=args)
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as z:
        return {name: z.read(name).decode("utf-8") for name in ("word/document.xml", "word/styles.xml")}


def pandoc_default_reference() -> bytes:
    import subprocess

    path = pypandoc().get_pandoc_path()
    return subprocess.run([path, "--print-default-data-file", "reference.docx"], capture_output=True,
                          check=True).stdout
