"""The PDF reference list has a hanging indent (REVIEW 2026-12-06 item 29;
issue 12 leftover): the number in a column of its own, every line of an
entry's text starting at the same place after it, as the HTML shows it.

Built as Quarto builds the PDF with `citeproc: true`: Pandoc's citeproc with
the project's bibliography and CSL, Pandoc's Typst writer with a template that
calls our partials as Quarto's typst template does (typst-template, header
includes, typst-show, body), compiled by the typst package; positions of the
text read back with pypdf."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict

import pytest
import yaml

from analysis.config import PROJECT_ROOT

pypandoc = pytest.importorskip("pypandoc")
typst = pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

CFG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
BOTTOM_MARGIN_PT = 2.5 / 2.54 * 72
KEYS = re.findall(r"^@\w+\{([^,\s]+),", (PROJECT_ROOT / "references.bib").read_text(encoding="utf-8"), flags=re.M)


def build(tmp_path, keys: list[str]) -> tuple[str, list[tuple[float, float, str]]]:
    """The Typst source and the (x, y, text) runs of the compiled reference list."""
    for p in CFG["format"]["typst"]["template-partials"]:
        shutil.copy(PROJECT_ROOT / p, tmp_path)
    (tmp_path / "template.typst").write_text(
        "$typst-template.typ()$\n\n$for(header-includes)$\n$header-includes$\n$endfor$\n\n"
        "$typst-show.typ()$\n\n$body$\n", encoding="utf-8")
    md = ("---\ntitle: T\npapersize: a4\nfontsize: 10pt\nmargin: {x: 2.2cm, y: 2.5cm}\n---\n\n"
          "Text " + " ".join(f"[@{k}]" for k in keys) + ".\n\n# References {.unnumbered}\n\n::: {#refs}\n:::\n")
    source = pypandoc.convert_text(md, "typst", format="markdown", extra_args=[
        "--standalone", f"--template={tmp_path / 'template.typst'}", "--citeproc",
        f"--bibliography={PROJECT_ROOT / CFG['bibliography']}", f"--csl={PROJECT_ROOT / CFG['csl']}"])
    (tmp_path / "doc.typ").write_text(source, encoding="utf-8")
    typst.compile(str(tmp_path / "doc.typ"), output=str(tmp_path / "doc.pdf"))
    runs: list[tuple[float, float, str]] = []
    started = False
    for number, page in enumerate(pypdf.PdfReader(str(tmp_path / "doc.pdf")).pages):
        def visit(text, cm, tm, font, size, number=number):
            nonlocal started
            if text.strip() == "References":
                started = True
            elif started and text.strip() and cm[5] + tm[5] > BOTTOM_MARGIN_PT:  # not the page number
                # pages stacked top to bottom: y falls down the list
                runs.append((round(cm[4] + tm[4], 1), round(cm[5] + tm[5] - 1000 * number, 1), text))
        page.extract_text(visitor_text=visit)
    return source, runs


def entries(runs: list[tuple[float, float, str]]) -> list[list[tuple[float, list[str]]]]:
    """Per entry, its lines as (x of the line's first text, texts)."""
    lines: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for x, y, text in runs:
        lines[y].append((x, text))
    out: list[list[tuple[float, list[str]]]] = []
    for y in sorted(lines, reverse=True):
        parts = sorted(lines[y])
        first = re.match(r"\s*\d+\.(\s|$)", parts[0][1])
        if first:
            out.append([])
        if out:
            # a number printed alone: the text starts with the next run; a number
            # run on into its text (no column): the text starts where it does
            alone = first and not parts[0][1][first.end():].strip() and len(parts) > 1
            out[-1].append((parts[1][0] if alone else parts[0][0], [t for _, t in parts]))
    return out


def test_the_document_has_the_bibliography_and_style_the_check_uses():
    assert CFG["format"]["typst"]["citeproc"] is True
    assert (PROJECT_ROOT / CFG["csl"]).exists()


@pytest.mark.parametrize("count", [3, len(KEYS)], ids=["one-digit", "two-digit"])
def test_reference_list_has_a_hanging_indent(tmp_path, count):
    source, runs = build(tmp_path, KEYS[:count])
    assert "<refs>" in source                       # the label the template's show rule styles
    found = entries(runs)
    assert len(found) == count, [e[0][1][:2] for e in found]
    starts = {x for entry in found for x, _ in entry}
    numbers = {x for x, y, t in runs if re.match(r"\s*\d+\.(\s|$)", t)}
    # every line of every entry's text (the first after its number, and each
    # wrapped line) starts at one x, to the right of the numbers
    assert len(starts) == 1, sorted(starts)
    assert len(numbers) == 1 and min(starts) > max(numbers) + 5, (numbers, starts)
    assert any(len(entry) > 1 for entry in found)   # some entries wrap: the indent is exercised
