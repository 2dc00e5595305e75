"""ADaM-style exports for a statistical reviewer: ADSL and ADTTE.

CSV (dates as ISO 8601 text, empty cells for missing) and, because pyreadstat
makes it cheap, SAS transport v5 (.xpt) with variable labels. Files are written
as one unit (analysis.outputs): either all appear or none changes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from .derive import Derived
from .outputs import write_group

LABELS = {
    "STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier", "SUBJID": "Subject Identifier for the Study",
    "SITEID": "Study Site Identifier", "AGE": "Age at Relapse", "AGEU": "Age Units", "AGEGR1": "Age Group",
    "SEX": "Sex", "CYTORISK": "Cytogenetic Risk at Diagnosis", "BCRABL1": "BCR::ABL1 Status",
    "BMBLAST": "Bone-Marrow Blasts at Relapse (%)", "BMBURDEN": "Marrow Tumour Burden Group",
    "CARTDT": "Date of CAR-T Infusion", "PRIORSCT": "Allo-HSCT Before Relapse Flag",
    "PRSCTTIM": "Timing of Allo-HSCT Before Relapse", "CD19STAT": "CD19 Status at Relapse",
    "CD19NEG": "CD19-Negative/Dim Relapse Flag", "RELSITE": "Site of Relapse", "EMDFL": "Extramedullary Relapse Flag",
    "EMDGRP": "Extramedullary Relapse Site Group", "EMDPREFL": "EMD Present Before CAR-T Flag",
    "RELDT": "Date of Relapse After CAR-T", "SALVFL": "Salvage Therapy Population Flag",
    "NOSALVRS": "Reason for No Salvage Therapy", "SALVGRP": "Salvage Group", "SALVMOD": "Salvage Regimen Class",
    "SALVDT": "Date Salvage Started", "BESTRESP": "Best Response to Salvage", "CRFL": "CR/CRi After Salvage Flag",
    "CRDT": "Date of CR/CRi", "HSCTFL": "Consolidative Allo-HSCT Flag", "HSCTSEQ": "Consolidative Allo-HSCT Sequence",
    "HSCTDT": "Date of Consolidative Allo-HSCT", "REL2FL": "Relapse After Salvage CR Flag",
    "REL2DT": "Date of Relapse After Salvage CR", "DTHFL": "Death Flag", "DTHDT": "Date of Death",
    "DTHCAUS": "Cause of Death", "LSTALVDT": "Date Last Known Alive", "SYNTHFL": "Synthetic Record Flag",
    "PARAMCD": "Parameter Code", "PARAMN": "Parameter (N)", "PARAM": "Parameter", "AVAL": "Analysis Value",
    "AVALU": "Analysis Value Unit", "CNSR": "Censor", "STARTDT": "Time-to-Event Origin Date",
    "ADT": "Analysis Date", "EVNTDESC": "Event or Censoring Description", "CNSDTDSC": "Censor Date Description",
}


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _csv_frame(frame).to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def _write_xpt(frame: pd.DataFrame, path: Path, name: str) -> None:
    out = frame.copy()
    formats = {}
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            formats[col] = "DATE9"
            out[col] = out[col].dt.date.astype(object).where(out[col].notna(), None)
        elif pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    pyreadstat.write_xport(
        out, str(path), file_label=name.upper(), table_name=name.upper(),
        column_labels=[LABELS.get(c, c) for c in out.columns], variable_format=formats,
    )


def write_adam(derived: Derived, out_dir: str | Path, *, xpt: bool = True) -> list[Path]:
    """Write adsl.csv and adtte.csv (and .xpt) into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    writers = {
        out / "adsl.csv": lambda p: _write_csv(derived.adsl, p),
        out / "adtte.csv": lambda p: _write_csv(derived.adtte, p),
    }
    if xpt:
        writers[out / "adsl.xpt"] = lambda p: _write_xpt(derived.adsl, p, "adsl")
        writers[out / "adtte.xpt"] = lambda p: _write_xpt(derived.adtte, p, "adtte")
    return write_group(writers)
