"""Malformed auxiliary files and pathological exports (issue 13, classes 1 and 2):
every one gets a message naming the file (and line or row) and the exit status
of its kind (2 for a file the user writes, such as a mapping file; 1 for the
data), never a traceback, and nothing is silently misread."""

from __future__ import annotations

import random

import openpyxl
import pytest

from analysis.config import PROJECT_ROOT, Source
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import base_table, dictionary, write_csv
from tests.test_cli import run


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _report(paths, dic, mapping=None):
    loaded = load_sources([Source(p, site="T", mapping=mapping) for p in paths], dic)
    return validate(loaded, dic)


def _text(report) -> str:
    return report.format()


# --- mapping files (configuration: exit 2) ---------------------------------------------

MAPPINGS = [
    ("columns-list", "columns:\n  - Geschlecht: sex\n  - Alter: age_at_relapse\n",
     ["line 1", "columns: must be pairs", "not a list", "remove the '- '"]),
    ("codes-list", "codes:\n  - sex\n", ["line 1", "codes: must be pairs", "not a list"]),
    ("codes-column-list", "codes:\n  sex:\n    - m: male\n", ["line 2", "codes for sex must be pairs"]),
    ("codes-scalar", "codes: sex\n", ["line 1", "codes: must be pairs", "single value 'sex'"]),
    ("invalid-yaml", "columns:\n  Geschlecht: sex\n bad: [1,\n", ["line", "not valid YAML"]),
    ("tabs", "columns:\n\tGeschlecht: sex\n", ["line 2", "not valid YAML", "tabs"]),
    ("list-top", "- columns\n- codes\n", ["must hold entries such as 'columns:'", "not a list"]),
    ("target-list", "columns:\n  Geschlecht: [sex]\n", ["line 2", "'Geschlecht' is mapped to ['sex']"]),
    ("code-target-dict", "codes:\n  sex:\n    m: {a: b}\n", ["line 3", "not a code of sex"]),
    ("missing-dict", "missing: {a: b}\n", ["line 1", "missing: must be a list"]),
    ("date-format-number", "date_format: 12\n", ["line 1", "date format 12 must be text"]),
    ("delimiter-list", "delimiter: [a, b]\n", ["line 1", "delimiter must be one character"]),
    ("header-row-text", "header_row: two\n", ["line 1", "header_row must be the number"]),
]


@pytest.mark.parametrize("name,text,words", MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_malformed_mapping_file_is_a_configuration_problem_with_its_line(tmp_path, dic, name, text, words):
    mapping = tmp_path / "m.yml"
    mapping.write_text(text, encoding="utf-8")
    report = _report([write_csv(base_table(), tmp_path / "site.csv")], dic, mapping)
    assert report.exit_code == 2
    message = " | ".join(p.message for p in report.errors)
    assert "mapping file" in message and "m.yml" in message
    missing = [w for w in words if w not in message]
    assert not missing, (missing, message)


def test_latin1_mapping_file_names_line_and_encoding(tmp_path, dic):
    mapping = tmp_path / "m.yml"
    mapping.write_bytes("columns:\n  Geschlecht: sex\ncodes:\n  sex:\n    männlich: male\n".encode("latin-1"))
    report = _report([write_csv(base_table(), tmp_path / "site.csv")], dic, mapping)
    assert report.exit_code == 2
    (problem,) = report.errors
    assert "line 5" in problem.message and "not saved as UTF-8" in problem.message


def test_malformed_mapping_exits_2_on_the_command_line(tmp_path):
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  - Geschlecht: sex\n", encoding="utf-8")
    write_csv(base_table(), tmp_path / "site.csv")
    (tmp_path / "sources.yml").write_text("sources:\n  - {path: site.csv, site: T, mapping: m.yml}\n")
    out = run("validate", str(tmp_path / "sources.yml"))
    assert "Traceback" not in out.stdout + out.stderr
    assert out.returncode == 2, out.stdout + out.stderr
    assert "m.yml line 1: columns: must be pairs" in out.stdout


# --- pathological CSV files (data: exit 1) ---------------------------------------------


def _lines(tmp_path, name="site.csv"):
    path = write_csv(base_table(), tmp_path / name)
    return path, path.read_text(encoding="utf-8").splitlines()


def test_unclosed_quote_before_a_long_tail_is_named_not_a_traceback(tmp_path, dic):
    path, lines = _lines(tmp_path)
    tail = "\n".join(lines[1:] * 3000)  # longer than the csv module's field limit
    lines[2] = lines[2].replace(",female,", ',"female,', 1)
    path.write_text("\n".join(lines[:3]) + "\n" + tail + "\n", encoding="utf-8")
    report = _report([path], dic)
    (problem,) = report.errors
    assert problem.rule == "unclosed_quote"
    assert "line 3" in problem.message and "never closed" in problem.message


def test_unclosed_quote_in_a_small_file_is_named(tmp_path, dic):
    path, lines = _lines(tmp_path)
    lines[2] = lines[2].replace(",female,", ',"female,', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = _report([path], dic)
    (problem,) = report.errors
    assert problem.rule == "unclosed_quote"
    assert "row 3 (line 3)" in problem.message and "never closed" in problem.message
    assert "lines 4–7 were read as part of that one value" in problem.message


def test_quote_closed_rows_later_is_named_with_both_lines(tmp_path, dic):
    path, lines = _lines(tmp_path)
    lines[2] = lines[2].replace(",female,", ',"female,', 1)
    lines[4] = lines[4].replace(",female,", ',female",', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = _report([path], dic).errors
    assert "closed only on line 5" in problem.message


def test_quoted_line_break_in_free_text_is_kept(tmp_path, dic):
    table = base_table()
    table.loc[0, "salvage_agent"] = "blinatumomab\nthen inotuzumab"
    report = _report([write_csv(table, tmp_path / "site.csv")], dic)
    assert report.ok, report.format()


def test_mixed_utf8_and_latin1_is_refused_naming_the_lines(tmp_path, dic):
    table = base_table().assign(site="Hôpital")
    text = table.to_csv(index=False).splitlines()
    data = ("\n".join(text[:3]) + "\n").encode("utf-8") + ("\n".join(text[3:]) + "\n").encode("latin-1")
    path = tmp_path / "site.csv"
    path.write_bytes(data)
    loaded = load_sources([Source(path)], dic)
    assert len(loaded.raw) == 0  # nothing passed on half-decoded
    (problem,) = loaded.problems
    assert problem.rule == "unreadable_file"
    assert "mixes two text encodings" in problem.message
    assert "lines 2–3 (e.g. line 2 'Hôpital') are UTF-8" in problem.message
    assert "lines 4–7 (e.g. line 4 'Hôpital') are Windows-1252" in problem.message


@pytest.mark.parametrize(
    "content,words",
    [(b"PK\x03\x04" + bytes(range(256)) * 4, "rename it to .xlsx"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 500, "password-protected"),
     (b"$FL2@(#) SPSS DATA FILE" + b"\x02" * 100, "rename it to .sav"),
     (random.Random(1).randbytes(3000).replace(b"\x00", b"\x01"), "not a text file")],
    ids=["xlsx-as-csv", "ole-as-csv", "sav-as-csv", "random-bytes"],
)
def test_binary_file_named_csv_is_named_as_such(tmp_path, dic, content, words):
    path = tmp_path / "site.csv"
    path.write_bytes(content)
    (problem,) = load_sources([Source(path)], dic).problems
    assert problem.rule == "unreadable_file" and words in problem.message


# --- Excel ----------------------------------------------------------------------------


def _workbook(tmp_path, rows, name="site.xlsx", formats=None, sheets=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    for row in rows:
        ws.append(row)
    for cell, fmt in (formats or {}).items():
        ws[cell].number_format = fmt
    for title, extra in (sheets or {}).items():
        other = wb.create_sheet(title, 0)
        for row in extra:
            other.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def _rows():
    table = base_table()
    return [list(table.columns)] + table.values.tolist()


def test_percent_formatted_cells_are_read_as_shown_and_reported(tmp_path, dic):
    rows = _rows()
    col = rows[0].index("marrow_blasts_pct")
    rows[1][col] = 0.8  # shown 80 %
    letter = openpyxl.utils.get_column_letter(col + 1)
    path = _workbook(tmp_path, rows, formats={f"{letter}2": "0%"})
    loaded = load_sources([Source(path)], dic)
    assert loaded.raw.loc[0, "marrow_blasts_pct"] == 80
    (problem,) = [p for p in loaded.problems if p.rule == "percent_cells"]
    assert problem.level == "warning"
    assert "formatted as percent" in problem.message and "stored 0.8, shown 80 %" in problem.message


def test_formula_without_stored_result_is_refused(tmp_path, dic):
    rows = _rows()
    col = rows[0].index("age_at_relapse")
    letter = openpyxl.utils.get_column_letter(col + 1)
    rows[2][col] = f"={letter}2+1"  # openpyxl writes the formula without a cached result
    path = _workbook(tmp_path, rows)
    loaded = load_sources([Source(path)], dic)
    (problem,) = [p for p in loaded.problems if p.level == "error"]
    assert problem.rule == "formula"
    assert f"row 3, column {letter} 'age_at_relapse'" in problem.message and "without a stored result" in problem.message


def test_password_protected_workbook_is_named(tmp_path, dic):
    path = tmp_path / "site.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    (problem,) = load_sources([Source(path)], dic).problems
    assert "password-protected" in problem.message


def test_empty_sheet_and_empty_workbook(tmp_path, dic):
    path = _workbook(tmp_path, [])
    (problem,) = load_sources([Source(path)], dic).problems
    assert problem.rule == "empty_file"


# --- fuzz: many malformed variants, never a traceback ------------------------------------


def _variants(tmp_path):
    base = write_csv(base_table(), tmp_path / "base.csv").read_bytes()
    rng = random.Random(13)
    out = []
    for i in range(60):
        data = bytearray(base)
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.3:
                data[pos:pos] = rng.choice([b'"', b"\n", b",", b"\xe9", b"\xc3\xa9", b"\x00", b";", b"\r", b"\xff"])
            elif choice < 0.6:
                del data[pos:pos + rng.randint(1, 40)]
            else:
                data[pos] = rng.randrange(256)
        out.append(bytes(data))
    out += [b"", b"\n\n", b",,,\n,,,\n", b'"', b'a"b\n"c', b"\xef\xbb\xbf", b"patient_id\n" + b'"' * 200000]
    return out


def test_fuzzed_csv_files_never_raise(tmp_path, dic):
    for i, data in enumerate(_variants(tmp_path)):
        path = tmp_path / f"v{i}.csv"
        path.write_bytes(data)
        report = _report([path], dic)  # must not raise
        assert report.exit_code in (0, 1, 2)
        report.format()


def test_fuzzed_mapping_files_never_raise(tmp_path, dic):
    base = (PROJECT_ROOT / "data" / "mapping.example.yml").read_bytes()
    rng = random.Random(7)
    csv_path = write_csv(base_table(), tmp_path / "site.csv")
    for i in range(40):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            data[pos:pos] = rng.choice([b"- ", b":", b"\n  ", b"[", b"{", b"\t", b"\xe9", b"  - x\n", b"!!python/object "])
        mapping = tmp_path / f"m{i}.yml"
        mapping.write_bytes(bytes(data))
        report = _report([csv_path], dictionary(), mapping)
        report.format()


def test_fuzzed_workbooks_never_raise(tmp_path, dic):
    import io
    import zipfile

    path = _workbook(tmp_path, _rows(), name="base.xlsx")
    base = path.read_bytes()
    rng = random.Random(5)
    variants = []
    for _ in range(15):  # damaged bytes
        data = bytearray(base)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        variants.append(bytes(data))
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    for name in [n for n in parts if n.endswith(".xml")]:  # a well-formed zip with one damaged or missing part
        for damage in (lambda b: b[: len(b) // 2], lambda b: None):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as out:
                for n, b in parts.items():
                    b = damage(b) if n == name else b
                    if b is not None:
                        out.writestr(n, b)
            variants.append(buffer.getvalue())
    for i, data in enumerate(variants):
        target = tmp_path / f"v{i}.xlsx"
        target.write_bytes(data)
        _report([target], dic).format()  # must not raise


def test_key_written_twice_in_a_mapping_file_is_named_with_both_lines(tmp_path, dic):
    mapping = tmp_path / "m.yml"
    mapping.write_text("codes:\n  sex:\n    m: male\n    M: female\ncolumns:\n  Geschlecht: sex\ncodes:\n  salvage: {ja: yes}\n")
    report = _report([write_csv(base_table(), tmp_path / "site.csv")], dic, mapping)
    messages = [p.message for p in report.errors]
    assert report.exit_code == 2
    assert any("line 4: 'M' is written twice (lines 3 and 4)" in m for m in messages), messages
    assert any("line 7: 'codes' is written twice (lines 1 and 7)" in m for m in messages), messages


def test_missing_token_that_is_a_code_is_a_warning(tmp_path, dic):
    mapping = tmp_path / "m.yml"
    mapping.write_text('missing: ["unknown", "NA"]\n')
    report = _report([write_csv(base_table(), tmp_path / "site.csv")], dic, mapping)
    assert [(p.patient, p.column) for p in report.errors] == [("T-003", "cd19_status")]  # its 'unknown' became missing
    (problem,) = report.warnings
    assert "'unknown' is also a code of cd19_status, death_cause" in problem.message
    assert "m.yml line 1" in problem.message


def test_misspelled_column_in_mapping_is_a_configuration_error_with_line_and_suggestion(tmp_path, dic):
    # acceptance item 9: was exit 1, "'geschlect'" lowercased, no line, no suggestion, plus a
    # "required column sex missing" error and a "Geschlecht ignored" warning for the same mistake
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  Pseudonym: patient_id\n  Geschlect: sex\n")
    table = base_table().rename(columns={"sex": "Geschlecht", "patient_id": "Pseudonym"})
    report = _report([write_csv(table, tmp_path / "site.csv")], dic, mapping)
    (problem,) = report.problems
    assert report.exit_code == 2
    assert "m.yml line 3: the column 'Geschlect' (mapped to sex) is not in the file" in problem.message
    assert "did you mean 'Geschlecht'?" in problem.message
    assert "at the line given" in report.format()


def test_mapping_of_an_optional_column_the_file_lacks_is_a_warning_with_line(tmp_path, dic):
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  Spender: hsct_date\n")
    report = _report([write_csv(base_table().drop(columns=["hsct_date"]), tmp_path / "site.csv")], dic, mapping)
    unused = [p for p in report.problems if p.rule == "mapping_unused"]
    assert len(unused) == 1 and unused[0].level == "warning"
    assert "m.yml line 2: the column 'Spender' (mapped to hsct_date) is not in the file" in unused[0].message


def test_csv_named_xlsx_is_named_as_such(tmp_path, dic):
    path = tmp_path / "site.xlsx"
    path.write_bytes(write_csv(base_table(), tmp_path / "x.csv").read_bytes())
    (problem,) = load_sources([Source(path)], dic).problems
    assert "text (probably CSV) named .xlsx" in problem.message
