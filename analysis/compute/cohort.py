"""Counts that describe the cohort (patient characteristics of the analysis set),
and the study period (STROBE item 5).

Integers and dates; the manuscript's cohort paragraph and the registry read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class CohortSummary:
    n_relapsed: int
    n_salvage: int
    n_no_salvage: int
    n_male: int
    n_female: int
    age_min: float
    age_max: float
    age_median: float
    n_high_risk_cytogenetics: int
    n_standard_risk_cytogenetics: int
    n_bcr_abl1_positive: int
    n_prior_transplant: int
    n_prior_transplant_before_cart: int
    n_prior_transplant_after_cart: int
    n_cd19_positive: int
    n_cd19_negative_or_dim: int
    n_cd19_unknown: int
    n_relapse_bone_marrow: int
    n_relapse_emd: int
    n_relapse_emd_cns: int
    n_relapse_emd_non_cns: int
    n_emd_preexisting: int
    n_relapse_site_unknown: int
    n_sites: int
    relapse_first: dt.date | None   # earliest relapse after CAR-T, all relapsed patients
    relapse_last: dt.date | None    # latest relapse after CAR-T
    last_follow_up: dt.date | None  # latest date of death or last contact: the end of follow-up


def _day(value) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


#: The columns of the salvage set cohort_summary reads.
_COUNTED = frozenset({"SEX", "AGE", "CYTORISK", "BCRABL1", "PRIORSCT", "PRSCTTIM", "CD19STAT", "RELSITE", "EMDFL",
                      "EMDPREFL"})


def cohort_summary(adsl: pd.DataFrame) -> CohortSummary:
    """Characteristics of the salvage set (SALVFL = Y), the analysis set; the
    counts of the flow and the study period over all relapsed patients."""
    # the columns counted below only (a copy of every ADSL column is ~0.4 GB at 1,000,000 patients)
    s = adsl[[c for c in adsl.columns if c in _COUNTED]][adsl["SALVFL"] == "Y"]

    def count(col: str, *values: str) -> int:
        return int(s[col].isin(values).sum())

    return CohortSummary(
        n_relapsed=len(adsl),
        n_salvage=len(s),
        n_no_salvage=int((adsl["SALVFL"] != "Y").sum()),
        n_male=count("SEX", "M"),
        n_female=count("SEX", "F"),
        age_min=float(s["AGE"].min()),
        age_max=float(s["AGE"].max()),
        age_median=float(s["AGE"].median()),
        n_high_risk_cytogenetics=count("CYTORISK", "High"),
        n_standard_risk_cytogenetics=count("CYTORISK", "Standard"),
        n_bcr_abl1_positive=count("BCRABL1", "Positive"),
        n_prior_transplant=count("PRIORSCT", "Y"),
        n_prior_transplant_before_cart=count("PRSCTTIM", "Before CAR-T"),
        n_prior_transplant_after_cart=count("PRSCTTIM", "After first CAR-T"),
        n_cd19_positive=count("CD19STAT", "Positive"),
        n_cd19_negative_or_dim=count("CD19STAT", "Negative/dim"),
        n_cd19_unknown=count("CD19STAT", "Unknown"),
        n_relapse_bone_marrow=count("RELSITE", "Bone marrow"),
        n_relapse_emd=count("EMDFL", "Y"),
        n_relapse_emd_cns=count("RELSITE", "CNS"),
        n_relapse_emd_non_cns=count("RELSITE", "Non-CNS EMD"),
        n_emd_preexisting=count("EMDPREFL", "Y"),
        n_relapse_site_unknown=count("RELSITE", "Not documented"),
        n_sites=int(adsl["SITEID"].nunique()),
        relapse_first=_day(adsl["RELDT"].min()),
        relapse_last=_day(adsl["RELDT"].max()),
        last_follow_up=_day(pd.concat([adsl["LSTALVDT"], adsl["DTHDT"]]).max()),
    )
