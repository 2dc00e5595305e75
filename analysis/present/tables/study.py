"""Supplementary tables about the study itself: the data dictionary, the
patient flow and the software versions with the input fingerprints."""

from __future__ import annotations

import math

import pandas as pd

from ...dictionary import Dictionary
from ...results import Results
from .display import DisplayTable, Footnote
from .common import _source_notes


# =========================================================================== supplementary


def _dictionary(source: Dictionary | Results) -> tuple[Dictionary, bool]:
    if isinstance(source, Results):
        return source.cohort.dictionary, source.synthetic
    if isinstance(source, Dictionary):
        return source, False
    raise ValueError("dictionary_table needs a Dictionary or a Results object")


def dictionary_frame(source: Dictionary | Results) -> pd.DataFrame:
    """The data dictionary (``Dictionary.to_frame()``), one row per variable,
    columns name, label, type, unit, codes, range, required, definition (text),
    and ``format``: type, unit and range in one cell as the table prints them
    ("number, years, 0–100"), which keeps the table within a portrait page."""
    dictionary, _ = _dictionary(source)
    frame = dictionary.to_frame()
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    frame["format"] = [", ".join(p for p in parts if p)
                       for parts in zip(frame["type"], frame["unit"], frame["range"])]
    return frame


def dictionary_table(source: Dictionary | Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the data dictionary. Takes the Dictionary or the Results.
    Six columns (type, unit and range share one), so that the variable names and
    codes print whole on a portrait page (REVIEW 2026-12-06 items 2, 3, 24)."""
    dictionary, synthetic = _dictionary(source)
    frame = dictionary_frame(dictionary)
    labels = {"name": "Variable", "label": "Label", "format": "Type, unit, range", "codes": "Codes",
              "required": "Required", "definition": "Definition"}
    notes = (Footnote(f"Dates are written {dictionary.date_format}; no date of any patient is shown in the "
                      f"manuscript."),)
    align = {c: "left" for c in labels}
    return DisplayTable(frame=frame, columns=tuple(labels), labels=labels, id="gt-s-dictionary",
                        footnotes=notes, source_notes=_source_notes(synthetic), align=align, title=title)

def _versions(results: Results, title: str | None = None) -> DisplayTable:
    records = [{"section": "Software", "label": k, "value": str(v)} for k, v in results.versions.items()]
    records.append({"section": "Inputs", "label": "Data files (SHA-256, first 16 hex digits)",
                    "value": str(results.cohort.data_hash)})
    records.append({"section": "Inputs", "label": "Analysis settings (SHA-256, first 16 hex digits)",
                    "value": str(results.config.analysis_hash())})
    records.append({"section": "Inputs", "label": "Synthetic data", "value": "Yes" if results.synthetic else "No"})
    frame = pd.DataFrame(records, columns=["section", "label", "value"])
    return DisplayTable(frame=frame, columns=("label", "value"), labels={"label": "", "value": "Version"},
                        id="gt-s-versions", group="section", source_notes=_source_notes(results.synthetic),
                        align={"value": "left"}, title=title)


def versions_frame(results: Results) -> pd.DataFrame:
    """Software versions (``results.versions``) and input fingerprints:
    ``section`` ("Software", "Inputs"), ``label``, ``value``."""
    return _versions(results).frame


def versions_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: software versions and the fingerprints of the inputs."""
    return _versions(results, title)


def _flow(results: Results, title: str | None = None) -> DisplayTable:
    flow = results.derived.flow
    steps = flow.steps
    parent_of = dict(zip(steps["step"], steps["parent"]))

    def depth(step: str) -> int:
        d, p = 0, parent_of.get(step)
        while p is not None and not (isinstance(p, float) and math.isnan(p)) and d < 20:
            d, p = d + 1, parent_of.get(p)
        return d

    records = []
    for rec in steps.itertuples(index=False):
        label = rec.label
        if str(rec.step).startswith("cr_") and str(rec.parent).startswith("class_"):
            label = "CR/CRi"  # indented under its regimen class
        records.append({"step": rec.step, "kind": rec.kind, "label": label, "indent": depth(rec.step),
                        "n": str(int(rec.n))})
        if rec.kind == "exclusion":
            for ex in flow.exclusions.itertuples(index=False):
                records.append({"step": f"{rec.step}:reason", "kind": "reason", "label": str(ex.reason),
                                "indent": depth(rec.step) + 1, "n": str(int(ex.n))})
    frame = pd.DataFrame(records, columns=["step", "kind", "label", "indent", "n"])
    notes = (Footnote("Every patient who relapsed after CD19 CAR-T therapy is accounted for; indented rows are "
                      "subsets of the row above them."),)
    return DisplayTable(frame=frame, columns=("label", "n"), labels={"label": "", "n": "n"}, id="gt-s-flow",
                        indent="indent", footnotes=notes, source_notes=_source_notes(results.synthetic),
                        title=title)


def flow_frame(results: Results) -> pd.DataFrame:
    """Patient flow: ``step`` (PatientFlow step, or "<step>:reason"), ``kind``
    (population, exclusion, subgroup, reason), ``label``, ``indent`` (depth
    under the first step), ``n``; the reasons for no salvage follow their step."""
    return _flow(results).frame


def flow_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the patient-flow steps and the reasons for no salvage, with n."""
    return _flow(results, title)
