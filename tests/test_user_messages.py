"""Messages for data and configuration broken the way users break them (acceptance review items
7-11, 21-23, 29, 30): the exit code (1 data, 2 configuration), the file and line to correct, the
site's own names and values, and closing lines that agree with the problems above them."""

from __future__ import annotations

import pytest
import yaml

from analysis.__main__ import build_parser, main
from tests.realistic_sites import write_sites


@pytest.fixture
def sites(tmp_path):
    return write_sites(tmp_path / "sites")


def _run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_misspelled_sheet_in_sources_is_a_configuration_error_with_its_line(sites, capsys):
    # item 10: was exit 1 and no line of sources.yml
    _edit(sites, "sheet: Patients", "sheet: Patient")
    line = 1 + sites.read_text().splitlines().index("  sheet: Patient")
    code, text = _run(capsys, "validate", str(sites))
    assert code == 2
    assert f"sources.yml line {line}: there is no sheet named 'Patient'" in text
    assert "the sheets are: Read me, Patients" in text and "(sheet: Patients)" in text


def test_workbook_with_several_sheets_given_directly_says_what_to_write(sites, capsys):
    # item 21: was "name the one to read in the configuration" without saying how
    code, text = _run(capsys, "validate", str(sites.parent / "site_b_registry.xlsx"))
    assert code == 2
    assert "sources: [{path: site_b_registry.xlsx, sheet: Patients}]" in text and "CART_DATA" in text


def test_closing_lines_of_a_configuration_error_do_not_contradict(sites, capsys):
    # item 22: "correct each value ... in the site's export" after a configuration error,
    # "(at the line given ...)" without a line, "concerning 0 patients of 46 loaded"
    mapping = sites.parent / "site_a.mapping.yml"
    _edit(mapping, "date_format:", "date_fromat:")
    code, text = _run(capsys, "validate", str(sites))
    assert code == 2
    assert "What to do: correct each value" not in text and "in the site's export" not in text
    assert "concerning 0 patients" not in text
    assert "at the line given" in text  # the mapping file's line is named


def test_diff_help_gives_diffs_own_exit_codes():
    # item 23: diff --help said "1 the data have problems"
    diff = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "diff")[1]
    text = diff.format_help()
    assert "the data have problems" not in text
    assert "1  some numbers changed" in text
