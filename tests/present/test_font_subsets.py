"""PDF font subsets kept between exports (analysis/present/figures/font_subsets.py): the PDF is
the same bytes whether its subsets are made, kept or taken from the folder; a kept subset that
was changed is not used; the folder keeps only the most recently used."""

from __future__ import annotations

import json

import matplotlib as mpl
import pytest
from matplotlib.backends import _backend_pdf_ps

from analysis.present import figures as F
from analysis.present.figures import font_subsets
from analysis.present.figures.theme import figure_rc


@pytest.fixture(scope="module")
def fig(results):
    from analysis.present import style

    style.use_settings(results.settings)
    return F.km_group_figure(results, "salvage_group")


def _pdf(fig, tmp_path, name, cache=None) -> bytes:
    path = tmp_path / f"{name}.pdf"
    with mpl.rc_context(figure_rc()):
        F.files._write_vector(fig, "pdf", F.files._PDF_METADATA, path, font_cache=cache)
    return path.read_bytes()


@pytest.fixture
def made(monkeypatch):
    """Counts the subsets matplotlib's subsetter makes."""
    calls = []
    original = _backend_pdf_ps.get_glyphs_subset

    def counting(fontfile, glyphs):
        calls.append(fontfile)
        return original(fontfile, glyphs)

    monkeypatch.setattr(_backend_pdf_ps, "get_glyphs_subset", counting)
    return calls


def test_kept_subsets_give_the_same_pdf_bytes(fig, tmp_path, made):
    cache = tmp_path / "fonts"
    plain = _pdf(fig, tmp_path, "plain")
    subsets = len(made)
    assert subsets >= 2                                    # regular and bold text at least
    assert _pdf(fig, tmp_path, "cold", cache) == plain     # made, then kept
    kept = sorted(cache.glob("*.json"))
    assert len(kept) == subsets == len(made) - subsets
    assert _pdf(fig, tmp_path, "warm", cache) == plain     # taken from the folder
    assert len(made) == 2 * subsets                        # nothing made again
    assert _backend_pdf_ps.get_glyphs_subset.__name__ == "counting"   # the backend's own again


def test_a_changed_kept_subset_is_made_again(fig, tmp_path, made):
    cache = tmp_path / "fonts"
    plain = _pdf(fig, tmp_path, "cold", cache)
    for path in cache.glob("*.json"):
        kept = json.loads(path.read_text(encoding="utf-8"))
        kept["font"] = kept["font"][:-8] + "AAAAAAA="
        path.write_text(json.dumps(kept), encoding="utf-8")
    before = len(made)
    assert _pdf(fig, tmp_path, "again", cache) == plain
    assert len(made) == 2 * before


def test_the_folder_keeps_the_most_recently_used(fig, tmp_path, made, monkeypatch):
    monkeypatch.setattr(font_subsets, "KEEP", 1)
    cache = tmp_path / "fonts"
    _pdf(fig, tmp_path, "cold", cache)
    assert len(made) >= 2 and len(list(cache.glob("*.json"))) == 1


def test_the_key_names_font_face_glyphs_and_libraries(tmp_path):
    from matplotlib.font_manager import FontProperties, findfont

    font = findfont(FontProperties(family="DejaVu Sans"))
    key = font_subsets.subset_key(font, [3, 1, 2])
    assert key == font_subsets.subset_key(font, {1, 2, 3})            # the glyph set, in any order
    assert key != font_subsets.subset_key(font, [1, 2])
    copy = tmp_path / "copy.ttf"
    data = bytearray(open(font, "rb").read())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    assert key != font_subsets.subset_key(str(copy), [1, 2, 3])         # the font's bytes, not its name
