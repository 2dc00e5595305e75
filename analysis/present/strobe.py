"""The STROBE checklist for cohort studies, with where the manuscript addresses each item.

STROBE (von Elm et al. 2007, checklist for cohort studies): 22 items, items 1,
6, 12, 13, 14 and 16 with lettered sub-items. :data:`CHECKLIST` holds them
as data: item, section of the paper, topic, the recommendation (shortened
from the published checklist) and WHERE the manuscript addresses it, as
pointers to labels of the documents:

* ``sec-…``: a section (heading attribute ``{#sec-…}``), shown as its heading
  path ("Methods › Statistical analysis"; supplement sections prefixed
  "Supplement ›");
* ``tbl-…``, ``fig-…``: a table or figure of the manuscript (chunk label),
  shown as "Table 2", "Figure 1" (numbered in document order, as Quarto does);
* ``supptbl-…``, ``suppfig-…``: a supplementary float (``::: {#supptbl-…}``
  div), shown as "Supplementary Table S4";
* ``title``, ``abstract``: the manuscript's front matter.

Items the manuscript does not address point nowhere and say so
(:attr:`StrobeItem.status` "not applicable" or "not reported"); a partial
answer says what is missing (:attr:`StrobeItem.note`).

:func:`document_labels` finds the labels by reading the documents (report.qmd
with its ``{{< include >}}`` files, supplement.qmd) and :func:`resolve`
fails with ValueError for a pointer to a label that does not exist, so the
checklist cannot silently point at a renamed or removed section. The scan
follows Quarto's rules for what it reads: includes alone on their line,
relative to the main document's directory (``/``-paths to the project root);
labels inside fenced code are ignored, except ``#| label:`` options of
executable chunks; HTML comments are skipped.

Reference: von Elm E, Altman DG, Egger M, Pocock SJ, Gøtzsche PC,
Vandenbroucke JP; STROBE Initiative (2007). The Strengthening the Reporting of
Observational Studies in Epidemiology (STROBE) statement: guidelines for
reporting observational studies. Lancet 370:1453-1457.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..config import PROJECT_ROOT
from ..yamlio import front_matter_length
from ..results import Results
from .tables import DisplayTable, Footnote
from .tables.common import _source_notes

__all__ = [
    "CHECKLIST",
    "DOCUMENTS",
    "STATUSES",
    "StrobeItem",
    "document_labels",
    "resolve",
    "strobe_frame",
    "strobe_table",
]

#: The main manuscript and the supplement, relative to the project root.
DOCUMENTS = {"report": "report.qmd", "supplement": "supplement.qmd"}
#: reported: the pointers show where; partly: reported with a gap (see note);
#: not applicable / not reported: no pointer.
STATUSES = ("reported", "partly", "not applicable", "not reported")
HEADING_SEPARATOR = " \u203a "


@dataclass(frozen=True)
class StrobeItem:
    """One checklist item.

    item: "1a", "2", "6b" ...; section: part of the paper ("Methods");
    topic: the checklist's heading ("Participants"); recommendation: the
    checklist text, shortened; where: pointers (labels, see the module
    docstring); status: one of :data:`STATUSES`; note: what is missing, or
    why the item does not apply.
    """

    item: str
    section: str
    topic: str
    recommendation: str
    where: tuple[str, ...] = ()
    status: str = "reported"
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"item {self.item}: status must be one of {STATUSES}, not {self.status!r}")
        if self.status in ("reported", "partly") and not self.where:
            raise ValueError(f"item {self.item}: a reported item needs at least one pointer")
        if self.status in ("not applicable", "not reported") and self.where:
            raise ValueError(f"item {self.item}: an item that is {self.status} points nowhere")


#: STROBE checklist for cohort studies (von Elm et al. 2007), shortened, with pointers into the documents.
CHECKLIST: tuple[StrobeItem, ...] = (
    StrobeItem("1a", "Title and abstract", "Title and abstract",
               "Indicate the study's design with a commonly used term in the title or the abstract",
               ("title", "abstract")),
    StrobeItem("1b", "Title and abstract", "Title and abstract",
               "Provide an informative and balanced summary of what was done and what was found",
               ("abstract",)),
    StrobeItem("2", "Introduction", "Background/rationale",
               "Explain the scientific background and rationale for the investigation", ("sec-introduction",)),
    StrobeItem("3", "Introduction", "Objectives", "State specific objectives, including any prespecified hypotheses",
               ("sec-introduction",), "partly", "Objectives are stated; no hypothesis was prespecified."),
    StrobeItem("4", "Methods", "Study design", "Present key elements of study design early in the paper",
               ("sec-design",)),
    StrobeItem("5", "Methods", "Setting",
               "Describe the setting, locations and relevant dates, including periods of recruitment, exposure, "
               "follow-up and data collection",
               ("sec-design",), "partly",
               "Relapse period and end of follow-up are given; the period of data collection is not."),
    StrobeItem("6a", "Methods", "Participants",
               "Give the eligibility criteria, the sources and methods of selection of participants, and the "
               "methods of follow-up", ("sec-design", "sec-endpoints", "fig-flow")),
    StrobeItem("6b", "Methods", "Participants",
               "For matched studies, give matching criteria and number of exposed and unexposed",
               status="not applicable", note="The study is not matched."),
    StrobeItem("7", "Methods", "Variables",
               "Clearly define all outcomes, exposures, predictors, potential confounders and effect modifiers; "
               "give diagnostic criteria", ("sec-definitions", "sec-endpoints", "supptbl-dictionary")),
    StrobeItem("8", "Methods", "Data sources/measurement",
               "For each variable of interest, give sources of data and details of methods of assessment",
               ("sec-design", "sec-definitions", "supptbl-dictionary")),
    StrobeItem("9", "Methods", "Bias", "Describe any efforts to address potential sources of bias",
               ("sec-statistics", "sec-s-sensitivity", "sec-discussion")),
    StrobeItem("10", "Methods", "Study size", "Explain how the study size was arrived at", ("sec-design",), "partly",
               "All eligible patients were included; no sample-size calculation was made."),
    StrobeItem("11", "Methods", "Quantitative variables",
               "Explain how quantitative variables were handled; if applicable, which groupings were chosen and why",
               ("sec-statistics",)),
    StrobeItem("12a", "Methods", "Statistical methods",
               "Describe all statistical methods, including those used to control for confounding",
               ("sec-statistics",)),
    StrobeItem("12b", "Methods", "Statistical methods", "Describe any methods used to examine subgroups and interactions",
               ("sec-statistics",), "partly", "Subgroups are described; interactions were not examined."),
    StrobeItem("12c", "Methods", "Statistical methods", "Explain how missing data were addressed",
               ("sec-statistics", "supptbl-missing")),
    StrobeItem("12d", "Methods", "Statistical methods", "If applicable, explain how loss to follow-up was addressed",
               ("sec-statistics", "sec-discussion"), "partly",
               "Survival times are censored at the last contact; loss to follow-up after salvage is not recorded."),
    StrobeItem("12e", "Methods", "Statistical methods", "Describe any sensitivity analyses",
               ("sec-statistics", "sec-s-sensitivity")),
    StrobeItem("13a", "Results", "Participants",
               "Report numbers of individuals at each stage of study (potentially eligible, examined for "
               "eligibility, confirmed eligible, included, completing follow-up, analysed)",
               ("sec-patients", "fig-flow", "supptbl-flow")),
    StrobeItem("13b", "Results", "Participants", "Give reasons for non-participation at each stage",
               ("fig-flow", "supptbl-flow")),
    StrobeItem("13c", "Results", "Participants", "Consider use of a flow diagram", ("fig-flow",)),
    StrobeItem("14a", "Results", "Descriptive data",
               "Give characteristics of study participants and information on exposures and potential confounders",
               ("sec-patients", "tbl-baseline", "supptbl-baseline-smd")),
    StrobeItem("14b", "Results", "Descriptive data",
               "Indicate number of participants with missing data for each variable of interest",
               ("tbl-baseline", "supptbl-baseline-smd")),
    StrobeItem("14c", "Results", "Descriptive data", "Summarise follow-up time (e.g. average and total amount)",
               ("sec-survival",), "partly", "The median follow-up is given; the total amount is not."),
    StrobeItem("15", "Results", "Outcome data", "Report numbers of outcome events or summary measures over time",
               ("tbl-response", "fig-km-overall", "supptbl-landmarks")),
    StrobeItem("16a", "Results", "Main results",
               "Give unadjusted estimates and, if applicable, confounder-adjusted estimates and their precision; "
               "make clear which confounders were adjusted for and why",
               ("tbl-cox", "fig-forest", "supptbl-cox")),
    StrobeItem("16b", "Results", "Main results", "Report category boundaries when continuous variables were "
               "categorised", ("sec-statistics", "tbl-baseline")),
    StrobeItem("16c", "Results", "Main results",
               "If relevant, consider translating estimates of relative risk into absolute risk for a meaningful "
               "time period", status="not reported",
               note="Hazard ratios are not translated into absolute risks."),
    StrobeItem("17", "Results", "Other analyses",
               "Report other analyses done, e.g. analyses of subgroups and interactions, and sensitivity analyses",
               ("supptbl-conventions", "supptbl-medians", "sec-s-sensitivity")),
    StrobeItem("18", "Discussion", "Key results", "Summarise key results with reference to study objectives",
               ("sec-discussion",)),
    StrobeItem("19", "Discussion", "Limitations",
               "Discuss limitations, taking into account sources of potential bias or imprecision; discuss both "
               "direction and magnitude of any potential bias", ("sec-discussion",)),
    StrobeItem("20", "Discussion", "Interpretation",
               "Give a cautious overall interpretation considering objectives, limitations, multiplicity of "
               "analyses, results from similar studies and other relevant evidence", ("sec-discussion",)),
    StrobeItem("21", "Discussion", "Generalisability", "Discuss the generalisability (external validity) of the "
               "study results", ("sec-discussion",), "partly",
               "Discussed only through the limitations of a retrospective, non-randomised cohort."),
    StrobeItem("22", "Other information", "Funding",
               "Give the source of funding and the role of the funders for the present study and, if applicable, "
               "for the original study on which the present article is based", ("sec-funding",)),
)


# =========================================================================== scanning the documents

_INCLUDE_RE = re.compile(r"^\s*\{\{<\s*include\s+(.+?)\s*>\}\}\s*$")
_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_EXEC_RE = re.compile(r"^\s*\{[A-Za-z][\w-]*([ ,][^}]*)?\}\s*$")
_OPTION_RE = re.compile(r"^#\s*\|\s?(.*)$")
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
_HEADING_ATTR_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
_DIV_RE = re.compile(r"^\s*:{3,}\s*\{([^}]*)\}")
_ID_RE = re.compile(r"(?:^|\s)#([A-Za-z][\w:.\-]*)")
_FLOAT_NAMES = {"tbl": "Table", "fig": "Figure", "supptbl": "Supplementary Table S", "suppfig": "Supplementary Figure S"}


@dataclass(frozen=True)
class _Label:
    label: str
    kind: str            # section, float, front
    document: str        # report, supplement
    file: str            # file holding it, relative to the root
    text: str            # how the checklist shows it


def _strip_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def _expanded(path: Path, *, main_dir: Path, root: Path, stack: tuple[Path, ...]) -> list[tuple[str, Path]]:
    """(line, file) pairs of ``path`` with includes expanded, front matter (leading YAML block) dropped."""
    if not path.is_file():
        raise ValueError(f"document not found: {path}")
    text = _strip_comments(path.read_text(encoding="utf-8-sig"))
    lines = text.split("\n")
    start = front_matter_length(lines)
    out: list[tuple[str, Path]] = []
    fence: str | None = None
    for line in lines[start:]:
        m = _FENCE_RE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None
        elif fence is None:
            inc = _INCLUDE_RE.match(line)
            if inc:
                target = inc.group(1).strip().strip("'\"")
                child = (root / target.lstrip("/")) if target.startswith("/") else (main_dir / target)
                child = child.resolve()
                if child in stack:
                    raise ValueError(f"{path}: include cycle through {child}")
                out.extend(_expanded(child, main_dir=main_dir, root=root, stack=stack + (child,)))
                continue
        out.append((line, path))
    return out


def document_labels(root: str | Path = PROJECT_ROOT) -> dict[str, _Label]:
    """Every label the checklist can point to, found in the documents of :data:`DOCUMENTS`.

    Returns ``{label: _Label}`` with ``text`` as the table prints it:
    sections by heading path ("Methods › Statistical analysis"; supplement
    sections "Supplement › Sensitivity analyses"), floats by number in
    document order ("Table 2", "Figure 1", "Supplementary Table S4"),
    ``title`` and ``abstract`` from the manuscript's front matter ("Title",
    "Abstract"). Raises ValueError for a label defined twice.
    """
    root = Path(root)
    labels: dict[str, _Label] = {}

    def add(lab: _Label) -> None:
        if lab.label in labels:
            raise ValueError(f"label '{lab.label}' is defined twice ({labels[lab.label].file}, {lab.file})")
        labels[lab.label] = lab

    for doc, name in DOCUMENTS.items():
        path = (root / name).resolve()
        if not path.is_file():
            raise ValueError(f"document not found: {path}")
        raw = path.read_text(encoding="utf-8-sig").split("\n")
        n_yaml = front_matter_length(raw)
        if doc == "report" and n_yaml:
            meta = yaml.safe_load("\n".join(raw[1:n_yaml - 1])) or {}
            for key in ("title", "abstract"):
                if isinstance(meta, dict) and meta.get(key):
                    add(_Label(key, "front", doc, name, key.capitalize()))
        lines = _expanded(path, main_dir=path.parent, root=root.resolve(), stack=(path,))
        counts: dict[str, int] = {}
        headings: list[tuple[int, str]] = []
        fence: str | None = None
        executable = False
        for line, file in lines:
            rel = file.relative_to(root.resolve()).as_posix() if file.is_relative_to(root.resolve()) else str(file)
            m = _FENCE_RE.match(line)
            if fence is None and m:
                fence, executable = m.group(1), bool(_EXEC_RE.match(m.group(2) or ""))
                continue
            if fence is not None:
                if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                    fence, executable = None, False
                    continue
                opt = _OPTION_RE.match(line.strip()) if executable else None
                if opt:
                    parsed = yaml.safe_load(opt.group(1)) if ":" in opt.group(1) else None
                    label = parsed.get("label") if isinstance(parsed, dict) else None
                    if isinstance(label, str):
                        _add_float(add, counts, label, doc, rel)
                continue
            h = _HEADING_RE.match(line)
            if h:
                level, title = len(h.group(1)), h.group(2)
                attr = _HEADING_ATTR_RE.search(title)
                ids = _ID_RE.findall(attr.group(1)) if attr else []
                title = title[:attr.start()].strip() if attr else title.strip()
                headings = [(lv, t) for lv, t in headings if lv < level] + [(level, title)]
                for ident in ids:
                    path_text = HEADING_SEPARATOR.join(t for _, t in headings)
                    text = f"Supplement{HEADING_SEPARATOR}{path_text}" if doc == "supplement" else path_text
                    add(_Label(ident, "section", doc, rel, text))
                continue
            d = _DIV_RE.match(line)
            if d:
                for ident in _ID_RE.findall(d.group(1)):
                    _add_float(add, counts, ident, doc, rel)
    return labels


def _add_float(add, counts: dict[str, int], label: str, doc: str, file: str) -> None:
    prefix = label.split("-", 1)[0]
    if prefix not in _FLOAT_NAMES or "-" not in label:
        return
    counts[prefix] = counts.get(prefix, 0) + 1
    name = _FLOAT_NAMES[prefix]
    add(_Label(label, "float", doc, file, f"{name}{counts[prefix]}" if name.endswith("S") else
               f"{name} {counts[prefix]}"))


def resolve(checklist: Sequence[StrobeItem] = CHECKLIST, *, root: str | Path = PROJECT_ROOT) -> pd.DataFrame:
    """Resolve every pointer of ``checklist`` against the documents.

    Returns one row per item and pointer (items without pointers: one row
    with ``pointer`` ""), columns ``item``, ``pointer``, ``document``
    ("report", "supplement", or ""), ``file``, ``text`` ("Methods ›
    Statistical analysis", "Table 2", "Supplementary Table S4", "Title").
    Raises ValueError naming every pointer whose label is not in the
    documents.
    """
    labels = document_labels(root)
    rows, missing = [], []
    for it in checklist:
        if not it.where:
            rows.append({"item": it.item, "pointer": "", "document": "", "file": "", "text": ""})
        for p in it.where:
            lab = labels.get(p)
            if lab is None:
                missing.append(f"{it.item}: {p}")
                continue
            rows.append({"item": it.item, "pointer": p, "document": lab.document, "file": lab.file,
                         "text": lab.text})
    if missing:
        raise ValueError("STROBE pointers to labels that are not in the documents: " + "; ".join(missing))
    return pd.DataFrame(rows, columns=["item", "pointer", "document", "file", "text"])


# =========================================================================== the table


def strobe_frame(*, root: str | Path = PROJECT_ROOT, checklist: Sequence[StrobeItem] = CHECKLIST) -> pd.DataFrame:
    """The checklist as displayed: ``section``, ``item``, ``topic``,
    ``recommendation``, ``where`` (the resolved pointers joined by "; ",
    then the note; "Not applicable: …" / "Not reported: …" without
    pointers), ``status``."""
    resolved = resolve(checklist, root=root)
    records = []
    for it in checklist:
        texts = [t for t in resolved.loc[resolved["item"] == it.item, "text"] if t]
        if it.status in ("not applicable", "not reported"):
            where = it.status.capitalize() + (f": {it.note}" if it.note else "")
        else:
            where = "; ".join(dict.fromkeys(texts)) + (f" ({it.note})" if it.note else "")
        records.append({"section": it.section, "item": it.item, "topic": it.topic,
                        "recommendation": it.recommendation, "where": where, "status": it.status})
    return pd.DataFrame(records, columns=["section", "item", "topic", "recommendation", "where", "status"])


def strobe_table(results: Results, *, root: str | Path = PROJECT_ROOT, title: str | None = None) -> DisplayTable:
    """Supplementary table: the STROBE checklist for cohort studies with where
    each item is reported (see :func:`strobe_frame`). ``results`` supplies
    the synthetic-data note; the pointers are resolved against the documents
    under ``root`` (ValueError for a pointer to a missing label)."""
    frame = strobe_frame(root=root)
    notes = (Footnote("STROBE checklist for cohort studies; recommendations shortened. "
                      "Where reported: section of the manuscript (Methods, Results ...) or of the supplementary "
                      "appendix, table or figure."),)
    labels = {"item": "Item", "topic": "Topic", "recommendation": "Recommendation", "where": "Where reported"}
    return DisplayTable(frame=frame, columns=("item", "topic", "recommendation", "where"), labels=labels,
                        id="gt-s-strobe", group="section", footnotes=notes,
                        source_notes=_source_notes(results.synthetic),
                        align={"topic": "left", "recommendation": "left", "where": "left"}, title=title)
