"""HTML links (REVIEW item 26): in the supplement, 'Supplementary Table S…'
links to that float on the same page; the manuscript names it in plain text,
and neither document links to another file (a relative link breaks when the
HTML files are sent or published separately, as a journal's production office
receives them). The Lua filter of _quarto.yml runs here with the Pandoc of
pypandoc-binary from the project folder (as Quarto runs filters there)."""

from __future__ import annotations

import re

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.supplement import SUPPLEMENTARY_FIGURES, SUPPLEMENTARY_TABLES

pypandoc = pytest.importorskip("pypandoc")
FILTER = "filters/supplement-links.lua"


def html(text: str, monkeypatch, tmp_path, name: str = "report.md", to: str = "html") -> str:
    monkeypatch.chdir(PROJECT_ROOT)
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return pypandoc.convert_file(str(source), to, format="markdown", extra_args=[f"--lua-filter={FILTER}"])


def test_html_format_runs_the_filter():
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert FILTER in cfg["filters"]                                 # acts on HTML only (FORMAT check)


def test_manuscript_names_supplementary_items_in_plain_text(monkeypatch, tmp_path):
    """Before: href="supplement.html#supptbl-…", a link that breaks when
    report.html is sent without supplement.html beside it."""
    out = html("As in Supplementary Table S2 and (Supplementary Figure S3; see Supplementary Table S16).",
               monkeypatch, tmp_path)
    assert "<a " not in out and "supplement.html" not in out
    assert "Supplementary Table S2" in out and "Supplementary Figure S3" in out


def test_no_link_leaves_its_own_page(monkeypatch, tmp_path):
    """Every href the filter writes, in either document, is an anchor on the
    same page."""
    text = " ".join(f"Supplementary Table S{i + 1}." for i in range(len(SUPPLEMENTARY_TABLES)))
    text += " " + " ".join(f"Supplementary Figure S{i + 1}." for i in range(len(SUPPLEMENTARY_FIGURES)))
    for name in ("report.md", "supplement.md"):
        hrefs = re.findall(r'href="([^"]*)"', html(text, monkeypatch, tmp_path, name=name))
        assert all(h.startswith("#") for h in hrefs), (name, hrefs)
        assert len(hrefs) == (len(SUPPLEMENTARY_TABLES) + len(SUPPLEMENTARY_FIGURES) if name == "supplement.md"
                              else 0)


def test_supplement_links_within_the_page(monkeypatch, tmp_path):
    out = html("See Supplementary Table S1.", monkeypatch, tmp_path, name="supplement.md")
    assert f'href="#supptbl-{SUPPLEMENTARY_TABLES[0]}"' in out


def test_unknown_numbers_and_other_formats_stay_text(monkeypatch, tmp_path):
    out = html("Supplementary Table S99 and Table S1.", monkeypatch, tmp_path)
    assert "<a " not in out
    assert "<a " not in html("Supplementary Table S1.", monkeypatch, tmp_path, to="latex")
