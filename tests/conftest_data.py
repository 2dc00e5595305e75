"""A small valid base table for the loading and validation tests.

Six made-up patients (pseudonyms T-001 ... T-006) that pass every rule of
data/dictionary.yml and cover: salvage yes and no; CR, CRi, PR, NR; a relapse
after salvage remission; deaths with several causes; transplants after
salvage (first and second); an extramedullary (CNS) relapse. Each test
changes one or a few cells and writes the table to tmp_path in the format it
needs. Values are text, as a site would type them into a CSV file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis.dictionary import Dictionary, load_dictionary

_ROWS = [
    # T-001: salvage, CR, first allo-HSCT, alive.
    dict(
        patient_id="T-001", site="T", sex="male", age_at_relapse="34", diagnosis_date="2018-03-01",
        cytogenetic_risk="high", bcr_abl1="negative", marrow_blasts_pct="80", cart_product="tisagenlecleucel",
        cart_date="2019-05-10", prior_transplant="none", relapse_date="2019-11-20", cd19_status="negative_dim",
        relapse_site="bone_marrow", emd_preexisting="", salvage="yes", no_salvage_reason="",
        salvage_class="monoclonal_antibody", salvage_agent="blinatumomab", salvage_date="2019-12-01",
        best_response="CR", cr_date="2020-01-10", hsct_after_salvage="first", hsct_date="2020-03-15",
        post_salvage_relapse="no", post_salvage_relapse_date="", death_date="", death_cause="",
        last_contact_date="2021-06-30", synthetic="yes",
    ),
    # T-002: salvage, CRi, relapse after salvage, died of leukaemia.
    dict(
        patient_id="T-002", site="T", sex="female", age_at_relapse="12", diagnosis_date="2017-06-15",
        cytogenetic_risk="standard", bcr_abl1="positive", marrow_blasts_pct="45", cart_product="",
        cart_date="2019-02-01", prior_transplant="before_cart", relapse_date="2019-09-03", cd19_status="positive",
        relapse_site="bone_marrow", emd_preexisting="", salvage="yes", no_salvage_reason="",
        salvage_class="chemo_tki", salvage_agent="dasatinib + hyper-CVAD", salvage_date="2019-09-20",
        best_response="CRi", cr_date="2019-11-02", hsct_after_salvage="none", hsct_date="",
        post_salvage_relapse="yes", post_salvage_relapse_date="2020-10-01", death_date="2021-01-15",
        death_cause="disease", last_contact_date="2021-01-15", synthetic="yes",
    ),
    # T-003: CNS relapse, salvage, PR, died of infection (last contact before death).
    dict(
        patient_id="T-003", site="T", sex="male", age_at_relapse="45", diagnosis_date="",
        cytogenetic_risk="", bcr_abl1="negative", marrow_blasts_pct="0", cart_product="axicabtagene",
        cart_date="2019-08-20", prior_transplant="after_cart", relapse_date="2020-01-05", cd19_status="unknown",
        relapse_site="cns", emd_preexisting="yes", salvage="yes", no_salvage_reason="",
        salvage_class="chemotherapy", salvage_agent="", salvage_date="2020-01-20",
        best_response="PR", cr_date="", hsct_after_salvage="none", hsct_date="",
        post_salvage_relapse="", post_salvage_relapse_date="", death_date="2020-08-01",
        death_cause="infection", last_contact_date="2020-07-20", synthetic="yes",
    ),
    # T-004: no salvage (early death).
    dict(
        patient_id="T-004", site="T", sex="female", age_at_relapse="8", diagnosis_date="2016-01-10",
        cytogenetic_risk="standard", bcr_abl1="negative", marrow_blasts_pct="95", cart_product="",
        cart_date="2019-07-01", prior_transplant="none", relapse_date="2020-01-12", cd19_status="positive",
        relapse_site="bone_marrow", emd_preexisting="", salvage="no", no_salvage_reason="early_death",
        salvage_class="", salvage_agent="", salvage_date="",
        best_response="", cr_date="", hsct_after_salvage="", hsct_date="",
        post_salvage_relapse="", post_salvage_relapse_date="", death_date="2020-02-01",
        death_cause="disease", last_contact_date="2020-02-01", synthetic="yes",
    ),
    # T-005: CAR-T reinfusion, CRi, second allo-HSCT, transplant-related death.
    dict(
        patient_id="T-005", site="T", sex="male", age_at_relapse="60", diagnosis_date="2015-04-04",
        cytogenetic_risk="high", bcr_abl1="negative", marrow_blasts_pct="30.5", cart_product="",
        cart_date="2018-12-01", prior_transplant="before_cart", relapse_date="2019-06-10", cd19_status="positive",
        relapse_site="bone_marrow", emd_preexisting="", salvage="yes", no_salvage_reason="",
        salvage_class="cart_reinfusion", salvage_agent="", salvage_date="2019-07-01",
        best_response="CRi", cr_date="2019-08-05", hsct_after_salvage="second", hsct_date="2019-09-01",
        post_salvage_relapse="no", post_salvage_relapse_date="", death_date="2019-12-24",
        death_cause="transplant_related", last_contact_date="2019-12-20", synthetic="yes",
    ),
    # T-006: extramedullary relapse outside the CNS, no salvage (supportive care), alive.
    dict(
        patient_id="T-006", site="T", sex="female", age_at_relapse="25", diagnosis_date="2017-09-09",
        cytogenetic_risk="", bcr_abl1="negative", marrow_blasts_pct="", cart_product="",
        cart_date="2019-03-03", prior_transplant="none", relapse_date="2019-10-10", cd19_status="negative_dim",
        relapse_site="non_cns_emd", emd_preexisting="no", salvage="no", no_salvage_reason="supportive_care",
        salvage_class="", salvage_agent="", salvage_date="",
        best_response="", cr_date="", hsct_after_salvage="", hsct_date="",
        post_salvage_relapse="", post_salvage_relapse_date="", death_date="",
        death_cause="", last_contact_date="2020-04-30", synthetic="yes",
    ),
]


@lru_cache(maxsize=1)
def dictionary() -> Dictionary:
    """The project's data dictionary (data/dictionary.yml); read once (it is immutable)."""
    return load_dictionary()


def base_table() -> pd.DataFrame:
    """The six valid patients, every dictionary column, all values text ('' = empty cell)."""
    names = dictionary().names
    return pd.DataFrame(_ROWS, columns=names).astype(object)


def change(table: pd.DataFrame, patient: str, **values: str) -> pd.DataFrame:
    """A copy of ``table`` with some cells of one patient replaced."""
    out = table.copy()
    where = out["patient_id"] == patient
    if not where.any():
        raise KeyError(patient)
    for column, value in values.items():
        out.loc[where, column] = value
    return out


def file_row(table: pd.DataFrame, patient: str) -> int:
    """The row number a person sees for ``patient`` in a CSV/Excel file written from ``table``."""
    return int((table["patient_id"] == patient).to_numpy().nonzero()[0][0]) + 2


def write_csv(table: pd.DataFrame, path: Path, *, encoding: str = "utf-8", sep: str = ",") -> Path:
    """Write ``table`` as a site's CSV export (empty string = empty cell)."""
    table.to_csv(path, index=False, encoding=encoding, sep=sep)
    return path
