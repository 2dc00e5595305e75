"""A site's mapping file and columns whose names look like direct identifiers.

The identifier check refuses a column by its name before any value is read. A
mapping file that names such a column explicitly says what it holds: mapped to
a checked variable (a date, number or code) it is read as that variable and its
values are checked as such (a telephone number is not a date); mapped to null
it is ignored on purpose, silently. A column the mapping does not name is still
refused unread, and a text variable (patient_id) is never read from such a
column, since nothing would check that its values are not names.

The files are shaped as sites export them (tests/realistic_sites.py): SITE-A's
German semicolon CSV with its mapping, SITE-B's workbook.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from analysis.config import sources_from_override
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import dictionary
from tests.realistic_sites import write_sites
from tests.test_cli import run

PHONE = "+49 171 2345678"


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def _site_a(folder: Path, header: dict[str, str] | None = None, mapping: dict[str, str] | None = None,
            extra: tuple[str, str] | None = None) -> Path:
    """SITE-A's export with column names renamed (``header``: old -> new), mapping lines
    replaced (``mapping``: old line -> new line) and optionally one more column (name, value)."""
    listed = write_sites(folder)
    csv = listed.parent / "site_a_export.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    names = lines[0].split(";")
    names = [(header or {}).get(n, n) for n in names]
    lines[0] = ";".join(names)
    if extra:
        lines[0] += f";{extra[0]}"
        lines[1:] = [line + f";{extra[1]}" for line in lines[1:]]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = listed.parent / "site_a.mapping.yml"
    text = path.read_text(encoding="utf-8")
    for old, new in (mapping or {}).items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return listed


def _load(listed, dic):
    loaded = load_sources(sources_from_override(listed), dic)
    return loaded, validate(loaded, dic)


def test_column_named_like_a_telephone_mapped_to_a_date_is_read_as_that_date(tmp_path, dic):
    """'Phone contact' (the date of the last contact, by phone) mapped to last_contact_date was refused
    as a telephone column, and then last_contact_date was said to be missing although it was in the file."""
    baseline, _ = _load(write_sites(tmp_path / "plain"), dic)
    listed = _site_a(tmp_path / "sites", header={"Letzter Kontakt": "Phone contact"},
                     mapping={"Letzter Kontakt: last_contact_date": "Phone contact: last_contact_date"})
    loaded, report = _load(listed, dic)
    assert report.ok and not report.errors and not report.warnings, report.format()
    assert loaded.raw["last_contact_date"].tolist() == baseline.raw["last_contact_date"].tolist()
    assert loaded.raw["last_contact_date"].notna().all()


def test_validate_command_reads_the_mapped_column(tmp_path):
    listed = _site_a(tmp_path / "sites", header={"Letzter Kontakt": "Phone contact"},
                     mapping={"Letzter Kontakt: last_contact_date": "Phone contact: last_contact_date"})
    out = run("validate", str(listed))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "identifier" not in out.stdout and "missing" not in out.stdout


def test_telephone_numbers_in_a_column_mapped_to_a_date_fail_the_date_check(tmp_path, dic):
    listed = _site_a(tmp_path / "sites", header={"Letzter Kontakt": "Letzter Kontakt (alt)"},
                     mapping={"Letzter Kontakt: last_contact_date": "Telefon: last_contact_date"},
                     extra=("Telefon", PHONE))
    loaded, report = _load(listed, dic)
    rules = {p.rule for p in report.errors}
    assert "identifier_column" not in rules and "missing_column" not in rules, report.format()
    assert any(p.rule != "mapping" and p.column == "last_contact_date" and "is not a date" in p.message
               for p in report.errors), report.format()
    assert not report.ok


def test_column_named_like_a_telephone_mapped_to_null_is_neither_read_nor_reported(tmp_path, dic):
    listed = _site_a(tmp_path / "sites", mapping={"  Pseudonym: patient_id\n": "  Pseudonym: patient_id\n  Telefon: null\n"},
                     extra=("Telefon", PHONE))
    loaded, report = _load(listed, dic)
    assert report.ok and not report.errors and not report.warnings, report.format()
    assert not loaded.raw.isin([PHONE]).any().any() and not loaded.origin.isin([PHONE]).any().any()


def test_unmapped_telephone_column_is_still_refused_unread(tmp_path, dic):
    listed = _site_a(tmp_path / "sites", extra=("Telefon", PHONE))
    loaded, report = _load(listed, dic)
    assert [(p.rule, p.column) for p in report.errors] == [("identifier_column", "Telefon")]
    assert "remove the column" in report.errors[0].message and "map it to that variable" in report.errors[0].message  # the way out, for a column that is not one
    assert not loaded.raw.isin([PHONE]).any().any() and not loaded.origin.isin([PHONE]).any().any()
    assert PHONE not in report.format()


def test_name_column_mapped_to_the_pseudonym_is_refused_in_one_line(tmp_path, dic):
    """A text variable checks nothing, so a name column is never read as patient_id; the refusal says
    that it was the mapping's column for the required patient_id, and no second 'missing' error contradicts it."""
    listed = _site_a(tmp_path / "sites", header={"Pseudonym": "Patientenname"},
                     mapping={"Pseudonym: patient_id": "Patientenname: patient_id"})
    loaded, report = _load(listed, dic)
    [problem] = [p for p in report.errors if p.file.endswith("site_a_export.csv")]
    assert problem.rule == "identifier_column" and (problem.column, problem.site_column) == ("patient_id", "Patientenname")
    assert "patient_id" in problem.message and "required" in problem.message
    assert not loaded.raw["patient_id"].astype(str).str.startswith("SYN-A").any()


def _site_b_with(listed: Path, name: str, values_from: str | None, mapping: str | None) -> Path:
    """SITE-B's workbook with its column ``values_from`` (on the Patients sheet) named ``name``,
    and a mapping file holding ``mapping`` when given."""
    book_path = listed.parent / "site_b_registry.xlsx"
    book = openpyxl.load_workbook(book_path)
    sheet = book["Patients"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=1, column=header.index(values_from) + 1).value = name  # the site's own name for it
    book.save(book_path)
    if mapping is not None:
        (listed.parent / "site_b.mapping.yml").write_text(mapping, encoding="utf-8")
        text = listed.read_text(encoding="utf-8").replace("sheet: Patients", "sheet: Patients\n  mapping: site_b.mapping.yml")
        listed.write_text(text, encoding="utf-8")
    return listed


def test_workbook_date_column_named_like_a_telephone_is_read_when_mapped(tmp_path, dic):
    baseline, _ = _load(write_sites(tmp_path / "plain"), dic)
    listed = _site_b_with(write_sites(tmp_path / "sites"), "Phone contact", "last_contact_date",
                          "columns:\n  Phone contact: last_contact_date\n")
    loaded, report = _load(listed, dic)
    assert report.ok and not report.errors, report.format()
    assert loaded.raw["last_contact_date"].tolist() == baseline.raw["last_contact_date"].tolist()


def test_workbook_date_column_named_like_a_telephone_is_refused_unmapped(tmp_path, dic):
    listed = _site_b_with(write_sites(tmp_path / "sites"), "Phone contact", "last_contact_date", None)
    loaded, report = _load(listed, dic)
    rules = [(p.rule, p.column) for p in report.errors]
    assert ("identifier_column", "Phone contact") in rules
    assert ("missing_column", "last_contact_date") in rules  # not mapped: nothing said it holds that variable
