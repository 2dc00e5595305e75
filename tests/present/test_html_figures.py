"""HTML figures fit the text column (render review 2026-12-06, item 4).

Quarto writes an image's ``width``/``height`` metadata from the Jupyter output
as ``<img width=.. height=..>``, and its responsive filter adds the Bootstrap
class ``img-fluid`` (``max-width: 100%; height: auto``) only to an image
without an explicit height (quarto-cli
``src/resources/filters/quarto-post/responsive.lua``; Quarto's own test of a
retina figure expects ``img[width][height]``). Figures shown at 150 dpi with
a fixed height, 1080 px wide, overflowed the ~800 px column behind a
scrollbar. The executed HTML chunks must therefore give every figure as an
image without a height, so Quarto makes it responsive.
"""

from __future__ import annotations

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from tests.qmd.harness import execute_qmd


@pytest.fixture(scope="module")
def variables():
    from analysis.present.document import prepare

    prepare()
    return yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", ["report.qmd", "supplement.qmd"])
def test_html_figures_carry_no_fixed_size(variables, doc):
    run = execute_qmd(PROJECT_ROOT / doc, target_format="html", variables=variables)
    figures = [c for c in run.chunks if c.executed and "fig-alt" in c.chunk.options]
    assert len(figures) >= 3, "no figure chunk"
    for c in figures:
        images = [o for o in c.outputs if "image/png" in o.data or "image/svg+xml" in o.data]
        assert images, c.label
        for o in images:
            for mime in ("image/png", "image/svg+xml"):
                meta = o.metadata.get(mime) or {}
                assert "height" not in meta and "width" not in meta, (c.label, meta)


def test_html_figure_format_is_not_retina():
    """'retina' is Quarto's HTML default and always sets width and height."""
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["format"]["html"].get("fig-format") in ("png", "svg")
