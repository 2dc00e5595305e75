"""A pseudonym used by several rows: each row's message names every other row
(in file order), the pseudonym compared as read (surrounding spaces removed);
two versions of one export read together are one problem for the pair.
The reference is the files the test writes from the valid base table of
tests/conftest_data.py and from the synthetic SITE-A export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.config import PROJECT_ROOT, Source, sources_from_override
from analysis.load import load_sources
from analysis.validate import validate
from tests.conftest_data import base_table, change, dictionary, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def test_each_repeat_names_every_other_row_of_its_pseudonym(tmp_path, dic):
    site_t = write_csv(change(base_table(), "T-005", patient_id=" T-003 "), tmp_path / "site_t.csv")  # rows 4, 6
    other = change(base_table(), "T-001", patient_id="U-001").iloc[[0, 2]].assign(site="U")  # T-003 -> row 3
    site_u = write_csv(other, tmp_path / "site_u.csv")
    report = validate(load_sources([Source(site_t), Source(site_u)], dic), dic)
    dup = [p for p in report.problems if p.rule == "unique_patient"]
    assert [(p.file, p.row, p.value) for p in dup] == [
        (str(site_t), 4, "T-003"), (str(site_t), 6, "T-003"), (str(site_u), 3, "T-003"),
    ]
    assert f"(also {site_t} row 6; {site_u} row 3)" in dup[0].message
    assert f"(also {site_t} row 4; {site_u} row 3)" in dup[1].message
    assert f"(also {site_t} row 4; {site_t} row 6)" in dup[2].message


# ---------------------------------------------------------------------------
# Two versions of one export (two data freezes) read together


def _freezes(folder: Path) -> tuple[Path, Path]:
    """SITE-A's export frozen twice, as a site sends it: the 2024 freeze lacks the three patients
    enrolled since; the 2025 freeze has them, and later follow-up for the patients still alive.
    The synthetic cohort's SITE-A (data/synthetic/site_a.csv), no real patient."""
    folder.mkdir(parents=True, exist_ok=True)
    site_a = pd.read_csv(PROJECT_ROOT / "data" / "synthetic" / "site_a.csv", dtype=str, keep_default_na=False)
    later = site_a.copy()
    alive = later["death_date"] == ""
    later.loc[alive, "last_contact_date"] = "2025-03-31"
    old = write_csv(site_a.iloc[:-3], folder / "site_a_2024.csv")
    new = write_csv(later, folder / "site_a_2025.csv")
    return old, new


def test_two_freezes_of_one_export_in_a_data_folder_are_one_problem_for_the_pair(tmp_path, dic):
    """CART_DATA=folder holding site_a_2024.csv and site_a_2025.csv: the 25 patients of the older
    freeze are all in the newer one. One line says so (how many, that the files look like two
    versions of one export, what to do), not two lines per patient; still a data error (exit 1)."""
    old, new = _freezes(tmp_path / "export")
    report = validate(load_sources(sources_from_override(tmp_path / "export"), dic), dic)
    text = report.format()
    assert "more than once" not in text
    [problem] = [p for p in report.problems if p.rule == "unique_patient"]
    assert (problem.file, problem.row, problem.column) == (str(new), None, "patient_id")
    assert problem.message.startswith(f"the file holds 25 of the same patients as {old} (28 patients in this file, "
                                      f"25 in {old}) (e.g. SYN-A001, SYN-A002, SYN-A003): the two files look like two "
                                      "versions of one export")
    assert problem.message.endswith("To read one version, keep only the one to analyse in the data folder, or list "
                                    "the files to read in a sources.yml (one entry per site file; see 'Rendering "
                                    "with other data' in README.md).")
    assert [l for l in text.splitlines() if str(old) in l] == [problem.line()]
    assert report.exit_code == 1


def test_two_freezes_listed_in_a_sources_list_are_told_which_entries_to_choose_from(tmp_path, dic):
    """The same pair listed in sources.yml (in an .xlsx workbook, as SITE-A keeps its 2024 freeze):
    the advice names the two entries' lines, not a data folder."""
    old_csv, new = _freezes(tmp_path)
    old = tmp_path / "site_a_2024.xlsx"
    pd.read_csv(old_csv, dtype=str, keep_default_na=False).replace("", None).to_excel(old, index=False)
    old_csv.unlink()
    (tmp_path / "sources.yml").write_text(
        "sources:\n  - {path: site_a_2024.xlsx}\n  - {path: site_a_2025.csv}\n", encoding="utf-8")
    report = validate(load_sources(sources_from_override(tmp_path / "sources.yml"), dic), dic)
    [problem] = [p for p in report.problems if p.rule == "unique_patient"]
    assert problem.message.endswith(f"delete the other's entry from the sources list ({tmp_path / 'sources.yml'} "
                                    "line 2 or line 3).")
    assert "data folder" not in problem.message and report.exit_code == 1


def test_a_freeze_pair_keeps_the_lines_of_a_patient_repeated_elsewhere(tmp_path, dic):
    """Beside the two freezes, a genuinely different site's file (SITE-U, three patients) that holds
    one of SITE-A's patients, and a patient written twice inside the 2025 freeze: those are real
    repeats, each told row by row (naming every other row, the freezes' included), except the
    older freeze's row of the patient repeated in the newer one: its only other rows are in that
    other version, which the pair's line covers."""
    old, new = _freezes(tmp_path)
    later = pd.read_csv(new, dtype=str, keep_default_na=False)
    write_csv(pd.concat([later, later.iloc[[4]]], ignore_index=True), new)  # SYN-A005 again, row 30
    other = change(base_table(), "T-001", patient_id="SYN-A010").iloc[:3].assign(site="U")
    site_u = write_csv(other, tmp_path / "site_u.csv")
    report = validate(load_sources([Source(old), Source(new), Source(site_u)], dic), dic)
    dup = [p for p in report.problems if p.rule == "unique_patient"]
    assert [(p.file, p.row, p.value) for p in dup] == [
        (str(new), None, None),
        (str(old), 11, "SYN-A010"),  # (its SYN-A005 is only in the other freeze besides: told by the pair's line)
        (str(new), 6, "SYN-A005"), (str(new), 11, "SYN-A010"), (str(new), 30, "SYN-A005"),
        (str(site_u), 2, "SYN-A010"),
    ]
    assert f"(also {old} row 11; {new} row 11)" in dup[-1].message
    assert f"(also {old} row 6; {new} row 30)" in dup[2].message


# ---------------------------------------------------------------------------
# Two different sites whose exports use the same pseudonyms


def test_two_sites_numbering_their_patients_alike_are_not_called_two_versions_of_one_export(tmp_path, dic):
    """sources.yml lists site_a.csv (SITE-A) and site_b.csv (SITE-B), and each site numbered its
    own patients 001, 002 ... in its export (no site column: the site is the configured one). The
    two files are of two sites, not two freezes of one export: one line for the pair names the two
    sites, says that pseudonyms must be unique across the whole study and what to do; nothing about
    versions, data freezes or listing the files in a sources.yml (they are listed). Exit 1."""
    site_a = pd.read_csv(PROJECT_ROOT / "data" / "synthetic" / "site_a.csv", dtype=str, keep_default_na=False)
    site_a = site_a.drop(columns="site")
    site_a["patient_id"] = [f"{i:03d}" for i in range(1, len(site_a) + 1)]
    site_b = site_a.iloc[:20].copy()  # another site's 20 patients, numbered the same way
    site_b["sex"] = site_b["sex"].map({"male": "female", "female": "male"}).fillna(site_b["sex"])
    write_csv(site_a, tmp_path / "site_a.csv")
    b = write_csv(site_b, tmp_path / "site_b.csv")
    (tmp_path / "sources.yml").write_text(
        "sources:\n  - {path: site_a.csv, site: SITE-A}\n  - {path: site_b.csv, site: SITE-B}\n", encoding="utf-8")
    report = validate(load_sources(sources_from_override(tmp_path / "sources.yml"), dic), dic)
    text = report.format()
    [problem] = [p for p in report.problems if p.rule == "unique_patient"]
    assert (problem.file, problem.row, problem.column) == (str(b), None, "patient_id")
    message = problem.message
    assert "version" not in message and "freeze" not in message and "sources.yml" not in message
    assert message.startswith(f"the files of site SITE-A ({tmp_path / 'site_a.csv'}) and site SITE-B (this file) use "
                              "the same pseudonyms for 20 patients (e.g. 001, 002, 003)")
    assert "each pseudonym must be unique across the whole study" in message
    assert "prefixing each site's pseudonyms with its site code (SITE-A-001, SITE-B-001)" in message
    assert "more than once" not in text
    assert report.exit_code == 1


def test_two_sites_with_a_site_column_sharing_pseudonyms_are_one_line_naming_both_sites(tmp_path, dic):
    """The same with the site written in each file's site column (CART_DATA=folder, no sources list)."""
    site_a = pd.read_csv(PROJECT_ROOT / "data" / "synthetic" / "site_a.csv", dtype=str, keep_default_na=False)
    site_a["patient_id"] = [f"P{i:02d}" for i in range(1, len(site_a) + 1)]
    site_b = site_a.iloc[:10].assign(site="SITE-B")
    write_csv(site_a, tmp_path / "site_a.csv")
    b = write_csv(site_b, tmp_path / "site_b.csv")
    report = validate(load_sources(sources_from_override(tmp_path), dic), dic)
    [problem] = [p for p in report.problems if p.rule == "unique_patient"]
    assert problem.file == str(b) and "version" not in problem.message
    assert "site SITE-A" in problem.message and "site SITE-B (this file)" in problem.message
    assert "10 patients" in problem.message and report.exit_code == 1
