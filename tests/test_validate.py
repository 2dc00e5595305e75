"""Validation rules (analysis/validate.py): one failing table per rule.

The reference for every expectation is the data dictionary (data/dictionary.yml)
and the clinical rules written in the module docstring of analysis/validate.py;
no external software is involved. Each case changes a few cells of the valid
base table (tests/conftest_data.py), writes it as a CSV file, loads and
validates it, and checks that exactly the expected rule fires and that its
line names the file row, the patient, the column (where there is one) and the
offending value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from analysis.config import Source, load_config
from analysis.load import LoadedCohort, load_sources
from analysis.validate import (
    DataValidationError,
    ValidationReport,
    build_schema,
    validate,
    validate_config,
)
from tests.conftest_data import base_table, change, dictionary, file_row, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _check(table: pd.DataFrame, tmp_path: Path, dic, name: str = "site_t.csv", **source) -> tuple[LoadedCohort, ValidationReport]:
    path = write_csv(table, tmp_path / name)
    loaded = load_sources([Source(path=path, **source)], dic)
    return loaded, validate(loaded, dic)


# (id, patient, changed cells, rule, column or None, texts the line must contain)
RULE_CASES = [
    ("type-date-not-in-calendar", "T-001", {"relapse_date": "2021-02-30"}, "type", "relapse_date",
     ["2021-02-30 is not a date (expected YYYY-MM-DD)"]),
    ("type-date-other-format", "T-002", {"cart_date": "01.02.2019"}, "type", "cart_date",
     ["01.02.2019 is not a date"]),
    ("type-number-text", "T-003", {"age_at_relapse": "forty"}, "type", "age_at_relapse",
     ["forty is not a number"]),
    ("type-number-decimal-comma", "T-005", {"marrow_blasts_pct": "30,5"}, "type", "marrow_blasts_pct",
     ["30,5 is not a number", 'decimal: ","']),
    ("code-unknown", "T-002", {"sex": "M"}, "code", "sex",
     ["M is not an allowed code for sex", "male (Male)"]),
    ("code-unknown-response", "T-001", {"best_response": "complete"}, "code", "best_response",
     ["complete is not an allowed code"]),
    ("range-above", "T-004", {"age_at_relapse": "150"}, "range", "age_at_relapse",
     ["150 is outside the allowed range", "0 to 100 years"]),
    ("range-below", "T-001", {"marrow_blasts_pct": "-1"}, "range", "marrow_blasts_pct",
     ["-1 is outside the allowed range"]),
    ("future-date", "T-006", {"last_contact_date": "2099-06-30"}, "future_date", "last_contact_date",
     ["2099-06-30 is in the future", "check the year"]),
    ("required-missing", "T-006", {"bcr_abl1": ""}, "required", "bcr_abl1",
     ["bcr_abl1 (BCR::ABL1) is missing"]),
    ("required-only-spaces", "T-006", {"last_contact_date": "   "}, "required", "last_contact_date",
     ["last_contact_date (Date of last contact) is missing"]),
    ("required-if-cr-date", "T-001", {"cr_date": ""}, "required_if", "cr_date",
     ["cr_date is missing", "best_response is CR or CRi", "here best_response is CR"]),
    ("required-if-emd", "T-003", {"emd_preexisting": ""}, "required_if", "emd_preexisting",
     ["emd_preexisting is missing", "here relapse_site is cns"]),
    ("required-if-no-salvage-reason", "T-004", {"no_salvage_reason": ""}, "required_if", "no_salvage_reason",
     ["no_salvage_reason is missing", "here salvage is no"]),
    ("required-if-death-cause", "T-004", {"death_cause": ""}, "required_if", "death_cause",
     ["death_cause is missing", "when death_date is given", "here death_date is 2020-02-01"]),
    ("not-applicable-cr-date", "T-003", {"cr_date": "2020-03-01"}, "not_applicable", "cr_date",
     ["cr_date 2020-03-01 is given, but best_response is PR"]),
    ("not-applicable-salvage-date", "T-004", {"salvage_date": "2020-01-20"}, "not_applicable", "salvage_date",
     ["salvage_date 2020-01-20 is given, but salvage is no"]),
    ("not-applicable-best-response", "T-006", {"best_response": "PR"}, "not_applicable", "best_response",
     ["best_response PR is given, but salvage is no"]),
    ("not-applicable-salvage-class", "T-004", {"salvage_class": "chemotherapy"}, "not_applicable", "salvage_class",
     ["salvage_class chemotherapy is given, but salvage is no"]),
    ("death-cause-without-death", "T-006", {"death_cause": "disease"}, "not_applicable", "death_cause",
     ["death_cause disease is given, but death_date is missing"]),
    ("post-salvage-relapse-without-cr", "T-003", {"post_salvage_relapse": "no"}, "not_applicable",
     "post_salvage_relapse", ["post_salvage_relapse no is given, but best_response is PR"]),
    ("date-order-relapse-before-cart", "T-002", {"relapse_date": "2019-01-15"}, "date_order", None,
     ["relapse_date 2019-01-15 is before cart_date 2019-02-01", "clinical order"]),
    ("date-order-cart-before-diagnosis", "T-005", {"diagnosis_date": "2019-01-01"}, "date_order", None,
     ["cart_date 2018-12-01 is before diagnosis_date 2019-01-01"]),
    ("date-order-cr-before-salvage", "T-001", {"cr_date": "2019-11-25"}, "date_order", None,
     ["cr_date 2019-11-25 is before salvage_date 2019-12-01"]),
    ("date-order-second-relapse-before-cr", "T-002", {"post_salvage_relapse_date": "2019-10-01"}, "date_order", None,
     ["post_salvage_relapse_date 2019-10-01 is before cr_date 2019-11-02"]),
    ("end-of-follow-up-death-before-relapse", "T-004",
     {"death_date": "2019-12-01", "last_contact_date": "2019-12-01"}, "end_of_follow_up", None,
     ["death_date 2019-12-01 is before relapse_date 2020-01-12", "date of death"]),
    ("end-of-follow-up-contact-before-relapse", "T-006", {"last_contact_date": "2019-10-01"}, "end_of_follow_up",
     None, ["last_contact_date 2019-10-01 is before relapse_date 2019-10-10", "date of last contact"]),
    ("end-of-follow-up-hsct-after-contact", "T-001", {"hsct_date": "2021-07-01"}, "end_of_follow_up", None,
     ["last_contact_date 2021-06-30 is before hsct_date 2021-07-01"]),
    ("hsct-before-salvage", "T-001", {"hsct_date": "2019-11-25"}, "hsct_before_salvage", None,
     ["hsct_date 2019-11-25 is before salvage_date 2019-12-01"]),
    ("contact-after-death", "T-003", {"last_contact_date": "2020-09-01"}, "contact_after_death", None,
     ["last_contact_date 2020-09-01 is after death_date 2020-08-01"]),
]


@pytest.mark.parametrize(
    "patient, cells, rule, column, texts", [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_rule_reports_file_row_patient_column_value(tmp_path, dic, patient, cells, rule, column, texts):
    table = change(base_table(), patient, **cells)
    _, report = _check(table, tmp_path, dic)
    assert [p.rule for p in report.problems] == [rule], report.format()
    (problem,) = report.problems
    row = file_row(table, patient)
    assert (problem.patient, problem.row, problem.column, problem.level) == (patient, row, column, "error")
    line = problem.line()
    assert line.startswith(f"{tmp_path / 'site_t.csv'} row {row}, patient {patient}")
    if column is not None:
        assert f", column {column} ({dic[column].label}): " in line  # the dictionary's label beside the name
    for text in texts:
        assert text in line
    assert not report.ok


def test_valid_base_table_passes(tmp_path, dic):
    loaded, report = _check(base_table(), tmp_path, dic)
    assert report.ok and report.problems == ()
    assert report.n_patients == 6 and report.n_files == 1
    assert report.format() == "No problems: 6 patients from 1 file passed every check."


def test_duplicate_pseudonym_across_sites_names_both_rows(tmp_path, dic):
    """T-003 appears at site T (row 4) and again at site U (row 3); both rows are reported."""
    site_t = write_csv(base_table(), tmp_path / "site_t.csv")
    other = change(base_table(), "T-001", patient_id="U-001").iloc[[0, 2]].assign(site="U")  # T-003 -> row 3
    site_u = write_csv(other, tmp_path / "site_u.csv")
    loaded = load_sources([Source(site_t), Source(site_u)], dic)
    report = validate(loaded, dic)
    dup = [p for p in report.problems if p.rule == "unique_patient"]
    # the copied rows are also the same patient under two pseudonyms (a warning of its own)
    assert [p.rule for p in report.errors] == ["unique_patient", "unique_patient"], report.format()
    assert [(p.file, p.row, p.patient, p.column, p.value) for p in dup] == [
        (str(site_t), 4, "T-003", "patient_id", "T-003"),
        (str(site_u), 3, "T-003", "patient_id", "T-003"),
    ]
    assert f"also {site_u} row 3" in dup[0].message
    assert f"also {site_t} row 4" in dup[1].message


def test_several_problems_in_one_file_are_all_reported_at_once(tmp_path, dic):
    table = base_table()
    table = change(table, "T-001", sex="M", relapse_date="2021-02-30", cr_date="")
    table = change(table, "T-003", last_contact_date="2020-09-01")
    table = change(table, "T-006", death_cause="disease", age_at_relapse="abc")
    _, report = _check(table, tmp_path, dic)
    got = [(p.patient, p.rule, p.column) for p in report.problems]
    assert got == [
        ("T-001", "code", "sex"),
        ("T-001", "type", "relapse_date"),
        ("T-001", "required_if", "cr_date"),
        ("T-003", "contact_after_death", None),
        ("T-006", "type", "age_at_relapse"),
        ("T-006", "not_applicable", "death_cause"),
    ]
    lines = report.format().splitlines()
    assert lines[:6] == [p.line() for p in report.problems]
    assert lines[6] == "6 problems (6 errors, 0 warnings) concerning 3 patients of 6 loaded."
    assert lines[7].startswith("What to do:")
    assert len(lines) == 8


def test_messages_use_plain_words(tmp_path, dic):
    table = base_table()
    for patient, cells in [("T-001", {"relapse_date": "2021-02-30", "sex": "M"}), ("T-004", {"death_cause": ""}),
                           ("T-003", {"cr_date": "2020-03-01", "age_at_relapse": "x"})]:
        table = change(table, patient, **cells)
    _, report = _check(table, tmp_path, dic)
    text = report.format().lower()
    for jargon in ("pandera", "dtype", "series", "failure", "element_wise", "check_", "nan", "none", "object",
                   "float", "str", "traceback"):
        assert jargon not in text, jargon


def test_missing_required_column_is_reported_once_not_per_row(tmp_path, dic):
    _, report = _check(base_table().drop(columns=["sex"]), tmp_path, dic)
    assert [(p.rule, p.column, p.row) for p in report.problems] == [("missing_column", "sex", None)]
    assert not report.ok


def test_loading_problems_come_first_and_warnings_do_not_fail(tmp_path, dic):
    table = base_table().assign(comment="x")
    _, report = _check(table, tmp_path, dic)
    assert [(p.rule, p.level) for p in report.problems] == [("unknown_column", "warning")]
    assert report.ok
    assert report.format().splitlines()[-1] == "The data can be analysed; the warnings name columns that were not used."

    table = change(table, "T-002", sex="M")
    _, report = _check(table, tmp_path, dic)
    assert [p.rule for p in report.problems] == ["unknown_column", "code"]
    assert not report.ok
    assert report.format().splitlines()[-2] == (
        "2 problems (1 error, 1 warning) concerning 1 patient of 6 loaded; 1 problem concerns a whole file or column."
    )


def test_site_date_format_is_used_and_named(tmp_path, dic):
    """Dates in DD.MM.YYYY (from the site's mapping file); 31.02.2020 is refused, naming the format."""
    table = base_table()
    for col in [v.name for v in dic.variables if v.type == "date"]:
        table[col] = table[col].map(lambda s: f"{s[8:10]}.{s[5:7]}.{s[0:4]}" if s else s)
    table = change(table, "T-006", relapse_date="31.02.2019")
    mapping = tmp_path / "m.yml"
    mapping.write_text("date_format: DD.MM.YYYY\n", encoding="utf-8")
    _, report = _check(table, tmp_path, dic, mapping=mapping)
    assert [(p.rule, p.patient, p.value) for p in report.problems] == [("type", "T-006", "31.02.2019")]
    assert "31.02.2019 is not a date (expected DD.MM.YYYY)" in report.problems[0].message


def test_validation_does_not_change_the_data(tmp_path, dic):
    table = change(base_table(), "T-001", sex="M", relapse_date="2021-02-30")
    loaded, _ = _check(table, tmp_path, dic)
    raw, origin = loaded.raw.copy(), loaded.origin.copy()
    validate(loaded, dic)
    pd.testing.assert_frame_equal(loaded.raw, raw)
    pd.testing.assert_frame_equal(loaded.origin, origin)


def test_raise_if_errors_and_to_frame(tmp_path, dic):
    _, report = _check(change(base_table(), "T-002", sex="M"), tmp_path, dic)
    with pytest.raises(DataValidationError, match="M is not an allowed code") as err:
        report.raise_if_errors()
    assert err.value.report is report
    frame = report.to_frame()
    assert list(frame.columns) == ["file", "row", "patient", "column", "value", "rule", "message", "level"]
    assert frame.loc[0, ["row", "patient", "value"]].tolist() == [3, "T-002", "M"]


def test_schema_is_built_from_the_dictionary(dic):
    schema = build_schema(dic)
    assert isinstance(schema, pa.DataFrameSchema)
    assert list(schema.columns) == dic.names
    conditional = [v.name for v in dic.variables if v.required_if is not None]
    wide = [c.name for c in schema.checks]
    assert [n for n in wide if n.startswith("required_if|")] == [f"required_if|{c}" for c in conditional]
    assert [n for n in wide if n.startswith("not_applicable|")] == [f"not_applicable|{c}" for c in conditional]
    assert [c.name for c in schema.columns["sex"].checks] == ["required|sex", "code|sex"]


def test_validate_config_loads_and_validates(tmp_path, dic):
    write_csv(change(base_table(), "T-005", sex="M").drop(columns=["site"]), tmp_path / "site_t.csv")
    config = tmp_path / "analysis.yml"
    config.write_text(
        "data:\n  sources:\n    - {path: site_t.csv, site: T}\n"
        f"  dictionary: {Path(__file__).resolve().parent.parent / 'data' / 'dictionary.yml'}\n",
        encoding="utf-8",
    )
    report = validate_config(load_config(config))
    assert [(p.rule, p.patient, p.row) for p in report.problems] == [("code", "T-005", 6)]


@pytest.mark.parametrize("how", ["column-left-out", "column-empty"])
def test_cox_covariate_without_its_optional_column_warns(how, tmp_path, dic):
    """The configured Cox model uses the marrow tumour burden group, made from the
    optional column marrow_blasts_pct: left out (or empty for every patient) the
    data are still valid (exit 0), but validate says that the model cannot be
    fitted, naming the column and the covariate in words, once (audit item 2:
    validate passed silently, only numbers/prepare warned)."""
    table = base_table()
    table = table.drop(columns=["marrow_blasts_pct"]) if how == "column-left-out" else table.assign(
        marrow_blasts_pct="")
    path = write_csv(table, tmp_path / "site_t.csv")
    loaded = load_sources([Source(path=path)], dic)
    covariates = {"SALVGRP": "salvage group", "BMBURDEN": "bone-marrow tumour burden"}
    report = validate(loaded, dic, covariates=covariates)
    assert report.ok and report.exit_code == 0
    (warning,) = report.warnings
    assert (warning.rule, warning.column, warning.level) == ("covariate_input", "marrow_blasts_pct", "warning")
    line = warning.line()
    assert line.startswith("column marrow_blasts_pct (Bone-marrow blasts at relapse): no patient has a value")
    assert "bone-marrow tumour burden (BMBURDEN)" in line and "cannot be fitted" in line
    assert report.format().splitlines()[-1].startswith("The data can be analysed, but not every model")
    # without the Cox covariates (the analysis' own validation) or with the column recorded: nothing to say
    assert validate(loaded, dic).problems == ()
    recorded = load_sources([Source(path=write_csv(base_table(), tmp_path / "site_u.csv"))], dic)
    assert validate(recorded, dic, covariates=covariates).problems == ()


def test_optional_inputs_are_what_derive_reads(tmp_path):
    """analysis.config.OPTIONAL_INPUTS (ADSL column -> the optional input column it is
    made from) agrees with the derivation: each ADSL column there, and the group made
    from it by a cut-off, is recorded for some patient of the synthetic cohort and
    missing for every patient once that input column is emptied."""
    from analysis.config import GROUPED_BY_DEFINITION, OPTIONAL_INPUTS, optional_input
    from analysis.pipeline import load_cohort
    from analysis.simulate import simulate_cohort

    cohort = simulate_cohort()
    groups = {column: group for group, (_, column, _) in GROUPED_BY_DEFINITION.items()}
    for column, source in OPTIONAL_INPUTS.items():
        made = [column] + ([groups[column]] if column in groups else [])
        assert [optional_input(c) for c in made] == [source] * len(made)
        for emptied in (False, True):
            path = tmp_path / f"{source}_{emptied}.csv"
            (cohort.assign(**{source: ""}) if emptied else cohort).to_csv(path, index=False)
            adsl = load_cohort(load_config(data=str(path))).derived.adsl
            for c in made:
                assert adsl[c].isna().all() == emptied, (source, c, emptied)
    assert optional_input("SALVGRP") is None and optional_input("AGEGR1") is None
