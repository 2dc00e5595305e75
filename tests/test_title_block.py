"""The PDF title block (REVIEW items 15, 19): the Typst template partials of
_quarto.yml, filled by Pandoc's template engine from metadata shaped as
Quarto normalises authors (quarto.org/docs/journals/authors.html: by-author
with name.literal, affiliations, email, attributes.corresponding), then
compiled with the typst package and read back with pypdf."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from analysis.config import PROJECT_ROOT

pypandoc = pytest.importorskip("pypandoc")
typst = pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

CFG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
TITLE = ("Salvage therapy after relapse of B-cell acute lymphoblastic leukaemia following CD19 CAR-T cell "
         "therapy: a multi-institutional retrospective cohort study")


def by_author(authors: dict) -> list[dict]:
    """Quarto's normalised view of authors.yml (refs resolved to affiliations)."""
    affiliations = {a["id"]: a for a in authors["affiliations"]}
    return [{"name": {"literal": a["name"]},
             "affiliations": [affiliations[r["ref"]] for r in a.get("affiliations", [])],
             **({"email": a["email"]} if a.get("email") else {}),
             "attributes": {"corresponding": bool(a.get("corresponding"))}} for a in authors["author"]]


def render(tmp_path, meta: dict) -> tuple[list[str], dict]:
    """Pandoc (Typst writer) with a template that calls the partials as Quarto's
    template.typ does (typst-template, header includes, typst-show, body)."""
    partials = CFG["format"]["typst"]["template-partials"]
    for p in partials:
        shutil.copy(PROJECT_ROOT / p, tmp_path)
    (tmp_path / "template.typst").write_text(
        "$typst-template.typ()$\n\n$for(header-includes)$\n$header-includes$\n$endfor$\n\n"
        "$typst-show.typ()$\n\n$body$\n", encoding="utf-8")
    body = "# Introduction\n\nText.\n\n```{=typst}\n#pagebreak()\n```\n\nSecond page.\n"
    md = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + body
    out = pypandoc.convert_text(md, "typst", format="markdown",
                                extra_args=["--standalone", f"--template={tmp_path / 'template.typst'}"])
    (tmp_path / "doc.typ").write_text(out, encoding="utf-8")
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"))
    reader = pypdf.PdfReader(str(tmp_path / "doc.pdf"))
    return [p.extract_text() for p in reader.pages], dict(reader.metadata or {})


def front_matter(doc: str) -> dict:
    return yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", (PROJECT_ROOT / doc).read_text(encoding="utf-8"),
                                   flags=re.S).group(1))


def sample_meta(**extra) -> dict:
    authors = {"author": [
        {"name": "Ada Lovelace", "affiliations": [{"ref": "a"}], "corresponding": True, "email": "ada@x.example"},
        {"name": "Bob Second", "affiliations": [{"ref": "b"}]},
        {"name": "Carol Senior", "affiliations": [{"ref": "a"}, {"ref": "b"}]}],
        "affiliations": [{"id": "a", "name": "Department of Haematology, Institution One"},
                         {"id": "b", "name": "Department of Paediatric Oncology, Institution Two"}]}
    return {"title": TITLE, "shorttitle": "Salvage after CAR-T", "by-author": by_author(authors),
            "keywords": ["acute lymphoblastic leukaemia", "CAR-T cell therapy"], "date": "2026-12-06",
            "abstract": "**Purpose.** A purpose.", "papersize": "a4", "fontsize": "10pt",
            "margin": {"x": "2.2cm", "y": "2.5cm"}, "toc-depth": 3, **extra}


def test_quarto_config_uses_the_title_block_partials():
    partials = CFG["format"]["typst"]["template-partials"]
    assert [p.rsplit("/", 1)[-1] for p in partials] == ["typst-template.typ", "typst-show.typ"]
    for p in partials:
        assert (PROJECT_ROOT / p).exists()


def test_title_block_numbers_affiliations_and_names_the_corresponding_author(tmp_path):
    pages, meta = render(tmp_path, sample_meta())
    first = pages[0]
    lines = [line.strip() for line in first.splitlines()]
    assert "Ada Lovelace1*, Bob Second2, Carol Senior1,2" in lines
    assert "1Department of Haematology, Institution One" in lines
    assert "2Department of Paediatric Oncology, Institution Two" in lines
    assert first.count("Institution One") == 1                       # listed once, not per author
    assert "*Corresponding author: Ada Lovelace, ada@x.example" in lines
    assert "Keywords: acute lymphoblastic leukaemia; CAR-T cell therapy" in lines
    assert "Running title: Salvage after CAR-T" in lines
    assert "Salvage after CAR-T" in pages[1].splitlines()[0]         # running head from page 2
    assert meta["/Title"] == TITLE
    assert meta["/Keywords"] == "acute lymphoblastic leukaemia, CAR-T cell therapy"
    assert meta["/Author"] == "Ada Lovelace, Bob Second, Carol Senior"


def test_title_is_not_hyphenated(tmp_path):
    pages, _ = render(tmp_path, sample_meta())
    title_lines = pages[0].split("Ada Lovelace", 1)[0]
    words = {w.strip() for w in re.split(r"\s+", title_lines) if w}
    broken = [w for w in words if w.endswith("-") and w.rstrip("-") + "-" not in ("multi-",)]
    assert not broken, broken
    assert "institu-" not in title_lines


def test_project_authors_and_supplement_title(tmp_path):
    """Both documents read authors.yml; the supplement has the study title (PDF
    metadata) and "Supplementary appendix" as subtitle."""
    authors = yaml.safe_load((PROJECT_ROOT / "authors.yml").read_text(encoding="utf-8"))
    supplement = front_matter("supplement.qmd")
    pages, meta = render(tmp_path, {**sample_meta(), "title": supplement["title"],
                                    "subtitle": supplement["subtitle"], "by-author": by_author(authors),
                                    "shorttitle": supplement["shorttitle"]})
    assert front_matter("report.qmd")["title"] == supplement["title"]
    assert meta["/Title"] == f"{supplement['title']} \u2014 {supplement['subtitle']}"
    assert "Supplementary appendix" in pages[0]
    assert "Corresponding author:" in pages[0]
