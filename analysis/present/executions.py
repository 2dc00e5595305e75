"""The document executions of a render, and each one's kernel as Quarto sets it up.

Read ahead by the background worker (:mod:`analysis.background_export`), which
draws every display the documents' kernels will show before they ask
(:mod:`.ahead`). A prediction, never trusted: a kept display is keyed by the
display settings the *asking kernel* computes (:func:`.displays.display_settings`),
so a wrong prediction only means that kernel draws as it would without the worker.

* Which executions: the documents ``_quarto.yml`` names under ``project:
  render:``, each in every format of its ``format:`` (the document's own
  front matter first, else the project's), in that order, as ``quarto render``
  runs them.
* What each one calls: every executable Python chunk whose code is a single call
  ``module.function(results, <literals>)`` of a display module
  (:data:`.displays.DISPLAY_MODULES`), with ``{{< include >}}`` files pasted in.
* Its kernel (:func:`predicted_kernel`): what ``display_settings`` reads, set up
  in this process as in a Jupyter kernel (ipykernel with the
  ``matplotlib_inline`` backend: ``backend``, ``interactive``, the inline
  backend's ``rc``) after Quarto's setup step (quarto-cli
  ``src/resources/jupyter/lang/python/setup.py``: ``figure.figsize`` = fig-width
  x fig-height, ``figure.dpi`` and ``savefig.dpi`` = fig-dpi, then
  ``set_matplotlib_formats(fig-format)`` with the inline backend's
  ``print_figure_kwargs``), with the execution options merged as Quarto does:
  the format's defaults (``src/format/*``), ``_quarto.yml``, its ``format:
  <target>`` section, the front matter and its ``format: <target>`` section,
  each with direct keys and an ``execute:`` mapping (as ``tests/qmd/harness.py``
  does); plus the environment the display functions read (the declared format
  in ``QUARTO_EXECUTE_INFO``, ``QUARTO_DOCUMENT_FILE``, ``QUARTO_BIN_PATH`` set:
  the ``quarto`` launcher sets it for every process of a render).

A kernel's own IPython configuration (``ipython_kernel_config.py``) is not
predicted: what of it can change these displays is in the key (the inline
backend's ``rc``, figure formats and ``print_figure_kwargs``; formatters for a
``Figure``), so such a kernel simply draws; the plain-text formatter's options
do not reach them (their ``text/plain`` is their own ``repr``).
"""

from __future__ import annotations

import ast
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

#: Quarto's per-format execution defaults: fig-width, fig-height, fig-format (src/format/*).
FORMAT_DEFAULTS: dict[str, tuple[float, float, str]] = {
    "html": (7, 5, "retina"), "typst": (5.5, 3.5, "svg"), "docx": (5, 4, "png"),
}
DEFAULT_DPI = 96
_FIG_KEYS = ("fig-width", "fig-height", "fig-format", "fig-dpi")
_INCLUDE = re.compile(r"^\s*\{\{<\s*include\s+(?P<arg>.+?)\s*>\}\}\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*\{python(?:[ ,][^}]*)?\}\s*$")
_OPTION = re.compile(r"^#\s*\| ?")
_FRONT = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)


@dataclass(frozen=True)
class Execution:
    """One document executed for one format."""

    document: Path
    format: str
    fig_width: Any
    fig_height: Any
    fig_format: str
    fig_dpi: Any
    #: (public name, arguments after ``results``, keyword arguments) in document order
    calls: tuple[tuple[str, tuple, dict], ...]

    @property
    def name(self) -> str:
        return f"{self.document.name}/{self.format}"


def _yaml(text: str) -> dict:
    import yaml

    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return found if isinstance(found, dict) else {}


def _front_matter(text: str) -> dict:
    found = _FRONT.match(text)
    return _yaml(found.group(1)) if found else {}


def _section(meta: dict, target: str) -> dict:
    fmt = meta.get("format")
    sec = fmt.get(target) if isinstance(fmt, dict) else None
    return sec if isinstance(sec, dict) else {}


def figure_options(project: dict, front: dict, target: str) -> dict[str, Any]:
    """fig-width, fig-height, fig-format and fig-dpi of ``target``, merged as Quarto does
    (see the module docstring)."""
    width, height, fmt = FORMAT_DEFAULTS[target]
    opts: dict[str, Any] = {"fig-width": width, "fig-height": height, "fig-format": fmt, "fig-dpi": DEFAULT_DPI}
    for layer in (project, _section(project, target), front, _section(front, target)):
        opts.update({k: v for k, v in layer.items() if k in _FIG_KEYS})
        ex = layer.get("execute")
        if isinstance(ex, dict):
            opts.update({k: v for k, v in ex.items() if k in _FIG_KEYS})
    return opts


def _expanded(path: Path, main_dir: Path, root: Path, depth: int = 0) -> list[str]:
    """The document's lines with ``{{< include >}}`` files pasted in (relative to the main
    document's folder; ``/...`` relative to the project)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[str] = []
    for line in lines:
        found = _INCLUDE.match(line)
        if found and depth < 10:
            arg = found.group("arg").strip("\"'")
            target = root / arg.lstrip("/") if arg.startswith("/") else main_dir / arg
            out += _expanded(target, main_dir, root, depth + 1) + [""]
        else:
            out.append(line)
    return out


def _call(code: str, modules: tuple[str, ...]) -> tuple[str, tuple, dict] | None:
    """``module.function(results, <literals>)`` as (public name, args, kwargs), else None."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return None
    if len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return None
    call = body[0].value
    func = call.func
    if (not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name)
            or func.value.id not in modules or not call.args
            or not (isinstance(call.args[0], ast.Name) and call.args[0].id == "results")):
        return None
    try:
        args = tuple(ast.literal_eval(a) for a in call.args[1:])
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg is not None}
    except ValueError:
        return None
    if len(kwargs) != len(call.keywords):
        return None
    return f"{__package__}.{func.value.id}.{func.attr}", args, kwargs


def document_calls(document: Path, root: Path) -> list[tuple[str, tuple, dict]]:
    """The display calls of ``document``'s executable chunks, in order."""
    from .displays import DISPLAY_MODULES

    lines = _expanded(document, document.parent, root)
    calls, i = [], 0
    while i < len(lines):
        found = _FENCE.match(lines[i])
        i += 1
        if not found:
            continue
        fence, code = found.group("fence"), []
        while i < len(lines) and not lines[i].startswith(fence[0] * len(fence)):
            code.append(lines[i])
            i += 1
        i += 1
        options = _yaml("\n".join(_OPTION.sub("", c, count=1) for c in code if _OPTION.match(c)))
        if options.get("eval", True) is not True:
            continue
        call = _call("\n".join(c for c in code if not _OPTION.match(c)), DISPLAY_MODULES)
        if call is not None:
            calls.append(call)
    return calls


def _input_files(root: Path) -> set[Path] | None:
    """The documents this render executes as Quarto tells its pre-render step (and so the
    worker it starts): ``QUARTO_PROJECT_INPUT_FILES``, one per line, or the file named by
    ``QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES`` (quarto.org/docs/projects/scripts.html);
    None when neither says (a whole-project render is assumed)."""
    text = os.environ.get("QUARTO_PROJECT_INPUT_FILES")
    listed = os.environ.get("QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES")
    if listed:
        try:
            text = Path(listed).read_text(encoding="utf-8")
        except OSError:
            return None
    if not text or not text.strip():
        return None
    return {(root / line.strip()).resolve() for line in text.splitlines() if line.strip()}


def render_executions(root: Path) -> list[Execution]:
    """Every document execution of a ``quarto render`` of the project at ``root``, in order
    (only the formats of :data:`FORMAT_DEFAULTS`; only the documents Quarto says it renders,
    where it says)."""
    root = Path(root)
    only = _input_files(root)
    project: dict = {}
    for name in ("_quarto.yml", "_quarto.yaml"):
        if (root / name).is_file():
            project = _yaml((root / name).read_text(encoding="utf-8"))
            break
    section = project.get("project") if isinstance(project.get("project"), dict) else {}
    docs = [d for d in section.get("render") or [] if isinstance(d, str) and d.endswith(".qmd")]
    out = []
    for doc in docs:
        path = root / doc
        if only is not None and path.resolve() not in only:
            continue
        try:
            front = _front_matter(path.read_text(encoding="utf-8"))
        except OSError:
            continue
        formats = front.get("format") if isinstance(front.get("format"), dict) else project.get("format")
        if isinstance(formats, str):
            formats = {formats: {}}
        calls = tuple(document_calls(path, root))
        for target in formats or {}:
            if target not in FORMAT_DEFAULTS:
                continue
            opts = figure_options(project, front, target)
            out.append(Execution(path, target, opts["fig-width"], opts["fig-height"], str(opts["fig-format"]),
                                 opts["fig-dpi"], calls))
    return out


#: The matplotlib backend an ipykernel kernel uses (it sets MPLBACKEND to it).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_ENV = ("QUARTO_EXECUTE_INFO", "QUARTO_DOCUMENT_FILE", "QUARTO_BIN_PATH")


@contextmanager
def predicted_kernel(execution: Execution, scratch: Path) -> Iterator[Any]:
    """This process set up as ``execution``'s kernel for what displays read (see the module
    docstring); yields a stand-in for its IPython shell (``display_formatter``). Everything
    is restored on leaving. ``scratch``: a folder for the execute-info file."""
    import matplotlib as mpl
    from IPython.core.formatters import DisplayFormatter
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib_inline.config import InlineBackend
    from types import SimpleNamespace

    saved_rc = dict(dict.items(mpl.rcParams))
    saved_env = {k: os.environ.get(k) for k in _ENV}
    info = Path(scratch) / f"execute-info-{execution.format}.json"
    try:
        inline = InlineBackend.instance()
        # ipykernel's inline backend, activated (IPython.core.pylabtools.activate_matplotlib,
        # matplotlib_inline.backend_inline.configure_inline_support)
        mpl.interactive(True)
        mpl.rcParams["backend"] = INLINE_BACKEND
        mpl.rcParams.update(inline.rc)
        # Quarto's setup step
        mpl.rcParams["figure.figsize"] = (execution.fig_width, execution.fig_height)
        mpl.rcParams["figure.dpi"] = execution.fig_dpi
        mpl.rcParams["savefig.dpi"] = execution.fig_dpi
        shell = SimpleNamespace(display_formatter=DisplayFormatter())
        select_figure_formats(shell, [execution.fig_format], **dict(inline.print_figure_kwargs))
        Path(scratch).mkdir(parents=True, exist_ok=True)
        info.write_text(json.dumps({"format": {"identifier": {"base-format": execution.format,
                                                              "target-format": execution.format}}}),
                        encoding="utf-8")
        os.environ["QUARTO_EXECUTE_INFO"] = str(info)
        os.environ["QUARTO_DOCUMENT_FILE"] = execution.document.name
        os.environ.setdefault("QUARTO_BIN_PATH", str(Path(scratch) / "quarto-bin"))
        yield shell
    finally:
        dict.update(mpl.rcParams, saved_rc)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
