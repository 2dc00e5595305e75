"""Declarations and the list of placeholders left before submission (issue 12, REVIEW item 5)."""

from __future__ import annotations

import re

import yaml

from analysis.config import PROJECT_ROOT
from analysis.present import submission
from tests.qmd.harness import parse_qmd

DECLARATIONS = ("Ethics approval and consent", "Funding", "Competing interests", "Data availability",
                "Author contributions", "Acknowledgements")


def test_report_has_a_declarations_section_with_every_statement():
    parsed = parse_qmd(PROJECT_ROOT / "report.qmd", variables=None)
    text = "\n".join(c.text for c in parsed.cells if not hasattr(c, "source"))
    assert re.search(r"^# Declarations \{#sec-declarations\}", text, flags=re.M)
    after = text.split("# Declarations", 1)[1]
    heads = re.findall(r"^## (.+?) \{#sec-[\w-]+\}", after, flags=re.M)
    assert tuple(heads) == DECLARATIONS
    assert after.index("## Acknowledgements") < after.index("# References")


def test_both_documents_take_authors_from_one_file():
    for doc in ("report.qmd", "supplement.qmd"):
        front = yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", (PROJECT_ROOT / doc).read_text(
            encoding="utf-8"), flags=re.S).group(1))
        assert front["metadata-files"] == ["authors.yml"], doc
        assert "author" not in front and "affiliations" not in front, doc
    authors = yaml.safe_load((PROJECT_ROOT / "authors.yml").read_text(encoding="utf-8"))
    assert any(a.get("corresponding") and a.get("email") for a in authors["author"])
    ids = {a["id"] for a in authors["affiliations"]}
    assert {r["ref"] for a in authors["author"] for r in a["affiliations"]} <= ids


def test_lists_every_unfilled_placeholder_of_the_project():
    """The shipped project is unfilled: every author, affiliation, the e-mail and
    every declaration is listed, with file, line and where."""
    left = submission.unfilled_placeholders()
    wheres = {(p.file, p.where) for p in left}
    assert ("authors.yml", "author name") in wheres
    assert ("authors.yml", "author email") in wheres
    assert ("authors.yml", "affiliation name") in wheres
    assert {w for f, w in wheres if f == "sections/declarations.qmd"} == set(DECLARATIONS)
    authors = yaml.safe_load((PROJECT_ROOT / "authors.yml").read_text(encoding="utf-8"))
    n_fields = len(authors["author"]) + len(authors["affiliations"]) + 1         # names, affiliations, e-mail
    assert sum(p.file == "authors.yml" for p in left) == n_fields


def test_filled_project_has_nothing_left(tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "authors.yml").write_text(
        'author:\n  - name: "[TO COMPLETE: first author]"\n    email: "a@b.example"\n'
        'affiliations:\n  - id: i\n    name: "Dept, Hospital"\n', encoding="utf-8")
    (tmp_path / "sections" / "declarations.qmd").write_text(
        "# Declarations\n\n<!-- [TO COMPLETE: x] in a comment is no placeholder -->\n\n"
        "## Funding {#sec-funding}\n\nNone. [TO COMPLETE: grant number]\n", encoding="utf-8")
    left = [str(p) for p in submission.unfilled_placeholders(tmp_path)]
    assert left == ["authors.yml:2: author name: first author",
                    "sections/declarations.qmd:7: Funding: grant number"]
    (tmp_path / "authors.yml").write_text("author:\n  - name: Ada Lovelace\n", encoding="utf-8")
    (tmp_path / "sections" / "declarations.qmd").write_text("## Funding\n\nNone.\n", encoding="utf-8")
    assert submission.unfilled_placeholders(tmp_path) == []
    assert submission.placeholder_report(tmp_path) == ""


def test_pre_render_step_prints_what_is_left(tmp_path, capsys):
    """prepare() (the pre-render step) prints the list to stderr."""
    from analysis.present.document import prepare

    (tmp_path / "authors.yml").write_text('author:\n  - name: "[TO COMPLETE: first author]"\n', encoding="utf-8")
    prepare(root=tmp_path)
    err = capsys.readouterr().err
    assert "Before submission, fill in 1 placeholder(s)" in err
    assert "authors.yml:2: author name: first author" in err
