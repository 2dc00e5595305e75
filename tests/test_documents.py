"""The manuscript and supplement, executed chunk by chunk and inline by inline
in a real Jupyter kernel, as Quarto's Jupyter engine does (tests/qmd/harness.py),
in each output format. Where `quarto` is on PATH, they are also rendered."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.supplement import SUPPLEMENTARY_FIGURES, SUPPLEMENTARY_TABLES
from tests.qmd.harness import execute_qmd, parse_qmd
from tests.qmd.selfcontained import assert_no_external_src

DOCUMENTS = ("report.qmd", "supplement.qmd")
FORMATS = ("html", "typst", "docx")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#x?[0-9a-fA-F]+);")


# `variables` (the pre-render step, run as `quarto render` runs it) and `runs`
# (each document executed once per format, in the kernel the project
# registers) are session fixtures of tests/conftest.py, shared with
# tests/test_quiet_render.py.


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_every_chunk_and_inline_runs(runs, doc, fmt):
    run = runs(doc, fmt)          # raises on any chunk error or unexpected warning
    assert run.findings.ok, "\n".join(run.findings.problems())
    executed = [c for c in run.chunks if c.executed]
    assert executed, "no chunk ran"
    for inline in run.inlines:
        assert inline.result, f"{inline.location}: `{inline.expression}` produced nothing"
        assert not re.search(r"\b(None|nan|NaN|inf)\b", inline.result), (inline.location, inline.result)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_synthetic_notice_in_every_format(runs, variables, doc):
    assert "SYNTHETIC" in variables["text"]["synthetic_notice"]
    parsed = parse_qmd(PROJECT_ROOT / doc, variables=variables)
    # not inside the abstract (REVIEW item 18): banner, footer, figures and the callout carry it
    assert "text.synthetic_notice" not in {v.key for v in parsed.var_uses}
    for fmt in FORMATS:
        callout = runs(doc, fmt).chunk("synthetic-notice")
        shown = ["".join(m) for m in callout.mime("text/markdown")]
        assert any("Synthetic data" in m for m in shown)
        body = [m.split("\n", 1)[1].rsplit(":::", 1)[0].strip() for m in shown]
        assert all("\n\n" not in b and not b.startswith("#") for b in body), body   # one paragraph, no title
    banners = PROJECT_ROOT / "_generated"
    assert "SYNTHETIC" in (banners / "banner.html").read_text()
    assert "SYNTHETIC" in (banners / "banner.typ").read_text()


@pytest.mark.parametrize("fmt", ("typst", "docx"))
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_tables_fall_back_to_plain_markdown_outside_html(runs, doc, fmt):
    """Quarto shows great_tables HTML entities literally in Typst (render observation),
    so non-HTML formats get a Markdown table without entities or tags."""
    run = runs(doc, fmt)
    tables = [c for c in run.chunks if c.executed and "tables." in c.chunk.source]
    assert tables
    for c in tables:
        assert not c.mime("text/html"), c.label
        md = "".join("".join(m) for m in c.mime("text/markdown"))
        assert "|" in md, c.label
        assert not ENTITY.search(md), (c.label, ENTITY.search(md).group(0))
        assert not re.search(r"</?(td|tr|table|span|div)\b", md), c.label


@pytest.mark.parametrize("fmt, want", [("typst", "text/markdown"), ("html", "text/html")], ids=["typst", "html"])
def test_tables_without_execute_info_as_quarto_before_1_8(variables, fmt, want):
    """Quarto 1.6 and 1.7 do not set QUARTO_EXECUTE_INFO: what Quarto then puts
    into the document is still the Markdown table for Typst (no HTML entities)
    and the great_tables HTML for HTML."""
    run = execute_qmd(PROJECT_ROOT / "report.qmd", target_format=fmt, variables=variables, execute_info=False)
    tables = [c for c in run.chunks if c.executed and "tables." in c.chunk.source]
    assert tables
    for c in tables:
        assert run.shown(c) == [want], c.label
        if want == "text/markdown":
            assert not ENTITY.search("".join("".join(m) for m in c.mime(want))), c.label


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_tables_are_great_tables_html_in_html(runs, doc):
    """In HTML the tables are great_tables HTML in a raw ```{=html} block of
    text/markdown output (REVIEW 2026-12-06 item 23)."""
    run = runs(doc, "html")
    tables = [c for c in run.chunks if c.executed and "tables." in c.chunk.source]
    assert tables
    for c in tables:
        md = "".join("".join(m) for m in c.mime("text/markdown"))
        assert md.startswith("```{=html}") and "gt_table" in md, c.label
        assert_no_external_src(md)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_no_output_is_text_html(runs, doc, fmt):
    """Any text/html display data makes Quarto inject jQuery and RequireJS from
    CDNs (quarto-cli src/core/jupyter/widgets.ts; REVIEW 2026-12-06 item 23)."""
    run = runs(doc, fmt)
    for c in run.chunks:
        if c.executed:
            assert not c.mime("text/html"), (c.label, fmt)


def test_figures_are_images(runs):
    run = runs("report.qmd", "html")
    figs = [c for c in run.chunks if c.label and c.label.startswith("fig-")]
    assert len(figs) == 5
    for c in figs:
        assert c.mime("image/png") or c.mime("image/svg+xml"), c.label


def test_supplement_floats_in_declared_order():
    """The manuscript cites supplementary items by analysis.present.supplement's
    order; supplement.qmd must define its floats in that order."""
    text = (PROJECT_ROOT / "supplement.qmd").read_text(encoding="utf-8")
    tables = re.findall(r"^::: \{#supptbl-([\w-]+)\}", text, flags=re.M)
    figures = re.findall(r"^::: \{#suppfig-([\w-]+)\}", text, flags=re.M)
    assert tuple(tables) == SUPPLEMENTARY_TABLES
    assert tuple(figures) == SUPPLEMENTARY_FIGURES


def test_quarto_config_numbers_supplementary_floats_with_an_s():
    """'Table S1', not 'Table S 1': custom float kinds with space-before-numbering
    false (quarto.org/docs/authoring/cross-references-custom.html), which Typst
    ignores (quarto-cli issue 9416), so the Typst header re-draws captions and
    references of these kinds and lets long tables break across pages."""
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    kinds = {c["key"]: c for c in cfg["crossref"]["custom"]}
    assert kinds["supptbl"]["reference-prefix"] == "Table S"
    assert kinds["suppfig"]["reference-prefix"] == "Figure S"
    for kind in kinds.values():
        assert kind["kind"] == "float" and kind["space-before-numbering"] is False
    assert kinds["supptbl"].get("caption-location") == "top"      # as the manuscript's tables
    header = cfg["format"]["typst"]["include-in-header"]
    typst = "\n".join(h["text"] for h in header if isinstance(h, dict))
    for key in kinds:
        assert f'"quarto-float-{key}"' in typst
    assert "#show figure.caption:" in typst and "#show ref:" in typst
    assert '#let table-kinds = ("quarto-float-tbl", "quarto-float-supptbl")' in typst
    assert "let tall = measure(it.body, width: w).height > 0.8 * h" in typst
    assert "set block(breakable: tall)" in typst
    assert "_generated/banner.typ" in header


def test_typst_header_compiles_s_numbers_and_breaks_long_tables(tmp_path):
    """Compile the Typst header of _quarto.yml with figures shaped as Quarto
    emits them for Typst (kind "quarto-float-<key>", supplement "Table S",
    numbering "1"; quarto-cli issue 9416), where the Typst compiler is
    installed (PyPI package typst; checked with Typst 0.15)."""
    typst = pytest.importorskip("typst")
    pypdf = pytest.importorskip("pypdf")
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    header = "\n".join(h["text"] for h in cfg["format"]["typst"]["include-in-header"] if isinstance(h, dict))
    rows = ", ".join(f"[r{i}], [v{i}]" for i in range(120))
    source = header + f"""
#figure([#block[#table(columns: 2, {rows})]], caption: figure.caption(position: top, [Dictionary.]),
  kind: "quarto-float-supptbl", supplement: "Table S", numbering: "1") <supptbl-a>
#figure([#rect[x]], caption: figure.caption(position: bottom, [Residuals.]),
  kind: "quarto-float-suppfig", supplement: "Figure S", numbering: "1") <suppfig-a>
#figure([#table(columns: 1, [a])], caption: figure.caption(position: top, [Main.]),
  kind: "quarto-float-tbl", supplement: "Table", numbering: "1") <tbl-a>
See @supptbl-a, @suppfig-a and @tbl-a.
"""
    (tmp_path / "t.typ").write_text(source, encoding="utf-8")
    typst.compile(str(tmp_path / "t.typ"), output=str(tmp_path / "t.pdf"))
    pages = [p.extract_text() for p in pypdf.PdfReader(str(tmp_path / "t.pdf")).pages]
    text = "\n".join(pages)
    assert "Table S1:" in text and "Figure S1:" in text and "Table S 1" not in text
    assert "See Table S1, Figure S1 and Table\u00a01." in text
    assert len(pages) > 1 and "r0" in pages[0] and "r119" in pages[-1]     # the long table broke


def test_citations_are_formatted_alike_in_every_format():
    """Typst formats citations itself unless citeproc is on (quarto.org
    "Citations"); both documents end with the reference list."""
    cfg = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["format"]["typst"].get("citeproc") is True
    assert cfg["bibliography"] == "references.bib"
    for doc in DOCUMENTS:
        parsed = parse_qmd(PROJECT_ROOT / doc, variables=None)
        text = "\n".join(c.text for c in parsed.cells if not hasattr(c, "source"))
        assert re.search(r"^::: \{#refs\}\s*\n:::", text, flags=re.M), doc


def test_every_citation_is_in_the_bibliography(runs):
    """Citations in the prose and in generated Markdown (methods paragraph,
    guardrail) name entries of references.bib (Pandoc would print '?key')."""
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (PROJECT_ROOT / "references.bib").read_text(encoding="utf-8"),
                          flags=re.M))
    cited: set[str] = set()
    for doc in DOCUMENTS:
        run = runs(doc, "typst")
        shown = [run.markdown] + ["".join("".join(m) for m in c.mime("text/markdown")) for c in run.chunks]
        for text in shown:
            text = re.sub(r"```.*?```", "", text, flags=re.S)
            cited |= {k for k in re.findall(r"(?<![\w\\])@([A-Za-z][\w:-]*)", text)
                      if not k.startswith(("fig-", "tbl-", "sec-", "supptbl-", "suppfig-"))}
    assert cited, "no citation found"
    assert cited <= keys, sorted(cited - keys)


def test_every_figure_has_caption_and_alt_text():
    """Report figures: a fig- label, fig-cap and fig-alt. Supplementary figures
    (inside a ::: {#suppfig-…} div, whose last paragraph is the caption): fig-alt
    on the chunk, which Quarto passes to the image whatever its label
    (quarto-cli src/core/jupyter/jupyter.ts, broadcastFigureOption)."""
    report = parse_qmd(PROJECT_ROOT / "report.qmd", variables=None)
    figs = [c for c in report.chunks if "figures." in c.source or "_figure(" in c.source]
    assert figs
    for c in figs:
        assert (c.label or "").startswith("fig-"), c.location
        assert str(c.options.get("fig-cap", "")).strip(), c.label
        assert str(c.options.get("fig-alt", "")).strip(), c.label
    supplement = parse_qmd(PROJECT_ROOT / "supplement.qmd", variables=None)
    figs = [c for c in supplement.chunks if "_figure(" in c.source]
    assert len(figs) == len(SUPPLEMENTARY_FIGURES)
    for c in figs:
        assert str(c.options.get("fig-alt", "")).strip(), c.location


def test_supplementary_floats_have_a_caption():
    """Quarto's div syntax for a float: content, then the caption as the last
    paragraph (quarto.org "Cross-references", div syntax). A div whose last
    block is the chunk would render uncaptioned."""
    text = (PROJECT_ROOT / "supplement.qmd").read_text(encoding="utf-8")
    divs = re.findall(r"^::: \{#(supp(?:tbl|fig)-[\w-]+)\}\n(.*?)^:::$", text, flags=re.M | re.S)
    assert len(divs) == len(SUPPLEMENTARY_TABLES) + len(SUPPLEMENTARY_FIGURES)
    for label, body in divs:
        assert body.count("```{python}") == 1, label
        after = body.rsplit("```", 1)[1].strip()
        assert after and not after.startswith(("```", ":::")), f"{label}: no caption paragraph after the chunk"


CALL_MODULES = {"adam_metadata", "document", "figures", "sensitivity", "strobe", "tables", "text"}


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_each_chunk_is_one_call_into_analysis(doc):
    """Apart from the parameters and setup chunks, a chunk is one call into
    analysis.present (no imports, assignments or computations in the documents)."""
    parsed = parse_qmd(PROJECT_ROOT / doc, variables=None)
    for c in parsed.chunks:
        if "parameters" in c.tags or c.label == "setup":
            continue
        body = ast.parse(c.source).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), (c.label, c.location, c.source)
        call = body[0].value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute), (c.label, c.source)
        assert isinstance(call.func.value, ast.Name) and call.func.value.id in CALL_MODULES, (c.label, c.source)


def test_structured_abstract():
    """Purpose, Methods, Results, Conclusion; numbers and direction-dependent
    wording through {{< var >}} only (inline Python fails in front matter)."""
    meta = yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", (PROJECT_ROOT / "report.qmd").read_text(
        encoding="utf-8"), flags=re.S).group(1))
    abstract = meta["abstract"]
    heads = re.findall(r"^\*\*(\w+)\.\*\*", abstract, flags=re.M)
    assert heads == ["Purpose", "Methods", "Results", "Conclusion"]
    assert "{python}" not in abstract
    conclusion = abstract.split("**Conclusion.**", 1)[1]
    assert "{{< var text.conclusion >}}" in conclusion
    assert meta.get("keywords")


PROSE_NUMBER_ALLOWED = re.compile(
    r"CD\d+|95%|± 1\.96|2×2|χ²|S\d+|\bB-ALL\b|^#+ |[A-Za-z]+\d+")


@pytest.mark.parametrize("path", sorted([*PROJECT_ROOT.glob("sections/*.qmd"), PROJECT_ROOT / "report.qmd",
                                         PROJECT_ROOT / "supplement.qmd"]), ids=lambda p: p.name)
def test_no_hand_typed_numbers_in_prose(path):
    """Every number in the text is computed: prose (outside code, inline
    expressions, front matter, cross-references and citations) holds no digits
    beyond names such as CD19 and the 95% of confidence intervals."""
    text = path.read_text(encoding="utf-8")
    front = re.match(r"\A---\n(.*?)\n---\n", text, flags=re.S)
    if front:                                                               # keep only the abstract
        meta = yaml.safe_load(front.group(1)) or {}
        text = str(meta.get("abstract", "")) + "\n" + text[front.end():]
    text = re.sub(r"```.*?```", "", text, flags=re.S)                        # chunks
    text = re.sub(r"`\{python\}[^`]*`", "", text)                            # inline expressions
    text = re.sub(r"\{\{<[^>]*>\}\}", "", text)                              # shortcodes
    text = re.sub(r"[@#][\w:-]+", "", text)                                  # refs, ids, citations
    offenders = []
    for line in text.splitlines():
        rest = PROSE_NUMBER_ALLOWED.sub("", line)
        if re.search(r"\d", rest):
            offenders.append(line.strip()[:120])
    assert not offenders, "\n".join(offenders)


@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto is not installed on this machine")
def test_quarto_renders_all_formats(tmp_path):
    """`quarto render` as a user types it after `bash tools/setup.sh`: no
    activated .venv and no QUARTO_PYTHON (the kernel _quarto.yml names runs the
    project's environment; tests/test_kernel.py)."""
    from tests.test_kernel import plain_env

    out = subprocess.run(["quarto", "render", "--output-dir", str(tmp_path)], cwd=PROJECT_ROOT,
                         env=plain_env(), capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-4000:]
    for doc in ("report", "supplement"):
        for ext in ("html", "pdf", "docx"):
            assert (tmp_path / f"{doc}.{ext}").exists(), f"{doc}.{ext}"


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_no_pseudonym_in_chunk_outputs(runs, doc):
    """Privacy: what the documents show (every chunk output in every format,
    every inline result) holds no source pseudonym."""
    from tests.test_privacy import pseudonyms

    ids = pseudonyms()
    for fmt in FORMATS:
        run = runs(doc, fmt)
        shown = [run.markdown]
        for c in run.chunks:
            for out in c.outputs:
                for mime, data in (out.data or {}).items():
                    if mime.startswith("text/") or mime == "image/svg+xml":
                        shown.append("".join(data) if isinstance(data, list) else str(data))
            shown += [c.stdout, c.stderr]
        text = "\n".join(shown)
        leaked = sorted(pid for pid in ids if pid in text)
        assert not leaked, (doc, fmt, leaked[:5])


def _shown_in_order(run) -> str:
    """The document as a reader sees it: prose with inline results, each chunk's
    Markdown output at the place of the chunk."""
    text = run.markdown
    pieces = []
    for c in run.chunks:
        md = "".join("".join(m) for m in c.mime("text/markdown"))
        at = text.find(c.chunk.source) if c.chunk.source.strip() else -1
        if md and at >= 0:
            pieces.append((at, md))
    out, last = [], 0
    for at, md in sorted(pieces):
        out += [text[last:at], md]
        last = at
    return "".join(out + [text[last:]])


def test_supplementary_items_numbered_in_order_of_first_citation(runs):
    """Journals number supplementary items in the order the manuscript first
    cites them, and every item is cited from the manuscript (REVIEW item 27)."""
    shown = _shown_in_order(runs("report.qmd", "typst"))
    for kind, names in (("Table", SUPPLEMENTARY_TABLES), ("Figure", SUPPLEMENTARY_FIGURES)):
        cited = [int(n) for n in re.findall(rf"Supplementary {kind} S(\d+)", shown)]
        first = list(dict.fromkeys(cited))
        assert first == list(range(1, len(names) + 1)), (kind, first)


def test_immortal_time_paragraph_is_not_repeated_in_the_supplement():
    """REVIEW item 27: the Methods give it; the supplement points there."""
    report = parse_qmd(PROJECT_ROOT / "report.qmd", variables=None)
    supplement = parse_qmd(PROJECT_ROOT / "supplement.qmd", variables=None)
    assert any("sensitivity.guardrail_text" in c.source for c in report.chunks)
    assert not any("guardrail_text" in c.source for c in supplement.chunks)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_front_matter_dates_the_render_and_links_no_other_file(doc):
    """REVIEW item 26: the date is the render date (Quarto's "today"), and the
    HTML has no links to the other formats: they are relative (report.pdf beside
    report.html) and break when the HTML is sent or published on its own
    (`format-links: false`; quarto-cli src/format/html/format-html.ts adds them
    unless the option is false)."""
    meta = yaml.safe_load(re.match(r"\A---\n(.*?)\n---\n", (PROJECT_ROOT / doc).read_text(
        encoding="utf-8"), flags=re.S).group(1))
    assert meta["date"] == "today"
    assert meta["format-links"] is False


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_generated_markdown_has_no_math(runs, doc):
    """REVIEW item 23: what the chunks and inline expressions write, through
    Pandoc to standalone HTML with MathJax, needs no MathJax (whose <script src>
    is external); tests/test_references.py checks the bibliography and prose."""
    pypandoc = pytest.importorskip("pypandoc")
    run = runs(doc, "html")
    text = "\n\n".join([_shown_in_order(run)] + ["".join("".join(m) for m in c.mime("text/markdown"))
                                                  for c in run.chunks])
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    html = pypandoc.convert_text(text, "html", format="markdown",
                                 extra_args=["--standalone", "--mathjax", "--metadata=title:t"])
    assert 'class="math' not in html
    assert not re.search(r"""src\s*=\s*["']?https?:""", html)
