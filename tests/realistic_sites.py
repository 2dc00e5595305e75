"""A multi-site dataset shaped like real site exports (synthetic in content).

The shipped synthetic cohort (data/synthetic/) rewritten the way three sites
really send their data, so that the user's path -- their own files, not ours --
runs in the tests:

* SITE-A: a CSV with the site's own (German) column names and codes, dates as
  DD.MM.YYYY, decimal commas, semicolons between values, and a mapping file;
* SITE-B: an .xlsx workbook whose first sheet is a read-me and whose data are
  on a sheet named ``Patients``, with real Excel date cells;
* SITE-C: an SPSS .sav file with numeric codes carrying value labels in the
  site's language, SPSS date variables, a mapping file, and one optional
  column (CAR-T product) empty for every patient.

No file has a ``synthetic`` or ``site`` column (sites are named in
``sources.yml``), as a real export would not. The patients are the synthetic
cohort's 74, so no real patient is involved.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import yaml

from analysis.config import PROJECT_ROOT

SYNTHETIC = PROJECT_ROOT / "data" / "synthetic"

# SITE-A: their column name -> dictionary name
A_COLUMNS = {
    "Pseudonym": "patient_id", "Geschlecht": "sex", "Alter bei Rezidiv": "age_at_relapse",
    "Diagnosedatum": "diagnosis_date", "Zytogenetik": "cytogenetic_risk", "BCR-ABL1": "bcr_abl1",
    "Blasten KM (%)": "marrow_blasts_pct", "CAR-T Produkt": "cart_product", "CAR-T Datum": "cart_date",
    "SZT vorher": "prior_transplant", "Rezidiv Datum": "relapse_date", "CD19": "cd19_status",
    "Rezidivort": "relapse_site", "EMD vorbestehend": "emd_preexisting", "Salvage": "salvage",
    "Grund keine Salvage": "no_salvage_reason", "Salvage Klasse": "salvage_class",
    "Salvage Substanz": "salvage_agent", "Salvage Datum": "salvage_date", "Ansprechen": "best_response",
    "CR Datum": "cr_date", "SZT nach Salvage": "hsct_after_salvage", "SZT Datum": "hsct_date",
    "Rezidiv nach Salvage": "post_salvage_relapse", "Datum Rezidiv nach Salvage": "post_salvage_relapse_date",
    "Datum Tod": "death_date", "Todesursache": "death_cause", "Letzter Kontakt": "last_contact_date",
}
A_CODES = {
    "sex": {"m": "male", "w": "female"},
    "salvage": {"ja": "yes", "nein": "no"},
    "emd_preexisting": {"ja": "yes", "nein": "no"},
    "post_salvage_relapse": {"ja": "yes", "nein": "no"},
}
C_LABELS = {  # SPSS value labels in the site's language: dictionary code -> (number, their label)
    "sex": {"male": (1, "Homme"), "female": (2, "Femme")},
    "salvage": {"yes": (1, "Oui"), "no": (0, "Non")},
}


def _cohort() -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(SYNTHETIC.glob("site_*.csv"))]
    return pd.concat(frames, ignore_index=True)


def _dates(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    out = frame.copy()
    for c in [c for c in out if c.endswith("_date")]:
        d = pd.to_datetime(out[c].replace("", None), format="%Y-%m-%d")
        out[c] = d.dt.strftime(fmt).fillna("")
    return out


def write_sites(folder: Path) -> Path:
    """Write the three site files, their mappings and ``sources.yml`` into
    ``folder``; returns the path of ``sources.yml``."""
    folder.mkdir(parents=True, exist_ok=True)
    cohort = _cohort()
    parts = {s: cohort[cohort["site"] == s].drop(columns=["site", "synthetic"]) for s in cohort["site"].unique()}
    (a_site, a), (b_site, b), (c_site, c) = sorted(parts.items())

    # SITE-A: CSV, own names and codes, DD.MM.YYYY, decimal comma, semicolons
    rev_codes = {col: {ours: theirs for theirs, ours in table.items()} for col, table in A_CODES.items()}
    a = _dates(a, "%d.%m.%Y")
    for col, table in rev_codes.items():
        a[col] = a[col].map(lambda v, t=table: t.get(v, v))
    a["marrow_blasts_pct"] = a["marrow_blasts_pct"].str.replace(".", ",", regex=False)
    a.rename(columns={ours: theirs for theirs, ours in A_COLUMNS.items()}).to_csv(
        folder / "site_a_export.csv", sep=";", index=False, encoding="utf-8")
    (folder / "site_a.mapping.yml").write_text(yaml.safe_dump(
        {"columns": A_COLUMNS, "codes": A_CODES, "date_format": "DD.MM.YYYY", "decimal": ",", "delimiter": ";"},
        allow_unicode=True, sort_keys=False), encoding="utf-8")

    # SITE-B: workbook, read-me sheet first, data on "Patients", real date cells
    b = b.copy()
    for col in [c for c in b if c.endswith("_date")]:
        b[col] = pd.to_datetime(b[col].replace("", None), format="%Y-%m-%d")
    for col in ("age_at_relapse", "marrow_blasts_pct"):
        b[col] = pd.to_numeric(b[col].replace("", None))
    with pd.ExcelWriter(folder / "site_b_registry.xlsx", engine="openpyxl") as xl:
        pd.DataFrame({"About this export": ["Registry export for the CAR-T relapse study",
                                           "One row per patient on sheet Patients"]}).to_excel(
            xl, sheet_name="Read me", index=False)
        b.replace("", None).to_excel(xl, sheet_name="Patients", index=False)

    # SITE-C: SPSS, numeric codes with value labels, SPSS dates, an empty optional column
    c = c.copy()
    c["cart_product"] = ""
    labels = {}
    for col, table in C_LABELS.items():
        c[col] = c[col].map({code: num for code, (num, _) in table.items()}).astype(float)
        labels[col] = {float(num): lab for num, lab in table.values()}
    for col in [c_ for c_ in c if c_.endswith("_date")]:
        c[col] = pd.to_datetime(c[col].replace("", None), format="%Y-%m-%d")
    for col in ("age_at_relapse", "marrow_blasts_pct"):
        c[col] = pd.to_numeric(c[col].replace("", None))
    pyreadstat.write_sav(c, folder / "site_c.sav", variable_value_labels=labels)
    (folder / "site_c.mapping.yml").write_text(yaml.safe_dump(
        {"codes": {col: {lab: code for code, (_, lab) in table.items()} for col, table in C_LABELS.items()}},
        allow_unicode=True, sort_keys=False), encoding="utf-8")

    sources = {"sources": [
        {"path": "site_a_export.csv", "site": a_site, "mapping": "site_a.mapping.yml"},
        {"path": "site_b_registry.xlsx", "site": b_site, "sheet": "Patients"},
        {"path": "site_c.sav", "site": c_site, "mapping": "site_c.mapping.yml"},
    ]}
    path = folder / "sources.yml"
    path.write_text(yaml.safe_dump(sources, sort_keys=False), encoding="utf-8")
    return path
