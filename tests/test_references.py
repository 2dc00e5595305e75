"""The reference list: numbered clinical style (AMA/Vancouver CSL shipped in
csl/), entries that format consistently, and no TeX math anywhere Pandoc reads
(REVIEW items 23, 28, 29): math makes Quarto's HTML load MathJax from a CDN
and shows raw TeX offline. Formatted with the Pandoc of pypandoc-binary, whose
citeproc is the one Quarto runs."""

from __future__ import annotations

import re

import pytest
import yaml

from analysis.config import PROJECT_ROOT

pypandoc = pytest.importorskip("pypandoc")

BIB = PROJECT_ROOT / "references.bib"
TEX_MATH = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[|\\(chi|alpha|beta|le|ge|pm)\b")


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), flags=re.M)


def quarto_csl() -> str:
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    return str(PROJECT_ROOT / cfg["csl"])


def cite(markdown: str, to: str = "plain", *extra: str) -> str:
    return pypandoc.convert_text(markdown, to, format="markdown",
                                 extra_args=["--citeproc", f"--bibliography={BIB}", f"--csl={quarto_csl()}",
                                             *extra])


def test_no_tex_math_in_the_bibliography():
    offenders = [line.strip() for line in BIB.read_text(encoding="utf-8").splitlines() if TEX_MATH.search(line)]
    assert not offenders, offenders


def test_every_reference_renders_as_html_without_math_or_external_sources():
    """Pandoc adds a MathJax <script src="https://..."> to standalone HTML only
    when the text holds math: the whole bibliography must add none."""
    html = cite("---\ntitle: refs\nnocite: '@*'\n---\n\nText.\n", "html", "--standalone", "--mathjax")
    assert 'class="math' not in html
    assert not re.search(r"""src\s*=\s*["']?https?:""", html), re.findall(r"src=\S+", html)
    assert "χ²" in html


@pytest.mark.parametrize("path", sorted([*PROJECT_ROOT.glob("sections/*.qmd"), PROJECT_ROOT / "report.qmd",
                                         PROJECT_ROOT / "supplement.qmd"]), ids=lambda p: p.name)
def test_document_prose_has_no_math(path):
    """The documents' own text (chunks and inline code removed), through
    Pandoc to standalone HTML with MathJax: no math, so no external src."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`\{python\}[^`]*`", "x", text)
    text = re.sub(r"\{\{<[^>]*>\}\}", "x", text)
    html = pypandoc.convert_text(text, "html", format="markdown", extra_args=["--standalone", "--mathjax",
                                                                               "--metadata=title:t"])
    assert 'class="math' not in html, path.name
    assert not re.search(r"""src\s*=\s*["']?https?:""", html), path.name


def test_numbered_clinical_style():
    out = cite("A [@kaplan1958; @greenwood1926] and B [@cox1972].\n\n# References\n")
    assert re.search(r"A\s*\S*1,\s*2\S* and B\s*\S*3", out) or "A^(1,2) and B³" in out, out[:200]
    refs = out.split("References", 1)[1]
    assert re.search(r"^1\. Kaplan EL, Meier P\.", refs, flags=re.M)
    assert "J Am Stat Assoc" in refs                  # abbreviated journal names


def test_names_and_particles_are_consistent():
    """{von Elm}, not 'Elm, Erik von'; both Kantarjian papers under one name."""
    out = cite("[@vonelm2007; @kantarjian2016; @kantarjian2017]\n")
    assert "von Elm E," in out and "Elm Ev" not in out and "Elm E von" not in out
    assert out.count("Kantarjian HM,") == 2, out


def test_every_entry_formats_with_the_style():
    keys = bib_keys()
    assert len(keys) == len(set(keys))
    out = cite("---\nnocite: '@*'\n---\n\nText.\n")
    numbered = re.findall(r"^(\d+)\. ", out, flags=re.M)
    assert [int(n) for n in numbered] == list(range(1, len(keys) + 1))
    assert "???" not in out
    for key in ("yang2012", "collett2015", "peduzzi1995", "brookmeyer1982", "grambsch1994"):
        assert key in keys


def test_csl_file_is_the_shipped_style_with_its_licence():
    csl = (PROJECT_ROOT / "csl" / "american-medical-association.csl").read_text(encoding="utf-8")
    assert 'citation-format="numeric"' in csl
    assert "creativecommons.org/licenses/by-sa/3.0" in csl
    readme = (PROJECT_ROOT / "csl" / "README.md").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike" in readme and "american-medical-association.csl" in readme
