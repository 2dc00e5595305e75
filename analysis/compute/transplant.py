"""Consolidative allogeneic HSCT after salvage: counts, outcomes and a listing.

The listing identifies patients by a sequence number only; it carries no site,
since site and age together could identify one of a handful of transplanted
patients.

Outcomes are mutually exclusive and exhaustive for transplanted patients:
* transplant-related death: death attributed to the transplant without relapse;
* relapse: relapse after the transplant (alive or dead afterwards);
* in CR at last follow-up: alive and relapse-free at last contact;
* other death without relapse: any other death in remission;
* not in CR/CRi before transplant: transplanted without having reached CR/CRi
  after salvage (data validation warns, rule hsct_without_remission), alive or
  dead of other than transplant-related causes: "relapse" and "in CR" do not
  apply to a patient who was never in remission.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OUTCOMES = ("Transplant-related death", "Relapse", "In CR at last follow-up", "Other death without relapse",
            "Not in CR/CRi before transplant")

#: The ADSL columns transplant_outcomes reads.
_READ = frozenset({"USUBJID", "SALVFL", "HSCTFL", "HSCTDT", "HSCTSEQ", "REL2FL", "REL2DT", "DTHFL", "DTHDT",
                   "DTHCAUS", "LSTALVDT", "CRFL", "CRDT", "AGE", "SALVMOD", "BESTRESP"})


@dataclass(frozen=True)
class TransplantResult:
    """Counts (integers) and a pseudonymous listing.

    listing columns: LISTNO (1..n, a sequence number for this output only), AGE, SALVMOD, BESTRESP, HSCTSEQ, CR_TO_HSCT_MONTHS, OUTCOME,
    FOLLOWUP_AFTER_HSCT_MONTHS (to death or last contact).
    """

    n_salvage: int
    n_cr: int
    n_hsct: int
    n_first: int
    n_second: int
    outcomes: dict[str, int]
    listing: pd.DataFrame


def transplant_outcomes(adsl: pd.DataFrame, *, days_per_month: float) -> TransplantResult:
    # the columns read below only (a copy of every ADSL column is ~0.4 GB at 1,000,000 patients)
    salv = adsl[[c for c in adsl.columns if c in _READ]][adsl["SALVFL"] == "Y"]
    tx = salv[salv["HSCTFL"] == "Y"].sort_values(["HSCTDT", "USUBJID"], kind="stable")
    relapsed = (tx["REL2FL"] == "Y") & (tx["REL2DT"] >= tx["HSCTDT"])
    dead = tx["DTHFL"] == "Y"
    trd = dead & ~relapsed & (tx["DTHCAUS"] == "Transplant-related")
    in_cr = tx["CRFL"] == "Y"
    outcome = np.select(
        [trd, ~in_cr, relapsed, ~dead & ~relapsed],
        [OUTCOMES[0], OUTCOMES[4], OUTCOMES[1], OUTCOMES[2]],
        default=OUTCOMES[3],
    )
    end = tx["DTHDT"].where(dead, tx["LSTALVDT"])
    listing = pd.DataFrame(
        {
            "LISTNO": np.arange(1, len(tx) + 1),
            "AGE": tx["AGE"].to_numpy(),
            "SALVMOD": tx["SALVMOD"].to_numpy(),
            "BESTRESP": tx["BESTRESP"].to_numpy(),
            "HSCTSEQ": tx["HSCTSEQ"].to_numpy(),
            "CR_TO_HSCT_MONTHS": ((tx["HSCTDT"] - tx["CRDT"]).dt.days / days_per_month).to_numpy(),
            "OUTCOME": outcome,
            "FOLLOWUP_AFTER_HSCT_MONTHS": ((end - tx["HSCTDT"]).dt.days / days_per_month).to_numpy(),
        }
    )
    return TransplantResult(
        n_salvage=len(salv),
        n_cr=int((salv["CRFL"] == "Y").sum()),
        n_hsct=len(tx),
        n_first=int((tx["HSCTSEQ"] == "First").sum()),
        n_second=int((tx["HSCTSEQ"] == "Second").sum()),
        outcomes={o: int((outcome == o).sum()) for o in OUTCOMES},
        listing=listing,
    )
