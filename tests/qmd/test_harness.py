"""Tests of the Quarto execution harness (tests/qmd/harness.py).

References are Quarto's own sources and documentation, not R: each test names
the Quarto function or page whose behaviour it checks (quarto-cli
``src/resources/jupyter/notebook.py``, ``src/core/jupyter/jupyter-inline.ts``,
``src/core/jupyter/display-data.ts``, ``src/core/handlers/base.ts`` and
``include-standalone.ts``; quarto.org "Inline Code", "Includes", "Parameters",
"Execution Context Information"), plus what real renders showed
(/work/shared/renders/quarto-observations.md).  All comparisons are exact
(strings, labels, line numbers); there are no numeric tolerances here.

The documents that need a kernel are executed once each, concurrently, by the
module-scoped ``runs`` fixture (one kernel per document and format), so the
whole module costs about as much as its slowest run.
"""

from __future__ import annotations

import base64
import struct
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.qmd.harness import (
    Chunk,
    MarkdownCell,
    QmdExecutionError,
    QmdFindingsError,
    QmdParseError,
    QmdRun,
    QmdWarningError,
    _as_escaped_markdown,
    _inline_text,
    execute_qmd,
    find_project_dir,
    parse_qmd,
)

FIXTURES = Path(__file__).parent / "fixtures"
MAIN = FIXTURES / "main.qmd"
VARIABLES = {"cohort": {"n": 74}, "site": {"name": "Center A"}}

# name -> keyword arguments of execute_qmd; every entry costs one kernel
_RUNS: dict[str, dict[str, Any]] = {
    "main": {"path": MAIN, "params": {"cohort": "relapsed"}},
    "main-typst": {"path": MAIN, "params": {"cohort": "relapsed"}, "target_format": "typst"},
    "main-docx": {"path": MAIN, "params": {"cohort": "relapsed"}, "target_format": "docx"},
    "error": {"path": FIXTURES / "error.qmd"},
    "inline-error": {"path": FIXTURES / "inline_error.qmd"},
    "warning": {"path": FIXTURES / "warning.qmd"},
    "warning-error": {"path": FIXTURES / "warning_error.qmd", "fail_on_warning": False},
    "kernel-log": {"path": FIXTURES / "warning.qmd", "fail_on_warning": False, "kernel_argv": [
        sys.executable, "-c",
        "import sys; print('kernel says hello', file=sys.stderr); "
        "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()",
        "-f", "{connection_file}"]},
}


@pytest.fixture(scope="module")
def runs() -> dict[str, Future[QmdRun]]:
    """Start every kernel-backed run at once and wait for all of them."""
    with ThreadPoolExecutor(max_workers=len(_RUNS)) as pool:
        futures = {name: pool.submit(execute_qmd, **kw) for name, kw in _RUNS.items()}
    return futures


def _ok(runs: dict[str, Future[QmdRun]], name: str) -> QmdRun:
    return runs[name].result()


def _failed(runs: dict[str, Future[QmdRun]], name: str) -> BaseException:
    exc = runs[name].exception()
    assert exc is not None, f"run {name!r} was expected to fail"
    return exc


def _lines(text: str) -> list[str]:
    return text.strip().split("\n")


# --------------------------------------------------------------------------
# parsing (no kernel)
# --------------------------------------------------------------------------


def test_chunk_options_parsed_like_quarto_nb_cell_yaml_lines() -> None:
    """``#|`` lines at the top of a chunk are its YAML options and are not part
    of the code the kernel runs (notebook.py ``nb_cell_yaml_lines`` /
    ``nb_strip_yaml_options``)."""
    doc = parse_qmd(MAIN)
    labels = [c.label for c in doc.chunks]
    assert labels == ["params", "setup", "from-include", "from-nested", "skipped",
                      "tolerated", "quiet-warning", "context", "fig-line"]
    params = doc.chunks[0]
    assert params.tags == ("parameters",)
    assert params.options == {"label": "params", "tags": ["parameters"], "echo": False}
    assert params.source.startswith('cohort = "default"')
    assert "#|" not in params.source
    assert params.location.line == 9 and params.code_location.line == 13
    assert doc.chunks[4].options["eval"] is False
    assert doc.metadata["execute"] == {"echo": False}


def test_includes_expanded_recursively_relative_to_main_document_as_quarto_resolvePath() -> None:
    """Includes are pasted in place, recursively; a relative path resolves
    against the main document's directory even inside an included file
    (``resolvePath`` in src/core/handlers/base.ts; docs "Includes")."""
    doc = parse_qmd(MAIN)
    assert doc.includes == (FIXTURES / "sections" / "_part.qmd", FIXTURES / "sections" / "_nested.qmd")
    by_label = {c.label: c for c in doc.chunks}
    assert by_label["from-include"].location.file == FIXTURES / "sections" / "_part.qmd"
    assert by_label["from-include"].location.line == 3
    assert by_label["from-nested"].location.file == FIXTURES / "sections" / "_nested.qmd"
    assert by_label["from-nested"].location.line == 1
    # document order: the included chunks come between 'setup' and 'skipped'
    order = [c.label for c in doc.cells if isinstance(c, Chunk)]
    assert order[1:5] == ["setup", "from-include", "from-nested", "skipped"]
    assert isinstance(doc.cells[0], MarkdownCell) and isinstance(doc.cells[-1], MarkdownCell)


def test_include_of_missing_file_raises_naming_file_and_line() -> None:
    """A missing include stops the render (include-standalone.ts "could not
    find file")."""
    with pytest.raises(QmdParseError) as err:
        parse_qmd(FIXTURES / "bad_include.qmd")
    msg = str(err.value)
    assert "bad_include.qmd:5" in msg
    assert "sections/_does_not_exist.qmd" in msg


def test_nested_include_relative_to_including_file_fails_as_in_quarto() -> None:
    """``{{< include _nested.qmd >}}`` written in sections/_relative.qmd looks
    for fixtures/_nested.qmd, not sections/_nested.qmd (docs "Includes":
    relative references resolve based on the directory of the main file)."""
    with pytest.raises(QmdParseError) as err:
        parse_qmd(FIXTURES / "bad_nested.qmd")
    msg = str(err.value)
    assert "_relative.qmd:3" in msg
    assert str(FIXTURES / "_nested.qmd") in msg
    assert "main document's directory" in msg


def test_include_with_leading_slash_resolves_against_project_root() -> None:
    """``/sections/x.qmd`` is relative to the project root (the directory with
    _quarto.yml), ``resolvePath`` in src/core/handlers/base.ts."""
    doc = parse_qmd(FIXTURES / "sub" / "rooted.qmd")
    assert find_project_dir(FIXTURES / "sub" / "rooted.qmd") == FIXTURES
    assert doc.project_dir == FIXTURES
    assert [c.label for c in doc.chunks] == ["from-nested"]
    assert doc.includes == (FIXTURES / "sections" / "_nested.qmd",)


def test_inline_expressions_found_with_quarto_pattern() -> None:
    """Quarto's pattern ``(^|[^`])`{python}[ \\t]([^`]+)``` (notebook.py
    ``cell_execute_inline``): an expression preceded by another backtick
    (the documented escape ````{python} x``) is not one."""
    doc = parse_qmd(MAIN)
    prose = [e.expression for e in doc.inlines if e.context == "prose"]
    assert prose == ["n", "name", "rate", "share", 'Markdown("**" + name + "**")',
                     "'**not bold**'", "cohort", "n", '", ".join(order)', "target"]
    assert "undefined_name" not in " ".join(e.expression for e in doc.inlines)
    first = doc.inlines[0]
    assert (first.location.file, first.location.line) == (MAIN, 32)


@pytest.mark.parametrize(
    ("variables", "unresolved"),
    [
        pytest.param(VARIABLES, ["cohort.missing"], id="dotted-keys-resolve"),
        pytest.param({}, ["cohort.n", "cohort.n", "site.name", "cohort.missing"], id="no-variables"),
    ],
)
def test_var_shortcodes_checked_against_variables(variables: dict[str, Any], unresolved: list[str]) -> None:
    """``{{< var a.b >}}`` looks up nested keys of _variables.yml, in front
    matter and body (observations: var works in ``abstract:`` and the body)."""
    doc = parse_qmd(FIXTURES / "findings.qmd", variables=variables)
    assert [v.key for v in doc.findings.unresolved_vars] == unresolved
    assert len(doc.var_uses) == 4
    if variables:
        first = doc.var_uses[0]
        assert (first.key, first.value, first.location.line) == ("cohort.n", 74, 4)


def test_crossrefs_undefined_and_duplicate_reported() -> None:
    """Labels used but not defined (Quarto renders ``?@fig-missing``) and ids
    defined twice; a chunk with ``include: false`` defines nothing."""
    doc = parse_qmd(FIXTURES / "findings.qmd", variables=VARIABLES)
    f = doc.findings
    assert [(u.label, u.location.line) for u in f.undefined_crossrefs] == [
        ("fig-missing", 35), ("tbl-hidden", 35)]
    assert [(label, [d.location.line for d in defs]) for label, defs in f.duplicate_labels] == [
        ("tbl-dup", [27, 31])]


def test_crossref_forms_and_non_references() -> None:
    """``@fig-x``, ``[-@tbl-x]``, ``@Sec-x`` (capitalised), ``[@a; @b]`` and
    ``@lst-x`` (fenced block id) count; code spans, e-mail addresses,
    ``\\@`` and HTML comments do not."""
    doc = parse_qmd(FIXTURES / "findings.qmd", variables=VARIABLES)
    used = [u.label for u in doc.crossref_uses]
    assert used == ["fig-km", "tbl-one", "sec-results", "fig-missing", "tbl-hidden", "tbl-dup",
                    "lst-example"]
    kinds = {d.label: d.kind for d in doc.label_definitions}
    assert kinds == {"sec-results": "attribute", "tbl-one": "attribute", "tbl-dup": "attribute",
                     "lst-example": "code-block", "fig-km": "chunk"}


def test_inline_in_front_matter_and_code_block_reported() -> None:
    """Inline code in YAML is not evaluated by Quarto (docs "Inline Code":
    cannot be used in YAML; observations: the render fails with NameError);
    inside a fenced block Quarto's pattern would still evaluate it."""
    doc = parse_qmd(FIXTURES / "findings.qmd", variables=VARIABLES)
    f = doc.findings
    assert [(e.expression, e.location.line) for e in f.inline_in_front_matter] == [("n_salvage", 4)]
    assert [(e.expression, e.location.line) for e in f.inline_in_code_blocks] == [("shown_not_run", 40)]
    assert not f.ok
    problems = f.problems(FIXTURES)
    assert any("findings.qmd:4" in p and "front matter" in p for p in problems)


def test_strict_run_refuses_inline_in_front_matter_before_starting_a_kernel() -> None:
    """The static error is raised before any kernel starts (``run`` is None)."""
    with pytest.raises(QmdFindingsError) as err:
        execute_qmd(FIXTURES / "findings.qmd", variables=VARIABLES)
    assert err.value.run is None
    assert "n_salvage" in str(err.value)


def test_bad_arguments_rejected_before_starting_a_kernel() -> None:
    """Unknown target format; params without a ``parameters`` chunk (Quarto
    would silently ignore them; the harness refuses)."""
    with pytest.raises(ValueError, match="target_format"):
        execute_qmd(MAIN, target_format="pdf")
    with pytest.raises(ValueError, match="no chunk is tagged 'parameters'"):
        execute_qmd(FIXTURES / "error.qmd", params={"x": 1})


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        pytest.param("'ALL'", "ALL", id="str-unquoted"),
        pytest.param('"it\'s"', "it's", id="str-double-quoted"),
        pytest.param("74", "74", id="int"),
        pytest.param("np.float64(0.5)", "np.float64(0.5)", id="numpy-scalar-repr"),
        pytest.param("'**x**'", r"\*\*x\*\*", id="markdown-escaped"),
        pytest.param("'a, b-c'", r"a\, b\-c", id="range-quirk-comma"),
        pytest.param("'C:\\\\x'", "C:" + "\\" * 8 + "x", id="backslash-doubled-twice"),
    ],
)
def test_inline_text_plain_as_quarto_asEscapedMarkdown(plain: str, expected: str) -> None:
    """``asEscapedMarkdown`` in src/core/jupyter/jupyter-inline.ts: quotes of
    a string repr removed and Markdown punctuation escaped, with the quirks of
    its character class ``[\\\\`*_{}\\[\\]()>#+-.!]`` (``+-.`` is a range
    that includes the comma)."""
    assert _as_escaped_markdown(plain) == expected


@pytest.mark.parametrize(
    ("data", "to_html", "expected"),
    [
        pytest.param({"text/plain": "'x'"}, True, ("text/plain", "x"), id="plain"),
        pytest.param({"text/markdown": "**b**", "text/plain": "<Markdown>"}, False,
                     ("text/markdown", "**b**"), id="markdown"),
        pytest.param({"text/html": "<b>t</b>", "text/plain": "'t'"}, True,
                     ("text/html", "`<b>t</b>`{=html}"), id="html-target-html"),
        pytest.param({"text/html": "<b>t</b>", "text/plain": "'t'"}, False,
                     ("text/plain", "t"), id="html-non-html-target"),
        pytest.param({"text/html": "<table></table>", "text/plain": "df"}, False,
                     ("text/html", "`<table></table>`{=html}"), id="html-table-any-target"),
        pytest.param({"text/plain": "''"}, True, ("text/plain", None), id="empty-left-verbatim"),
    ],
)
def test_inline_mime_choice_as_quarto_displayDataMimeType(data: dict[str, str], to_html: bool,
                                                         expected: tuple[str, str | None]) -> None:
    """``displayDataMimeType`` (display-data.ts) and the substitution in
    ``resolveUserExpressions`` (an empty result leaves the expression as
    written, ``executeInlineCodeHandler``)."""
    assert _inline_text(data, to_html) == expected


# --------------------------------------------------------------------------
# execution (one kernel per document and format, run concurrently)
# --------------------------------------------------------------------------


def test_kernel_is_this_python_and_is_shut_down(runs: dict[str, Future[QmdRun]]) -> None:
    """The kernel is ``sys.executable -m ipykernel_launcher`` and its process
    is gone after the run, also after a failing run."""
    run = _ok(runs, "main")
    out = _lines(run.chunk("context").stdout)
    assert Path(out[3]) == Path(sys.executable)
    pids = [int(out[4]), int(_failed(runs, "error").run.chunk("fine").stdout.strip())]  # type: ignore[union-attr]
    if sys.platform.startswith("linux"):
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            assert not status.exists() or "zombie" in status.read_text()


def test_chunks_run_in_document_order_with_shared_state(runs: dict[str, Future[QmdRun]]) -> None:
    """Chunks (those of included files at the include's place) run in one
    kernel in document order (notebook.py ``notebook_execute``)."""
    run = _ok(runs, "main")
    out = _lines(run.chunk("context").stdout)
    assert out[0] == "html html html"
    assert out[2] == "['setup', 'from-include', 'from-nested', 'tolerated', 'quiet-warning']"
    counts = [c.execution_count for c in run.chunks if c.executed]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert run.chunk("setup").stdout.split("\n")[1] == "first"


def test_working_directory_is_the_document_directory(runs: dict[str, Future[QmdRun]]) -> None:
    """Default execute-dir is the document's directory (docs "Execution
    Options"; notebook.py ``os.chdir(Path(input).parent)``)."""
    run = _ok(runs, "main")
    assert Path(_lines(run.chunk("context").stdout)[1]) == FIXTURES
    assert run.working_dir == FIXTURES


def test_eval_false_chunk_is_not_executed(runs: dict[str, Future[QmdRun]]) -> None:
    """notebook.py ``cell_execute`` runs a cell only if ``eval == True``."""
    skipped = _ok(runs, "main").chunk("skipped")
    assert skipped.executed is False
    assert skipped.outputs == () and skipped.error is None


def test_error_true_chunk_error_recorded_and_run_continues(runs: dict[str, Future[QmdRun]]) -> None:
    """``error: true`` tags the cell ``raises-exception`` (notebook.py), so the
    traceback goes into the document and execution goes on."""
    run = _ok(runs, "main")
    tolerated = run.chunk("tolerated")
    assert tolerated.error is not None
    assert tolerated.error.ename == "ZeroDivisionError"
    assert "1 / 0" in tolerated.error.traceback and "\x1b[" not in tolerated.error.traceback
    assert [o.output_type for o in tolerated.outputs] == ["error"]
    assert run.chunk("context").executed


def test_warning_false_chunk_warning_recorded_without_failing(runs: dict[str, Future[QmdRun]]) -> None:
    """A warning in a ``warning: false`` chunk is hidden by Quarto
    (jupyter.ts ``isWarningOutput``: stderr streams) and does not fail the run."""
    quiet = _ok(runs, "main").chunk("quiet-warning")
    assert [(w.category, w.message) for w in quiet.warnings] == [
        ("UserWarning", "expected, and hidden by warning: false")]
    assert "UserWarning: expected" in quiet.stderr


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(0, "74", id="int"),
        pytest.param(1, "ALL", id="str-without-quotes"),
        pytest.param(2, "0.905", id="float"),
        pytest.param(3, "np.float64(0.5)", id="numpy-scalar-shows-its-repr"),
        pytest.param(4, "**ALL**", id="Markdown-object"),
        pytest.param(5, r"\*\*not bold\*\*", id="str-markdown-escaped"),
        pytest.param(6, "relapsed", id="injected-parameter"),
        pytest.param(7, "75", id="same-name-later-value"),
        pytest.param(8, r"setup\, from\-include\, from\-nested\, tolerated\, quiet\-warning",
                     id="str-with-commas"),
        pytest.param(9, "html", id="str-from-execute-info"),
    ],
)
def test_inline_results_as_quarto_inserts_them(runs: dict[str, Future[QmdRun]], index: int,
                                               expected: str) -> None:
    """Each inline expression's text as ``resolveUserExpressions``
    (jupyter-inline.ts) inserts it, evaluated where it stands: ``n`` is 74
    before the included chunk sets it to 75 and 75 after."""
    run = _ok(runs, "main")
    assert len(run.inlines) == 10
    assert run.inlines[index].result == expected


def test_markdown_has_inline_results_substituted(runs: dict[str, Future[QmdRun]]) -> None:
    """``QmdRun.markdown`` is the document text Pandoc would receive from the
    prose (chunks kept as written); escaped expressions stay."""
    md = _ok(runs, "main").markdown
    assert "We studied 74 patients with ALL (rate 0.905," in md
    assert "After the include, n is 75;" in md
    assert "``{python} undefined_name``" in md
    assert "`{python} n`" not in md


def test_parameters_injected_after_parameters_chunk(runs: dict[str, Future[QmdRun]]) -> None:
    """``-P cohort:relapsed``: the ``parameters`` chunk runs, then papermill's
    injected chunk, tagged ``injected-parameters``, with the parameter chunk's
    options except ``label`` (notebook.py ``nb_parameterize``; docs
    "Parameters"; observations: papermill is required)."""
    run = _ok(runs, "main")
    first, injected = run.chunks[0], run.chunks[1]
    assert first.label == "params" and first.stdout == "defaults set\n"
    assert injected.chunk.injected and injected.label is None
    assert injected.chunk.tags == ("injected-parameters",)
    assert injected.chunk.options == {"tags": ["parameters"], "echo": False}
    assert 'cohort = "relapsed"' in injected.chunk.source
    assert run.chunk("setup").stdout.split("\n")[0] == "0.1 relapsed"
    assert run.params == {"cohort": "relapsed"}


@pytest.mark.parametrize(
    ("target", "figsize", "figure_mime"),
    [
        pytest.param("html", "[7.0, 5.0]", "image/png", id="html"),
        pytest.param("typst", "[5.5, 3.5]", "image/svg+xml", id="typst"),
        pytest.param("docx", "[5.0, 4.0]", "image/png", id="docx"),
    ],
)
def test_execute_info_and_figure_defaults_per_target_format(runs: dict[str, Future[QmdRun]], target: str,
                                                            figsize: str, figure_mime: str) -> None:
    """QUARTO_EXECUTE_INFO holds ``document-path`` and the format identifier /
    pandoc ``to`` (docs "Execution Context Information"); figure size and
    format follow the format defaults (src/format/*: html 7x5 retina, typst
    5.5x3.5 svg, docx 5x4 png) through the setup step (lang/python/setup.py);
    QUARTO_BIN_PATH is set as under the quarto launcher."""
    run = _ok(runs, "main" if target == "html" else f"main-{target}")
    out = _lines(run.chunk("context").stdout)
    assert out[0] == f"{target} {target} {target}"
    assert Path(out[5]) == MAIN
    assert out[6] == figsize
    assert out[7] == "True"
    assert run.execute_info["format"]["pandoc"]["to"] == target
    assert run.execute_info["document-path"] == str(MAIN)
    figure = run.chunk("fig-line")
    images = [m for d in figure.displays for m in d if m.startswith("image/")]
    assert images == [figure_mime]
    display = next(o for o in figure.outputs if o.output_type == "display_data")
    if figure_mime == "image/png":
        png = base64.b64decode(display.data["image/png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width_px = struct.unpack(">I", png[16:20])[0]
        if target == "html":  # retina: twice the pixels, displayed at half their width
            assert abs(width_px - 2 * display.metadata["image/png"]["width"]) <= 1
        else:
            assert display.metadata == {}
    assert run.inlines[-1].result == target


def test_chunk_error_fails_run_naming_label_line_and_traceback(runs: dict[str, Future[QmdRun]]) -> None:
    """An exception in a chunk without ``error: true`` stops the render
    (notebook.py raises ``CellExecutionError``); the message names the
    document, the chunk label and its line, and carries the traceback."""
    exc = _failed(runs, "error")
    assert isinstance(exc, QmdExecutionError)
    msg = str(exc)
    assert "chunk 'boom' at error.qmd:14 (code starts at line 17)" in msg
    assert "ValueError: deliberate failure for the harness test" in msg
    assert str(FIXTURES / "error.qmd") in msg
    assert exc.label == "boom" and exc.location is not None and exc.location.line == 14
    assert "raise ValueError" in exc.traceback
    assert exc.run is not None
    assert [c.label for c in exc.run.chunks] == ["fine", "boom"]


def test_inline_error_fails_run_naming_line(runs: dict[str, Future[QmdRun]]) -> None:
    """An inline expression whose name a later chunk defines fails with
    NameError (observations: inline code runs in document order)."""
    exc = _failed(runs, "inline-error")
    assert isinstance(exc, QmdExecutionError)
    msg = str(exc)
    assert "`{python} later_name` at inline_error.qmd:5" in msg
    assert "NameError" in msg
    assert exc.run is not None and exc.run.chunks == ()


def test_warnings_fail_run_unless_warning_false(runs: dict[str, Future[QmdRun]]) -> None:
    """Warnings and other stderr text would be printed into the manuscript
    (jupyter.ts ``isWarningOutput``); they fail the run, except in a chunk
    with ``warning: false``.  The whole document still ran."""
    exc = _failed(runs, "warning")
    assert isinstance(exc, QmdWarningError)
    msg = str(exc)
    assert "chunk 'noisy' at warning.qmd:5" in msg
    assert "UserWarning: this would appear in the manuscript" in msg
    assert "chunk 'stderr-only'" in msg and "progress: 100%" in msg
    assert "silenced" not in msg
    assert exc.label == "noisy"
    silenced = exc.run.chunk("silenced")  # type: ignore[union-attr]
    assert [w.category for w in silenced.warnings] == ["RuntimeWarning"]


def test_each_warning_belongs_to_the_request_that_raised_it(runs: dict[str, Future[QmdRun]]) -> None:
    """Warnings come back in the reply of the chunk or prose that raised them
    (a user expression of the same request, so the harness sends only the
    requests Quarto sends); a chunk that raised is asked separately, as
    ipykernel evaluates no user expression after an error."""
    run = _ok(runs, "warning-error")
    assert [w.message for w in run.chunk("warns-then-raises").warnings] == ["raised before the error"]
    assert run.chunk("after").warnings == ()
    (inline,) = run.inlines
    assert inline.result == "3"
    assert [w.message for w in inline.warnings] == ["from the prose"]
    assert run.chunk("quiet").warnings == ()


def test_clean_document_passes_strict_checks(runs: dict[str, Future[QmdRun]]) -> None:
    """main.qmd defines every label it references (@sec-intro, @sec-methods
    across includes) and has no misplaced inline code."""
    run = _ok(runs, "main")
    assert run.findings.ok
    assert [u.label for u in run.document.crossref_uses] == [
        "sec-intro", "sec-intro", "sec-methods", "fig-line"]


def test_kernel_started_from_the_given_kernelspec_command_and_its_log_kept(
        runs: dict[str, Future[QmdRun]]) -> None:
    """``kernel_argv`` is the kernelspec's argv (jupyter_client fills in
    ``{connection_file}``); what the kernel process writes outside any chunk
    (Quarto shows it on the render's console) is ``QmdRun.kernel_log``, and
    is not a chunk's output."""
    run = _ok(runs, "kernel-log")
    assert "kernel says hello" in run.kernel_log
    assert all("kernel says hello" not in c.stderr for c in run.chunks)
    assert "kernel says hello" not in _ok(runs, "main").kernel_log
