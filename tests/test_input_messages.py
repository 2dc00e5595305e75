"""Messages that say what is wrong (issue 13, class 3): invisible characters
shown, missing-value tokens hinted, repeated problems grouped with a hint,
whole-file problems once, a file listed twice named once, column names below
row 1 and a notes sheet first detected, labels beside variable names."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from analysis.config import Source
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv
from tests.test_cli import run


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _report(sources, dic):
    return validate(load_sources(sources, dic), dic)


def _big(n=30) -> pd.DataFrame:
    table = pd.concat([base_table()] * (n // 6), ignore_index=True)
    table["patient_id"] = [f"P-{i:03d}" for i in range(len(table))]
    table["age_at_relapse"] = [str(20 + i % 50) for i in range(len(table))]  # no two rows the same patient
    return table


@pytest.mark.parametrize("char,name", [("\u200b", "U+200B zero-width space"), ("\u2060", "U+2060 word joiner")])
def test_invisible_character_in_a_code_is_shown(tmp_path, dic, char, name):
    table = change(base_table(), "T-002", sex=f"female{char}")
    (problem,) = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).problems
    assert problem.message.startswith(f"'female<U+{ord(char):04X}>' (holds an invisible character: {name}; delete it)")


def test_no_break_space_inside_a_number_is_shown(tmp_path, dic):
    table = change(base_table(), "T-002", age_at_relapse="1\u00a02")
    (problem,) = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).problems
    assert "'1<U+00A0>2' (holds an invisible character: U+00A0 no-break space" in problem.message


@pytest.mark.parametrize("token", ["NA", "N/A", "#N/A", "nan"])
def test_missing_value_token_gets_a_hint(tmp_path, dic, token):
    table = change(base_table(), "T-002", marrow_blasts_pct=token)
    (problem,) = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).problems
    assert f"if {token} means 'missing'" in problem.message
    assert f'missing: ["{token}"]' in problem.message and "leave the cell empty" in problem.message


def test_declared_missing_token_is_read_as_missing(tmp_path, dic):
    table = change(base_table(), "T-002", marrow_blasts_pct="NA")
    mapping = tmp_path / "m.yml"
    mapping.write_text('missing: ["NA"]\n')
    assert _report([Source(write_csv(table, tmp_path / "s.csv"), mapping=mapping)], dic).ok


def test_forgotten_date_format_is_one_grouped_line_with_the_hint(tmp_path, dic):
    table = _big()
    table["cart_date"] = table["cart_date"].map(lambda v: "/".join(reversed(v.split("-"))))
    report = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic)
    assert len(report.problems) == 30  # every value stays a problem of its own
    lines = report.format().splitlines()
    assert len(lines) == 3, lines
    assert lines[0] == (
        f"{tmp_path / 's.csv'}, column cart_date (Date of CAR-T infusion): 30 values are not a date "
        "(expected YYYY-MM-DD), e.g. rows 2–31: '10/05/2019', '01/02/2019', '20/08/2019', ...; "
        "set date_format: DD/MM/YYYY in the site's mapping file."
    )


def test_ambiguous_dates_name_both_layouts(tmp_path, dic):
    table = _big()
    table["relapse_date"] = "05/10/2020"
    table["death_date"] = ""
    table["death_cause"] = ""
    table["last_contact_date"] = "2021-06-30"
    text = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).format()
    assert "30 values are not a date" in text and "DD/MM/YYYY or MM/DD/YYYY" in text


def test_whole_file_problem_is_reported_once_not_per_row(tmp_path, dic):
    table = _big().assign(site="Hospital A")
    report = _report([Source(write_csv(table, tmp_path / "s.csv"), site="A")], dic)
    lines = report.format().splitlines()
    assert len(lines) == 3, lines
    assert "30 values are" not in lines[0] and "30 rows (rows 2–31)" in lines[0]
    assert "site Hospital A differs from the site A named for this file" in lines[0]


def test_few_repeats_stay_one_line_each(tmp_path, dic):
    table = change(change(base_table(), "T-001", sex="M"), "T-002", sex="W")
    lines = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).format().splitlines()
    assert lines[0].endswith("column sex (Sex): M is not an allowed code for sex (allowed: male (Male), female (Female)); "
                             "if the site uses its own codes, map them in its mapping file (codes: sex: M: ...).")
    assert "patient T-002" in lines[1]


def test_file_listed_twice_is_named_once_and_read_once(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "s.csv")
    report = _report([Source(path), Source(path)], dic)
    (problem,) = report.problems
    assert problem.rule == "duplicate_source" and "listed twice" in problem.message
    assert "(entries 1 and 2)" in problem.message
    assert report.n_patients == 6 and report.exit_code == 2


def test_same_export_under_two_names_is_named_once(tmp_path, dic):
    a = write_csv(base_table(), tmp_path / "a.csv")
    b = tmp_path / "b.csv"
    b.write_bytes(a.read_bytes())
    (problem,) = _report([Source(a), Source(b)], dic).problems
    assert "has the same content as" in problem.message and "a.csv" in problem.message


def test_file_listed_twice_in_sources_yml_on_the_command_line(tmp_path):
    write_csv(base_table(), tmp_path / "s.csv")
    (tmp_path / "sources.yml").write_text("sources:\n  - {path: s.csv}\n  - {path: s.csv}\n")
    out = run("validate", str(tmp_path / "sources.yml"))
    assert "Traceback" not in out.stdout + out.stderr and out.returncode == 2
    assert out.stdout.count("listed twice") == 1 and "same row" not in out.stdout


def _merged_heading_workbook(path, header_row=2, sheets=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    table = base_table()
    ws.append(["Patient"] + [None] * 3 + ["Treatment"] + [None] * (len(table.columns) - 5))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    ws.append(list(table.columns))
    for row in table.values.tolist():
        ws.append(row)
    for title in sheets:
        notes = wb.create_sheet(title, 0)
        notes.append(["Export notes"])
        notes.append(["Exported from the registry on 2024-01-01"])
    wb.save(path)
    return path


def test_column_names_on_row_2_under_merged_headings_are_detected(tmp_path, dic):
    path = _merged_heading_workbook(tmp_path / "s.xlsx")
    report = _report([Source(path)], dic)
    (problem,) = report.problems
    assert problem.rule == "header_row"
    assert "the column names seem to be in row 2, not in row 1" in problem.message
    assert "'Patient', 'Treatment', perhaps headings over merged cells" in problem.message
    assert "header_row: 2" in problem.message


def test_header_row_in_the_mapping_reads_the_workbook(tmp_path, dic):
    path = _merged_heading_workbook(tmp_path / "s.xlsx")
    mapping = tmp_path / "m.yml"
    mapping.write_text("header_row: 2\n")
    loaded = load_sources([Source(path, mapping=mapping)], dic)
    assert validate(loaded, dic).ok
    assert loaded.origin["row"].tolist() == [3, 4, 5, 6, 7, 8]  # rows as Excel numbers them


def test_header_row_in_the_mapping_reads_a_csv(tmp_path, dic):
    path = tmp_path / "s.csv"
    path.write_text("Registry export 2024\n" + base_table().to_csv(index=False), encoding="utf-8")
    mapping = tmp_path / "m.yml"
    mapping.write_text("header_row: 2\n")
    loaded = load_sources([Source(path, mapping=mapping)], dic)
    assert validate(loaded, dic).ok and loaded.origin["row"].tolist()[0] == 3


def test_csv_with_a_title_line_is_detected(tmp_path, dic):
    path = tmp_path / "s.csv"
    path.write_text("Registry export 2024\n" + base_table().to_csv(index=False), encoding="utf-8")
    (problem,) = _report([Source(path)], dic).problems
    assert problem.rule == "header_row" and "header_row: 2" in problem.message


def test_notes_sheet_first_suggests_the_sheet_with_the_dictionary_columns(tmp_path, dic):
    path = _merged_heading_workbook(tmp_path / "s.xlsx", sheets=["Notes"])
    (problem,) = _report([Source(path)], dic).problems
    assert problem.rule == "sheet"
    assert "the sheet 'Data' holds" in problem.message and "(sheet: Data)" in problem.message
    assert "(sheet: Notes)" not in problem.message


def test_named_notes_sheet_suggests_the_data_sheet(tmp_path, dic):
    path = _merged_heading_workbook(tmp_path / "s.xlsx", sheets=["Notes"])
    (problem,) = _report([Source(path, sheet="Notes")], dic).problems
    assert "the sheet 'Notes' holds none of the data dictionary's columns" in problem.message
    assert "(sheet: Data)" in problem.message


def test_many_unmapped_codes_are_one_line_with_the_mapping_hint(tmp_path, dic):
    table = _big()
    table["sex"] = ["1" if i % 2 else "2" for i in range(len(table))]
    lines = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).format().splitlines()
    assert lines[0].endswith(
        "column sex (Sex): 30 values are not an allowed code for sex (allowed: male (Male), female (Female)), "
        "e.g. rows 2–31: '2', '1'; if the site uses its own codes, map them in its mapping file (codes: sex: …: ...)."
    ), lines[0]


@pytest.mark.parametrize(
    "value,hint",
    [("43831", "looks like an Excel date serial number (2020-01-01)"),
     ("10.05.19", "the year has two digits"),
     ("1.2.2019", "day and month need two digits each"),
     ("2019-02-29", "that day does not exist in the calendar")],
)
def test_date_that_is_not_a_date_gets_the_likely_reason(tmp_path, dic, value, hint):
    table = change(base_table(), "T-001", diagnosis_date=value)
    (problem,) = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).problems
    assert hint in problem.message, problem.message


@pytest.mark.parametrize("name,like", [("Age at relapse", "age_at_relapse"), ("sex\u200b", "sex"),
                                       ("Date of CAR-T infusion", "cart_date"), ("relapse-date", "relapse_date")])
def test_unknown_column_suggests_the_dictionary_variable(tmp_path, dic, name, like):
    table = base_table().rename(columns={like: name})
    loaded = load_sources([Source(write_csv(table, tmp_path / "s.csv"))], dic)
    (problem,) = [p for p in loaded.problems if p.rule == "unknown_column"]
    assert f"it looks like {like} (" in problem.message and f"columns: {name}: {like}" in problem.message
    if "\u200b" in name:
        assert "<U+200B>" in problem.message


def test_column_names_repeated_further_down_are_named_once_and_skipped(tmp_path, dic):
    path = write_csv(base_table(), tmp_path / "s.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:4] + [lines[0]] + lines[4:]) + "\n", encoding="utf-8")
    report = _report([Source(path)], dic)
    (problem,) = report.problems
    assert problem.rule == "repeated_header" and "row 5 repeats the column names of row 1" in problem.message
    assert report.ok and report.n_patients == 6


@pytest.mark.parametrize("value", ["48%", "48 %", "34 years", "<5"])
def test_number_with_a_unit_gets_the_hint(tmp_path, dic, value):
    table = change(base_table(), "T-001", marrow_blasts_pct=value)
    (problem,) = _report([Source(write_csv(table, tmp_path / "s.csv"))], dic).problems
    assert "write the number alone" in problem.message, problem.message


def test_excel_sep_line_names_the_delimiter(tmp_path, dic):
    path = tmp_path / "s.csv"
    path.write_text("sep=;\n" + base_table().to_csv(index=False, sep=";"), encoding="utf-8")
    loaded = load_sources([Source(path)], dic)
    assert validate(loaded, dic).ok and loaded.origin["row"].tolist()[0] == 3
