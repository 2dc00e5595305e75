"""HTML: 'Supplementary Table S…' links to that float of the supplement
(REVIEW item 26), by the Lua filter of _quarto.yml's html format, run here
with the Pandoc of pypandoc-binary from the project folder (as Quarto runs
filters there)."""

from __future__ import annotations

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


def test_manuscript_links_into_the_supplement(monkeypatch, tmp_path):
    out = html("As in Supplementary Table S2 and (Supplementary Figure S3; see Supplementary Table S16).",
               monkeypatch, tmp_path)
    assert f'href="supplement.html#supptbl-{SUPPLEMENTARY_TABLES[1]}"' in out
    assert f'href="supplement.html#suppfig-{SUPPLEMENTARY_FIGURES[2]}"' in out
    assert f'href="supplement.html#supptbl-{SUPPLEMENTARY_TABLES[15]}"' in out
    assert out.count("<a ") == 3


def test_supplement_links_within_the_page(monkeypatch, tmp_path):
    out = html("See Supplementary Table S1.", monkeypatch, tmp_path, name="supplement.md")
    assert f'href="#supptbl-{SUPPLEMENTARY_TABLES[0]}"' in out


def test_unknown_numbers_and_other_formats_stay_text(monkeypatch, tmp_path):
    out = html("Supplementary Table S99 and Table S1.", monkeypatch, tmp_path)
    assert "<a " not in out
    assert "<a " not in html("Supplementary Table S1.", monkeypatch, tmp_path, to="latex")
