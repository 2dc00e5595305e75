"""Supplementary transplant tables: consolidative allo-HSCT summary and the
listing of transplanted patients."""

from __future__ import annotations

import pandas as pd

from ...results import Results
from .. import style as st
from .display import DisplayTable, Footnote, _text
from .common import _source_notes


def _transplant_summary(results: Results, title: str | None = None) -> DisplayTable:
    t = results.transplant
    records = [
        {"section": "Patients", "label": "Received salvage therapy", "indent": 0, "value": str(t.n_salvage)},
        {"section": "Patients", "label": "CR/CRi after salvage", "indent": 0,
         "value": st.fmt_n_pct(t.n_cr, t.n_salvage)},
        {"section": "Patients", "label": "Consolidative allo-HSCT", "indent": 0,
         "value": st.fmt_n_pct(t.n_hsct, t.n_cr)},
        {"section": "Patients", "label": "First allo-HSCT", "indent": 1, "value": st.fmt_n_pct(t.n_first, t.n_hsct)},
        {"section": "Patients", "label": "Second allo-HSCT", "indent": 1,
         "value": st.fmt_n_pct(t.n_second, t.n_hsct)},
    ]
    for outcome, n in t.outcomes.items():
        if outcome == "Not in CR/CRi before transplant" and not n:     # a row only for a patient it describes
            continue
        records.append({"section": "Outcome after allo-HSCT", "label": outcome, "indent": 0,
                        "value": st.fmt_n_pct(int(n), t.n_hsct)})
    frame = pd.DataFrame(records, columns=["section", "label", "indent", "value"])
    notes = (Footnote("Percentages: CR/CRi of patients with salvage therapy; allo-HSCT of patients in CR/CRi; "
                      "first or second allo-HSCT and outcomes of transplanted patients."),)
    return DisplayTable(frame=frame, columns=("label", "value"), labels={"label": "", "value": "n (%)"},
                        id="gt-s-transplant", group="section", indent="indent", footnotes=notes,
                        source_notes=_source_notes(results.synthetic), title=title)


def transplant_summary_frame(results: Results) -> pd.DataFrame:
    """Consolidative allo-HSCT: ``section``, ``label``, ``indent``, ``value`` ("7 (22%)")."""
    return _transplant_summary(results).frame


def transplant_summary_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: consolidative allo-HSCT after salvage, counts and outcomes."""
    return _transplant_summary(results, title)


_LISTING_LABELS = {"no": "No.", "age": "Age, years", "regimen": "Salvage regimen",
                   "response": "Best response", "sequence": "Allo-HSCT", "cr_to_hsct": "CR to allo-HSCT, months",
                   "outcome": "Outcome", "followup": "Follow-up after allo-HSCT, months"}


def _transplant_listing(results: Results, title: str | None = None) -> DisplayTable:
    lst = results.transplant.listing
    records = []
    for rec in lst.itertuples(index=False):
        records.append({"no": str(int(rec.LISTNO)),
                        "age": st.fmt_num(rec.AGE, 0), "regimen": _text(rec.SALVMOD),
                        "response": _text(rec.BESTRESP), "sequence": _text(rec.HSCTSEQ),
                        "cr_to_hsct": st.fmt_num(rec.CR_TO_HSCT_MONTHS, 1), "outcome": _text(rec.OUTCOME),
                        "followup": st.fmt_num(rec.FOLLOWUP_AFTER_HSCT_MONTHS, 1)})
    frame = pd.DataFrame(records, columns=list(_LISTING_LABELS))
    notes = (Footnote("No., a sequence number for this listing only (ordered by transplant date); it links to "
                      "no other record. Follow-up runs to death or last contact."),)
    return DisplayTable(frame=frame, columns=tuple(_LISTING_LABELS), labels=_LISTING_LABELS,
                        id="gt-s-transplant-listing", footnotes=notes,
                        source_notes=_source_notes(results.synthetic), title=title)


def transplant_listing_frame(results: Results) -> pd.DataFrame:
    """Listing of transplanted patients: ``no`` (LISTNO, the only identifier),
    ``site``, ``age`` (whole years), ``regimen``, ``response``, ``sequence``,
    ``cr_to_hsct``, ``outcome``, ``followup`` (months, one decimal). No dates."""
    return _transplant_listing(results).frame


def transplant_listing_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: listing of the patients with consolidative allo-HSCT."""
    return _transplant_listing(results, title)
