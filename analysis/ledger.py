"""The number ledger: every number the manuscript reports, where it appears,
and what changed between two versions.

With the analysis results (:func:`build_ledger` ``results=``) the ledger is
complete: besides the registry's numbers it holds every table cell, figure
text and generated sentence (``displays``), the analysis settings and keyed
per-patient fingerprints of ADSL (``patients``); see :mod:`analysis.revisions`,
which also writes the letter-ready change table, the data-freeze log and the
marked-up manuscript that ``python -m analysis diff`` produces.

A ledger is the numbers registry's :meth:`~analysis.present.numbers.Registry.ledger`
(stamp, and per number its raw value, printed text and label) with a
``where`` list per number: the places in the rendered documents that show it.
The render's post-render step and ``python -m analysis export`` write it as
``_output/numbers.json``; ``python -m analysis diff OLD NEW`` compares two of
them (:func:`main_diff`) and prints which numbers changed and where they
appear, ready to paste into a response to reviewers.

Where a number appears is found three ways:

* ``{{< var section.key >}}`` shortcodes in a document's YAML front matter:
  ``"report.qmd: Abstract"`` (the front-matter field, capitalised);
* inline ``{python} t.key`` expressions (and ``{{< var >}}`` shortcodes) in
  prose: the file that holds the text, relative to the project root, and the
  path of headings above it, ``"sections/results.qmd: Results › Response to
  salvage therapy"`` (the file alone before its first heading);
* chunks that call a table, figure or text function: for a table or figure
  the float label (``"tbl-response"``, ``"fig-km-overall"``,
  ``"supptbl-medians"``; from the chunk's ``label`` option or from the
  enclosing ``::: {#supptbl-…}`` div), otherwise the heading path. Which
  registry keys a function displays cannot be read from the documents, so it
  is written down here, in :data:`DISPLAYS`, next to the functions and the
  documents: a mapping from the function (and, where it matters, its first
  string argument) to the registry keys whose values it prints. It must be
  maintained when a table or figure changes what it shows; the tests check
  that every entry resolves to registry keys, that every table or figure
  called in the documents has an entry, and that each mapped value is visible
  in the table or figure.

The scanning and the comparison are written here: no library reads Quarto
documents, and the documents are scanned here, not with the test harness
(``tests/qmd/harness.py``, which the runtime package must not import); the
scan follows the same Quarto rules for includes, chunks and inline code
(relative include paths resolve against the main document's directory,
``/``-paths against the project root; inline code is found with Quarto's own
pattern) and the tests cross-check it against the harness.

Comparison (:func:`diff_ledgers`) is pure: two ledgers in, a frozen
:class:`LedgerDiff` out. A number changed when its printed text or its raw
value changed; raw values compare exactly for integers, strings, booleans and
None, and with a relative tolerance of 1e-12 (``math.isclose(rel_tol=1e-12,
abs_tol=0)``) for floats, so that a JSON round trip or a different summation
order in the last bits does not count as a change; lists and dicts compare
element by element. The stamps say whether the data, the configuration or the
code changed (``data_hash``, ``config_hash``, ``code_version``).
"""

from __future__ import annotations

import ast
import html
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .outputs import write_text_atomic
from .present.displays import DISPLAY_MODULES as _DISPLAY_MODULES
from .yamlio import front_matter_length

__all__ = [
    "DISPLAYS",
    "DOCUMENTS",
    "HEADING_SEPARATOR",
    "INPUTS",
    "LedgerDiff",
    "LedgerEntry",
    "NumberChange",
    "build_ledger",
    "diff_ledgers",
    "ledger_json",
    "same_raw",
    "find_uses",
    "format_html",
    "format_markdown",
    "format_text",
    "load_ledger",
    "main_diff",
    "where_used",
    "write_ledger",
]

#: Documents scanned when ``_quarto.yml`` names none under ``project: render:``.
DOCUMENTS = ("report.qmd", "supplement.qmd")
HEADING_SEPARATOR = " \u203a "
#: Registry sections (as in analysis.present.numbers.SECTIONS; repeated to keep
#: this module free of the presentation layer's imports).
_SECTIONS = ("cohort", "response", "survival", "transplant", "text")
#: Stamp fields and the name of the input each identifies, in report order.
INPUTS = (("data_hash", "data"), ("config_hash", "configuration"), ("code_version", "code"))
#: Relative tolerance for float raw values (see the module docstring).
FLOAT_REL_TOL = 1e-12

# --------------------------------------------------------------------------- what tables and figures show

_COX = ("cox_hr_chemotherapy_vs_targeted", "cox_hr_ci_lower", "cox_hr_ci_upper", "cox_p", "cox_group")
_TABLE1 = (
    "n_salvage", "n_targeted", "n_chemotherapy",  # column headers: Overall / Targeted / Chemotherapy (n = …)
    "n_male", "n_female", "age_median_years", "age_min_years", "age_max_years",
    "n_high_risk_cytogenetics", "n_standard_risk_cytogenetics", "n_bcr_abl1_positive",
    "n_prior_transplant_before_cart", "n_consolidative_transplant_after_first_cart",
    "n_cd19_positive", "n_cd19_negative_or_dim", "n_cd19_unknown",
    "n_relapse_bone_marrow", "n_relapse_emd_cns", "n_relapse_emd_non_cns", "n_relapse_site_unknown",
)
_FLOW = (
    "n_relapsed_after_cart", "n_no_salvage", "n_salvage", "n_cr", "n_hsct_after_salvage",
    "n_car_t_reinfusion", "n_cr_car_t_reinfusion", "n_monoclonal_antibody", "n_cr_monoclonal_antibody",
    "n_chemo_tki", "n_cr_chemo_tki", "n_chemotherapy_class", "n_cr_chemotherapy_class",
)
_RESPONSE_COUNTS = (
    "n_targeted", "n_cr_targeted", "n_chemotherapy", "n_cr_chemotherapy",
    "n_cr_cns", "n_cns", "n_cr_non_cns_emd", "n_non_cns_emd",
)
_MEDIANS = ("os_median_months", "os_ci_lower", "os_ci_upper", "rfs_median_months", "rfs_ci_lower", "rfs_ci_upper")

#: Registry keys (bare, as ``t.<key>``; shell-style patterns allowed, matched
#: with :func:`fnmatch.fnmatchcase`) whose values each table, figure or text
#: function prints. Keyed by ``"module.function"`` as called in the documents,
#: or ``"module.function:ARG"`` where the first string argument selects what is
#: shown (``figures.km_group_figure(results, "salvage_group")``). A key is
#: listed when the display prints its value (possibly at another precision:
#: Table 2 prints 60.9 where the text says 61%) or, for the transplant
#: listing, when the value is a tally of the listed rows. Functions that show
#: no registry number map to an empty tuple. Maintained by hand, next to
#: analysis/present/tables/, figures/, text.py and the documents.
DISPLAYS: dict[str, tuple[str, ...]] = {
    # report.qmd ---------------------------------------------------------------
    "figures.flow_figure": _FLOW + (
        "pct_cr", "pct_cr_car_t_reinfusion", "pct_cr_monoclonal_antibody", "pct_cr_chemo_tki",
        "pct_cr_chemotherapy_class"),
    "tables.table1": _TABLE1,
    "tables.table2": (
        "n_salvage", "n_cr", "pct_cr", "pct_cr_ci_lower", "pct_cr_ci_upper", "cr_overall",
        "n_car_t_reinfusion", "n_cr_car_t_reinfusion", "pct_cr_car_t_reinfusion",
        "n_monoclonal_antibody", "n_cr_monoclonal_antibody", "pct_cr_monoclonal_antibody",
        "n_chemo_tki", "n_cr_chemo_tki", "pct_cr_chemo_tki",
        "n_chemotherapy_class", "n_cr_chemotherapy_class", "pct_cr_chemotherapy_class",
        *_RESPONSE_COUNTS, "pct_cr_targeted", "pct_cr_chemotherapy", "pct_cr_cns", "pct_cr_non_cns_emd",
        "p_cr_targeted_vs_chemotherapy", "test_cr_targeted_vs_chemotherapy", "p_cr_group",
        "p_cr_cns_vs_non_cns_emd", "test_cr_cns_vs_non_cns_emd", "p_cr_emd",
        "factors_not_significant"),
    "figures.km_overall_figure": _MEDIANS + ("os_median", "rfs_median", "os_n", "os_events", "rfs_n", "rfs_events"),
    "figures.km_group_figure:salvage_group": (
        "os_median_targeted", "os_median_targeted_phrase", "os_median_chemotherapy",
        "os_median_chemotherapy_phrase", "n_targeted", "n_chemotherapy", "p_os_targeted_vs_chemotherapy",
        "p_os_group"),
    "figures.km_group_figure:relapse_site": (
        "os_median_cns", "os_median_cns_phrase", "os_median_non_cns_emd", "os_median_non_cns_emd_phrase",
        "n_cns", "n_non_cns_emd", "p_os_cns_vs_non_cns_emd", "p_os_emd"),
    "tables.table3": _COX + ("cox_n", "cox_events", "cox_n_excluded", "cox_events_per_parameter", "cox_model"),
    "figures.forest_figure": _COX + ("cox_n", "cox_events", "cox_n_excluded", "cox_model"),
    "text.statistical_methods": ("alpha_text", "median_ci_method", "median_ci_method_text",
                                 "two_by_two_rule_text", "cox_model"),
    "text.synthetic_callout": ("synthetic_notice",),
    # supplement.qmd -------------------------------------------------------------
    "tables.dictionary_table": (),
    "tables.flow_table": _FLOW,
    "tables.table1_full": _TABLE1,
    "tables.factor_conventions_table": (
        *_RESPONSE_COUNTS, "p_cr_targeted_vs_chemotherapy", "p_cr_group", "p_cr_cns_vs_non_cns_emd", "p_cr_emd",
        "factors_not_significant", "two_by_two_rule_text"),
    "tables.median_methods_table": _MEDIANS + ("os_median", "rfs_median", "os_ci_by_method", "rfs_ci_by_method",
                                               "median_ci_method"),
    "tables.landmark_table": ("os_[0-9]*mo", "rfs_[0-9]*mo", "os_landmarks", "rfs_landmarks",
                              "landmark_times_text"),
    "tables.cox_full_table": _COX + ("cox_n", "cox_events", "cox_n_excluded", "cox_events_per_parameter",
                                     "cox_model"),
    "tables.zph_table": ("cox_model",),
    "figures.zph_figure": ("cox_model",),
    "tables.transplant_listing_table": (
        "n_hsct_after_salvage", "n_hsct_first", "n_hsct_second", "n_hsct_transplant_related_death",
        "n_hsct_relapsed", "n_hsct_in_cr_at_last_followup", "n_hsct_other_death", "n_hsct_without_cr"),
    "tables.transplant_summary_table": (
        "n_salvage", "n_cr", "n_hsct_after_salvage", "n_hsct_first", "n_hsct_second",
        "n_hsct_transplant_related_death", "n_hsct_relapsed", "n_hsct_in_cr_at_last_followup",
        "n_hsct_other_death", "n_hsct_without_cr"),
    "tables.versions_table": (),
    # the ADaM variable metadata (analysis/present/adam_metadata.py) shows no registry number
    "adam_metadata.define_table": (),
    # sensitivity analyses (analysis/present/sensitivity.py) -----------------------
    # The "As defined" row is the RFS analysis of the manuscript (same data, same median method).
    "sensitivity.rfs_hsct_table": ("rfs_n", "rfs_events", "rfs_median_months", "rfs_ci_lower", "rfs_ci_upper"),
    # the main model's columns print the salvage-group HR of the multivariable model
    "sensitivity.time_dependent_cox_table": _COX[:4] + ("cox_model",),
    # patients and deaths of the OS analysis (the sensitivity analyses use the salvage set)
    "sensitivity.simon_makuch_figure": ("os_n", "os_events"),
    "sensitivity.landmark_table": ("os_n",),
    "sensitivity.cumulative_incidence_table": ("rfs_n",),
    "sensitivity.cumulative_incidence_figure": ("rfs_n",),
    "sensitivity.missing_covariates_table": ("cox_model",),
    "sensitivity.guardrail_text": (),
    "sensitivity.supplement_intro": (),
    # the supplementary floats the STROBE checklist points to (analysis/present/strobe.py CHECKLIST)
    "strobe.strobe_table": ("tbl_s_dictionary", "tbl_s_flow", "tbl_s_baseline_smd", "tbl_s_conventions",
                            "tbl_s_medians", "tbl_s_landmarks", "tbl_s_cox", "tbl_s_missing"),
}
#: Module names whose calls in a chunk are looked up in :data:`DISPLAYS` (a set: only membership is
#: asked, so the order the displays module lists them in changes nothing the ledger writes).
DISPLAY_MODULES = frozenset(_DISPLAY_MODULES)

# --------------------------------------------------------------------------- scanning the documents

# Quarto's inline-code pattern (quarto-cli notebook.py / execute-inline.ts)
_INLINE_RE = re.compile(r"(?:^|[^`])`\{python\}[ \t]([^`]+)`")
_T_ATTR_RE = re.compile(r"(?<![\w.])t\.([A-Za-z_]\w*)")
_VAR_RE = re.compile(r"(?<!\{)\{\{<\s*var\s+([^\s>]+)\s*>\}\}(?!\})")
_INCLUDE_RE = re.compile(r"^\s*\{\{<\s*include\s+(.+?)\s*>\}\}\s*$")
_FENCE_RE = re.compile(r"^[ \t>]*(`{3,}|~{3,})(.*)$")
_EXEC_RE = re.compile(r"^\s*\{([A-Za-z][\w-]*)([ ,][^}]*)?\}\s*$")
_OPTION_RE = re.compile(r"^#\s*\|\s?(.*)$")
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
_DIV_OPEN_RE = re.compile(r"^[ \t]*(:{3,})[ \t]*(\S.*)$")
_DIV_CLOSE_RE = re.compile(r"^[ \t]*(:{3,})[ \t]*$")
_ID_RE = re.compile(r"(?:^|[\s{])#([A-Za-z][\w:.\-]*)")
_YAML_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:")


@dataclass(frozen=True)
class _Line:
    text: str
    file: Path
    number: int
    kind: str  # "front" (leading YAML block), "md", "chunk" (executable, fences included), "code"
    block: int = 0  # fenced blocks: a number shared by the lines of one block


def _project_config(root: Path) -> dict[str, Any]:
    for name in ("_quarto.yml", "_quarto.yaml"):
        p = root / name
        if p.is_file():
            cfg = yaml.safe_load(p.read_text(encoding="utf-8-sig")) or {}
            return cfg if isinstance(cfg, dict) else {}
    return {}


def _documents(root: Path, cfg: Mapping[str, Any]) -> list[Path]:
    project = cfg.get("project") if isinstance(cfg.get("project"), Mapping) else {}
    names = [str(n) for n in (project.get("render") or []) if str(n).endswith(".qmd") and "*" not in str(n)]
    if not names:
        names = [n for n in DOCUMENTS if (root / n).is_file()]
    return [root / n for n in names]


def _float_prefixes(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    custom = (cfg.get("crossref") or {}).get("custom") or [] if isinstance(cfg.get("crossref"), Mapping) else []
    keys = ["fig", "tbl"] + [str(c.get("key")) for c in custom if isinstance(c, Mapping) and c.get("key")]
    return tuple(f"{k}-" for k in keys)


def _expand(path: Path, *, main_dir: Path, root: Path, stack: tuple[Path, ...]) -> list[_Line]:
    """Lines of ``path`` with ``{{< include >}}`` expanded as Quarto does."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: document not found")
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    n_yaml = front_matter_length(lines)
    out: list[_Line] = []
    fence: str | None = None
    executable = False
    block = 0
    for i, text in enumerate(lines):
        if i < n_yaml:
            out.append(_Line(text, path, i + 1, "front"))
            continue
        m = _FENCE_RE.match(text)
        if fence is None and m:
            fence = m.group(1)
            em = _EXEC_RE.match(m.group(2)) if fence[0] == "`" else None
            executable = bool(em)
            block += 1
            out.append(_Line(text, path, i + 1, "chunk" if executable else "code", block))
            continue
        if fence is not None:
            closes = bool(m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip())
            out.append(_Line(text, path, i + 1, "chunk" if executable else "code", block))
            if closes:
                fence, executable = None, False
            continue
        inc = _INCLUDE_RE.match(text)
        if inc:
            arg = inc.group(1).strip().strip("\"'")
            target = ((root / ("." + arg)) if arg.startswith("/") else (main_dir / arg)).resolve()
            if target in stack:
                raise ValueError(f"{path.name}:{i + 1}: circular include of {arg}")
            if not target.is_file():
                raise FileNotFoundError(f"{path.name}:{i + 1}: included file {arg} does not exist")
            out.extend(_expand(target, main_dir=main_dir, root=root, stack=stack + (target,)))
            continue
        out.append(_Line(text, path, i + 1, "md"))
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _heading_text(raw: str) -> str:
    text = re.sub(r"[ \t]+#+$", "", raw)             # optional closing hashes
    text = re.sub(r"\s*\{[^{}]*\}\s*$", "", text)     # attributes {#sec-x .unnumbered}
    return text.strip()


def _strip_comments(text: str, in_comment: bool) -> tuple[str, bool]:
    """Remove HTML comments (possibly spanning lines); returns (text, still inside a comment)."""
    out = []
    pos = 0
    while pos < len(text):
        if in_comment:
            end = text.find("-->", pos)
            if end < 0:
                return "".join(out), True
            pos, in_comment = end + 3, False
        else:
            start = text.find("<!--", pos)
            if start < 0:
                out.append(text[pos:])
                break
            out.append(text[pos:start])
            pos, in_comment = start + 4, True
    return "".join(out), in_comment


def _display_calls(source: str) -> list[str]:
    """``module.function`` (and ``module.function:ARG``) of the display calls in a chunk."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in DISPLAY_MODULES):
            name = f"{node.func.value.id}.{node.func.attr}"
            arg = next((a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)),
                       None)
            calls.append(f"{name}:{arg}" if arg is not None and f"{name}:{arg}" in DISPLAYS else name)
    return sorted(set(calls), key=calls.index)


def _chunk_label(lines: Sequence[_Line]) -> str | None:
    opts = []
    for ln in lines[1:-1]:
        m = _OPTION_RE.match(ln.text)
        if not m:
            break
        opts.append(m.group(1))
    try:
        parsed = yaml.safe_load("\n".join(opts)) if opts else None
    except yaml.YAMLError:
        return None
    label = parsed.get("label") if isinstance(parsed, Mapping) else None
    return str(label) if label else None


def _chunk_source(lines: Sequence[_Line]) -> str:
    body = [ln.text for ln in lines[1:-1]]
    while body and _OPTION_RE.match(body[0]):
        body.pop(0)
    return "\n".join(body)


def _scan(document: Path, root: Path, prefixes: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Every use of a registry key in one document (includes expanded)."""
    doc_name = _relative(document, root)
    lines = _expand(document.resolve(), main_dir=document.resolve().parent, root=root.resolve(),
                    stack=(document.resolve(),))
    headings: list[tuple[int, str]] = []
    divs: list[str | None] = []
    yaml_field: dict[Path, str] = {}
    in_comment = False
    i = 0
    while i < len(lines):
        ln = lines[i]
        fname = _relative(ln.file, root)
        if ln.kind == "front":
            m = _YAML_KEY_RE.match(ln.text)
            if m:
                yaml_field[ln.file] = m.group(1)
            field_name = yaml_field.get(ln.file, "front matter").replace("-", " ")
            for v in _VAR_RE.finditer(ln.text):
                section, _, key = v.group(1).partition(".")
                if section in _SECTIONS and key:
                    yield dict(key=key, where=f"{fname}: {field_name[:1].upper() + field_name[1:]}",
                               kind="var", document=doc_name, file=fname, line=ln.number)
            i += 1
            continue
        if ln.kind == "chunk":
            j = i
            while j + 1 < len(lines) and lines[j + 1].kind == "chunk" and lines[j + 1].file == ln.file \
                    and lines[j + 1].block == ln.block:
                j += 1
            block = lines[i:j + 1]
            label = _chunk_label(block)
            float_label = label if label and label.startswith(prefixes) else next(
                (d for d in reversed(divs) if d and d.startswith(prefixes)), None)
            where = float_label or _heading_where(fname, headings)
            for call in _display_calls(_chunk_source(block)):
                yield dict(key=None, where=where, kind="display", document=doc_name, file=fname,
                           line=ln.number, display=call)
            i = j + 1
            continue
        if ln.kind == "code":
            i += 1
            continue
        text, in_comment = _strip_comments(ln.text, in_comment)
        h = _HEADING_RE.match(text)
        if h:
            level = len(h.group(1))
            headings = [(lv, t) for lv, t in headings if lv < level] + [(level, _heading_text(h.group(2)))]
        elif _DIV_CLOSE_RE.match(text):
            if divs:
                divs.pop()
        else:
            d = _DIV_OPEN_RE.match(text)
            if d:
                ident = _ID_RE.search(d.group(2))
                divs.append(ident.group(1) if ident else None)
        where = _heading_where(fname, headings)
        for m in _INLINE_RE.finditer(text):
            for key in _T_ATTR_RE.findall(m.group(1)):
                yield dict(key=key, where=where, kind="inline", document=doc_name, file=fname, line=ln.number)
        for v in _VAR_RE.finditer(text):
            section, _, key = v.group(1).partition(".")
            if section in _SECTIONS and key:
                yield dict(key=key, where=where, kind="var", document=doc_name, file=fname, line=ln.number)
        i += 1


def _heading_where(fname: str, headings: Sequence[tuple[int, str]]) -> str:
    return f"{fname}: {HEADING_SEPARATOR.join(t for _, t in headings)}" if headings else fname


def _bare(key: str) -> str:
    section, dot, rest = key.partition(".")
    return rest if dot and section in _SECTIONS else key


def find_uses(project_root: str | Path, *, keys: Iterable[str] | None = None,
              documents: Sequence[str | Path] | None = None) -> pd.DataFrame:
    """Every use of a registry key in the manuscript's documents, one row per use.

    Reads the documents named under ``project: render:`` in ``_quarto.yml``
    (else :data:`DOCUMENTS`), or ``documents`` (paths relative to
    ``project_root``), with their includes. ``keys``: the registry's keys
    (bare or ``section.key``), used to expand the patterns of
    :data:`DISPLAYS`; without them a pattern matches only keys that the
    documents use in prose.

    Columns: ``key`` (bare registry key, as in ``t.<key>``), ``where``
    (see :func:`where_used`), ``kind`` ("var" for ``{{< var >}}``, "inline"
    for `` `{python} t.key` ``, "display" for a table/figure/text function of
    :data:`DISPLAYS`), ``document`` (main document), ``file`` (file holding
    the use, relative to the root), ``line`` (1-based; for a display the
    chunk's opening fence), ``display`` (the :data:`DISPLAYS` entry, or "").
    Rows are in document order. A chunk calling a function missing from
    :data:`DISPLAYS` gives a row with ``key`` None (``display`` names it); one
    calling a function that shows no registry number, a row with ``key`` "".
    """
    root = Path(project_root)
    cfg = _project_config(root)
    prefixes = _float_prefixes(cfg)
    docs = [root / d for d in documents] if documents is not None else _documents(root, cfg)
    rows = [r for doc in docs for r in _scan(doc, root, prefixes)]
    known = sorted({_bare(k) for k in (keys or ())} | {r["key"] for r in rows if r["key"]})
    out = []
    for r in rows:
        if r["kind"] != "display":
            out.append({**r, "display": ""})
            continue
        patterns = DISPLAYS.get(r["display"])
        if patterns is None:
            out.append({**r, "key": None})
            continue
        matched = [k for k in known if any(fnmatchcase(k, p) for p in patterns)]
        for p in patterns:  # literal entries are uses even when ``keys`` is not given
            if not any(ch in p for ch in "*?[") and p not in matched:
                matched.append(p)
        out.extend({**r, "key": k} for k in matched)
        if not matched:  # a display that shows no registry number still shows cells (key "")
            out.append({**r, "key": ""})
    return pd.DataFrame(out, columns=["key", "where", "kind", "document", "file", "line", "display"])


def where_used(project_root: str | Path, *, keys: Iterable[str] | None = None,
               documents: Sequence[str | Path] | None = None) -> dict[str, list[str]]:
    """For each registry key the manuscript uses, where it appears.

    Returns ``{bare key: [where, ...]}``, places in document order without
    repeats: ``"report.qmd: Abstract"`` for a ``{{< var >}}`` in the front
    matter (the field's name), ``"sections/results.qmd: Results › Response to
    salvage therapy"`` (file and heading path) for prose, and the float label
    (``"tbl-response"``, ``"supptbl-landmarks"``) for a table or figure chunk
    that displays the number according to :data:`DISPLAYS`. Keys the
    documents never show are absent. ``keys`` and ``documents``: see
    :func:`find_uses`.
    """
    uses = find_uses(project_root, keys=keys, documents=documents)
    out: dict[str, list[str]] = {}
    for key, where in zip(uses["key"], uses["where"]):
        if not key:
            continue
        places = out.setdefault(key, [])
        if where not in places:
            places.append(where)
    return out


# --------------------------------------------------------------------------- the ledger


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy/pandas scalars to Python numbers, tuples to lists, keys to strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            pass
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def build_ledger(registry: Any, project_root: str | Path, *, results: Any = None,
                 displays: Any = None) -> dict[str, Any]:
    """The registry's ledger with a ``where`` list per number.

    ``registry``: an :class:`analysis.present.numbers.Registry`. Returns
    ``{"stamp": {...}, "numbers": {"section.key": {"raw", "text", "label",
    "where", "places", "order"}}}`` in registry order, with raw values made
    JSON-native (numpy scalars to Python numbers, tuples to lists), so the
    dictionary equals what :func:`write_ledger` writes and :func:`load_ledger`
    reads back. ``where`` is :func:`where_used` for that key (empty when no
    document shows it); ``places`` the places in prose as the reader sees them
    ("Abstract › Results": :func:`analysis.revisions.places.human_place`) and
    ``displayed_in`` the tables, figures and generated paragraphs that show it
    according to :data:`DISPLAYS` ("Table 2", "Methods › Statistical analysis");
    ``order`` the position of the first use in the manuscript (None if unused).

    With ``results`` (the :class:`analysis.results.Results` the registry was
    built from) the ledger also holds ``displays`` (every table cell, figure
    text and generated sentence: :func:`analysis.revisions.displays.display_entries`),
    ``settings`` (the analysis settings: :func:`analysis.revisions.settings.settings_of`)
    and ``patients`` (per-patient keyed field hashes of ADSL:
    :func:`analysis.revisions.freeze.fingerprint`). ``displays``: the export's
    :class:`analysis.present.shared_displays.SharedDisplays` of ``results`` (each
    table and figure built once for the ledger and the files), else built here.
    """
    from .revisions.places import human_place

    base = registry.ledger()
    numbers = base["numbers"]
    uses = find_uses(project_root, keys=list(numbers))
    where: dict[str, list[str]] = {}
    places: dict[str, list[str]] = {}
    shown: dict[str, list[str]] = {}
    order: dict[str, int] = {}
    for i, u in enumerate(uses.itertuples(index=False)):
        if not u.key:
            continue
        if u.where not in where.setdefault(u.key, []):
            where[u.key].append(u.where)
        place = human_place(u.where, document=u.document, file=u.file, line=int(u.line), root=project_root)
        target = shown if u.kind == "display" else places
        if place not in target.setdefault(u.key, []):
            target[u.key].append(place)
        order.setdefault(u.key, i)
    ledger = {
        "stamp": _plain(base.get("stamp", {})),
        "numbers": {dotted: {"raw": _plain(e["raw"]), "text": str(e["text"]), "label": str(e.get("label", "")),
                             "where": list(where.get(_bare(dotted), [])),
                             "places": list(places.get(_bare(dotted), [])),
                             "displayed_in": list(shown.get(_bare(dotted), [])),
                             "order": order.get(_bare(dotted))}
                    for dotted, e in numbers.items()},
    }
    if results is not None:
        from .revisions.displays import display_entries
        from .revisions.freeze import fingerprint
        from .revisions.settings import settings_of

        ledger["displays"] = _plain(display_entries(results, project_root, registry=registry, uses=uses,
                                                    call=None if displays is None else displays.call))
        ledger["settings"] = _plain(settings_of(results))
        ledger["patients"] = fingerprint(results.derived.adsl)
    return ledger


def ledger_json(ledger: Mapping[str, Any]) -> str:
    """The ledger as JSON text (UTF-8, indented, ending in a newline)."""
    return json.dumps(_plain(ledger), indent=2, ensure_ascii=False) + "\n"


def write_ledger(path: str | Path, ledger: Mapping[str, Any]) -> Path:
    """Write the ledger as JSON, atomically (:func:`analysis.outputs.write_text_atomic`)."""
    return write_text_atomic(Path(path), ledger_json(ledger))


def load_ledger(path: str | Path) -> dict[str, Any]:
    """Read a ledger written by :func:`write_ledger` (or the registry's plain
    ``ledger_json``, without ``where``). Raises OSError, UnicodeDecodeError or
    ValueError (not JSON, or not a ledger)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    _check_ledger(data, str(path))
    return data


def _check_ledger(ledger: Any, name: str) -> None:
    if not isinstance(ledger, Mapping):
        raise ValueError(f"{name} is not a number ledger (expected a JSON object)")
    numbers = ledger.get("numbers")
    if not isinstance(numbers, Mapping):
        raise ValueError(f"{name} is not a number ledger (no 'numbers' object)")
    for key, entry in numbers.items():
        if not isinstance(entry, Mapping) or "text" not in entry:
            raise ValueError(f"{name}: number {key!r} has no 'text'")
    if not isinstance(ledger.get("stamp", {}), Mapping):
        raise ValueError(f"{name}: 'stamp' is not an object")


# --------------------------------------------------------------------------- comparing two ledgers


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def same_raw(a: Any, b: Any) -> bool:
    """Raw values equal: exact for int/str/bool/None, ``math.isclose(rel_tol=1e-12)``
    for floats (NaN equals NaN), element-wise for lists and dicts."""
    if _is_number(a) and _is_number(b):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return fa == fb or math.isclose(fa, fb, rel_tol=FLOAT_REL_TOL, abs_tol=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_raw(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(same_raw(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class NumberChange:
    """A number present in both ledgers whose printed text or raw value changed.

    ``key`` ("section.key"); ``label``; ``old_text``/``new_text`` (as printed);
    ``old_raw``/``new_raw`` (unrounded); ``where`` (places it appears, new
    ledger first, then any only in the old); ``text_changed`` (the printed
    text differs; False means only the raw value moved, beyond the printed
    precision).
    """

    key: str
    label: str
    old_text: str
    new_text: str
    old_raw: Any
    new_raw: Any
    where: tuple[str, ...]
    text_changed: bool


@dataclass(frozen=True)
class LedgerEntry:
    """A number present in one ledger only: ``key``, ``label``, ``text``, ``raw``, ``where``."""

    key: str
    label: str
    text: str
    raw: Any
    where: tuple[str, ...]


@dataclass(frozen=True)
class LedgerDiff:
    """What changed between two ledgers.

    ``changed``: :class:`NumberChange` in the new ledger's order; ``added``
    and ``removed``: :class:`LedgerEntry`; ``n_unchanged``: numbers equal in
    both; ``old_stamp``/``new_stamp``: the stamps; ``inputs_changed``: which
    of "data", "configuration", "code" differ between the stamps (a field
    missing from both stamps counts as unchanged).
    """

    changed: tuple[NumberChange, ...]
    added: tuple[LedgerEntry, ...]
    removed: tuple[LedgerEntry, ...]
    n_unchanged: int
    old_stamp: Mapping[str, Any] = field(hash=False)
    new_stamp: Mapping[str, Any] = field(hash=False)
    inputs_changed: tuple[str, ...] = ()

    @property
    def numbers_changed(self) -> bool:
        """True when any number changed, was added or was removed."""
        return bool(self.changed or self.added or self.removed)

    @property
    def printed_changes(self) -> tuple[NumberChange, ...]:
        return tuple(c for c in self.changed if c.text_changed)

    @property
    def raw_only_changes(self) -> tuple[NumberChange, ...]:
        return tuple(c for c in self.changed if not c.text_changed)

    @property
    def data_changed(self) -> bool:
        return "data" in self.inputs_changed

    @property
    def config_changed(self) -> bool:
        return "configuration" in self.inputs_changed

    @property
    def code_changed(self) -> bool:
        return "code" in self.inputs_changed


def _merge_where(new: Iterable[str], old: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for w in [*new, *old]:
        if w not in out:
            out.append(str(w))
    return tuple(out)


def _entry(key: str, e: Mapping[str, Any]) -> LedgerEntry:
    return LedgerEntry(key, str(e.get("label", "")), str(e.get("text", "")), e.get("raw"),
                       tuple(str(w) for w in e.get("where", ()) or ()))


def diff_ledgers(old: Mapping[str, Any], new: Mapping[str, Any]) -> LedgerDiff:
    """Compare two ledgers (as made by :func:`build_ledger` or read by :func:`load_ledger`).

    A number changed when its text differs or its raw value differs by
    :func:`same_raw` (floats: relative 1e-12). Raises ValueError when either
    argument is not a ledger.
    """
    _check_ledger(old, "the old ledger")
    _check_ledger(new, "the new ledger")
    o, n = old["numbers"], new["numbers"]
    changed, added, n_same = [], [], 0
    for key, e in n.items():
        if key not in o:
            added.append(_entry(key, e))
            continue
        f = o[key]
        text_changed = str(f.get("text")) != str(e.get("text"))
        if text_changed or not same_raw(f.get("raw"), e.get("raw")):
            changed.append(NumberChange(
                key=key, label=str(e.get("label") or f.get("label") or ""),
                old_text=str(f.get("text")), new_text=str(e.get("text")),
                old_raw=f.get("raw"), new_raw=e.get("raw"),
                where=_merge_where(e.get("where", ()) or (), f.get("where", ()) or ()),
                text_changed=text_changed))
        else:
            n_same += 1
    removed = [_entry(key, f) for key, f in o.items() if key not in n]
    os_, ns = dict(old.get("stamp") or {}), dict(new.get("stamp") or {})
    inputs = tuple(name for fld, name in INPUTS if os_.get(fld) != ns.get(fld))
    return LedgerDiff(tuple(changed), tuple(added), tuple(removed), n_same, os_, ns, inputs)


# --------------------------------------------------------------------------- reports


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _inputs_sentence(diff: LedgerDiff) -> str:
    parts = [f"{name} {'changed' if name in diff.inputs_changed else 'unchanged'}" for _, name in INPUTS]
    return "; ".join(parts)


def _raw_text(x: Any) -> str:
    if isinstance(x, float):
        return repr(x)
    return json.dumps(_plain(x), ensure_ascii=False)


def _summary(diff: LedgerDiff) -> str:
    if not diff.numbers_changed:
        return f"No number changed ({_plural(diff.n_unchanged, 'number')} compared)."
    return (f"{_plural(len(diff.changed), 'number')} changed ({len(diff.printed_changes)} as printed), "
            f"{len(diff.added)} added, {len(diff.removed)} removed; {diff.n_unchanged} unchanged.")


def format_text(diff: LedgerDiff) -> str:
    """Plain-text report: inputs that changed, then each changed, added and removed number with where it appears."""
    lines = ["Number ledger comparison", f"Inputs: {_inputs_sentence(diff)}."]
    for fld, name in INPUTS:
        a, b = diff.old_stamp.get(fld), diff.new_stamp.get(fld)
        if a != b:
            lines.append(f"  {name}: {a} -> {b}")
    if diff.old_stamp.get("synthetic") != diff.new_stamp.get("synthetic"):
        lines.append(f"  synthetic data: {diff.old_stamp.get('synthetic')} -> {diff.new_stamp.get('synthetic')}")
    lines.append(_summary(diff))

    def where(w: Sequence[str]) -> str:
        return "; ".join(w) if w else "(not shown in the documents)"

    if diff.changed:
        lines += ["", "Changed:"]
        for c in diff.changed:
            head = f"  {c.key}" + (f" ({c.label})" if c.label else "")
            if c.text_changed:
                lines.append(f"{head}: {c.old_text} -> {c.new_text}")
            else:
                lines.append(f"{head}: {c.new_text} (unchanged as printed)")
            lines.append(f"      raw: {_raw_text(c.old_raw)} -> {_raw_text(c.new_raw)}")
            lines.append(f"      where: {where(c.where)}")
    for title, entries in (("Added:", diff.added), ("Removed:", diff.removed)):
        if entries:
            lines += ["", title]
            for e in entries:
                lines.append(f"  {e.key}" + (f" ({e.label})" if e.label else "") + f": {e.text}")
                lines.append(f"      raw: {_raw_text(e.raw)}")
                lines.append(f"      where: {where(e.where)}")
    return "\n".join(lines) + "\n"


_MISSING = "\u2014"


def _rows(diff: LedgerDiff) -> list[tuple[str, str, str, str, str]]:
    """(key, label, where, before, after) for every printed change, addition and removal."""
    rows = [(c.key, c.label, "; ".join(c.where), c.old_text, c.new_text) for c in diff.printed_changes]
    rows += [(e.key, e.label, "; ".join(e.where), _MISSING, e.text) for e in diff.added]
    rows += [(e.key, e.label, "; ".join(e.where), e.text, _MISSING) for e in diff.removed]
    return rows


def _md_cell(text: str) -> str:
    text = " ".join(str(text).split())  # no line breaks in a pipe-table cell
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text if text else " "


def format_markdown(diff: LedgerDiff) -> str:
    """A Markdown pipe table, Number | Where | Before | After, for a response-to-reviewers letter.

    One row per number whose printed text changed, was added (Before "—") or
    removed (After "—"); a sentence on the inputs above it, and the numbers
    that changed only beyond their printed precision below it."""
    out = [f"Inputs: {_inputs_sentence(diff)}.", ""]
    rows = _rows(diff)
    if rows:
        out += ["| Number | Where | Before | After |", "| --- | --- | --- | --- |"]
        for key, label, where, before, after in rows:
            number = f"{label} (`{key}`)" if label else f"`{key}`"
            out.append("| " + " | ".join(_md_cell(x) for x in (number, where or _MISSING, before, after)) + " |")
    else:
        out.append("No reported number changed as printed.")
    raw_only = diff.raw_only_changes
    if raw_only:
        out += ["", "Changed beyond the printed precision only: "
                + ", ".join(f"`{c.key}`" for c in raw_only) + "."]
    return "\n".join(out) + "\n"


def format_html(diff: LedgerDiff) -> str:
    """A standalone HTML page with the same table as :func:`format_markdown`."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>Changes to reported numbers</title>",
             "<style>body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
             "th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}"
             "code{font-size:90%}</style>", "</head>", "<body>",
             "<h1>Changes to reported numbers</h1>",
             f"<p>Inputs: {e(_inputs_sentence(diff))}. {e(_summary(diff))}</p>"]
    rows = _rows(diff)
    if rows:
        parts.append("<table>")
        parts.append("<thead><tr><th>Number</th><th>Where</th><th>Before</th><th>After</th></tr></thead>")
        parts.append("<tbody>")
        for key, label, where, before, after in rows:
            number = (f"{e(label)} (<code>{e(key)}</code>)" if label else f"<code>{e(key)}</code>")
            parts.append(f"<tr><td>{number}</td><td>{e(where or _MISSING)}</td><td>{e(before)}</td>"
                         f"<td>{e(after)}</td></tr>")
        parts += ["</tbody>", "</table>"]
    else:
        parts.append("<p>No reported number changed as printed.</p>")
    raw_only = diff.raw_only_changes
    if raw_only:
        parts.append("<p>Changed beyond the printed precision only: "
                     + ", ".join(f"<code>{e(c.key)}</code>" for c in raw_only) + ".</p>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- command


_REPORTS = (".md", ".markdown", ".html", ".htm", ".docx")


def _load_ledger_or_revision(arg: str | Path) -> dict[str, Any]:
    """A ledger file, or ``REV:PATH`` — the ledger committed at git revision REV
    (``submitted:submitted-numbers.json``, ``v1.0:ledgers/numbers.json``), read with ``git show``."""
    import subprocess

    from .config import GIT_REVISION

    path = Path(arg)
    m = GIT_REVISION.match(str(arg))
    if path.exists() or not m:
        return load_ledger(path)
    try:
        shown = subprocess.run(["git", "show", f"{m.group(1)}:{m.group(2)}"], capture_output=True, check=False)
    except OSError as exc:
        raise OSError(f"git is not available: {exc}") from None
    if shown.returncode != 0:
        raise ValueError(f"not a file, and git cannot show it: {shown.stderr.decode('utf-8', 'replace').strip()}")
    data = json.loads(shown.stdout.decode("utf-8"))
    _check_ledger(data, str(arg))
    return data


def main_diff(old_path: str | Path, new_path: str | Path, *, out: str | Path | None = None,
              detail: bool = False, markup: Sequence[str | Path] = ()) -> int:
    """``python -m analysis diff OLD NEW [--out FILE] [--detail]``: compare two ledgers.

    Prints the letter-ready change report
    (:func:`analysis.revisions.changes.to_markdown`: changed settings in
    words, the data-freeze summary, one row per change with its places as the
    reader sees them) to standard output, with ``detail`` also the per-key
    audit (:func:`format_text`). With ``out`` it writes the report as
    Markdown (``.md``), HTML (``.html``) or Word (``.docx``, a table for the
    response letter), atomically. Each ``markup`` file (the executed Markdown
    of report or supplement, e.g. from ``quarto render report.qmd --to
    markdown``) is marked up against OLD (:func:`analysis.revisions.markup.write_markup`:
    ``<stem>-marked.html`` and ``.docx`` with tracked changes, beside ``out``
    or in the current directory). Returns 0 when no number changed (inputs
    alone may have changed: a new code version that reproduces every number
    is "nothing changed"), 1 when a number changed, was added or was removed,
    and 2 when an input cannot be read or is not a ledger, or ``out`` has
    another suffix (a message on standard error, no traceback).
    """
    from .revisions import changes

    if out is not None and Path(out).suffix.lower() not in _REPORTS:
        print(f"cannot write {out}: the report file must end in .md, .html or .docx", file=sys.stderr)
        return 2
    ledgers = []
    for path in (old_path, new_path):
        try:
            ledgers.append(_load_ledger_or_revision(path))
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"cannot read ledger {path}: {reason}", file=sys.stderr)
            return 2
    diff = diff_ledgers(*ledgers)
    report = changes.change_report(*ledgers)
    sys.stdout.write(changes.to_markdown(report))
    if detail:
        sys.stdout.write("\n" + format_text(diff))
    if out is not None:
        suffix = Path(out).suffix.lower()
        try:
            if suffix == ".docx":
                changes.write_docx(report, out)
            else:
                write_text_atomic(Path(out), (changes.to_html if suffix in (".html", ".htm")
                                              else changes.to_markdown)(report))
        except OSError as exc:
            print(f"cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if markup:
        from .config import PROJECT_ROOT
        from .revisions.markup import write_markup

        target = Path(out).parent if out is not None else Path.cwd()
        for md in markup:
            try:
                paths, _ = write_markup(md, ledgers[0], ledgers[1], out_dir=target, root=PROJECT_ROOT)
            except (OSError, UnicodeDecodeError) as exc:
                print(f"cannot mark up {md}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
                return 2
            for p in paths:
                print(p, file=sys.stderr)
    return 1 if diff.numbers_changed or report.rows else 0
