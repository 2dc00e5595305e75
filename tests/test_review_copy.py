"""The review copy (REVIEW item 18: line numbers, double spacing), a Quarto
project profile: `quarto render --profile review` merges _quarto-review.yml
into _quarto.yml (quarto.org/docs/projects/profiles.html; arrays such as
include-in-header are concatenated, quarto-cli src/core/config.ts
mergeArrayCustomizer). The default render stays journal-style."""

from __future__ import annotations

import re
import zipfile

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.banner import write_banners
from analysis.present.docx_reference import write_reference_docx

PROFILE = yaml.safe_load((PROJECT_ROOT / "_quarto-review.yml").read_text(encoding="utf-8"))
CFG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))


def test_profile_adds_to_the_typst_header_and_swaps_the_word_reference():
    extra = PROFILE["format"]["typst"]["include-in-header"]
    assert any("par.line(numbering" in h.get("text", "") for h in extra)
    assert PROFILE["format"]["docx"]["reference-doc"] == "_generated/reference-review.docx"
    assert CFG["format"]["docx"]["reference-doc"] == "_generated/reference.docx"
    header = "\n".join(h.get("text", "") for h in CFG["format"]["typst"]["include-in-header"] if isinstance(h, dict))
    assert "par.line" not in header                                        # not in the default render


def test_typst_review_header_numbers_lines(tmp_path):
    typst = pytest.importorskip("typst")
    pypdf = pytest.importorskip("pypdf")
    headers = [h["text"] for h in CFG["format"]["typst"]["include-in-header"] if isinstance(h, dict)]
    headers += [h["text"] for h in PROFILE["format"]["typst"]["include-in-header"]]
    body = "\n\n".join(["Alpha beta gamma delta. " * 30] * 3)
    (tmp_path / "r.typ").write_text("\n".join(headers) + "\n" + body + "\n", encoding="utf-8")
    typst.compile(str(tmp_path / "r.typ"), output=str(tmp_path / "r.pdf"))
    text = pypdf.PdfReader(str(tmp_path / "r.pdf")).pages[0].extract_text(extraction_mode="layout")
    numbers = [int(n) for n in re.findall(r"^\s*(\d+)\s*(?=Alpha|beta|gamma|delta)", text, flags=re.M)]
    assert numbers[:3] == [1, 2, 3], text[:300]


def test_word_review_reference_numbers_lines_and_double_spaces(tmp_path):
    pypandoc = pytest.importorskip("pypandoc")
    for review in (False, True):
        ref = write_reference_docx(tmp_path / f"ref{review}.docx", footer=None, review=review)
        out = tmp_path / f"out{review}.docx"
        pypandoc.convert_text("# H\n\nText.\n", "docx", format="markdown", outputfile=str(out),
                              extra_args=[f"--reference-doc={ref}"])
        z = zipfile.ZipFile(out)
        sect = re.findall(r"<w:sectPr\b.*?</w:sectPr>", z.read("word/document.xml").decode(), flags=re.S)[-1]
        defaults = re.search(r"<w:pPrDefault>.*?</w:pPrDefault>", z.read("word/styles.xml").decode(),
                             flags=re.S).group(0)
        assert ("<w:lnNumType" in sect) == review
        assert ('w:line="480"' in defaults) == review
        assert re.search(r'<w:pgSz (?=[^>]*w:w="11906")', sect)


def test_pre_render_writes_both_word_references(tmp_path):
    names = {p.name for p in write_banners(True, tmp_path)}
    assert {"reference.docx", "reference-review.docx"} <= names
