"""Loading site exports (analysis/load.py): formats, encodings, mapping files,
refused and unknown columns, and the typed frame.

The reference for every expectation is the file the test itself writes
(pandas, openpyxl through pandas, pyreadstat) from the valid base table in
tests/conftest_data.py: loading must give back what was written, located by
the row number a person sees in the file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import analysis.load as load_module
from analysis.config import PROJECT_ROOT, Source
from analysis.load import Problem, load_sources, parse_value, read_mapping, to_typed
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv

EXAMPLE_MAPPING = PROJECT_ROOT / "data" / "mapping.example.yml"


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _date_columns(dic) -> list[str]:
    return [v.name for v in dic.variables if v.type == "date"]


def _rules(problems) -> list[str]:
    return [p.rule for p in problems]


# ---------------------------------------------------------------------------
# CSV


def test_csv_values_stay_as_read_and_rows_are_file_rows(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    assert list(loaded.raw.columns) == dic.names
    assert loaded.raw.at[4, "marrow_blasts_pct"] == "30.5"  # text, not parsed
    assert loaded.raw.at[0, "relapse_date"] == "2019-11-20"
    assert loaded.raw.at[0, "death_date"] is None  # empty cell -> missing
    assert loaded.origin.columns.tolist() == ["file", "row", "patient", "date_format", "decimal"]
    assert loaded.origin["row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert loaded.origin["patient"].tolist() == [f"T-00{i}" for i in range(1, 7)]
    assert set(loaded.origin["file"]) == {str(path)}
    assert loaded.raw.index.equals(loaded.origin.index)


def test_pooled_sites_site_from_column_and_from_config(tmp_path, dic):
    site_t = write_csv(base_table(), tmp_path / "site_t.csv")
    other = base_table().drop(columns=["site"])
    other["patient_id"] = other["patient_id"].str.replace("T-", "U-")
    site_u = write_csv(other, tmp_path / "site_u.csv")
    loaded = load_sources([Source(site_t), Source(site_u, site="U")], dic)
    assert loaded.problems == ()
    assert len(loaded.raw) == 12
    assert loaded.raw["site"].tolist() == ["T"] * 6 + ["U"] * 6
    assert loaded.origin["file"].tolist() == [str(site_t)] * 6 + [str(site_u)] * 6
    assert loaded.origin["row"].tolist() == [2, 3, 4, 5, 6, 7] * 2
    assert validate(loaded, dic).ok


def test_file_without_site_column_or_configured_site_is_reported_once(tmp_path, dic):
    path = write_csv(base_table().drop(columns=["site"]), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column, p.row) for p in loaded.problems] == [("missing_site", "site", None)]
    assert "site: CODE" in loaded.problems[0].message
    report = validate(loaded, dic)
    assert _rules(report.problems) == ["missing_site"]  # not again for each row


def test_site_column_differing_from_configured_site_is_reported(tmp_path, dic):
    table = change(base_table(), "T-002", site="X")
    table = change(table, "T-003", site="")
    path = write_csv(table, tmp_path / "site_t.csv")
    loaded = load_sources([Source(path, site="T")], dic)
    assert [(p.rule, p.row, p.patient, p.value) for p in loaded.problems] == [("site_mismatch", 3, "T-002", "X")]
    assert loaded.raw.at[2, "site"] == "T"  # empty cell takes the configured site


def test_csv_with_byte_order_mark_loads(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "bom.csv", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    assert loaded.raw["patient_id"].tolist()[0] == "T-001"


def test_latin1_csv_with_accented_site_loads(tmp_path, dic):
    table = base_table().assign(site="Hôpital", cart_product="tisagenlecleucel (Kymriah®)")
    path = write_csv(table, tmp_path / "latin1.csv", encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    assert set(loaded.raw["site"]) == {"Hôpital"}
    assert loaded.raw.at[0, "cart_product"] == "tisagenlecleucel (Kymriah®)"


SITE_CODES = [  # (site as written, SITEID): the rule of analysis.load.site_code, written out by hand
    ("code", "SITE-A", "SITE-A"),
    ("space", "SITE A", "SITE-A"),
    ("accents", "Hôpital Saint-Louis", "Hopital-Saint-Louis"),
    ("apostrophe-and-accent", "Université d'Évry", "Universite-d-Evry"),
    ("sharp-s", "Universitätsklinikum Gießen", "Universitatsklinikum-Giessen"),
    ("slashed-letters", "Łódź / Århus", "Lodz-Arhus"),
    ("underscore-kept", "site_07", "site_07"),
    ("surrounding-spaces", "  Köln  ", "Koln"),
    ("number", 7, "7"),
]


@pytest.mark.parametrize("site, code", [c[1:] for c in SITE_CODES], ids=[c[0] for c in SITE_CODES])
def test_site_code_is_ascii_letters_digits_and_hyphens(site, code):
    assert load_module.site_code(site) == code


@pytest.mark.parametrize("site", ["Москва", "東京大学", "---"], ids=["cyrillic", "cjk", "no-letter"])
def test_site_without_an_ascii_form_has_no_site_code(site):
    with pytest.raises(ValueError):
        load_module.site_code(site)


def test_accented_sites_in_a_site_column_that_become_one_code_are_refused(tmp_path, dic):
    """Two spellings of one name in two files' site columns would pool two sites (data problem, exit 1)."""
    one = write_csv(base_table().assign(site="Université Paris"), tmp_path / "one.csv", encoding="latin-1")
    other = base_table().assign(site="Universite-Paris")
    other["patient_id"] = other["patient_id"].str.replace("T-", "U-")
    two = write_csv(other, tmp_path / "two.csv")
    report = validate(load_sources([Source(one), Source(two)], dic), dic)
    [problem] = report.errors
    assert (problem.rule, problem.column, problem.file) == ("site_code", "site", None)
    assert "'Université Paris' (" + str(one) + ", column site, rows 2–7)" in problem.message
    assert "'Universite-Paris' (" + str(two) + ", column site, rows 2–7)" in problem.message
    assert "as Universite-Paris" in problem.message and report.exit_code == 1


def test_configured_sites_that_become_one_code_are_a_configuration_error(tmp_path, dic):
    path_t = write_csv(base_table().drop(columns=["site"]), tmp_path / "t.csv")
    other = base_table().drop(columns=["site"])
    other["patient_id"] = other["patient_id"].str.replace("T-", "U-")
    path_u = write_csv(other, tmp_path / "u.csv")
    sources = [Source(path_t, site="Hôpital Saint-Louis", written={"site": "sources.yml line 3"}),
               Source(path_u, site="HOPITAL SAINT LOUIS", written={"site": "sources.yml line 5"})]
    report = validate(load_sources(sources, dic), dic)
    [problem] = report.errors
    assert problem.rule == "source_site" and report.exit_code == 2
    assert "'Hôpital Saint-Louis' (sources.yml line 3)" in problem.message
    assert "'HOPITAL SAINT LOUIS' (sources.yml line 5)" in problem.message
    assert "differ only in capitals" in problem.message


def test_configured_site_without_ascii_form_names_the_sources_line(tmp_path, dic):
    path = write_csv(base_table().drop(columns=["site"]), tmp_path / "t.csv")
    source = Source(path, site="Москва", written={"site": "sources.yml line 4"})
    report = validate(load_sources([source], dic), dic)
    [problem] = report.errors
    assert problem.rule == "source_site" and report.exit_code == 2
    assert problem.message.startswith("sources.yml line 4: the site 'Москва' cannot be written")


def test_site_column_without_ascii_form_is_one_line_naming_the_rows(tmp_path, dic):
    path = write_csv(base_table().assign(site="Москва"), tmp_path / "t.csv")
    report = validate(load_sources([Source(path)], dic), dic)
    assert {p.rule for p in report.errors} == {"site_code"} and len(report.errors) == 6
    assert report.exit_code == 1
    [line] = [l for l in report.format().splitlines() if "Москва" in l]
    assert "rows 2–7" in line and "ASCII" in line


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")], ids=["semicolon", "tab"])
def test_wrong_delimiter_is_reported(tmp_path, dic, sep, name):
    path = write_csv(base_table(), tmp_path / "site_t.csv", sep=sep)
    loaded = load_sources([Source(path)], dic)
    assert _rules(loaded.problems) == ["delimiter"]
    assert name in loaded.problems[0].message and "mapping file" in loaded.problems[0].message
    assert loaded.raw.empty
    assert not validate(loaded, dic).ok


def test_semicolon_delimiter_named_in_mapping_loads(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "site_t.csv", sep=";")
    mapping = tmp_path / "m.yml"
    mapping.write_text('delimiter: ";"\n', encoding="utf-8")
    loaded = load_sources([Source(path, mapping=mapping)], dic)
    assert loaded.problems == () and len(loaded.raw) == 6


EMPTY_CASES = [
    ("empty", "", "empty_file", "the file is empty."),
    ("only-blank-lines", "\n \n\n", "empty_file", "the file is empty."),
    ("header-only", "patient_id,site,sex\n", "no_patients", "the file has column names but no patients."),
    ("header-and-blank-rows", "patient_id,site,sex\n,,\n\n", "no_patients", "the file has column names but no patients."),
]


@pytest.mark.parametrize("text, rule, message", [c[1:] for c in EMPTY_CASES], ids=[c[0] for c in EMPTY_CASES])
def test_empty_and_header_only_files_are_reported(tmp_path, dic, text, rule, message):
    path = tmp_path / "site_t.csv"
    path.write_text(text, encoding="utf-8")
    loaded = load_sources([Source(path, site="T")], dic)
    assert rule in _rules(loaded.problems)
    assert message in [p.message for p in loaded.problems]
    assert loaded.raw.empty and list(loaded.raw.columns) == dic.names
    report = validate(loaded, dic)
    assert not report.ok and report.n_patients == 0


def test_blank_lines_are_skipped_but_keep_row_numbers(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "site_t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:3] + ["", "," * (len(dic.names) - 1)] + lines[3:]) + "\n", encoding="utf-8")
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    assert loaded.origin["row"].tolist() == [2, 3, 6, 7, 8, 9]


def test_row_with_more_values_than_columns_is_reported(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "site_t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.row, p.patient) for p in loaded.problems] == [("row_length", 3, "T-002")]


def test_duplicated_column_is_reported_and_the_first_kept(tmp_path, dic):
    table = base_table()
    table.insert(3, "Sex ", ["female"] * 6)  # same variable, other spelling
    path = write_csv(table, tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column, p.level) for p in loaded.problems] == [("duplicated_column", "sex", "error")]
    assert "columns C 'sex' and D 'Sex'" in loaded.problems[0].message
    assert loaded.raw["sex"].tolist() == base_table()["sex"].tolist()
    assert not validate(loaded, dic).ok


def test_unknown_column_is_a_warning_and_ignored(tmp_path, dic):
    path = write_csv(base_table().assign(comment="seen in clinic"), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column, p.level) for p in loaded.problems] == [("unknown_column", "comment", "warning")]
    assert "comment" not in loaded.raw.columns
    assert validate(loaded, dic).ok


@pytest.mark.parametrize(
    "column, kind",
    [("Name", "name"), ("patient_name", "name"), ("MRN", "medical record number"),
     ("Geburtsdatum", "birth date"), ("date_of_birth", "birth date"), ("street_address", "address"),
     ("phone", "telephone or e-mail"), ("E-Mail", "telephone or e-mail"), ("Last Name", "name"),
     ("Date of Birth", "birth date")],
    ids=["name", "patient_name", "mrn", "geburtsdatum", "dob", "address", "phone", "e-mail", "last-name-spaces",
         "date-of-birth-spaces"],
)
def test_identifier_like_column_is_refused_and_its_values_never_kept(tmp_path, dic, column, kind):
    secret = "Erika Mustermann 1971"
    path = write_csv(base_table().assign(**{column: secret}), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column, p.level) for p in loaded.problems] == [("identifier_column", column, "error")]
    assert f"({kind})" in loaded.problems[0].message and "remove the column" in loaded.problems[0].message
    assert column not in loaded.raw.columns
    assert not loaded.raw.isin([secret]).any().any() and not loaded.origin.isin([secret]).any().any()
    assert secret not in validate(loaded, dic).format()
    assert not validate(loaded, dic).ok


IDENTIFIER_COLUMNS = [  # (column name a site's export may carry, kind): direct identifiers in other languages
    ("Patientenname", "name"), ("Name, Vorname", "name"), ("Prénom", "name"), ("Nom de naissance", "name"),
    ("Nom du patient", "name"), ("Nombre y apellidos", "name"), ("Cognome", "name"), ("Initialen", "name"),
    ("Initials", "name"), ("Patient initials", "name"),
    ("Date de naissance", "birth date"), ("Geb.-Datum", "birth date"), ("Gebdat", "birth date"),
    ("Fecha de nacimiento", "birth date"), ("Data di nascita", "birth date"), ("DDN", "birth date"),
    ("Fallnummer", "medical record number"), ("Fall-Nr.", "medical record number"),
    ("Aufnahmenummer", "medical record number"), ("IPP", "medical record number"),
    ("N° dossier", "medical record number"), ("Numéro de sécurité sociale", "medical record number"),
    ("Historia clínica", "medical record number"), ("NHC", "medical record number"),
    ("Versichertennummer", "medical record number"),
    ("Straße", "address"), ("Anschrift", "address"), ("PLZ", "address"), ("Wohnort", "address"),
    ("Code postal", "address"), ("Ville", "address"), ("Dirección", "address"),
    ("Telefonnummer", "telephone or e-mail"), ("Tél.", "telephone or e-mail"), ("Courriel", "telephone or e-mail"),
    ("Correo electrónico", "telephone or e-mail"),
    # missed by e7c5021's patterns
    ("Numero di cartella", "medical record number"), ("Cartella clinica", "medical record number"),
    ("Domicile", "address"), ("Città", "address"),
    # contact and record words that are the detail itself: alone, or saying whose or which (number, n°, #)
    ("Phone number", "telephone or e-mail"), ("N° de téléphone", "telephone or e-mail"),
    ("Mobile phone", "telephone or e-mail"), ("Phone (home)", "telephone or e-mail"), ("Phone #", "telephone or e-mail"), ("Tel. Nr.", "telephone or e-mail"),
    ("Patient e-mail", "telephone or e-mail"), ("Telefono cellulare", "telephone or e-mail"),
    ("Insurance number", "medical record number"), ("Insurance", "medical record number"),
    ("Record number", "medical record number"), ("Patient record no.", "medical record number"),
    ("DOB", "birth date"), ("D.O.B.", "birth date"), ("City", "address"), ("ZIP code", "address"),
]
#: clinical column names that a substring of an identifier word (city, dob, tel) or a contact word qualifying
#: another item (a follow-up date, a count) once made look like identifiers: unknown columns, not refused
LOOKALIKE_COLUMNS = [
    "Ethnicity", "Neurotoxicity (ICANS) grade", "Toxicity", "Specificity", "Capacity", "Velocity", "Dobutamine",
    "adobe", "Tel-Aviv", "Telephone follow-up", "Phone follow-up date", "email follow up", "Insurance status",
    "Record number of cycles", "Hospitalisation à domicile", "Hospitalización a domicilio",
]
#: clinical and study column names a site may use (ours, the example mapping's, other languages'): never identifiers
CLINICAL_COLUMNS = [
    "Pseudonym", "Patienten-ID", "Studien-ID", "Subject ID", "Numéro d'inclusion", "Site", "Zentrum", "Centre",
    "Geschlecht", "Sexe", "Alter bei Rezidiv", "Âge", "Diagnosedatum", "Date de diagnostic",
    "Fecha de diagnóstico", "Rezidiv Datum", "Date de rechute", "Fecha de recaída", "Datum Tod", "Date de décès",
    "Fecha de muerte", "Letzter Kontakt", "Date des dernières nouvelles", "Initial response",
    "initial_diagnosis_date", "Initial WBC", "Nombre de cycles", "Nombre de lignes", "Nominal dose",
    "Blasten KM (%)", "Dosis", "Telomere length", "Hospitalisation", "Dossier complet", "Tocilizumab",
    "CAR-T Produkt", "SZT nach Salvage", "Todesursache", "Cause du décès", "Mobilisation", "Respuesta",
]


@pytest.mark.parametrize("column, kind", IDENTIFIER_COLUMNS, ids=[c for c, _ in IDENTIFIER_COLUMNS])
def test_identifier_column_names_in_other_languages_are_refused(tmp_path, dic, column, kind):
    secret = "Erika Mustermann 1971"
    path = write_csv(base_table().assign(**{column: secret}), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column) for p in loaded.problems] == [("identifier_column", column)]
    assert f"({kind})" in loaded.problems[0].message
    assert secret not in validate(loaded, dic).format()


@pytest.mark.parametrize("column", LOOKALIKE_COLUMNS)
def test_clinical_lookalike_of_an_identifier_is_an_unknown_column(tmp_path, dic, column):
    path = write_csv(base_table().assign(**{column: "2"}), tmp_path / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert [(p.rule, p.column, p.level) for p in loaded.problems] == [("unknown_column", column, "warning")]
    assert validate(loaded, dic).ok


def test_identifier_column_cannot_be_mapped_in(tmp_path, dic):
    table = base_table().rename(columns={"patient_id": "Patientenname"})
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  Patientenname: patient_id\n", encoding="utf-8")
    loaded = load_sources([Source(write_csv(table, tmp_path / "site_t.csv"), mapping=mapping)], dic)
    assert "identifier_column" in _rules(loaded.problems)
    assert loaded.raw["patient_id"].isna().all()


@pytest.mark.parametrize("column", CLINICAL_COLUMNS + [v.label for v in dictionary().variables]
                         + list(load_module.read_mapping(EXAMPLE_MAPPING, dictionary(), file="x")[0].written))
def test_clinical_column_names_are_not_taken_for_identifiers(dic, column):
    assert load_module._identifier_kind(column, dic) is None


def test_code_or_label_in_any_case_is_read_as_the_code(tmp_path, dic):
    table = change(base_table(), "T-001", sex=" Male ", best_response="complete remission", salvage="YES")
    table = change(table, "T-002", sex="M")
    loaded = load_sources([Source(write_csv(table, tmp_path / "site_t.csv"))], dic)
    assert loaded.raw.loc[0, ["sex", "best_response", "salvage"]].tolist() == ["male", "CR", "yes"]
    assert loaded.raw.at[1, "sex"] == "M"  # not a code or label: stays, and validation names it
    assert [(p.rule, p.value) for p in validate(loaded, dic).problems] == [("code", "M")]


def test_origin_file_is_relative_to_the_project_root(tmp_path, dic, monkeypatch):
    monkeypatch.setattr(load_module, "PROJECT_ROOT", tmp_path)
    (tmp_path / "data").mkdir()
    path = write_csv(change(base_table(), "T-001", sex="M"), tmp_path / "data" / "site_t.csv")
    loaded = load_sources([Source(path)], dic)
    assert set(loaded.origin["file"]) == {"data/site_t.csv"}
    assert validate(loaded, dic).problems[0].line().startswith("data/site_t.csv row 2, patient T-001, column sex (Sex): M ")


@pytest.mark.parametrize(
    "name, content, rule, text",
    [("missing.csv", None, "unreadable_file", "does not exist"),
     ("site.xls", b"old", "unreadable_file", "save the workbook as .xlsx"),
     ("site.txt", b"a,b\n", "unreadable_file", "use CSV, Excel .xlsx or SPSS .sav"),
     ("utf16.csv", "patient_id,site\nT-001,T\n".encode("utf-16"), "unreadable_file", "CSV UTF-8"),
     ("broken.xlsx", b"not a zip", "unreadable_file", "cannot be read as an Excel workbook"),
     ("broken.sav", b"not spss", "unreadable_file", "cannot be read as an SPSS data file")],
    ids=["missing", "xls", "txt", "utf16", "broken-xlsx", "broken-sav"],
)
def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path, dic, name, content, rule, text):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    good = write_csv(base_table(), tmp_path / "good.csv")
    loaded = load_sources([Source(path), Source(good)], dic)
    assert _rules(loaded.problems) == [rule]
    assert text in loaded.problems[0].message
    assert len(loaded.raw) == 6  # the other file is still read


# ---------------------------------------------------------------------------
# Mapping files


def test_example_mapping_file_is_valid(dic):
    mapping, problems = read_mapping(EXAMPLE_MAPPING, dic, file="x")
    assert problems == []
    assert mapping.columns["geschlecht"] == "sex" and mapping.columns["bemerkung"] is None
    assert mapping.codes["salvage"] == {"ja": "yes", "nein": "no"}
    assert (mapping.date_format, mapping.decimal, mapping.delimiter) == ("DD.MM.YYYY", ",", ";")


def test_mapping_file_renames_columns_and_recodes_codes(tmp_path, dic):
    """A German site's export read with data/mapping.example.yml: names, codes, DD.MM.YYYY
    dates, decimal commas, ';' between values, 'k.A.' for missing, an ignored remarks column."""
    table = base_table()
    for col in _date_columns(dic):
        table[col] = table[col].map(lambda s: f"{s[8:10]}.{s[5:7]}.{s[0:4]}" if s else s)
    for col in ["age_at_relapse", "marrow_blasts_pct"]:
        table[col] = table[col].str.replace(".", ",")
    table["sex"] = table["sex"].map({"male": "m", "female": "W"})
    table["salvage"] = table["salvage"].map({"yes": "ja", "no": "nein"})
    table["best_response"] = table["best_response"].replace({"CRi": "CR mit inkompletter Regeneration", "NR": "keine Remission"})
    table.loc[2, "cytogenetic_risk"] = "k.A."
    table["Bemerkung"] = "frei"
    table = table.rename(
        columns={"patient_id": "Pseudonym", "sex": "Geschlecht", "age_at_relapse": "Alter bei Rezidiv",
                 "relapse_date": "Rezidiv Datum", "best_response": "Ansprechen", "death_date": "Datum Tod"}
    )
    path = write_csv(table, tmp_path / "site_d.csv", sep=";")
    loaded = load_sources([Source(path, mapping=EXAMPLE_MAPPING)], dic)
    assert loaded.problems == ()
    expected = base_table()
    for col in ["patient_id", "sex", "salvage", "best_response"]:
        assert loaded.raw[col].map(lambda v: v or "").tolist() == expected[col].tolist(), col
    assert loaded.raw.at[0, "relapse_date"] == "20.11.2019"  # text dates stay as written
    assert loaded.raw.at[4, "marrow_blasts_pct"] == "30,5"
    assert loaded.raw.at[2, "cytogenetic_risk"] is None  # 'k.A.' is missing for this site
    assert set(loaded.origin["date_format"]) == {"DD.MM.YYYY"} and set(loaded.origin["decimal"]) == {","}
    assert validate(loaded, dic).ok
    typed = to_typed(loaded.raw, dic, origin=loaded.origin)
    assert typed.at[4, "marrow_blasts_pct"] == 30.5 and typed.at[1, "age_at_relapse"] == 12
    assert typed.at[0, "relapse_date"] == pd.Timestamp("2019-11-20")


def test_comma_decimal_from_mapping_validates_and_types(tmp_path, dic):
    table = change(change(base_table(), "T-005", marrow_blasts_pct="30,5"), "T-002", marrow_blasts_pct="12.5")
    mapping = tmp_path / "m.yml"
    mapping.write_text('decimal: ","\n', encoding="utf-8")
    loaded = load_sources([Source(write_csv(table, tmp_path / "site_t.csv"), mapping=mapping)], dic)
    report = validate(loaded, dic)
    # with decimal "," a decimal point is refused
    assert [(p.rule, p.patient, p.value) for p in report.problems] == [("type", "T-002", "12.5")]
    assert "expected digits with a decimal comma, such as 12,5" in report.problems[0].message
    fixed = loaded.raw.copy()
    fixed.at[1, "marrow_blasts_pct"] = "12,5"
    typed = to_typed(fixed, dic, origin=loaded.origin)
    assert typed["marrow_blasts_pct"].tolist()[4] == 30.5 and typed.at[1, "marrow_blasts_pct"] == 12.5


def test_invalid_mapping_file_is_reported_and_the_file_not_read(tmp_path, dic):
    mapping = tmp_path / "m.yml"
    mapping.write_text(
        "columns: {Geschlecht: gender}\ncodes: {sex: {m: man}}\ndecimal: ';'\nsheet: 2\n", encoding="utf-8"
    )
    loaded = load_sources([Source(write_csv(base_table(), tmp_path / "site_t.csv"), mapping=mapping)], dic)
    assert _rules(loaded.problems) == ["mapping"] * 4
    text = " | ".join(p.message for p in loaded.problems)
    for part in ["unknown entry 'sheet'", "'gender', which is not in the data dictionary",
                 "'man', which is not a code of sex", "decimal must be"]:
        assert part in text
    assert loaded.raw.empty


def test_two_columns_mapped_to_one_variable_is_one_mapping_error_naming_both_lines(tmp_path, dic):
    """A German site's mapping that reads 'Datum Tod' and 'Letzter Kontakt' both as last_contact_date:
    the mapping file is wrong (exit 2), not the data (no 'Letzter Kontakt is missing' for complete rows)."""
    from analysis.config import sources_from_override
    from tests.realistic_sites import write_sites

    listed = write_sites(tmp_path / "sites")
    mapping = listed.parent / "site_a.mapping.yml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("Datum Tod: death_date", "Datum Tod: last_contact_date"), encoding="utf-8")
    lines = mapping.read_text(encoding="utf-8").splitlines()
    death, contact = (lines.index(f"  {k}: last_contact_date") + 1 for k in ("Datum Tod", "Letzter Kontakt"))
    report = validate(load_sources(sources_from_override(listed), dic), dic)
    [problem] = report.errors
    assert problem.rule == "mapping" and report.exit_code == 2
    assert problem.file.endswith("site_a_export.csv")
    assert f"line {contact}: the column 'Letzter Kontakt' is mapped to last_contact_date" in problem.message
    assert f"and so is 'Datum Tod' (line {death})" in problem.message
    assert "The data file was not read" in problem.message
    assert report.n_files == 2  # the other sites' files are read and checked in the same run


def _two_layouts(tmp_path):
    """SITE-A's realistic export and mapping, the mapping shared by the site's old layout
    ('Geschlecht') and its new one ('Sex (m/w)'): both names mapped to sex."""
    from tests.realistic_sites import write_sites

    listed = write_sites(tmp_path / "sites")
    mapping = listed.parent / "site_a.mapping.yml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("  Geschlecht: sex\n", "  Geschlecht: sex\n  Sex (m/w): sex\n"), encoding="utf-8")
    lines = mapping.read_text(encoding="utf-8").splitlines()
    old, new = (lines.index(f"  {k}: sex") + 1 for k in ("Geschlecht", "Sex (m/w)"))
    return listed, listed.parent / "site_a_export.csv", mapping, old, new


def test_a_shared_mapping_naming_two_alternative_columns_reads_the_one_the_file_holds(tmp_path, dic):
    """'Geschlecht: sex' and 'Sex (m/w): sex' in one mapping (an old and a new export layout) is not
    an error when the data file holds one of the two: the old layout's file and the new layout's file
    are both read, sex from the column each holds, and messages name that column."""
    from analysis.config import sources_from_override

    listed, export, mapping, _, _ = _two_layouts(tmp_path)
    report = validate(load_sources(sources_from_override(listed), dic), dic)
    assert not [p for p in report.problems if p.rule.startswith("mapping")], report.format()
    assert report.exit_code == 0
    sexes = pd.read_csv(export, sep=";", dtype=str)["Geschlecht"]
    new_layout = pd.read_csv(export, sep=";", dtype=str).rename(columns={"Geschlecht": "Sex (m/w)"})
    new_layout.loc[0, "Sex (m/w)"] = "x"  # one value the mapping does not know: named in the new layout's words
    new_layout.to_csv(export, sep=";", index=False)
    loaded = load_sources([Source(export, site="SITE-A", mapping=mapping)], dic)
    assert not [p for p in loaded.problems if p.rule.startswith("mapping")]
    assert loaded.raw["sex"].iloc[1:].tolist() == sexes.iloc[1:].map({"m": "male", "w": "female"}).tolist()
    [bad] = [p for p in validate(loaded, dic).problems if p.column == "sex"]
    assert "'Sex (m/w)'" in bad.line() and "Geschlecht" not in bad.line()


def test_a_file_holding_both_alternative_columns_of_a_mapping_is_one_mapping_error(tmp_path, dic):
    """The same shared mapping, and a file that holds both 'Geschlecht' and 'Sex (m/w)': which one holds
    sex is the user's call. One mapping error (exit 2) naming both lines; the file is not read."""
    from analysis.config import sources_from_override

    listed, export, _, old, new = _two_layouts(tmp_path)
    table = pd.read_csv(export, sep=";", dtype=str)
    table.insert(2, "Sex (m/w)", table["Geschlecht"])
    table.to_csv(export, sep=";", index=False)
    report = validate(load_sources(sources_from_override(listed), dic), dic)
    [problem] = report.errors
    assert problem.rule == "mapping" and report.exit_code == 2 and problem.file.endswith("site_a_export.csv")
    assert f"line {new}: the column 'Sex (m/w)' is mapped to sex" in problem.message
    assert f"and so is 'Geschlecht' (line {old})" in problem.message
    assert "The data file was not read" in problem.message
    assert report.n_files == 2


# ---------------------------------------------------------------------------
# Excel


def _excel_table(dic) -> pd.DataFrame:
    """The base table as a site would keep it in Excel: real dates and numbers, empty cells."""
    table = base_table().replace({"": None})
    for col in _date_columns(dic):
        table[col] = pd.to_datetime(table[col])
    for col in ["age_at_relapse", "marrow_blasts_pct"]:
        table[col] = pd.to_numeric(table[col])
    return table


def test_xlsx_date_time_cells_are_read_as_their_day(tmp_path, dic):
    """Hospital systems export date-times: a real Excel date-time cell (number format with a time,
    written by openpyxl) is the date it falls on; the time of day is dropped."""
    import openpyxl

    table = _excel_table(dic)
    path = tmp_path / "site_t.xlsx"
    table.to_excel(path, index=False, sheet_name="cohort")
    book = openpyxl.load_workbook(path)
    sheet = book["cohort"]
    column = [c.value for c in sheet[1]].index("relapse_date") + 1
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row, column)
        cell.value = cell.value.replace(hour=14, minute=30)
        cell.number_format = "yyyy-mm-dd hh:mm"
    book.save(path)
    assert openpyxl.load_workbook(path)["cohort"].cell(2, column).value == dt.datetime(2019, 11, 20, 14, 30)
    loaded = load_sources([Source(path)], dic)
    assert loaded.raw["relapse_date"].tolist() == base_table()["relapse_date"].tolist()
    assert validate(loaded, dic).ok


def test_sav_datetime_variable_is_read_as_its_day(tmp_path, dic):
    table = _excel_table(dic)
    table["relapse_date"] = table["relapse_date"] + pd.Timedelta(hours=23, minutes=59)
    path = tmp_path / "site_t.sav"
    pyreadstat.write_sav(table, path)
    loaded = load_sources([Source(path)], dic)
    assert loaded.raw["relapse_date"].tolist() == base_table()["relapse_date"].tolist()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_dates_written_as_text_with_a_time_ask_to_remove_the_time(tmp_path, dic, suffix):
    table = base_table()
    table["relapse_date"] = [f"{d[8:10]}.{d[5:7]}.{d[:4]} 14:30" for d in table["relapse_date"]]
    mapping = tmp_path / "m.yml"
    mapping.write_text("date_format: DD.MM.YYYY\n", encoding="utf-8")
    path = tmp_path / f"site_t.{suffix}"
    write_csv(table, path) if suffix == "csv" else table.to_excel(path, index=False)
    report = validate(load_sources([Source(path, mapping=mapping)], dic), dic)
    [line] = [l for l in report.format().splitlines() if "relapse_date" in l]
    assert "6 values are not a date (expected DD.MM.YYYY)" in line
    assert line.endswith("they hold a time of day (14:30): remove the time and keep the date only (in Excel: "
                         "format the column as a date without time before exporting).")


@pytest.mark.parametrize("written", ["{iso} 00:00:00", "{iso}T00:00", "{dmy} 00:00"])
def test_dates_written_as_text_at_midnight_are_that_day(tmp_path, dic, written):
    """R, SAS and SQL export a date as '2016-01-23 00:00:00': read as that day (as a date cell at
    midnight is), in the file's own date_format too; the cohort equals the one written without the time.
    It was refused with 'remove the time', for every date of the file."""
    table = base_table()
    dates = ["relapse_date", "death_date", "last_contact_date"]
    for column in dates:
        table[column] = [written.format(iso=d, dmy=f"{d[8:10]}.{d[5:7]}.{d[:4]}") if d else d
                         for d in table[column]]
    mapping = tmp_path / "m.yml"
    mapping.write_text("date_format: DD.MM.YYYY\n" if "{dmy}" in written else "{}\n", encoding="utf-8")
    path = write_csv(table, tmp_path / "site_t.csv")
    loaded = load_sources([Source(path, mapping=mapping)], dic)
    report = validate(loaded, dic)
    assert report.exit_code == 0, report.format()
    plain = base_table()
    for column in dates:
        got = [parse_value(v, "date", date_format="DD.MM.YYYY" if "{dmy}" in written else "YYYY-MM-DD")
               if v else None for v in loaded.raw[column]]
        want = [pd.Timestamp(v) if v else None for v in plain[column]]
        assert got == want, column


def test_mixed_date_layouts_in_one_column_are_named_with_their_rows(tmp_path, dic):
    """A German site's CSV (date_format DD.MM.YYYY) whose relapse dates are written four ways, in turn:
    DD.MM.YYYY, YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY. No date_format reads them all: the message says the
    layouts are mixed and where, not 'set date_format: DD/MM/YYYY' (which would misread the MM/DD ones)."""
    from analysis.config import sources_from_override
    from tests.realistic_sites import write_sites

    listed = write_sites(tmp_path / "sites")
    path = listed.parent / "site_a_export.csv"
    a = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    dates = list(a["Rezidiv Datum"])
    layouts = [lambda d: d, lambda d: f"{d[6:]}-{d[3:5]}-{d[:2]}", lambda d: d.replace(".", "/"),
               lambda d: f"{d[3:5]}/{d[:2]}/{d[6:]}"]
    a["Rezidiv Datum"] = [layouts[i % 4](d) for i, d in enumerate(dates)]
    a.to_csv(path, sep=";", index=False)
    day_first = [i + 2 for i, d in enumerate(dates) if i % 4 == 2 and int(d[:2]) > 12]   # file rows
    month_first = [i + 2 for i, d in enumerate(dates) if i % 4 == 3 and int(d[:2]) > 12]
    report = validate(load_sources(sources_from_override(listed), dic), dic)
    [line] = [l for l in report.format().splitlines() if "relapse_date" in l]
    assert "set date_format" not in line
    assert f"the dates are written in several layouts: DD/MM/YYYY (rows {day_first[0]}, {day_first[1]}" in line
    assert f"MM/DD/YYYY (rows {month_first[0]}, {month_first[1]}" in line
    assert "besides DD.MM.YYYY" in line and "write every date of the column in one layout" in line


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_few_dates_in_different_layouts_are_said_to_be_mixed_not_given_a_date_format_each(tmp_path, dic, kind):
    """Three relapse dates typed by hand into a column of ISO dates (no mapping file): 20/11/2019
    (DD/MM), 06/10/2019 (either) and 10/31/2019 (MM/DD). Fewer than four refused values keep a line
    each (row, patient), but they are not told 'set date_format: DD/MM/YYYY' on one line and
    'set date_format: MM/DD/YYYY' on another: each says the layouts are mixed, and where."""
    table = change(base_table(), "T-001", relapse_date="20/11/2019")   # file row 2
    table = change(table, "T-005", relapse_date="06/10/2019")          # row 6: June 10 or 6 October
    table = change(table, "T-006", relapse_date="10/31/2019")          # row 7: MM/DD (31 is no month)
    if kind == "csv":
        path = write_csv(table, tmp_path / "site_t.csv")
    else:
        import openpyxl

        path = tmp_path / "site_t.xlsx"
        excel = _excel_table(dic).astype({"relapse_date": object})
        for i, text in ((0, "20/11/2019"), (4, "06/10/2019"), (5, "10/31/2019")):
            excel.at[i, "relapse_date"] = text  # typed as text into a date column
        excel.to_excel(path, index=False, sheet_name="cohort")
        assert openpyxl.load_workbook(path)["cohort"]["L2"].data_type == "s"
    report = validate(load_sources([Source(path)], dic), dic)
    lines = [l for l in report.format().splitlines() if "relapse_date" in l]
    assert len(lines) == 3 and not any("set date_format" in l for l in lines)
    assert "row 2, patient T-001" in lines[0] and "row 6, patient T-005" in lines[1] and "row 7, patient T-006" in lines[2]
    mixed = ("the dates are written in several layouts: DD/MM/YYYY (row 2), DD/MM/YYYY or MM/DD/YYYY (row 6), "
             "MM/DD/YYYY (row 7). One date_format cannot read them all")
    assert all(mixed in l and l.endswith("write every date of the column in one layout, e.g. YYYY-MM-DD.")
               for l in lines)


def test_a_few_dates_in_one_other_layout_keep_their_date_format_hint(tmp_path, dic):
    """The other side: two refused dates, both DD/MM/YYYY, are one layout; the advice stands."""
    table = change(change(base_table(), "T-001", relapse_date="20/11/2019"), "T-006", relapse_date="10/10/2019")
    report = validate(load_sources([Source(write_csv(table, tmp_path / "t.csv"))], dic), dic)
    lines = [l for l in report.format().splitlines() if "relapse_date" in l]
    assert len(lines) == 2 and "several layouts" not in report.format()
    assert lines[0].endswith("set date_format: DD/MM/YYYY in the site's mapping file.")


def test_dates_in_another_layout_than_the_mapping_file_says_are_not_told_to_change_it(tmp_path, dic):
    table = change(base_table(), "T-002", relapse_date="15/03/2019")
    for col in _date_columns(dic):
        table[col] = [f"{d[8:10]}.{d[5:7]}.{d[:4]}" if len(d) == 10 and d[4] == "-" else d for d in table[col]]
    mapping = tmp_path / "m.yml"
    mapping.write_text("date_format: DD.MM.YYYY\n", encoding="utf-8")
    report = validate(load_sources([Source(write_csv(table, tmp_path / "t.csv"), mapping=mapping)], dic), dic)
    [problem] = report.errors
    assert problem.message.endswith("it is written DD/MM/YYYY, but the site's mapping file says date_format: "
                                    "DD.MM.YYYY: write it as DD.MM.YYYY like the file's other dates.")


def test_xlsx_round_trip_with_real_date_cells(tmp_path, dic):
    table = _excel_table(dic).astype({"relapse_date": object})
    table.at[3, "relapse_date"] = "2021-02-30"  # typed as text in a date column
    path = tmp_path / "site_t.xlsx"
    table.to_excel(path, index=False, sheet_name="cohort")
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    assert loaded.raw.at[0, "cart_date"] == "2019-05-10"  # a date cell becomes ISO text
    assert loaded.raw.at[0, "relapse_date"] == "2019-11-20"
    assert loaded.raw.at[4, "marrow_blasts_pct"] == 30.5 and loaded.raw.at[0, "age_at_relapse"] == 34
    assert loaded.raw.at[0, "death_date"] is None
    assert loaded.origin["row"].tolist() == [2, 3, 4, 5, 6, 7]
    report = validate(loaded, dic)
    assert [p.line() for p in report.problems] == [
        f"{path} sheet cohort row 5, patient T-004, column relapse_date (Date of relapse after CAR-T): 2021-02-30 is not a date (expected YYYY-MM-DD); that day does not exist in the calendar "
        "(check day and month)."
    ]


def test_xlsx_with_two_sheets_needs_the_sheet_named(tmp_path, dic):
    path = tmp_path / "site_t.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["exported 2024-01-01"]}).to_excel(writer, index=False, sheet_name="readme")
        _excel_table(dic).to_excel(writer, index=False, sheet_name="cohort")
    unnamed = load_sources([Source(path)], dic)
    assert _rules(unnamed.problems) == ["sheet"]
    assert "2 sheets (readme, cohort)" in unnamed.problems[0].message and "sheet:" in unnamed.problems[0].message
    for sheet in ["cohort", 2]:
        loaded = load_sources([Source(path, sheet=sheet)], dic)
        assert loaded.problems == () and len(loaded.raw) == 6, sheet
        assert validate(loaded, dic).ok
    for sheet, text in [("Cohort 2", "no sheet named 'Cohort 2'"), (3, "numbered from 1")]:
        assert text in load_sources([Source(path, sheet=sheet)], dic).problems[0].message


# ---------------------------------------------------------------------------
# SPSS


def _sav_table(dic) -> tuple[pd.DataFrame, dict]:
    table = _excel_table(dic)
    codes = {
        "sex": {1: "Male", 2: "Female"},
        "salvage": {1: "Yes", 0: "No"},
        "best_response": {1: "Complete remission", 2: "Complete remission with incomplete count recovery",
                          3: "Partial remission", 4: "No response"},
    }
    for col, labels in codes.items():
        by_code = {label.casefold(): code for code, label in labels.items()}
        by_code.update({c.casefold(): by_code[label.casefold()] for c, label in dic[col].codes if label.casefold() in by_code})
        table[col] = table[col].map(lambda v: np.nan if v is None else float(by_code[v.casefold()]))
    for col in table.columns:
        if table[col].dtype == object:
            table[col] = table[col].fillna("")
    return table, codes


def test_sav_round_trip_with_value_labels(tmp_path, dic):
    table, labels = _sav_table(dic)
    path = tmp_path / "site_t.sav"
    pyreadstat.write_sav(table, str(path), variable_value_labels=labels)
    loaded = load_sources([Source(path)], dic)
    assert loaded.problems == ()
    expected = base_table()
    for col in ["sex", "salvage", "best_response"]:
        assert loaded.raw[col].map(lambda v: v or "").tolist() == expected[col].tolist(), col
    assert loaded.raw.at[0, "relapse_date"] == "2019-11-20"  # an SPSS date becomes ISO text
    assert loaded.raw.at[4, "marrow_blasts_pct"] == 30.5
    assert loaded.origin["row"].tolist() == [1, 2, 3, 4, 5, 6]  # case numbers
    assert validate(loaded, dic).ok


def test_sav_unlabelled_code_is_kept_and_reported(tmp_path, dic):
    table, labels = _sav_table(dic)
    table.at[2, "sex"] = 3.0  # no value label for 3
    path = tmp_path / "site_t.sav"
    pyreadstat.write_sav(table, str(path), variable_value_labels=labels)
    loaded = load_sources([Source(path)], dic)
    assert loaded.raw.at[2, "sex"] == 3.0
    report = validate(loaded, dic)
    assert [p.line() for p in report.problems] == [
        f"{path} row 3, patient T-003, column sex (Sex): 3 is not an allowed code for sex "
        "(allowed: male (Male), female (Female)); if the site uses its own codes, map them in its mapping file "
        "(codes: sex: 3: ...)."
    ]


# ---------------------------------------------------------------------------
# Typed data and the shared parser


def test_to_typed_gives_analysis_types(tmp_path, dic):
    loaded = load_sources([Source(write_csv(base_table(), tmp_path / "site_t.csv"))], dic)
    typed = to_typed(loaded.raw, dic, origin=loaded.origin)
    expected = {"date": "datetime64[ns]", "number": "float64", "integer": "Int64", "category": "string",
                "string": "string"}
    assert {c: str(typed[c].dtype) for c in typed.columns} == {v.name: expected[v.type] for v in dic.variables}
    assert typed.index.equals(loaded.raw.index)
    assert typed.at[1, "age_at_relapse"] == 12 and typed.at[4, "marrow_blasts_pct"] == 30.5
    assert typed.at[0, "cr_date"] == pd.Timestamp("2020-01-10")
    assert pd.isna(typed.at[0, "death_date"]) and pd.isna(typed.at[0, "emd_preexisting"])
    assert typed.at[0, "best_response"] == "CR"
    pd.testing.assert_frame_equal(typed, to_typed(loaded.raw, dic))  # ISO dates, decimal point: same without origin


def test_to_typed_refuses_data_that_would_fail_validation(tmp_path, dic):
    loaded = load_sources(
        [Source(write_csv(change(base_table(), "T-003", relapse_date="2021-02-30"), tmp_path / "s.csv"))], dic
    )
    with pytest.raises(ValueError, match="relapse_date: 2021-02-30 is not a date"):
        to_typed(loaded.raw, dic, origin=loaded.origin)


PARSE_CASES = [
    ("iso-date", "2020-02-29", "date", {}, pd.Timestamp("2020-02-29")),
    ("iso-date-spaces", " 2020-02-29 ", "date", {}, pd.Timestamp("2020-02-29")),
    ("site-date-format", "29.02.2020", "date", {"date_format": "DD.MM.YYYY"}, pd.Timestamp("2020-02-29")),
    ("iso-accepted-with-site-format", "2020-02-29", "date", {"date_format": "DD.MM.YYYY"}, pd.Timestamp("2020-02-29")),
    ("real-date", dt.date(2020, 2, 29), "date", {}, pd.Timestamp("2020-02-29")),
    ("number-point", "12.5", "number", {}, 12.5),
    ("number-comma", "12,5", "number", {"decimal": ","}, 12.5),
    ("number-cell", 34, "number", {}, 34.0),
    ("integer", "3", "integer", {}, 3.0),
    ("missing-empty", "  ", "number", {}, None),
    ("missing-nan", float("nan"), "date", {}, None),
    ("code-float-as-written", 2.0, "category", {}, "2"),
]


@pytest.mark.parametrize("value, kind, options, expected", [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES])
def test_parse_value_reads(value, kind, options, expected):
    assert parse_value(value, kind, **options) == expected


REFUSE_CASES = [
    ("not-in-calendar", "2021-02-30", "date", {}, "a date (expected YYYY-MM-DD)"),
    ("one-digit-day", "2021-2-3", "date", {}, "a date"),
    ("other-format", "03/02/2021", "date", {"date_format": "DD.MM.YYYY"}, "a date (expected DD.MM.YYYY)"),
    ("excel-serial", 44000, "date", {}, "a date"),
    ("comma-without-mapping", "12,5", "number", {}, "a number"),
    ("point-with-comma-mapping", "12.5", "number", {"decimal": ","}, "a number"),
    ("thousands", "1,250.0", "number", {}, "a number"),
    ("text", "n/a", "number", {}, "a number"),
    ("infinite", float("inf"), "number", {}, "a number"),
    ("boolean", True, "number", {}, "a number"),
    ("fraction-for-integer", "2.5", "integer", {}, "a whole number"),
]


@pytest.mark.parametrize("value, kind, options, reason", [c[1:] for c in REFUSE_CASES], ids=[c[0] for c in REFUSE_CASES])
def test_parse_value_refuses(value, kind, options, reason):
    with pytest.raises(ValueError) as err:
        parse_value(value, kind, **options)
    assert str(err.value).startswith(reason)


def test_problem_line_layout():
    assert Problem("data/a.csv", 3, "A-003", None, "x", "r", "text.").line() == "data/a.csv row 3, patient A-003: text."
    assert Problem("data/a.csv", None, None, "Name", None, "r", "text.").line() == "data/a.csv, column Name: text."
    assert Problem("data/a.csv", None, None, None, None, "r", "text.", "warning").line() == "data/a.csv: text. [warning]"
    with pytest.raises(ValueError, match="level"):
        Problem("f", None, None, None, None, "r", "m", "fatal")
