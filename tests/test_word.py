"""Word output (REVIEW items 18, 19, 22): the reference document (A4, page
numbers, black headings) and the title-page filter, checked on documents that
the Pandoc of pypandoc-binary builds with them, as Quarto's docx format does."""

from __future__ import annotations

import re
import zipfile

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.docx_reference import write_reference_docx

pypandoc = pytest.importorskip("pypandoc")

CFG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
FILTER = PROJECT_ROOT / "filters" / "docx-title-page.lua"


def build(tmp_path, markdown: str, *, footer: str | None = "SYNTHETIC DATA", lua: bool = True) -> zipfile.ZipFile:
    ref = write_reference_docx(tmp_path / "reference.docx", footer=footer)
    out = tmp_path / "out.docx"
    args = [f"--reference-doc={ref}"] + ([f"--lua-filter={FILTER}"] if lua else [])
    pypandoc.convert_text(markdown, "docx", format="markdown", outputfile=str(out), extra_args=args)
    return zipfile.ZipFile(out)


def paragraphs(z: zipfile.ZipFile) -> list[tuple[str, str, bool]]:
    """(style, text, has superscript) per body paragraph."""
    xml = z.read("word/document.xml").decode("utf-8")
    out = []
    for p in re.findall(r"<w:p\b.*?</w:p>", xml, flags=re.S):
        style = re.search(r'<w:pStyle w:val="([^"]+)"', p)
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", p))
        out.append((style.group(1) if style else "", text, 'w:vertAlign w:val="superscript"' in p))
    return out


def test_quarto_config_uses_reference_doc_and_title_page_filter():
    docx = CFG["format"]["docx"]
    assert docx["reference-doc"] == "_generated/reference.docx"
    assert "filters/docx-title-page.lua" in CFG["filters"]         # acts on docx only (FORMAT check)
    assert FILTER.exists()


@pytest.mark.parametrize("footer", ["SYNTHETIC DATA", None], ids=["synthetic", "real"])
def test_a4_pages_with_page_numbers(tmp_path, footer):
    z = build(tmp_path, "# Heading\n\nText.\n", footer=footer, lua=False)
    xml = z.read("word/document.xml").decode("utf-8")
    sect = re.findall(r"<w:sectPr\b.*?</w:sectPr>", xml, flags=re.S)[-1]
    assert re.search(r'<w:pgSz (?=[^>]*w:w="11906")(?=[^>]*w:h="16838")', sect), sect      # A4, not Letter
    assert "<w:footerReference" in sect
    footers = [n for n in z.namelist() if n.startswith("word/footer")]
    text = "".join(z.read(n).decode("utf-8") for n in footers)
    assert "<w:instrText xml:space=\"preserve\"> PAGE </w:instrText>" in text
    assert ("SYNTHETIC DATA" in text) == (footer is not None)


def test_headings_are_black(tmp_path):
    z = build(tmp_path, "# Heading\n\nText.\n", lua=False)
    styles = z.read("word/styles.xml").decode("utf-8")
    for sid in ("Heading1", "Heading2", "Heading3", "Title"):
        block = re.search(rf'<w:style [^>]*w:styleId="{sid}".*?</w:style>', styles, flags=re.S).group(0)
        colours = re.findall(r'<w:color w:val="([0-9A-Fa-f]{6})"', block)
        assert colours in ([], ["000000"]), (sid, colours)


def front(doc: str) -> dict:
    return yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", (PROJECT_ROOT / doc).read_text(encoding="utf-8"),
                                   flags=re.S).group(1))


def test_title_page_has_the_front_matter_of_the_html(tmp_path):
    """The project's authors.yml and report front matter, as written (before
    Quarto's normalisation)."""
    meta = {**yaml.safe_load((PROJECT_ROOT / "authors.yml").read_text(encoding="utf-8")),
            **{k: v for k, v in front("report.qmd").items() if k in ("title", "shorttitle", "keywords")},
            "abstract": "**Purpose.** A purpose.\n\n**Methods.** Methods."}
    md = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n# Introduction\n\nText.\n"
    paras = paragraphs(build(tmp_path, md))
    styles = [s for s, _, _ in paras]
    texts = [t for _, t, _ in paras]
    authors = meta["author"]
    author_line = next(p for p in paras if p[0] == "Author")
    assert author_line[2]                                                  # superscript numbers
    for a in authors:
        assert a["name"] in author_line[1]
    assert styles.count("Author") == 1                                     # names not printed twice
    assert sum(s == "Affiliation" for s in styles) == len(meta["affiliations"])
    assert any(t.startswith("*Corresponding author: ") and authors[0]["email"] in t for t in texts)
    assert f"Running title: {meta['shorttitle']}" in texts
    assert "Keywords: " + "; ".join(meta["keywords"]) in texts
    order = [styles.index("Author"), styles.index("Affiliation"), styles.index("AbstractTitle"),
             styles.index("Abstract"), styles.index("Heading1")]
    assert order == sorted(order)


def test_title_page_from_quarto_normalised_authors(tmp_path):
    meta = {"title": "T", "by-author": [
        {"name": {"literal": "Ada Lovelace"}, "email": "ada@x.example", "attributes": {"corresponding": True},
         "affiliations": [{"id": "a", "number": 1, "name": "Institution One"}]},
        {"name": {"literal": "Bob Second"}, "attributes": {"corresponding": False},
         "affiliations": [{"id": "b", "number": 2, "name": "Institution Two"},
                          {"id": "a", "number": 1, "name": "Institution One"}]}]}
    md = "---\n" + yaml.safe_dump(meta) + "---\n\nText.\n"
    texts = [t for _, t, _ in paragraphs(build(tmp_path, md))]
    assert "Ada Lovelace1*, Bob Second2,1" in texts
    assert "1Institution One" in texts and "2Institution Two" in texts
    assert "*Corresponding author: Ada Lovelace, ada@x.example" in texts
