"""Word figures carry their fig-alt as alt text (render review 2026-12-06, item 21:
every figure of both Word files had `<wp:docPr descr="" title="">`).

Quarto itself drops `fig-alt` for Word (quarto-cli issue #5514), so the
project's filter ``filters/docx-fig-alt.lua`` (run by Quarto after its own
filters, see _quarto.yml) puts it where Pandoc's Word writer reads alt text.
Without Quarto, the test gives Pandoc (pypandoc-binary, Pandoc 3.x) the
Markdown Quarto makes of each executed Word figure chunk, in each form it can
take by the time the filter runs (quarto-cli sources cited in the filter):
the Jupyter image with its ``fig-alt`` attribute, the image inside a custom
float that carries ``fig-alt``, and the image whose ``fig-alt`` Quarto's
pre-filter moved to an ``alt`` attribute; and reads ``descr`` back from the
Word XML.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from tests.qmd.harness import execute_qmd

pypandoc = pytest.importorskip("pypandoc")

FILTER = PROJECT_ROOT / "filters" / "docx-fig-alt.lua"


def _quoted(text: str) -> str:
    """As quarto-cli's mdImageOutput quotes an attribute value."""
    return "'" + text.replace("'", "\\'") + "'"


def _descr(docx: Path) -> list[str]:
    with zipfile.ZipFile(docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return [html.unescape(m) for m in re.findall(r'<wp:docPr[^>]*\bdescr="([^"]*)"', xml)]


@pytest.fixture(scope="module")
def figure_chunks():
    from analysis.present.document import prepare

    prepare()
    variables = yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))
    out = []
    for doc in ("report.qmd", "supplement.qmd"):
        run = execute_qmd(PROJECT_ROOT / doc, target_format="docx", variables=variables)
        for c in run.chunks:
            if c.executed and "fig-alt" in c.chunk.options:
                images = [o.data["image/png"] for o in c.outputs if "image/png" in o.data]
                assert images, f"{doc}: figure chunk {c.label} shows no PNG in Word"
                out.append((f"{doc}:{c.label or c.chunk.index}", str(c.chunk.options["fig-alt"]), images[0]))
    assert len(out) >= 8
    return out


@pytest.mark.parametrize("form", ["jupyter-image", "custom-float", "quarto-alt-attribute"])
def test_every_word_figure_gets_its_fig_alt_as_alt_text(figure_chunks, form, tmp_path):
    import base64

    blocks = []
    for k, (_, alt, png) in enumerate(figure_chunks):
        path = tmp_path / f"fig{k}.png"
        path.write_bytes(base64.b64decode(png) if isinstance(png, str) else png)
        if form == "jupyter-image":
            blocks.append(f"::: {{.cell-output .cell-output-display}}\n![]({path.name}){{fig-alt={_quoted(alt)}}}\n:::")
        elif form == "custom-float":
            blocks.append(f"::: {{#suppfig-{k} fig-alt={_quoted(alt)}}}\n![]({path.name})\n\nCaption {k}.\n:::")
        else:
            blocks.append(f"::: {{#fig-{k}}}\n![]({path.name}){{alt={_quoted(alt)}}}\n\nCaption {k}.\n:::")
    src = tmp_path / "doc.md"
    src.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    out = tmp_path / "doc.docx"
    pypandoc.convert_file(str(src), "docx", outputfile=str(out), filters=[str(FILTER)],
                          cworkdir=str(tmp_path))
    assert _descr(out) == [alt for _, alt, _ in figure_chunks]


def test_without_the_filter_word_alt_text_is_empty(figure_chunks, tmp_path):
    """The defect the filter fixes, reproduced with Pandoc alone."""
    _, alt, _ = figure_chunks[0]
    src = tmp_path / "doc.md"
    (tmp_path / "x.png").write_bytes(b"")
    src.write_text(f"::: {{.cell-output-display}}\n![](x.png){{fig-alt={_quoted(alt)}}}\n:::\n", encoding="utf-8")
    out = tmp_path / "doc.docx"
    pypandoc.convert_file(str(src), "docx", outputfile=str(out), cworkdir=str(tmp_path))
    assert _descr(out) == [""]


def test_quarto_runs_the_filter_for_word_after_its_own_filters():
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    filters = cfg["format"]["docx"]["filters"]
    assert {"at": "post-render", "path": "filters/docx-fig-alt.lua"} in filters
    assert (PROJECT_ROOT / "filters" / "docx-fig-alt.lua").is_file()
