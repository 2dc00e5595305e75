"""Define-style metadata of the ADaM exports: one row per dataset variable.

What a reviewer reads beside ADSL and ADTTE (the content of a define.xml's
variable-level metadata, as a table): dataset, variable, label, type, display
format, codelist and derivation. The labels are the SAS transport labels
(at most 40 characters, as transport version 5 requires), the codelists are
the defined terms of :mod:`analysis.derive` (not only the values that occur),
and the derivations restate the rules of :mod:`analysis.derive` with the
configured definitions (age and marrow-burden cut-offs, days per month).

:func:`define_frame` returns the table; :mod:`analysis.adam` writes it as
``define.csv`` beside the datasets, and the supplement shows it.
"""

from __future__ import annotations

import pandas as pd

from . import derive as dv

#: ADaM dataset labels (the transport file's dataset label, at most 40 characters).
DATASET_LABELS = {
    "ADSL": "Subject-Level Analysis Dataset",
    "ADTTE": "Time-to-Event Analysis Dataset",
}
#: Sort keys of each dataset (its natural key), in the order the rows are written.
SORT_KEYS = {
    "ADSL": ("STUDYID", "USUBJID"),
    "ADTTE": ("STUDYID", "USUBJID", "PARAMCD"),
}
#: Variables every export must hold (ADaM IG core variables of ADSL and ADTTE as used here).
REQUIRED = {
    "ADSL": ("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX"),
    "ADTTE": ("STUDYID", "USUBJID", "PARAMCD", "PARAM", "AVAL", "CNSR", "STARTDT", "ADT"),
}

MAX_NAME = 8
MAX_LABEL = 40

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

_YN = "Y; N"
_RAW = "Collected ({})."


def _terms(labels) -> str:
    return "; ".join(labels.values() if isinstance(labels, dict) else labels)


def _codelists(d: dv.Definitions) -> dict[str, str]:
    return {
        "AGEU": "YEARS", "AGEGR1": _terms(d.age_groups), "SEX": "M; F", "CYTORISK": "High; Standard",
        "BCRABL1": "Positive; Negative", "BMBURDEN": _terms(d.burden_groups), "PRIORSCT": _YN,
        "PRSCTTIM": _terms(dv.PRIORSCT_LABELS), "CD19STAT": _terms(dv.CD19_LABELS), "CD19NEG": _YN,
        "RELSITE": _terms(dv.RELSITE_LABELS), "EMDFL": _YN,
        "EMDGRP": _terms({k: v for k, v in dv.RELSITE_LABELS.items() if k in ("cns", "non_cns_emd")}),
        "EMDPREFL": _YN, "SALVFL": _YN, "NOSALVRS": _terms(dv.NOSALV_LABELS), "SALVGRP": _terms(dv.SALVGRP_LEVELS),
        "SALVMOD": _terms(dv.SALVMOD_LABELS), "BESTRESP": "CR; CRi; PR; NR; NE", "CRFL": _YN, "HSCTFL": _YN,
        "HSCTSEQ": _terms(dv.HSCTSEQ_LABELS), "REL2FL": _YN, "DTHFL": _YN, "DTHCAUS": _terms(dv.DTHCAUS_LABELS),
        "SYNTHFL": _YN, "PARAMCD": "OS; RFS", "PARAMN": "1 (OS); 2 (RFS)", "PARAM": _terms(dv.PARAMS),
        "AVALU": "MONTHS", "CNSR": "0 (event); 1 (censored)",
        "EVNTDESC": "Death; Relapse; Death without relapse",
        "CNSDTDSC": "Alive at last contact; Alive in remission at last contact",
    }


def _derivations(d: dv.Definitions) -> dict[str, str]:
    targeted = ", ".join(dv.SALVMOD_LABELS[k] for k in dv.TARGETED_CLASSES)
    return {
        "STUDYID": "Configured study identifier (analysis.yml study_id).",
        "USUBJID": "STUDYID-SITEID-SUBJID; the source pseudonym is not carried over.",
        "SITEID": "Collected (site of the source file), written in ASCII letters, digits and '-' (accents dropped).",
        "AGE": _RAW.format("age at relapse, years"),
        "AGEGR1": f"AGE >= {d.adult_age_years:g} years, else <{d.adult_age_years:g}.",
        "BMBURDEN": f"BMBLAST >= {d.high_marrow_burden_pct:g}%, else <{d.high_marrow_burden_pct:g}%.",
        "PRIORSCT": "Y if an allo-HSCT was recorded before relapse (before or after the first CAR-T).",
        "CD19NEG": "Y if CD19STAT is Negative/dim; missing if Unknown.",
        "EMDFL": "Y if RELSITE is CNS or Non-CNS EMD; missing if not documented.",
        "EMDGRP": "RELSITE when EMDFL = Y.",
        "SALVFL": "Y if salvage therapy was given (the analysis population).",
        "SALVGRP": f"Targeted if SALVMOD is {targeted}; else Chemotherapy. Missing if SALVFL = N.",
        "CRFL": "Y if BESTRESP is CR or CRi; missing if SALVFL = N.",
        "HSCTFL": "Y if a consolidative allo-HSCT (first or second) followed salvage; missing if SALVFL = N.",
        "DTHFL": "Y if a date of death is recorded.",
        "SYNTHFL": "Y for a record of the synthetic cohort.",
        "PARAMCD": "One OS row per subject; one RFS row per subject with CRFL = Y.",
        "PARAMN": "1 for OS, 2 for RFS.",
        "AVAL": f"(ADT - STARTDT) in days / {d.days_per_month:g}.",
        "CNSR": "0 if the event occurred (OS: death; RFS: relapse or death), else 1.",
        "STARTDT": "OS: RELDT. RFS: CRDT.",
        "ADT": "OS: DTHDT if dead, else LSTALVDT. RFS: earlier of REL2DT and DTHDT (relapse wins a tie), "
               "else LSTALVDT.",
        "EVNTDESC": "Event described when CNSR = 0.",
        "CNSDTDSC": "Censoring date described when CNSR = 1.",
    }


def _subjid_derivation(subjid: pd.Series) -> str:
    """How these SUBJIDs were made (analysis.derive.subject_ids), read from the values: 001, 002, ...
    without a key (synthetic cohort), else a keyed hash (base-32 letters and 2-7, never '0' or '1'),
    described without the key."""
    values = subjid.astype(str).tolist()
    if values == [f"{i:03d}" for i in range(1, len(values) + 1)]:
        return "Sequence number of the patient in input order (001, 002, ...)."
    width = len(values[0]) if values else 8
    return (f"Keyed hash of site and source pseudonym (HMAC-SHA-256 with the study's secret key, kept with the "
            f"data; first {width} base-32 characters): the same patient keeps it across data freezes, and it "
            "cannot be traced back to the pseudonym without the key.")


def _type(series: pd.Series) -> tuple[str, str]:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "Num", "DATE9."
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "Num", ""
    return "Char", ""


def define_frame(derived: dv.Derived) -> pd.DataFrame:
    """The variable-level metadata of ADSL and ADTTE, in dataset column order.

    Columns: Dataset, Dataset label, Sort keys, Variable, Label, Type, Format,
    Codelist, Derivation. Raises ValueError if a variable has no label or a
    name or label is beyond the transport version 5 limits.
    """
    d = derived.definitions
    codelists, derivations = _codelists(d), _derivations(d)
    derivations["SUBJID"] = _subjid_derivation(derived.adsl["SUBJID"])
    rows = []
    for name, frame in (("ADSL", derived.adsl), ("ADTTE", derived.adtte)):
        for var in frame.columns:
            if var not in LABELS:
                raise ValueError(f"{name}.{var} has no label in analysis/adam_define.py")
            kind, fmt = _type(frame[var])
            rows.append({
                "Dataset": name, "Dataset label": DATASET_LABELS[name], "Sort keys": ", ".join(SORT_KEYS[name]),
                "Variable": var, "Label": LABELS[var], "Type": kind, "Format": fmt,
                "Codelist": codelists.get(var, ""),
                "Derivation": derivations.get(var, "Collected." if fmt or var not in codelists else
                                              "Collected; coded to the codelist."),
            })
    out = pd.DataFrame(rows)
    check_v5_names(out)
    return out


def check_v5_names(define: pd.DataFrame) -> None:
    """Names at most 8 characters, labels at most 40, all ASCII (SAS transport version 5)."""
    problems = []
    for rec in define.to_dict("records"):
        if len(rec["Variable"]) > MAX_NAME or not rec["Variable"].isascii():
            problems.append(f"{rec['Dataset']}.{rec['Variable']}: name longer than {MAX_NAME} or not ASCII")
        if len(rec["Label"]) > MAX_LABEL or not rec["Label"].isascii():
            problems.append(f"{rec['Dataset']}.{rec['Variable']}: label {rec['Label']!r} longer than "
                            f"{MAX_LABEL} or not ASCII")
    for name, label in DATASET_LABELS.items():
        if len(label) > MAX_LABEL or len(name) > MAX_NAME:
            problems.append(f"dataset {name}: label longer than {MAX_LABEL}")
    if problems:
        raise ValueError("not valid in SAS transport version 5: " + "; ".join(problems))
