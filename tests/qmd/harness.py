"""Execute Quarto ``.qmd`` documents the way Quarto's Jupyter engine does.

Quarto cannot be installed where the tests run, so this module reproduces the
part of ``quarto render`` that runs code: it reads the document, expands
``{{< include >}}`` shortcodes, starts a real Jupyter kernel (the current
Python, ``sys.executable -m ipykernel_launcher``), runs Quarto's setup step,
then every executable chunk and every inline expression in document order, and
records what each produced.  It also checks what a render would complain about
without running code: ``{{< var >}}`` shortcodes that do not resolve,
cross-references that are used but not defined (or defined twice), and inline
expressions placed where Quarto does not handle them.

Public entry points: :func:`execute_qmd` (parse + run) and :func:`parse_qmd`
(parse and static checks only, no kernel).

Behaviour copied from Quarto (quarto-cli sources and quarto.org docs, read for
Quarto 1.6 - 1.8):

* Chunk options: leading ``#| key: value`` lines, parsed as YAML, as in
  ``nb_cell_yaml_lines`` of ``src/resources/jupyter/notebook.py``; the kernel
  runs the code without those lines.  A chunk runs only if its ``eval`` is
  ``True`` (``cell_execute``).  ``error: true`` (chunk or document ``execute:``)
  lets an exception through; otherwise the render stops.
* Includes (``src/core/handlers/include-standalone.ts`` and ``resolvePath`` in
  ``src/core/handlers/base.ts``; docs "Includes"): the shortcode must be alone
  on its line; the included text is pasted in place, followed by a blank line.
  A relative path resolves against the directory of the *main* document (also
  for includes nested in included files); a path starting with ``/`` resolves
  against the project root (the directory holding ``_quarto.yml``, else the
  document's directory).
* Inline expressions (``cell_execute_inline`` in ``notebook.py``;
  ``src/core/jupyter/jupyter-inline.ts``; docs "Inline Code"): found with
  Quarto's own pattern ``(^|[^`])`{python}[ \\t]([^`]+)```, evaluated as Jupyter
  ``user_expressions`` once the preceding chunk has run (all expressions of one
  stretch of prose in a single request), and shown through the display
  priority of ``displayDataMimeType`` (``src/core/jupyter/display-data.ts``):
  ``text/html`` becomes a raw HTML inline (HTML targets only), ``text/markdown``
  is inserted as Markdown, ``text/plain`` is inserted with a surrounding pair
  of quotes removed and, in that case only, Markdown punctuation escaped
  (``asEscapedMarkdown``).  So ``'ALL'`` shows as ``ALL``, ``74`` as ``74`` and
  ``np.float64(0.5)`` as ``np.float64(0.5)``.  An empty result, an expression
  with surrounding blanks, or one spanning two lines is left in the text
  unevaluated-looking, as Quarto does; the harness reports these.
* Setup step: what ``src/resources/jupyter/lang/python/setup.py`` does that
  matters here: matplotlib ``figure.figsize``/``figure.dpi``/``savefig.dpi``
  and ``set_matplotlib_formats(fig-format)`` (through ``matplotlib_inline``,
  as Quarto does since IPython 9 removed ``IPython.display.set_matplotlib_formats``,
  quarto-cli PR 13117), pandas LaTeX repr for ``fig-format: pdf``, then ``%reset``.
  As in Quarto's file, ``savefig.dpi`` is the format's fig-dpi (not ``"figure"``).
  The background worker predicts each kernel's display settings from the same
  options (``analysis/present/executions.py``; tests/test_ahead.py checks the
  prediction against this harness's kernels).  Environment:
  ``QUARTO_FIG_WIDTH/HEIGHT/DPI/FORMAT`` (``set_env_vars``),
  ``QUARTO_EXECUTE_INFO`` (docs "Execution Context Information"),
  ``QUARTO_DOCUMENT_PATH``/``QUARTO_DOCUMENT_FILE``, and ``QUARTO_BIN_PATH``
  (set by the ``quarto`` launcher; libraries such as great_tables use it to
  detect a Quarto render and change their output or warn).
* Parameters (``nb_parameterize``): the first chunk tagged ``parameters`` runs,
  then an injected chunk made by papermill's translator, carrying the
  parameter chunk's options except ``label``.
* Working directory: the document's directory, or the project root with
  ``project: execute-dir: project`` in ``_quarto.yml`` (docs "Execution
  Options").
* Format defaults (``src/format/*``): html 7 x 5 in, ``retina``; typst
  5.5 x 3.5 in, ``svg``; docx 5 x 4 in, ``png``; 96 dpi.

Deliberate differences from a real render (stricter, on purpose):

* An inline expression inside a fenced non-executable code block is *not*
  evaluated (Quarto's pattern would evaluate and substitute it); it is reported
  as a finding instead, since it is almost always a mistake.
* Python warnings and any other stderr text of a chunk fail the run unless the
  chunk (or the document's ``execute:``) sets ``warning: false``; Quarto would
  print them into the manuscript instead.  The warnings are handed over in the
  reply of the request that raised them (one more user expression), so the
  harness makes the requests Quarto makes and no others (one per chunk, one per
  stretch of prose with inline expressions), and its timings are Quarto's.
* ``params`` given for a document without a ``parameters`` chunk is an error
  (Quarto silently ignores them).
* ``MPLBACKEND`` is removed from the kernel's environment so that ipykernel
  selects the inline backend, as in a plain shell; a render from a shell
  that sets it would produce no figures.
* Metadata blocks of included files are not merged into the front matter
  (inline expressions in them are reported like those in front matter).
"""

from __future__ import annotations

import ast
import bisect
import json
import os
import queue
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "TARGET_FORMATS",
    "CROSSREF_TYPES",
    "Location",
    "Chunk",
    "MarkdownCell",
    "InlineExpression",
    "VarUse",
    "CrossRefUse",
    "LabelDefinition",
    "Findings",
    "QmdDocument",
    "Output",
    "WarningRecord",
    "ErrorRecord",
    "ChunkResult",
    "InlineResult",
    "QmdRun",
    "QmdError",
    "QmdParseError",
    "QmdExecutionError",
    "QmdWarningError",
    "QmdFindingsError",
    "parse_qmd",
    "execute_qmd",
    "find_project_dir",
]

# --------------------------------------------------------------------------
# constants
# --------------------------------------------------------------------------

#: Quarto's per-format defaults that matter for execution (src/format/*).
TARGET_FORMATS: Mapping[str, Mapping[str, Any]] = {
    "html": {
        "display-name": "HTML",
        "output-ext": "html",
        "fig-width": 7,
        "fig-height": 5,
        "fig-format": "retina",
        "default-image-extension": "png",
        "to-html": True,
    },
    "typst": {
        "display-name": "Typst",
        "output-ext": "pdf",
        "fig-width": 5.5,
        "fig-height": 3.5,
        "fig-format": "svg",
        "default-image-extension": "svg",
        "to-html": False,
    },
    "docx": {
        "display-name": "MS Word",
        "output-ext": "docx",
        "fig-width": 5,
        "fig-height": 4,
        "fig-format": "png",
        "default-image-extension": "png",
        "to-html": False,
    },
}

#: Cross-reference prefixes Quarto understands (docs "Cross References").
CROSSREF_TYPES = frozenset(
    {"fig", "tbl", "sec", "eq", "lst", "thm", "lem", "cor", "prp", "cnj",
     "def", "exm", "exr", "sol", "rem", "alg"}
)

_EXECUTE_DEFAULTS: Mapping[str, Any] = {
    "eval": True,
    "echo": True,
    "output": True,
    "warning": True,
    "error": False,
    "include": True,
    "cache": None,
    "freeze": False,
    "fig-dpi": 96,
}
_EXECUTE_KEYS = frozenset(
    {"eval", "echo", "output", "warning", "error", "include", "cache", "freeze",
     "fig-width", "fig-height", "fig-format", "fig-dpi"}
)

# Quarto's inline pattern (notebook.py cell_execute_inline / execute-inline.ts)
_INLINE_RE = re.compile(r"(?:^|[^`])`\{python\}[ \t]([^`]+)`", re.MULTILINE)
_INLINE_PREFIX_LEN = len("`{python} ")
_INCLUDE_RE = re.compile(r"^\s*\{\{<\s*include\s+(?P<arg>.+?)\s*>\}\}\s*$")
_VAR_RE = re.compile(r"(?<!\{)\{\{<\s*var\s+(?P<key>[^\s>]+)\s*>\}\}(?!\})")
_FENCE_RE = re.compile(r"^(?P<indent>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_EXEC_INFO_RE = re.compile(r"^\s*\{(?P<lang>[A-Za-z][\w-]*)(?P<attrs>[ ,][^}]*)?\}\s*$")
_OPTION_RE = re.compile(r"^#\s*\| ?")
_ATTR_BLOCK_RE = re.compile(r"\{([^{}]*)\}")
_ATTR_ID_RE = re.compile(r"(?:^|\s)#([A-Za-z][\w:.\-]*)")
_FENCE_ID_RE = re.compile(r"(?:^|[\s{])#([A-Za-z][\w:.\-]*)")
_CROSSREF_RE = re.compile(r"(?<![\w@\\])@([A-Za-z][\w:.#$%&\-+?<>~/]*)")
_CROSSREF_TRAILING = re.compile(r"[:.#$%&\-+?<>~/]+$")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_RAW_BLOCK_RE = re.compile(r"^(?P<f>`{3,}|~{3,})\{=[A-Za-z0-9_-]+\}[ \t]*\n.*?^(?P=f)[ \t]*$", re.DOTALL | re.MULTILINE)
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HARNESS_MODULE = "_quarto_qmd_harness"


# --------------------------------------------------------------------------
# exceptions
# --------------------------------------------------------------------------


class QmdError(Exception):
    """Base class of every error this harness raises."""


class QmdParseError(QmdError):
    """The document cannot be read as Quarto would read it (missing include,
    unclosed chunk, invalid chunk options, ...)."""


class QmdExecutionError(QmdError):
    """A chunk or inline expression failed, timed out, or the kernel died.

    Attributes: ``document`` (path of the main document), ``location``
    (:class:`Location` of the chunk or expression, or None), ``label`` (chunk
    label or None), ``traceback`` (plain text, ANSI codes removed) and ``run``
    (the partial :class:`QmdRun`, or None).
    """

    def __init__(self, message: str, *, document: Path, location: Location | None = None,
                 label: str | None = None, traceback: str = "", run: QmdRun | None = None):
        super().__init__(message)
        self.document = document
        self.location = location
        self.label = label
        self.traceback = traceback
        self.run = run


class QmdWarningError(QmdExecutionError):
    """Chunks wrote warnings (or other stderr text) that Quarto would print
    into the rendered document, and they do not set ``warning: false``.
    ``run`` holds the complete run."""


class QmdFindingsError(QmdError):
    """Static checks failed (unresolved var shortcodes, undefined or duplicate
    cross-references, misplaced inline expressions).  ``findings`` holds them;
    ``run`` holds the complete run when the kernel had already run."""

    def __init__(self, message: str, *, findings: Findings, run: QmdRun | None = None):
        super().__init__(message)
        self.findings = findings
        self.run = run


# --------------------------------------------------------------------------
# parse results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place in a source file: ``file`` (absolute path) and 1-based ``line``."""

    file: Path
    line: int

    def describe(self, relative_to: Path | None = None) -> str:
        """``file:line``, with the file relative to ``relative_to`` when possible."""
        shown: Path | str = self.file
        if relative_to is not None:
            try:
                shown = os.path.relpath(self.file, relative_to)
            except ValueError:  # pragma: no cover - other drive on Windows
                shown = self.file
        return f"{shown}:{self.line}"


@dataclass(frozen=True)
class _Line:
    text: str
    location: Location
    # "front" (main front matter), "yaml" (metadata block of an included file), "md" (prose),
    # "fence" (opening line of a non-executable fenced block), "code" (rest of such a block),
    # "chunk" (an executable chunk, fences included)
    kind: str


@dataclass(frozen=True)
class Chunk:
    """An executable ```` ```{python} ```` chunk.

    ``index``: position among the document's chunks (0-based; the injected
    parameter chunk has index -1); ``label``: the ``label`` option or None;
    ``options``: the ``#|`` options as parsed YAML; ``source``: the code the
    kernel runs (option lines removed); ``location``: the opening fence;
    ``code_location``: the first line after the option lines (tracebacks
    count lines from there); ``tags``: the ``tags`` option; ``injected``: True
    for the parameter chunk the harness adds; ``raw``: the chunk as written,
    fences included.
    """

    index: int
    label: str | None
    options: Mapping[str, Any]
    source: str
    location: Location
    code_location: Location
    tags: tuple[str, ...] = ()
    injected: bool = False
    raw: str = field(default="", repr=False)


@dataclass(frozen=True)
class InlineExpression:
    """An inline `` `{python} expr` `` found by Quarto's pattern.

    ``expression``: the text after ``{python}`` as Quarto captures it (not
    trimmed); ``location``: where it starts; ``context``: "prose" (evaluated),
    "front-matter" (YAML; a render fails) or "code-block" (inside a fenced
    non-executable block; Quarto would still evaluate it, the harness does
    not); ``cell``: index of the stretch of prose it belongs to.
    """

    expression: str
    location: Location
    context: str
    cell: int


@dataclass(frozen=True)
class MarkdownCell:
    """Prose between two chunks (a Jupyter markdown cell).

    ``index``: position among markdown cells; ``text``: the lines joined;
    ``location``: first line; ``inlines``: the inline expressions evaluated
    when this cell is reached (context "prose" only).
    """

    index: int
    text: str
    location: Location
    inlines: tuple[InlineExpression, ...]
    _lines: tuple[_Line, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class VarUse:
    """A ``{{< var key >}}`` shortcode: ``key`` (dotted), ``location``,
    ``resolved`` (key found in the variables) and ``value`` (or None)."""

    key: str
    location: Location
    resolved: bool
    value: Any = None


@dataclass(frozen=True)
class CrossRefUse:
    """A cross-reference ``@type-id`` in prose: ``label`` (normalised to a
    lower-case type prefix, so ``@Fig-km`` gives ``fig-km``) and ``location``."""

    label: str
    location: Location


@dataclass(frozen=True)
class LabelDefinition:
    """An identifier defined in the document: ``label``; ``location``;
    ``kind`` ("chunk" for a chunk ``label:`` option, "attribute" for a
    ``{#id}`` in prose, a heading or a div, "code-block" for a fenced block's
    ``#id``, "output" for an id found in a chunk's Markdown output)."""

    label: str
    location: Location
    kind: str


@dataclass(frozen=True)
class Findings:
    """What a render would warn about or fail on, found without running code
    (plus, after a run, ids defined by chunk outputs).

    ``unresolved_vars``: :class:`VarUse` whose key is missing;
    ``undefined_crossrefs``: :class:`CrossRefUse` without a definition;
    ``duplicate_labels``: ``(label, definitions)`` for ids defined more than
    once; ``inline_in_front_matter``: inline expressions in YAML (a render
    fails with NameError); ``inline_in_code_blocks``: inline expressions in a
    fenced non-executable block (Quarto evaluates them anyway);
    ``inline_unsubstituted``: ``(expression, reason)`` for inline expressions
    Quarto leaves verbatim in the text.
    """

    unresolved_vars: tuple[VarUse, ...] = ()
    undefined_crossrefs: tuple[CrossRefUse, ...] = ()
    duplicate_labels: tuple[tuple[str, tuple[LabelDefinition, ...]], ...] = ()
    inline_in_front_matter: tuple[InlineExpression, ...] = ()
    inline_in_code_blocks: tuple[InlineExpression, ...] = ()
    inline_unsubstituted: tuple[tuple[InlineExpression, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is nothing to report."""
        return not self.problems()

    def problems(self, relative_to: Path | None = None) -> list[str]:
        """One human-readable line per finding."""
        out: list[str] = []
        for v in self.unresolved_vars:
            out.append(f"{v.location.describe(relative_to)}: unresolved shortcode "
                       f"{{{{< var {v.key} >}}}}")
        for r in self.undefined_crossrefs:
            out.append(f"{r.location.describe(relative_to)}: cross-reference @{r.label} "
                       f"is used but not defined")
        for label, defs in self.duplicate_labels:
            where = ", ".join(d.location.describe(relative_to) for d in defs)
            out.append(f"label '{label}' is defined {len(defs)} times: {where}")
        for e in self.inline_in_front_matter:
            out.append(f"{e.location.describe(relative_to)}: inline expression "
                       f"`{{python}} {e.expression}` in YAML front matter (Quarto does "
                       f"not evaluate it there; the render fails with NameError)")
        for e in self.inline_in_code_blocks:
            out.append(f"{e.location.describe(relative_to)}: inline expression "
                       f"`{{python}} {e.expression}` inside a code block (Quarto would "
                       f"evaluate and replace it; escape it as `{{{{python}}}} ...`)")
        for e, reason in self.inline_unsubstituted:
            out.append(f"{e.location.describe(relative_to)}: inline expression "
                       f"`{{python}} {e.expression}` stays verbatim in the output: {reason}")
        return out


@dataclass(frozen=True)
class QmdDocument:
    """A parsed document with its includes expanded.

    ``path``: the main document (absolute); ``project_dir``: project root;
    ``metadata``: the YAML front matter; ``cells``: :class:`MarkdownCell` and
    :class:`Chunk` in document order; ``chunks``: the chunks alone;
    ``inlines``: every inline expression found (all contexts); ``var_uses``,
    ``crossref_uses``, ``label_definitions``: what the static checks saw;
    ``includes``: absolute paths of included files in inclusion order;
    ``findings``: the static :class:`Findings`; ``variables``: the mapping
    ``{{< var >}}`` was checked against.
    """

    path: Path
    project_dir: Path
    metadata: Mapping[str, Any]
    cells: tuple[MarkdownCell | Chunk, ...]
    chunks: tuple[Chunk, ...]
    inlines: tuple[InlineExpression, ...]
    var_uses: tuple[VarUse, ...]
    crossref_uses: tuple[CrossRefUse, ...]
    label_definitions: tuple[LabelDefinition, ...]
    includes: tuple[Path, ...]
    findings: Findings
    variables: Mapping[str, Any]
    front_matter_text: str = ""


# --------------------------------------------------------------------------
# run results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One Jupyter output of a chunk.

    ``output_type``: "stream", "display_data", "execute_result" or "error";
    ``data``: the mime bundle for display outputs (``text/plain``,
    ``text/html``, ``text/markdown``, ``image/png`` (base64 text),
    ``image/svg+xml`` ...), empty otherwise; ``metadata``: the display
    metadata; ``name`` and ``text``: stream name ("stdout"/"stderr") and text,
    or for an error its ``ename`` and plain-text traceback.
    """

    output_type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    text: str = ""


@dataclass(frozen=True)
class WarningRecord:
    """A Python warning shown while a chunk ran: ``category`` (qualified class
    name), ``message``, and the ``filename``/``lineno`` it points at."""

    category: str
    message: str
    filename: str
    lineno: int


@dataclass(frozen=True)
class ErrorRecord:
    """An exception raised by a chunk: ``ename``, ``evalue`` and the
    ``traceback`` as plain text."""

    ename: str
    evalue: str
    traceback: str


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk did.

    ``chunk``: the parsed :class:`Chunk`; ``effective_options``: chunk
    options over document/project ``execute`` options over format defaults
    (keys ``eval``, ``echo``, ``output``, ``warning``, ``error``, ``include``
    and the chunk's own); ``executed``: whether the kernel ran it (False for
    ``eval: false``); ``outputs``: :class:`Output` in order; ``stdout`` /
    ``stderr``: stream text joined; ``error``: :class:`ErrorRecord` or None;
    ``warnings``: :class:`WarningRecord` shown while it ran;
    ``execution_count``: the kernel's count, or None.
    """

    chunk: Chunk
    effective_options: Mapping[str, Any]
    executed: bool
    outputs: tuple[Output, ...] = ()
    stdout: str = ""
    stderr: str = ""
    error: ErrorRecord | None = None
    warnings: tuple[WarningRecord, ...] = ()
    execution_count: int | None = None

    @property
    def label(self) -> str | None:
        return self.chunk.label

    @property
    def displays(self) -> list[Mapping[str, Any]]:
        """Mime bundles of display_data and execute_result outputs, in order."""
        return [o.data for o in self.outputs if o.output_type in ("display_data", "execute_result")]

    def mime(self, mime_type: str) -> list[Any]:
        """Every display output's value for ``mime_type`` (e.g. "text/html")."""
        return [d[mime_type] for d in self.displays if mime_type in d]


@dataclass(frozen=True)
class InlineResult:
    """What an inline expression produced.

    ``expression``: as written; ``location``; ``data``: the kernel's mime
    bundle; ``mime``: the representation Quarto picks for the target format;
    ``result``: the text Quarto puts into the document, or None when Quarto
    leaves the expression verbatim (see :class:`Findings`).
    """

    expression: str
    location: Location
    data: Mapping[str, Any]
    mime: str | None
    result: str | None
    warnings: tuple[WarningRecord, ...] = ()


@dataclass(frozen=True)
class QmdRun:
    """One execution of a document for one target format.

    ``document``: the :class:`QmdDocument`; ``target_format``; ``params``;
    ``chunks``: a :class:`ChunkResult` per chunk in document order (the
    injected parameter chunk included); ``inlines``: an :class:`InlineResult`
    per evaluated inline expression, in order; ``findings``: static findings
    plus ids defined by Markdown outputs; ``markdown``: the document body with
    inline results substituted as Quarto would (chunks kept as source);
    ``execute_info``: the JSON given to the kernel as ``QUARTO_EXECUTE_INFO``;
    ``working_dir``: the kernel's starting directory; ``kernel_log``: what the
    kernel process itself wrote to stdout/stderr (its log; Quarto shows it on
    the console of a render); ``timings``: seconds spent starting the kernel
    with the setup step ("kernel"), in the first chunk, the other chunks, the
    inline expressions and the shutdown.
    """

    document: QmdDocument
    target_format: str
    params: Mapping[str, Any]
    chunks: tuple[ChunkResult, ...]
    inlines: tuple[InlineResult, ...]
    findings: Findings
    markdown: str
    execute_info: Mapping[str, Any]
    working_dir: Path
    kernel_log: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)

    def shown(self, chunk: ChunkResult) -> list[str | None]:
        """For each display output of ``chunk``, the mime type Quarto puts into
        the document for this run's target format (``displayDataMimeType``)."""
        to_html = bool(TARGET_FORMATS[self.target_format]["to-html"])
        return [_display_mime(d, to_html) for d in chunk.displays]

    def chunk(self, label: str) -> ChunkResult:
        """The result of the chunk labelled ``label`` (KeyError if none)."""
        for c in self.chunks:
            if c.label == label:
                return c
        raise KeyError(f"no chunk labelled {label!r} in {self.document.path}")

    def inline(self, expression: str) -> list[InlineResult]:
        """Results of every inline expression written as ``expression``
        (compared after trimming blanks)."""
        return [r for r in self.inlines if r.expression.strip() == expression.strip()]


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------


def find_project_dir(path: str | os.PathLike[str]) -> Path:
    """The Quarto project root of ``path``: the nearest directory at or above
    the document holding ``_quarto.yml`` or ``_quarto.yaml``; else the
    document's own directory (a lone file is its own project)."""
    doc = Path(path).resolve()
    for d in [doc.parent, *doc.parent.parents]:
        if (d / "_quarto.yml").is_file() or (d / "_quarto.yaml").is_file():
            return d
    return doc.parent


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def _load_yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QmdParseError(f"{where}: invalid YAML: {exc}") from None


def _project_config(project_dir: Path) -> Mapping[str, Any]:
    for name in ("_quarto.yml", "_quarto.yaml"):
        p = project_dir / name
        if p.is_file():
            cfg = _load_yaml(_read_text(p), str(p))
            return cfg if isinstance(cfg, Mapping) else {}
    return {}


def _leading_yaml_block(lines: Sequence[str]) -> int:
    """Number of lines of a leading ``---`` ... ``---``/``...`` block (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def _fence_close(line: str, fence: str) -> bool:
    m = _FENCE_RE.match(line)
    return bool(m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= len(fence)
                and not m.group("info").strip())


def _expand(path: Path, *, main_dir: Path, project_dir: Path, stack: list[Path],
            includes: list[Path], main: bool) -> list[_Line]:
    """Lines of ``path`` with include shortcodes expanded (recursively)."""
    lines = _read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    yaml_len = _leading_yaml_block(lines)
    out: list[_Line] = []
    fence: str | None = None
    executable = False
    for i, text in enumerate(lines):
        loc = Location(path, i + 1)
        if i < yaml_len:
            out.append(_Line(text, loc, "front" if main else "yaml"))
            continue
        if fence is None:
            m = _FENCE_RE.match(text)
            if m:
                fence = m.group("fence")
                em = _EXEC_INFO_RE.match(m.group("info")) if fence[0] == "`" else None
                executable = bool(em and em.group("lang") == "python")
                out.append(_Line(text, loc, "chunk" if executable else "fence"))
                continue
        elif _fence_close(text, fence):
            out.append(_Line(text, loc, "chunk" if executable else "code"))
            fence, executable = None, False
            continue
        inc = _INCLUDE_RE.match(text)
        if inc:
            if executable:
                raise QmdParseError(
                    f"{loc.describe(main_dir)}: include shortcode inside an executable "
                    f"chunk; Quarto does not support this (put the chunk in the included file)")
            arg = inc.group("arg").strip().strip("\"'")
            if arg.startswith("/"):
                target = (project_dir / ("." + arg)).resolve()
            else:
                target = (main_dir / arg).resolve()
            if target in stack:
                chain = " -> ".join(str(p) for p in [*stack, target])
                raise QmdParseError(f"{loc.describe(main_dir)}: circular include: {chain}")
            if not target.is_file():
                hint = ""
                if not arg.startswith("/") and (path.parent / arg).is_file() and path.parent != main_dir:
                    hint = (f" (a file of that name exists next to {path.name}, but Quarto "
                            f"resolves include paths against the main document's directory "
                            f"{main_dir}; use a path relative to it or a /project-root path)")
                raise QmdParseError(
                    f"{loc.describe(main_dir)}: include shortcode names a file that does "
                    f"not exist: {arg!r} (resolved to {target}){hint}")
            includes.append(target)
            included = _expand(target, main_dir=main_dir, project_dir=project_dir,
                               stack=[*stack, target], includes=includes, main=False)
            if fence is not None:  # pasted into a fenced code block: all of it is code
                included = [_Line(x.text, x.location, "code") for x in included]
            out.extend(included)
            out.append(_Line("", loc, "code" if fence is not None else "md"))
            continue
        out.append(_Line(text, loc, "chunk" if executable else ("code" if fence else "md")))
    if fence is not None and executable:
        raise QmdParseError(f"{path}: a ```{{python}} chunk is not closed before the end of the file")
    return out


def _chunk_options(source_lines: Sequence[str], where: Location, main_dir: Path) -> tuple[dict[str, Any], int]:
    """Quarto's ``nb_cell_yaml_lines`` + YAML parse: (options, number of option lines)."""
    yaml_lines: list[str] = []
    for line in source_lines:
        m = _OPTION_RE.match(line)
        if not m:
            break
        yaml_lines.append(re.sub(r":\s+$", ":", line[m.end():]).rstrip())
    if not yaml_lines:
        return {}, 0
    opts = _load_yaml("\n".join(yaml_lines), f"{where.describe(main_dir)}: chunk options")
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        raise QmdParseError(f"{where.describe(main_dir)}: chunk options are not a YAML mapping")
    return opts, len(yaml_lines)


def _mask_code_spans(line: str) -> str:
    """Blank out inline code spans (backtick runs of equal length) on one line."""
    out = list(line)
    i = 0
    n = len(line)
    while i < n:
        if line[i] != "`":
            i += 1
            continue
        j = i
        while j < n and line[j] == "`":
            j += 1
        run = j - i
        k = j
        close = -1
        while k < n:
            if line[k] == "`":
                m = k
                while m < n and line[m] == "`":
                    m += 1
                if m - k == run:
                    close = m
                    break
                k = m
            else:
                k += 1
        if close < 0:
            i = j
            continue
        for p in range(i, close):
            out[p] = " "
        i = close
    return "".join(out)


def _lookup(variables: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = variables
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def _crossref_types(project_dir: Path, metadata: Mapping[str, Any] | None) -> frozenset[str]:
    """Quarto's built-in types plus custom float types (``crossref: custom: - key:``)
    declared in _quarto.yml or the document's front matter."""
    keys = set(CROSSREF_TYPES)
    for cfg in (_project_config(project_dir), metadata or {}):
        crossref = cfg.get("crossref") if isinstance(cfg, Mapping) else None
        if isinstance(crossref, Mapping):
            for item in crossref.get("custom") or []:
                if isinstance(item, Mapping) and item.get("key"):
                    keys.add(str(item["key"]).lower())
    return frozenset(keys)


def _crossref_label(raw: str, types: frozenset[str] = CROSSREF_TYPES) -> str | None:
    key = _CROSSREF_TRAILING.sub("", raw)
    prefix, sep, rest = key.partition("-")
    if not sep or not rest or prefix.lower() not in types:
        return None
    if prefix not in (prefix.lower(), prefix.lower().capitalize()):
        return None
    return f"{prefix.lower()}-{rest}"


def _scan_prose(lines: Sequence[_Line], types: frozenset[str] = CROSSREF_TYPES
                ) -> tuple[list[CrossRefUse], list[LabelDefinition]]:
    """Cross-reference uses and ``{#id}`` definitions in prose lines, plus
    ``#id`` in the attributes of fenced code blocks (listings)."""
    uses: list[CrossRefUse] = []
    defs: list[LabelDefinition] = []
    # only prose counts; HTML comments (may span lines) and code spans are blanked
    joined = "\n".join(ln.text if ln.kind == "md" else "" for ln in lines)
    joined = _HTML_COMMENT_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), joined)
    for ln, text in zip(lines, joined.split("\n")):
        if ln.kind == "fence":
            info = _FENCE_RE.match(ln.text).group("info")  # type: ignore[union-attr]
            for ident in _FENCE_ID_RE.findall(info):
                defs.append(LabelDefinition(ident, ln.location, "code-block"))
            continue
        if ln.kind != "md" or not text.strip():
            continue
        masked = _mask_code_spans(text)
        for block in _ATTR_BLOCK_RE.findall(masked):
            if block.startswith(("<", "{")):
                continue
            for ident in _ATTR_ID_RE.findall(block):
                defs.append(LabelDefinition(ident, ln.location, "attribute"))
        for raw in _CROSSREF_RE.findall(masked):
            label = _crossref_label(raw, types)
            if label:
                uses.append(CrossRefUse(label, ln.location))
    return uses, defs


def _crossref_findings(uses: Sequence[CrossRefUse], defs: Sequence[LabelDefinition]
                       ) -> tuple[tuple[CrossRefUse, ...], tuple[tuple[str, tuple[LabelDefinition, ...]], ...]]:
    defined: dict[str, list[LabelDefinition]] = {}
    for d in defs:
        defined.setdefault(d.label, []).append(d)
    undefined = tuple(u for u in uses if u.label not in defined)
    dups = tuple((label, tuple(ds)) for label, ds in defined.items() if len(ds) > 1)
    return undefined, dups


_INLINE_CONTEXT = {"md": "prose", "fence": "code-block", "code": "code-block",
                   "yaml": "front-matter", "front": "front-matter"}


def _inline_matches(lines: Sequence[_Line]) -> Iterator[tuple[int, int, int, str]]:
    """Quarto's inline pattern over the joined ``lines``: (line index, start
    offset, end offset, expression) per match, offsets into the joined text."""
    text = "\n".join(ln.text for ln in lines)
    starts: list[int] = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln.text) + 1
    for m in _INLINE_RE.finditer(text):
        start = m.start(1) - _INLINE_PREFIX_LEN
        li = bisect.bisect_right(starts, start) - 1
        yield li, start, m.end(), m.group(1)


def parse_qmd(path: str | os.PathLike[str], *, variables: Mapping[str, Any] | None = None,
              project_dir: str | os.PathLike[str] | None = None) -> QmdDocument:
    """Read a ``.qmd`` document as Quarto would, without running code.

    Expands includes, finds chunks (with their ``#|`` options), prose cells,
    inline expressions, ``{{< var >}}`` shortcodes and cross-references, and
    computes the static :class:`Findings`.

    ``variables``: the contents of ``_variables.yml`` to check ``{{< var >}}``
    against; None reads ``<project_dir>/_variables.yml`` if it exists (else
    every var shortcode is unresolved, as in a render without that file).
    ``project_dir``: project root for ``/``-paths and ``_quarto.yml``; None
    finds it with :func:`find_project_dir`.

    Raises :class:`QmdParseError` for a missing or circular include, an
    unclosed chunk, or invalid chunk options / front matter.
    """
    doc = Path(path).resolve()
    if not doc.is_file():
        raise QmdParseError(f"document not found: {doc}")
    proj = Path(project_dir).resolve() if project_dir is not None else find_project_dir(doc)
    if variables is None:
        vpath = proj / "_variables.yml"
        loaded = _load_yaml(_read_text(vpath), str(vpath)) if vpath.is_file() else {}
        variables = loaded if isinstance(loaded, Mapping) else {}
    includes: list[Path] = []
    lines = _expand(doc, main_dir=doc.parent, project_dir=proj, stack=[doc],
                    includes=includes, main=True)

    # front matter
    front = [ln for ln in lines if ln.kind == "front"]
    front_text = "\n".join(ln.text for ln in front[1:-1])
    metadata: Mapping[str, Any] = {}
    if front:
        loaded_meta = _load_yaml(front_text, f"{doc}: front matter")
        metadata = loaded_meta if isinstance(loaded_meta, Mapping) else {}
    body = [ln for ln in lines if ln.kind != "front"]

    # split into markdown cells (prose between chunks) and chunks
    order: list[int | Chunk] = []  # int: index into md_cells_lines
    chunks: list[Chunk] = []
    md_cells_lines: list[list[_Line]] = []
    i = 0
    while i < len(body):
        ln = body[i]
        if ln.kind != "chunk":
            if not order or not isinstance(order[-1], int):
                md_cells_lines.append([])
                order.append(len(md_cells_lines) - 1)
            md_cells_lines[-1].append(ln)
            i += 1
            continue
        fence = _FENCE_RE.match(ln.text).group("fence")  # type: ignore[union-attr]
        j = i + 1
        while not (body[j].location.file == ln.location.file and _fence_close(body[j].text, fence)):
            j += 1
        src_lines = [b.text for b in body[i + 1:j]]
        opts, n_opt = _chunk_options(src_lines, ln.location, doc.parent)
        label = opts.get("label")
        tags = opts.get("tags") or ()
        if isinstance(tags, str):
            tags = (tags,)
        chunk = Chunk(
            index=len(chunks),
            label=None if label is None else str(label),
            options=opts,
            source="\n".join(src_lines[n_opt:]),
            location=ln.location,
            code_location=body[i + 1 + n_opt].location if i + 1 + n_opt < j else ln.location,
            tags=tuple(str(t) for t in tags),
            raw="\n".join(b.text for b in body[i:j + 1]),
        )
        chunks.append(chunk)
        order.append(chunk)
        i = j + 1

    # inline expressions, found with Quarto's pattern over each whole prose cell
    all_inlines: list[InlineExpression] = []
    md_cells: list[MarkdownCell] = []
    unsubstituted: list[tuple[InlineExpression, str]] = []
    for ci, mlines in enumerate(md_cells_lines):
        text = "\n".join(ln.text for ln in mlines)
        found = [InlineExpression(expr, mlines[li].location, _INLINE_CONTEXT[mlines[li].kind], ci)
                 for li, _start, _end, expr in _inline_matches(mlines)]
        for expr in found:
            if expr.context != "prose":
                continue
            if "\n" in expr.expression:
                unsubstituted.append((expr, "it spans more than one line (Quarto substitutes "
                                            "line by line)"))
            elif expr.expression != expr.expression.strip():
                unsubstituted.append((expr, "blanks around the expression (Quarto looks the "
                                            "trimmed text up among untrimmed results)"))
        all_inlines.extend(found)
        md_cells.append(MarkdownCell(index=ci, text=text, location=mlines[0].location,
                                     inlines=tuple(e for e in found if e.context == "prose"),
                                     _lines=tuple(mlines)))
    front_inlines = [InlineExpression(expr, front[li].location, "front-matter", -1)
                     for li, _s, _e, expr in _inline_matches(front)]
    cells = [md_cells[c] if isinstance(c, int) else c for c in order]

    # var shortcodes: front matter, prose, included YAML and non-executable code blocks
    var_uses: list[VarUse] = []
    for ln in lines:
        if ln.kind == "chunk":
            continue
        for m in _VAR_RE.finditer(ln.text):
            ok, value = _lookup(variables, m.group("key"))
            var_uses.append(VarUse(m.group("key"), ln.location, ok, value if ok else None))

    # cross-references
    uses, defs = _scan_prose(body, _crossref_types(proj, metadata))
    for ch in chunks:
        if ch.label is not None and ch.options.get("include", True) is not False:
            defs.append(LabelDefinition(ch.label, ch.location, "chunk"))
    undefined, dups = _crossref_findings(uses, defs)

    inline_yaml = [*front_inlines, *(e for e in all_inlines if e.context == "front-matter")]
    findings = Findings(
        unresolved_vars=tuple(v for v in var_uses if not v.resolved),
        undefined_crossrefs=undefined,
        duplicate_labels=dups,
        inline_in_front_matter=tuple(inline_yaml),
        inline_in_code_blocks=tuple(e for e in all_inlines if e.context == "code-block"),
        inline_unsubstituted=tuple(unsubstituted),
    )
    return QmdDocument(
        path=doc,
        project_dir=proj,
        metadata=metadata,
        cells=tuple(cells),
        chunks=tuple(chunks),
        inlines=tuple([*front_inlines, *all_inlines]),
        var_uses=tuple(var_uses),
        crossref_uses=tuple(uses),
        label_definitions=tuple(defs),
        includes=tuple(includes),
        findings=findings,
        variables=variables,
        front_matter_text=front_text,
    )


# --------------------------------------------------------------------------
# options, execute info, environment
# --------------------------------------------------------------------------


def _format_section(meta: Mapping[str, Any], target: str) -> Mapping[str, Any]:
    fmt = meta.get("format")
    if isinstance(fmt, Mapping):
        sec = fmt.get(target)
        if isinstance(sec, Mapping):
            return sec
    return {}


def _execute_options(project_cfg: Mapping[str, Any], metadata: Mapping[str, Any], target: str) -> dict[str, Any]:
    """Execution options: format defaults, then ``_quarto.yml``, then its
    ``format: <target>`` section, then the front matter and its ``format:
    <target>`` section; in each layer both direct keys (``fig-width: 6``) and
    an ``execute:`` mapping count."""
    base = TARGET_FORMATS[target]
    opts: dict[str, Any] = dict(_EXECUTE_DEFAULTS)
    opts.update({k: base[k] for k in ("fig-width", "fig-height", "fig-format")})
    for layer in (project_cfg, _format_section(project_cfg, target), metadata,
                  _format_section(metadata, target)):
        opts.update({k: v for k, v in layer.items() if k in _EXECUTE_KEYS})
        ex = layer.get("execute")
        if isinstance(ex, Mapping):
            opts.update(ex)
    return opts


def _execute_info(document: QmdDocument, target: str, execute: Mapping[str, Any]) -> dict[str, Any]:
    base = TARGET_FORMATS[target]
    metadata = {k: v for k, v in document.metadata.items() if k != "format"}
    return {
        "document-path": str(document.path),
        "format": {
            "identifier": {
                "display-name": base["display-name"],
                "target-format": target,
                "base-format": target,
            },
            "execute": dict(execute),
            "render": {"output-ext": base["output-ext"]},
            "pandoc": {
                "to": target,
                "standalone": True,
                "default-image-extension": base["default-image-extension"],
            },
            "language": {},
            "metadata": _jsonable(metadata),
        },
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


_SETUP_CODE = """\
import os as _os, sys as _sys
fig_width = {fig_width!r}
fig_height = {fig_height!r}
fig_format = {fig_format!r}
fig_dpi = {fig_dpi!r}
try:
  import matplotlib.pyplot as plt
  plt.rcParams['figure.figsize'] = (fig_width, fig_height)
  plt.rcParams['figure.dpi'] = fig_dpi
  plt.rcParams['savefig.dpi'] = fig_dpi
  try:
    from matplotlib_inline.backend_inline import set_matplotlib_formats
  except ImportError:
    from IPython.display import set_matplotlib_formats
  set_matplotlib_formats(fig_format)
except Exception:
  pass
try:
  import pandas as pd
  if fig_format == 'pdf':
    pd.set_option('display.latex.repr', True)
except Exception:
  pass
if {run_path!r}:
  _os.chdir({run_path!r})
%reset -f
def __quarto_harness_install():
  import json, sys, types, warnings
  mod = types.ModuleType({module!r})
  mod.records = []
  original = warnings.showwarning
  def showwarning(message, category, filename, lineno, file=None, line=None):
    mod.records.append({{
      "category": (category.__module__ + "." if category.__module__ != "builtins" else "")
                  + category.__qualname__,
      "message": str(message), "filename": str(filename), "lineno": int(lineno)}})
    return original(message, category, filename, lineno, file, line)
  def pop():
    out = json.dumps(mod.records)
    mod.records.clear()
    return out
  mod.pop = pop
  warnings.showwarning = showwarning
  sys.modules[{module!r}] = mod
__quarto_harness_install()
del __quarto_harness_install
"""


# --------------------------------------------------------------------------
# kernel
# --------------------------------------------------------------------------


@dataclass
class _Reply:
    status: str
    outputs: list[Output]
    execution_count: int | None
    user_expressions: Mapping[str, Any]
    error: ErrorRecord | None


class _KernelDied(Exception):
    pass


class _Timeout(Exception):
    pass


def _strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


class _Kernel:
    """One ipykernel process of the current interpreter, driven over ZMQ."""

    def __init__(self, *, cwd: Path, env: Mapping[str, str], log_path: Path, startup_timeout: float,
                 argv: Sequence[str] | None = None):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

        command = list(argv or [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])

        class _ThisPython(KernelSpecManager):
            def get_kernel_spec(self, kernel_name: str) -> KernelSpec:  # noqa: ARG002
                return KernelSpec(
                    argv=command,
                    display_name="Python 3 (ipykernel)", language="python", name="python3",
                    resource_dir=str(cwd))

        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115
        self.km = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
        self.kc: Any = None
        try:
            self.km.start_kernel(cwd=str(cwd), env=dict(env), stdout=self._log, stderr=self._log)
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=startup_timeout)
        except Exception as exc:
            tail = self.log_tail()
            self.shutdown()
            raise _KernelDied(f"the kernel did not start: {exc}\n{tail}") from None

    def log_tail(self, n: int = 2000) -> str:
        try:
            self._log.flush()
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:  # pragma: no cover
            return ""

    def execute(self, code: str, *, timeout: float, silent: bool = False, store_history: bool = True,
                user_expressions: Mapping[str, str] | None = None) -> _Reply:
        msg_id = self.kc.execute(code, silent=silent, store_history=store_history,
                                 user_expressions=dict(user_expressions or {}),
                                 allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + timeout
        outputs: list[Output] = []
        by_display_id: dict[str, list[int]] = {}
        clear_pending = False
        error: ErrorRecord | None = None

        def add(o: Output, display_id: str | None = None) -> None:
            nonlocal clear_pending
            if clear_pending:
                outputs.clear()
                by_display_id.clear()
                clear_pending = False
            if (o.output_type == "stream" and outputs and outputs[-1].output_type == "stream"
                    and outputs[-1].name == o.name):
                outputs[-1] = Output("stream", name=o.name, text=outputs[-1].text + o.text)
                return
            outputs.append(o)
            if display_id:
                by_display_id.setdefault(display_id, []).append(len(outputs) - 1)

        while True:
            msg = self._next(self.kc.get_iopub_msg, deadline)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            mtype = msg["msg_type"]
            content = msg["content"]
            if mtype == "status" and content.get("execution_state") == "idle":
                break
            if mtype == "stream":
                add(Output("stream", name=content["name"], text=content["text"]))
            elif mtype in ("display_data", "execute_result"):
                add(Output(mtype, data=dict(content.get("data", {})),
                           metadata=dict(content.get("metadata", {}))),
                    (content.get("transient") or {}).get("display_id"))
            elif mtype == "update_display_data":
                did = (content.get("transient") or {}).get("display_id")
                for idx in by_display_id.get(did, []):
                    old = outputs[idx]
                    outputs[idx] = Output(old.output_type, data=dict(content.get("data", {})),
                                          metadata=dict(content.get("metadata", {})))
            elif mtype == "clear_output":
                if content.get("wait"):
                    clear_pending = True
                else:
                    outputs.clear()
                    by_display_id.clear()
            elif mtype == "error":
                tb = _strip_ansi("\n".join(content.get("traceback", [])))
                error = ErrorRecord(content.get("ename", ""), content.get("evalue", ""), tb)
                add(Output("error", name=error.ename, text=tb))
        while True:
            reply = self._next(self.kc.get_shell_msg, deadline)
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") == "error" and error is None:
            tb = _strip_ansi("\n".join(content.get("traceback", [])))
            error = ErrorRecord(content.get("ename", ""), content.get("evalue", ""), tb)
        return _Reply(content.get("status", ""), outputs, content.get("execution_count"),
                      content.get("user_expressions") or {}, error)

    def _next(self, get: Any, deadline: float) -> dict[str, Any]:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.km.interrupt_kernel()
                raise _Timeout()
            try:
                return get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if not self.km.is_alive():
                    raise _KernelDied("the kernel died") from None

    def shutdown(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:  # pragma: no cover - best effort
            pass
        try:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        except Exception:  # pragma: no cover - best effort
            pass
        finally:
            self._log.close()


# --------------------------------------------------------------------------
# inline rendering (jupyter-inline.ts)
# --------------------------------------------------------------------------


def _display_mime(data: Mapping[str, Any], to_html: bool) -> str | None:
    """``displayDataMimeType`` for a non-markdown target."""
    priority = ["text/markdown", "image/svg+xml", "image/png", "image/jpeg"]
    html_formats = ["application/vnd.jupyter.widget-state+json",
                    "application/vnd.jupyter.widget-view+json",
                    "application/javascript", "text/html"]
    if to_html:
        priority = html_formats + priority + html_formats
    html = data.get("text/html")
    if isinstance(html, list):
        html = "".join(html)
    if (isinstance(html, str) and re.search(r"<table", html, re.I) and re.search(r"</table", html, re.I)
            and "text/html" not in priority):
        priority.append("text/html")
    priority.append("text/plain")
    for mime in priority:
        if mime in data:
            return mime
    return None


def _as_escaped_markdown(s: str) -> str:
    """Quarto's ``asEscapedMarkdown`` (including its quirks: the character class
    ``+-.`` is a range that also escapes ``,``, and backslashes are doubled twice)."""
    if len(s) >= 2 and ((s[0] == s[-1] == "'") or (s[0] == s[-1] == '"')):
        s = s[1:-1]
        s = s.replace("\\", "\\\\")
        return re.sub(r"([\\`*_{}\[\]()>#+-.!])", r"\\\1", s)
    return s


def _inline_text(data: Mapping[str, Any], to_html: bool) -> tuple[str | None, str | None]:
    mime = _display_mime(data, to_html)
    if mime is None:
        return None, None
    value = data[mime]
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    value = str(value)
    if mime == "text/html":
        text = f"`{value}`{{=html}}"
    elif mime == "text/latex":  # pragma: no cover - not reachable for our targets
        text = f"`{value}`{{=tex}}"
    elif mime == "text/markdown":
        text = value
    else:
        text = _as_escaped_markdown(value)
    return mime, (text if text else None)


# --------------------------------------------------------------------------
# execution
# --------------------------------------------------------------------------


def _injected_chunk(params_chunk: Chunk, params: Mapping[str, Any]) -> Chunk:
    from papermill.translators import translate_parameters

    content = translate_parameters("python3", "python", dict(params), "Injected Parameters")
    # notebook.py re-encodes the parameter cell's option lines without `label`
    # and tags the new cell injected-parameters (+ the other cell tags)
    opts = {k: v for k, v in params_chunk.options.items() if k != "label"}
    tags = ("injected-parameters", *(t for t in params_chunk.tags if t != "parameters"))
    option_lines = [f"#| {line}" for line in yaml.safe_dump(opts, sort_keys=False).splitlines()] if opts else []
    raw = "\n".join(["```{python}", *option_lines, content.rstrip("\n"), "```"])
    return Chunk(index=-1, label=None, options=opts, source=content,
                 location=params_chunk.location, code_location=params_chunk.code_location,
                 tags=tags, injected=True, raw=raw)


def _describe_chunk(chunk: Chunk, main_dir: Path) -> str:
    name = f"'{chunk.label}'" if chunk.label else f"#{chunk.index + 1} (unlabelled)"
    if chunk.injected:
        name = "injected-parameters"
    return (f"chunk {name} at {chunk.location.describe(main_dir)} "
            f"(code starts at line {chunk.code_location.line})")


#: The user expression that hands over (and clears) the warnings a request raised. Sent with
#: the request it belongs to, after that request's own expressions (ipykernel evaluates them
#: in order, after the code), so collecting warnings costs no request Quarto does not make.
_WARNINGS_KEY = "__quarto_harness_warnings__"
_WARNINGS_EXPR = f"__import__({_HARNESS_MODULE!r}).pop()"


def _warnings_of(reply: _Reply) -> tuple[WarningRecord, ...] | None:
    """The warnings handed over with ``reply``; None when they were not (ipykernel
    evaluates user expressions only when the code ran without error)."""
    res = reply.user_expressions.get(_WARNINGS_KEY)
    if not isinstance(res, Mapping) or res.get("status") != "ok":
        return None
    raw = json.loads(ast.literal_eval(res["data"]["text/plain"]))
    return tuple(WarningRecord(**r) for r in raw)


def _pop_warnings(kernel: _Kernel, timeout: float, reply: _Reply | None = None) -> tuple[WarningRecord, ...]:
    """The warnings since the last hand-over: those ``reply`` carried, else asked for in a
    request of its own (after a chunk that raised)."""
    if reply is not None:
        found = _warnings_of(reply)
        if found is not None:
            return found
    return _warnings_of(kernel.execute("", silent=True, store_history=False, timeout=timeout,
                                       user_expressions={_WARNINGS_KEY: _WARNINGS_EXPR})) or ()


def execute_qmd(path: str | os.PathLike[str], *, target_format: str = "html",
                params: Mapping[str, Any] | None = None,
                variables: Mapping[str, Any] | None = None,
                project_dir: str | os.PathLike[str] | None = None,
                timeout: float = 600.0, startup_timeout: float = 60.0,
                fail_on_warning: bool = True, strict: bool = True,
                execute_info: bool = True, kernel_argv: Sequence[str] | None = None) -> QmdRun:
    """Run a ``.qmd`` document in a real Jupyter kernel as ``quarto render``
    with the Jupyter engine would, and return what every chunk and inline
    expression produced.

    ``target_format``: "html", "typst" or "docx" (sets figure defaults and
    ``QUARTO_EXECUTE_INFO``).  ``params``: like ``quarto render -P k:v``
    (papermill semantics; needs a chunk tagged ``parameters``).
    ``variables``/``project_dir``: as for :func:`parse_qmd`.  ``timeout``:
    seconds allowed per chunk (or per prose cell's inline expressions);
    ``startup_timeout``: seconds for the kernel to start and run the setup step.
    ``fail_on_warning``: raise :class:`QmdWarningError` after the run if a
    chunk without ``warning: false`` wrote warnings or other stderr text.
    ``strict``: raise :class:`QmdFindingsError` if the static checks found
    anything (an inline expression in front matter is raised before the kernel
    starts, as a render fails there too).  ``execute_info``: False runs the
    kernel without ``QUARTO_EXECUTE_INFO``, as Quarto before 1.8 does (the
    variable appeared in 1.8; docs "Execution Context Information").
    ``kernel_argv``: the kernelspec command that starts the kernel (with
    ``{connection_file}``), as the project registers it; default
    ``sys.executable -m ipykernel_launcher -f {connection_file}``.  What the
    kernel process writes outside the chunks is in ``QmdRun.kernel_log``.

    Raises :class:`QmdParseError`, :class:`QmdExecutionError` (naming the
    document, the chunk label and its file and line, with the traceback),
    :class:`QmdWarningError`, :class:`QmdFindingsError`, or ValueError for an
    unknown target format.  The kernel is always shut down.
    """
    if target_format not in TARGET_FORMATS:
        raise ValueError(f"target_format must be one of {sorted(TARGET_FORMATS)}, not {target_format!r}")
    document = parse_qmd(path, variables=variables, project_dir=project_dir)
    main_dir = document.path.parent
    if strict and document.findings.inline_in_front_matter:
        raise QmdFindingsError(
            f"{document.path}: static checks failed:\n  "
            + "\n  ".join(document.findings.problems(main_dir)), findings=document.findings)

    project_cfg = _project_config(document.project_dir)
    execute = _execute_options(project_cfg, document.metadata, target_format)
    project_section = project_cfg.get("project") if isinstance(project_cfg.get("project"), Mapping) else {}
    run_dir = document.project_dir if project_section.get("execute-dir") == "project" else main_dir

    # chunk list, with the injected parameter chunk after the first 'parameters' chunk
    params = dict(params or {})
    ordered: list[MarkdownCell | Chunk] = list(document.cells)
    if params:
        idx = next((i for i, c in enumerate(ordered) if isinstance(c, Chunk) and "parameters" in c.tags), None)
        if idx is None:
            raise ValueError(f"{document.path}: params given but no chunk is tagged 'parameters' "
                             f"(Quarto would silently ignore them)")
        ordered.insert(idx + 1, _injected_chunk(ordered[idx], params))  # type: ignore[arg-type]

    info = _execute_info(document, target_format, execute)
    to_html = bool(TARGET_FORMATS[target_format]["to-html"])
    fig_format = str(execute["fig-format"])
    fig_dpi = execute["fig-dpi"]

    with tempfile.TemporaryDirectory(prefix="qmd-harness-") as tmp:
        tmpdir = Path(tmp)
        info_path = tmpdir / "quarto-execute-info.json"
        info_path.write_text(json.dumps(info, indent=2), encoding="utf-8")
        bin_dir = tmpdir / "quarto-bin"
        bin_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        env.pop("QUARTO_EXECUTE_INFO", None)
        if execute_info:
            env["QUARTO_EXECUTE_INFO"] = str(info_path)
        env.update({
            "QUARTO_FIG_WIDTH": str(execute["fig-width"]),
            "QUARTO_FIG_HEIGHT": str(execute["fig-height"]),
            "QUARTO_FIG_DPI": str(fig_dpi * 2 if fig_format == "retina" else fig_dpi),
            "QUARTO_FIG_FORMAT": "png" if fig_format == "retina" else fig_format,
            "QUARTO_DOCUMENT_PATH": str(main_dir),
            "QUARTO_DOCUMENT_FILE": document.path.name,
            "QUARTO_BIN_PATH": str(bin_dir),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        })
        chunk_results: list[ChunkResult] = []
        inline_results: list[InlineResult] = []
        substitutions: dict[tuple[int, int], str | None] = {}

        def partial_run() -> QmdRun:
            return _make_run(document, target_format, params, chunk_results, inline_results,
                             document.findings, substitutions, info, run_dir)

        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(what: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[what] = timings.get(what, 0.0) + now - clock
            clock = now

        try:
            kernel = _Kernel(cwd=run_dir, env=env, log_path=tmpdir / "kernel.log",
                             startup_timeout=startup_timeout, argv=kernel_argv)
        except _KernelDied as exc:
            raise QmdExecutionError(f"{document.path}: {exc}", document=document.path) from None
        try:
            setup = _SETUP_CODE.format(fig_width=execute["fig-width"], fig_height=execute["fig-height"],
                                       fig_format=fig_format, fig_dpi=fig_dpi, run_path=str(run_dir),
                                       module=_HARNESS_MODULE)
            reply = _run(kernel, setup, startup_timeout, document, None, None, store_history=False)
            if reply.error is not None:
                raise QmdExecutionError(f"{document.path}: the setup step failed:\n{reply.error.traceback}",
                                        document=document.path, traceback=reply.error.traceback)
            _pop_warnings(kernel, timeout, reply)  # Quarto drops the setup cell's output
            lap("kernel")
            first = True
            for cell in ordered:
                if isinstance(cell, MarkdownCell):
                    _run_inlines(kernel, cell, document, timeout, to_html, inline_results,
                                 substitutions, partial_run)
                    lap("inline")
                    continue
                eff = dict(execute)
                eff.update(cell.options)
                if eff.get("eval") is not True:
                    chunk_results.append(ChunkResult(cell, eff, executed=False))
                    continue
                reply = _run(kernel, cell.source, timeout, document, cell, partial_run)
                lap("first chunk" if first else "chunks")
                first = False
                warns = _pop_warnings(kernel, timeout, reply)
                stdout = "".join(o.text for o in reply.outputs if o.output_type == "stream" and o.name == "stdout")
                stderr = "".join(o.text for o in reply.outputs if o.output_type == "stream" and o.name == "stderr")
                chunk_results.append(ChunkResult(cell, eff, True, tuple(reply.outputs), stdout, stderr,
                                                 reply.error, warns, reply.execution_count))
                if reply.error is not None and eff.get("error") is not True:
                    raise QmdExecutionError(
                        f"{document.path}: {_describe_chunk(cell, main_dir)} raised "
                        f"{reply.error.ename}: {reply.error.evalue}\n{reply.error.traceback}",
                        document=document.path, location=cell.location, label=cell.label,
                        traceback=reply.error.traceback, run=partial_run())
        finally:
            kernel.shutdown()
            lap("shutdown")
            try:
                kernel_log = kernel.log_path.read_text(encoding="utf-8", errors="replace")
            except OSError:  # pragma: no cover
                kernel_log = ""

    findings = _findings_with_outputs(document, chunk_results, inline_results)
    run = _make_run(document, target_format, params, chunk_results, inline_results, findings,
                    substitutions, info, run_dir, kernel_log, timings)
    if fail_on_warning:
        noisy = [c for c in chunk_results
                 if c.executed and c.effective_options.get("warning") is not False
                 and (c.warnings or c.stderr.strip())]
        if noisy:
            parts = []
            for c in noisy:
                lines = [f"  {_describe_chunk(c.chunk, main_dir)}:"]
                lines += [f"    {w.category}: {w.message} ({w.filename}:{w.lineno})" for w in c.warnings]
                if not c.warnings:
                    lines.append("    stderr: " + c.stderr.strip().replace("\n", "\n            "))
                parts.append("\n".join(lines))
            first = noisy[0]
            raise QmdWarningError(
                f"{document.path}: {len(noisy)} chunk(s) wrote warnings or stderr text that Quarto "
                f"would print into the rendered document (set `#| warning: false` on a chunk "
                f"where this is expected):\n" + "\n".join(parts),
                document=document.path, location=first.chunk.location, label=first.label, run=run)
    if strict and not findings.ok:
        raise QmdFindingsError(
            f"{document.path}: static checks failed:\n  " + "\n  ".join(findings.problems(main_dir)),
            findings=findings, run=run)
    return run


def _run(kernel: _Kernel, code: str, timeout: float, document: QmdDocument, chunk: Chunk | None,
         partial_run: Any, *, store_history: bool = True) -> _Reply:
    main_dir = document.path.parent
    what = _describe_chunk(chunk, main_dir) if chunk is not None else "the setup step"
    try:
        return kernel.execute(code, timeout=timeout, store_history=store_history,
                              user_expressions={_WARNINGS_KEY: _WARNINGS_EXPR})
    except _Timeout:
        raise QmdExecutionError(f"{document.path}: {what} timed out after {timeout} s",
                                document=document.path, location=chunk.location if chunk else None,
                                label=chunk.label if chunk else None,
                                run=partial_run() if partial_run else None) from None
    except _KernelDied as exc:
        raise QmdExecutionError(f"{document.path}: {what}: {exc}\n{kernel.log_tail()}",
                                document=document.path, location=chunk.location if chunk else None,
                                label=chunk.label if chunk else None,
                                run=partial_run() if partial_run else None) from None


def _run_inlines(kernel: _Kernel, cell: MarkdownCell, document: QmdDocument, timeout: float,
                 to_html: bool, inline_results: list[InlineResult],
                 substitutions: dict[tuple[int, int], str | None], partial_run: Any) -> None:
    """Evaluate a prose cell's inline expressions in one request (notebook.py)."""
    if not cell.inlines:
        return
    exprs = {str(i): e.expression for i, e in enumerate(cell.inlines)}
    main_dir = document.path.parent
    try:
        reply = kernel.execute("", timeout=timeout, user_expressions={**exprs, _WARNINGS_KEY: _WARNINGS_EXPR})
    except _Timeout:
        raise QmdExecutionError(f"{document.path}: inline expressions of the prose at "
                                f"{cell.location.describe(main_dir)} timed out after {timeout} s",
                                document=document.path, location=cell.location, run=partial_run()) from None
    except _KernelDied as exc:
        raise QmdExecutionError(f"{document.path}: inline expressions of the prose at "
                                f"{cell.location.describe(main_dir)}: {exc}\n{kernel.log_tail()}",
                                document=document.path, location=cell.location, run=partial_run()) from None
    warns = _pop_warnings(kernel, timeout, reply)
    for i, expr in enumerate(cell.inlines):
        res = reply.user_expressions.get(str(i), {})
        if res.get("status") != "ok":
            tb = _strip_ansi("\n".join(res.get("traceback", [])))
            raise QmdExecutionError(
                f"{document.path}: inline expression `{{python}} {expr.expression}` at "
                f"{expr.location.describe(main_dir)} raised {res.get('ename')}: {res.get('evalue')}\n{tb}",
                document=document.path, location=expr.location, traceback=tb, run=partial_run())
        data = dict(res.get("data", {}))
        mime, text = _inline_text(data, to_html)
        if "\n" in expr.expression or expr.expression != expr.expression.strip():
            text = None
        inline_results.append(InlineResult(expr.expression, expr.location, data, mime, text, warns))
        substitutions[(cell.index, i)] = text


def _findings_with_outputs(document: QmdDocument, chunks: Sequence[ChunkResult],
                           inlines: Sequence[InlineResult]) -> Findings:
    """Static findings, re-checking cross-references with ids and references
    that chunk and inline Markdown output adds, and adding inline expressions
    Quarto leaves verbatim because their result is empty."""
    defs = list(document.label_definitions)
    uses = list(document.crossref_uses)
    types = _crossref_types(document.project_dir, document.metadata)
    for c in chunks:
        for md in c.mime("text/markdown"):
            text = "".join(md) if isinstance(md, list) else str(md)
            text = _RAW_BLOCK_RE.sub("", text)     # raw ```{=html} blocks are not Markdown: no ids, no @refs
            lines = [_Line(t, c.chunk.location, "md") for t in text.split("\n")]
            u, d = _scan_prose(lines, types)
            uses.extend(u)
            defs.extend(LabelDefinition(x.label, x.location, "output") for x in d)
    for r in inlines:
        if r.mime == "text/markdown" and r.result:
            u, d = _scan_prose([_Line(r.result, r.location, "md")], types)
            uses.extend(u)
            defs.extend(LabelDefinition(x.label, x.location, "output") for x in d)
    undefined, dups = _crossref_findings(uses, defs)
    unsub = list(document.findings.inline_unsubstituted)
    known = {(e.location, e.expression) for e, _ in unsub}
    by_key = {(e.location, e.expression): e for e in document.inlines}
    for r in inlines:
        if r.result is None and (r.location, r.expression) not in known:
            reason = ("its result is empty" if r.mime else "its result has no representation Quarto can show")
            unsub.append((by_key[(r.location, r.expression)], reason))
    f = document.findings
    return Findings(f.unresolved_vars, undefined, dups, f.inline_in_front_matter,
                    f.inline_in_code_blocks, tuple(unsub))


def _make_run(document: QmdDocument, target: str, params: Mapping[str, Any],
              chunks: Sequence[ChunkResult], inlines: Sequence[InlineResult], findings: Findings,
              substitutions: Mapping[tuple[int, int], str | None], info: Mapping[str, Any],
              run_dir: Path, kernel_log: str = "", timings: Mapping[str, float] | None = None) -> QmdRun:
    parts: list[str] = []
    if document.front_matter_text or document.metadata:
        parts.append("---\n" + document.front_matter_text + "\n---")
    for cell in document.cells:
        if isinstance(cell, Chunk):
            parts.append(cell.raw)
            continue
        text = cell.text
        # substitute from the end so earlier offsets stay valid
        spans = []
        for i, m in enumerate(_iter_prose_inlines(cell)):
            spans.append((m[0], m[1], substitutions.get((cell.index, i))))
        for start, end, value in reversed(spans):
            if value is not None:
                text = text[:start] + value + text[end:]
        parts.append(text)
    return QmdRun(document, target, dict(params), tuple(chunks), tuple(inlines), findings,
                  "\n".join(parts) + "\n", info, run_dir, kernel_log, dict(timings or {}))


def _iter_prose_inlines(cell: MarkdownCell) -> Iterator[tuple[int, int]]:
    """(start, end) offsets in ``cell.text`` of each prose inline expression,
    in the same order as ``cell.inlines``."""
    for li, start, end, _expr in _inline_matches(cell._lines):
        if cell._lines[li].kind == "md":
            yield start, end
