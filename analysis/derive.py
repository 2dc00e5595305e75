"""Derivation: analysis populations, groups, times, events and the patient flow.

Input is the typed, validated cohort (one row per patient, dictionary names and
codes). Output follows CDISC ADaM naming so that a statistical reviewer can
refit every model from the exports:

* ADSL, one row per subject, with the analysis flags (SALVFL), groups
  (SALVGRP, SALVMOD, RELSITE, EMDGRP) and every model covariate;
* ADTTE, one row per subject and parameter: OS (all relapsed patients; the
  analysis uses the population named in the configuration) and RFS (patients
  in CR/CRi after salvage).

Definitions (stated again in the manuscript's methods):
* time zero for OS is the date of relapse after CAR-T; an event is death from
  any cause; a patient alive is censored at the date of last contact;
* RFS starts at the date of CR/CRi after salvage; an event is relapse or death
  from any cause, whichever comes first; censored at last contact;
* months = days / 30.4375 (configurable).

Source pseudonyms are not carried into ADSL. SITEID is the site written in ASCII
letters, digits and '-' (:func:`analysis.load.site_code`: "Hôpital Saint-Louis"
-> Hopital-Saint-Louis; validation refuses sites that have no such form or that
would share one). USUBJID is STUDYID-SITEID-SUBJID:
for real data SUBJID is a keyed hash (HMAC-SHA-256 with the study's secret key)
of site (as read) and source pseudonym, so it stays the same when a site adds, removes or
reorders rows between data freezes and cannot be traced back to the pseudonym
without the key; for the shipped synthetic cohort (no key) it is a sequence
number in input order.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SALVMOD_LABELS = {
    "cart_reinfusion": "CAR-T reinfusion",
    "monoclonal_antibody": "Monoclonal antibody",
    "chemo_tki": "Chemotherapy with TKI",
    "chemotherapy": "Chemotherapy",
}
#: Regimen classes grouped as targeted therapy (versus chemotherapy alone).
TARGETED_CLASSES = ("cart_reinfusion", "monoclonal_antibody", "chemo_tki")
SALVGRP_LEVELS = ("Targeted", "Chemotherapy")
RELSITE_LABELS = {
    "bone_marrow": "Bone marrow",
    "cns": "CNS",
    "non_cns_emd": "Non-CNS EMD",
    "not_documented": "Not documented",
}
CD19_LABELS = {"positive": "Positive", "negative_dim": "Negative/dim", "unknown": "Unknown"}
PRIORSCT_LABELS = {"none": "None", "before_cart": "Before CAR-T", "after_cart": "After first CAR-T"}
HSCTSEQ_LABELS = {"first": "First", "second": "Second"}
NOSALV_LABELS = {
    "early_death": "Died before salvage could start",
    "supportive_care": "Best supportive care",
    "declined": "Declined treatment",
    "lost_to_follow_up": "Lost to follow-up",
    "other": "Other reason",
}
DTHCAUS_LABELS = {
    "disease": "Leukaemia",
    "transplant_related": "Transplant-related",
    "infection": "Infection",
    "other": "Other",
    "unknown": "Unknown",
}
PARAMS = {
    "OS": "Overall survival from relapse after CAR-T (months)",
    "RFS": "Relapse-free survival from CR/CRi after salvage (months)",
}


@dataclass(frozen=True)
class Definitions:
    """Derivation choices, from the configuration's ``definitions`` section."""

    days_per_month: float
    adult_age_years: float
    high_marrow_burden_pct: float

    @classmethod
    def from_settings(cls, settings) -> "Definitions":
        """From the configuration's typed ``definitions`` section."""
        return cls(days_per_month=settings.days_per_month, adult_age_years=settings.adult_age_years,
                   high_marrow_burden_pct=settings.high_marrow_burden_pct)

    @property
    def age_groups(self) -> tuple[str, str]:
        a = f"{self.adult_age_years:g}"
        return (f"<{a}", f">={a}")

    @property
    def burden_groups(self) -> tuple[str, str]:
        b = f"{self.high_marrow_burden_pct:g}"
        return (f"<{b}%", f">={b}%")


@dataclass(frozen=True)
class PatientFlow:
    """Every input patient accounted for.

    ``steps``: step, label, n, parent (the step it is a subset of), kind
    ("population" | "exclusion" | "subgroup" | "note": a count
    beside the flow, e.g. transplanted without CR/CRi). ``exclusions``: reason, n.
    Counts add up: n_input == n_salvage + sum(exclusions.n).
    """

    steps: pd.DataFrame
    exclusions: pd.DataFrame

    def n(self, step: str) -> int:
        return int(self.steps.loc[self.steps["step"] == step, "n"].iloc[0])


@dataclass(frozen=True)
class Derived:
    adsl: pd.DataFrame
    adtte: pd.DataFrame
    flow: PatientFlow
    synthetic: bool
    definitions: Definitions
    #: tte() rows already matched, by (paramcd, population): (ADTTE positions, ADSL
    #: positions). The analysis asks for the same joins about ten times; matching
    #: the string keys and checking them cost most of each (0.25 s at 100,000
    #: patients). Only positions are kept (a million-patient frame is ~0.5 GB), not pickled;
    #: and, under None, ADSL's USUBJID index, checked unique (built once for every parameter).
    _tte_rows: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_tte_rows"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _tte_rows={})

    def tte(self, paramcd: str, *, population: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """ADTTE rows of one parameter joined with ADSL, plus EVENT = 1 - CNSR.

        population: "salvage" (SALVFL == "Y", the analysis set) or "all".
        columns: only these columns (of ADTTE, ADSL or EVENT; None: all), in the
        order of the whole frame; a column of neither is a KeyError. A frame of
        every column of the analysis set is ~0.4 GB at 1,000,000 patients, and
        an analysis that keeps one should keep only what it uses.
        Each call returns a new frame (the rows are matched once per
        (paramcd, population)).
        """
        if population not in ("salvage", "all"):
            raise ValueError(f"unknown population {population!r} (salvage or all)")
        key = (paramcd, population)
        if key not in self._tte_rows:
            self._tte_rows[key] = self._match_tte(paramcd, population)
        rows, subjects = self._tte_rows[key]
        index = pd.RangeIndex(len(rows))
        if columns is None:
            tte = self.adtte.take(rows)
            adsl = self.adsl.take(subjects)
            del adsl["STUDYID"], adsl["USUBJID"]  # in place: drop() would copy the frame again
        else:
            wanted = set(columns)
            unknown = wanted - set(self.adtte.columns) - set(self.adsl.columns) - {"EVENT"}
            if unknown:
                raise KeyError(f"tte(): no column {sorted(unknown)} in ADTTE or ADSL")
            # CNSR for EVENT; ADSL's keys are ADTTE's (never taken twice)
            tte = self.adtte[[c for c in self.adtte.columns if c in wanted or c == "CNSR"]].take(rows)
            adsl = self.adsl[[c for c in self.adsl.columns
                              if c in wanted and c not in ("STUDYID", "USUBJID")]].take(subjects)
        tte.index = index
        adsl.index = index
        out = pd.concat([tte, adsl], axis=1, copy=False)
        out["EVENT"] = 1 - out["CNSR"]
        if columns is not None:
            out = out[[c for c in out.columns if c in wanted]]
        return out

    def _match_tte(self, paramcd: str, population: str) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the ADTTE rows of ``paramcd`` in ``population`` and of
        their ADSL subjects, in ADTTE order."""
        rows = np.flatnonzero((self.adtte["PARAMCD"] == paramcd).to_numpy(dtype=bool, na_value=False))
        tte = self.adtte.take(rows)
        # the left join on (STUDYID, USUBJID), one ADSL row per ADTTE row, by
        # position: pandas' merge(validate="one_to_one") factorises the string
        # keys for every call (~0.7 s at 100,000 patients)
        subjects = self._tte_rows.get(None)
        if subjects is None:
            subjects = pd.Index(self.adsl["USUBJID"])
            if not subjects.is_unique:
                raise ValueError("ADSL has more than one row for a USUBJID")
            self._tte_rows[None] = subjects
        pos = subjects.get_indexer(tte["USUBJID"])
        if tte["USUBJID"].duplicated().any():
            raise ValueError(f"ADTTE has more than one {paramcd} row for a USUBJID")
        if (pos < 0).any():
            raise ValueError(f"ADTTE {paramcd} rows without an ADSL subject")
        if not (self.adsl["STUDYID"].to_numpy()[pos] == tte["STUDYID"].to_numpy()).all():
            raise ValueError("ADTTE and ADSL disagree on STUDYID")
        if population == "salvage":
            keep = (self.adsl["SALVFL"].take(pos) == "Y").to_numpy(dtype=bool, na_value=False)
            rows, pos = rows[keep], pos[keep]
        return rows, pos

    @property
    def salvage(self) -> pd.DataFrame:
        return self.salvage_set()

    def salvage_set(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """ADSL rows of the salvage set (SALVFL == "Y"), index 0..n-1.

        columns: only those of these columns that ADSL has (None: all), in
        ADSL's order; an analysis that reads a few columns takes only them
        (a copy of every column is ~0.4 GB at 1,000,000 patients)."""
        mask = self.adsl["SALVFL"] == "Y"
        if columns is None:
            return self.adsl[mask].reset_index(drop=True)
        wanted = set(columns)
        # the columns first (.loc[mask, cols] would take the rows of every column first)
        return self.adsl[[c for c in self.adsl.columns if c in wanted]][mask].reset_index(drop=True)


def _one(text: str | None) -> np.ndarray:
    """``text`` as a 0-d object array: ``np.where(mask, _one("Death"), None)`` then
    refers to one text object, where ``np.where(mask, "Death", None)`` makes one per
    cell (at 1,000,000 patients ~55 MB a column). Same values."""
    return np.array(text, dtype=object)


def _yn(mask: pd.Series) -> pd.Series:
    return pd.Series(np.where(mask, "Y", "N"), index=mask.index, dtype="string")


def _months(end: pd.Series, start: pd.Series, days_per_month: float) -> pd.Series:
    return (end - start).dt.days.astype(float) / days_per_month


def _map(series: pd.Series, labels: dict[str, str]) -> pd.Series:
    """``series.map(labels).astype("string")``, each distinct value looked up once
    (``pd.factorize``; missing values have code -1): the same labels, without a
    hash lookup of every cell through pandas' generic ``map``."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = pd.array([labels.get(u) for u in uniques] + [None], dtype="string")  # last slot: missing
    return pd.Series(table[codes], index=series.index, name=series.name)


def subject_ids(site: pd.Series, pseudonym: pd.Series, key: bytes | None) -> pd.Series:
    """SUBJID of each patient: with a key, the first 8 characters (40 bits) of
    the base-32 HMAC-SHA-256 of site and pseudonym, 16 if 8 would collide;
    without one, 001, 002, ... in input order."""
    if key is None:
        return pd.Series([f"{i:03d}" for i in range(1, len(site) + 1)], dtype="string")
    digests = [hmac.digest(key, f"{s}\x1f{p}".encode(), "sha256")
               for s, p in zip(site.astype(str), pseudonym.astype(str))]
    sites = site.astype(str).to_numpy()
    # base 32 writes each 5 bytes as 8 characters of their own: the first 8 (16) characters of the
    # digest's encoding are those of its first 5 (10) bytes, encoded in a quarter of the time
    # (base64.b32encode is Python code; 4 s of 5 at 1,000,000 patients encoding whole digests)
    for width, size in ((8, 5), (16, 10), (52, 32)):
        ids = [base64.b32encode(d[:size]).decode()[:width] for d in digests]
        if not pd.Series([f"{s}-{i}" for s, i in zip(sites, ids)]).duplicated().any():
            return pd.Series(ids, dtype="string")
    raise ValueError("two patients have the same site and pseudonym")  # pragma: no cover - validation refuses it


def site_codes(site: pd.Series) -> pd.Series:
    """SITEID of each patient: :func:`analysis.load.site_code` of the site, once per distinct site.
    Raises ValueError for a site that has none (validation refuses such data first)."""
    from .load import site_code

    codes, uniques = pd.factorize(site, use_na_sentinel=True)
    table = pd.array([site_code(u) for u in uniques] + [None], dtype="string")  # last slot: missing
    return pd.Series(table[codes], index=site.index)


def derive_adsl(cohort: pd.DataFrame, *, study_id: str, definitions: Definitions,
                id_key: bytes | None = None) -> pd.DataFrame:
    """ADSL: one row per input patient, in input order (see :func:`subject_ids`)."""
    c = cohort.reset_index(drop=True)
    d = definitions
    site = c["site"].astype("string")
    subjid = subject_ids(site, c["patient_id"], id_key)
    siteid = site_codes(site)
    young, adult = d.age_groups
    low, high = d.burden_groups
    salv = c["salvage"] == "yes"
    cr = c["best_response"].isin(["CR", "CRi"]).fillna(False).astype(bool)
    relsite = c["relapse_site"]
    emd = relsite.isin(["cns", "non_cns_emd"])
    documented = relsite != "not_documented"
    hsct = c["hsct_after_salvage"].isin(["first", "second"]).fillna(False).astype(bool)
    dead = c["death_date"].notna()
    blasts = c["marrow_blasts_pct"].astype(float)
    age = c["age_at_relapse"].astype(float)

    adsl = pd.DataFrame(
        {
            "STUDYID": study_id,
            "USUBJID": study_id + "-" + siteid + "-" + subjid,
            "SUBJID": subjid.astype("string"),
            "SITEID": siteid,
            "AGE": age,
            "AGEU": "YEARS",
            "AGEGR1": pd.Series(np.where(age >= d.adult_age_years, _one(adult), _one(young)), dtype="string").where(age.notna()),
            "SEX": _map(c["sex"], {"male": "M", "female": "F"}),
            "CYTORISK": _map(c["cytogenetic_risk"], {"high": "High", "standard": "Standard"}),
            "BCRABL1": _map(c["bcr_abl1"], {"positive": "Positive", "negative": "Negative"}),
            "BMBLAST": blasts,
            "BMBURDEN": pd.Series(np.where(blasts >= d.high_marrow_burden_pct, _one(high), _one(low)), dtype="string").where(blasts.notna()),
            "CARTDT": c["cart_date"],
            "PRIORSCT": _yn(c["prior_transplant"] != "none"),
            "PRSCTTIM": _map(c["prior_transplant"], PRIORSCT_LABELS),
            "CD19STAT": _map(c["cd19_status"], CD19_LABELS),
            "CD19NEG": _yn(c["cd19_status"] == "negative_dim").where(c["cd19_status"] != "unknown"),
            "RELSITE": _map(relsite, RELSITE_LABELS),
            "EMDFL": _yn(emd).where(documented),
            "EMDGRP": _map(relsite.where(emd), RELSITE_LABELS),
            "EMDPREFL": _map(c["emd_preexisting"], {"yes": "Y", "no": "N"}),
            "RELDT": c["relapse_date"],
            "SALVFL": _yn(salv),
            "NOSALVRS": _map(c["no_salvage_reason"], NOSALV_LABELS),
            "SALVGRP": pd.Series(
                np.where(c["salvage_class"].isin(TARGETED_CLASSES), _one(SALVGRP_LEVELS[0]), _one(SALVGRP_LEVELS[1])),
                dtype="string",
            ).where(salv),
            "SALVMOD": _map(c["salvage_class"], SALVMOD_LABELS),
            "SALVDT": c["salvage_date"],
            "BESTRESP": c["best_response"].astype("string"),
            "CRFL": _yn(cr).where(salv),
            "CRDT": c["cr_date"],
            "HSCTFL": _yn(hsct).where(salv),
            "HSCTSEQ": _map(c["hsct_after_salvage"].where(hsct), HSCTSEQ_LABELS),
            "HSCTDT": c["hsct_date"],
            "REL2FL": _map(c["post_salvage_relapse"], {"yes": "Y", "no": "N"}),
            "REL2DT": c["post_salvage_relapse_date"],
            "DTHFL": _yn(dead),
            "DTHDT": c["death_date"],
            "DTHCAUS": _map(c["death_cause"], DTHCAUS_LABELS),
            "LSTALVDT": c["last_contact_date"],
            "SYNTHFL": _yn((c["synthetic"] == "yes").fillna(False).astype(bool)) if "synthetic" in c else "N",
        }
    )
    return adsl


def derive_adtte(adsl: pd.DataFrame, *, definitions: Definitions) -> pd.DataFrame:
    """ADTTE: OS for every patient, RFS for patients in CR/CRi after salvage.

    CNSR follows the ADaM convention: 0 = event, 1 = censored.
    """
    dpm = definitions.days_per_month
    dead = adsl["DTHFL"] == "Y"
    os_adt = adsl["DTHDT"].where(dead, adsl["LSTALVDT"])
    os_ = pd.DataFrame(
        {
            "STUDYID": adsl["STUDYID"],
            "USUBJID": adsl["USUBJID"],
            "PARAMCD": "OS",
            "PARAM": PARAMS["OS"],
            "STARTDT": adsl["RELDT"],
            "ADT": os_adt,
            "CNSR": np.where(dead, 0, 1),
            "EVNTDESC": pd.Series(np.where(dead, _one("Death"), None), dtype="string"),
            "CNSDTDSC": pd.Series(np.where(dead, None, _one("Alive at last contact")), dtype="string"),
        }
    )
    resp = adsl[adsl["CRFL"] == "Y"]
    relapsed = resp["REL2FL"] == "Y"
    rdead = resp["DTHFL"] == "Y"
    # the earlier of relapse and death; relapse wins a tie (it is the disease event)
    ev_date = resp["REL2DT"].where(relapsed, resp["DTHDT"].where(rdead))
    both = relapsed & rdead
    ev_date = ev_date.where(~both, np.minimum(resp["REL2DT"], resp["DTHDT"]))
    event = relapsed | rdead
    desc = np.where(relapsed & ~(both & (resp["DTHDT"] < resp["REL2DT"])), _one("Relapse"), _one("Death without relapse"))
    rfs = pd.DataFrame(
        {
            "STUDYID": resp["STUDYID"],
            "USUBJID": resp["USUBJID"],
            "PARAMCD": "RFS",
            "PARAM": PARAMS["RFS"],
            "STARTDT": resp["CRDT"],
            "ADT": ev_date.where(event, resp["LSTALVDT"]),
            "CNSR": np.where(event, 0, 1),
            "EVNTDESC": pd.Series(np.where(event, desc, None), index=resp.index, dtype="string"),
            "CNSDTDSC": pd.Series(np.where(event, None, _one("Alive in remission at last contact")), index=resp.index,
                                  dtype="string"),
        }
    )
    out = pd.concat([os_, rfs], ignore_index=True)
    out.insert(3, "PARAMN", out["PARAMCD"].map({"OS": 1, "RFS": 2}))
    out["AVAL"] = _months(out["ADT"], out["STARTDT"], dpm)
    out["AVALU"] = "MONTHS"
    cols = ["STUDYID", "USUBJID", "PARAMCD", "PARAMN", "PARAM", "AVAL", "AVALU", "CNSR",
            "STARTDT", "ADT", "EVNTDESC", "CNSDTDSC"]
    return out[cols].sort_values(["PARAMN", "USUBJID"], kind="stable").reset_index(drop=True)


def _in_sentence(label: str) -> str:
    """A label as it reads mid-sentence: 'Monoclonal antibody' -> 'monoclonal
    antibody', but acronyms such as 'CAR-T reinfusion' keep their case."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or "-" in first else label[0].lower() + label[1:]


def patient_flow(adsl: pd.DataFrame) -> PatientFlow:
    """The patient-flow record: from all relapsed patients to consolidative HSCT."""
    n_all = len(adsl)
    salv = adsl[adsl["SALVFL"] == "Y"]
    nosalv = adsl[adsl["SALVFL"] != "Y"]
    reasons = (
        nosalv["NOSALVRS"].fillna("Reason not recorded").value_counts().rename_axis("reason").reset_index(name="n")
    )
    reasons = reasons.sort_values(["n", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)
    rows = [
        ("relapsed", "Relapsed after CD19 CAR-T therapy", n_all, None, "population"),
        ("no_salvage", "No salvage therapy", len(nosalv), "relapsed", "exclusion"),
        ("salvage", "Received salvage therapy", len(salv), "relapsed", "population"),
    ]
    for code, label in SALVMOD_LABELS.items():
        grp = salv[salv["SALVMOD"] == label]
        rows.append((f"class_{code}", label, len(grp), "salvage", "subgroup"))
        rows.append((f"cr_{code}", f"CR/CRi after {_in_sentence(label)}", int((grp["CRFL"] == "Y").sum()),
                     f"class_{code}", "subgroup"))
    rows.append(("cr", "CR/CRi after salvage", int((salv["CRFL"] == "Y").sum()), "salvage", "population"))
    hsct = salv["HSCTFL"] == "Y"
    cr = salv["CRFL"] == "Y"
    rows.append(("hsct", "Consolidative allo-HSCT after salvage", int((hsct & cr).sum()), "cr", "subgroup"))
    if (hsct & ~cr).any():  # transplanted without CR/CRi: shown under salvage so no one is hidden
        rows.append(("hsct_not_cr", "Allo-HSCT after salvage without CR/CRi", int((hsct & ~cr).sum()),
                     "salvage", "note"))
    steps = pd.DataFrame(rows, columns=["step", "label", "n", "parent", "kind"])
    flow = PatientFlow(steps=steps, exclusions=reasons)
    if flow.n("salvage") + int(reasons["n"].sum()) != n_all:  # pragma: no cover - guards the invariant
        raise AssertionError("patient flow does not add up")
    return flow


def derive(cohort: pd.DataFrame, *, study_id: str, definitions: Definitions,
           id_key: bytes | None = None) -> Derived:
    """Typed, validated cohort -> ADSL, ADTTE and the patient flow."""
    adsl = derive_adsl(cohort, study_id=study_id, definitions=definitions, id_key=id_key)
    adtte = derive_adtte(adsl, definitions=definitions)
    return Derived(
        adsl=adsl,
        adtte=adtte,
        flow=patient_flow(adsl),
        synthetic=bool((adsl["SYNTHFL"] == "Y").any()),
        definitions=definitions,
    )
