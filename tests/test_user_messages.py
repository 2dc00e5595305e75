"""Messages for data and configuration broken the way users break them (acceptance review items
7-11, 21-23, 29, 30): the exit code (1 data, 2 configuration), the file and line to correct, the
site's own names and values, and closing lines that agree with the problems above them."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.__main__ import build_parser, main
from analysis.config import PROJECT_ROOT
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


def test_data_dependent_configuration_errors_name_file_and_line(tmp_path):
    # item 11: "configuration: cox.covariates[1].reference: ..." without file or line; the
    # cross-list duplicate was reported at "(top level)"
    import pandas as pd

    from analysis.config import ConfigError, check_against_data, load_config

    text = (Path(PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8")
            .replace('{column: AGEGR1, reference: "<18"}', '{column: AGEGR1, reference: "<17"}')
            .replace("data/", str(PROJECT_ROOT / "data") + "/"))
    path = tmp_path / "rev_cox.yml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    cfg = load_config(path)
    adsl = pd.DataFrame({c.column: ["a", "b"] for c in cfg.settings.cox.covariates}
                        | {c.column: ["N", "Y"] for c in cfg.settings.sensitivity.missing_covariates}
                        | {"AGEGR1": ["<18", ">=18"]})
    with pytest.raises(ConfigError) as err:
        check_against_data(cfg.settings, adsl, followup_months=4.0, path=path)
    messages = str(err.value).splitlines()
    reference = next(m for m in messages if "AGEGR1" in m)
    number = int(reference.split(" line ")[1].split(":")[0])
    assert reference.startswith(f"rev_cox.yml line {number}: cox.covariates[1].reference: '<17'")
    assert '"<17"' in lines[number - 1] and "choose one of <18, >=18" in reference
    landmark = next(m for m in messages if "survival.landmarks_months" in m)
    number = int(landmark.split(" line ")[1].split(":")[0])
    assert "landmarks_months" in lines[number - 1]

    both = text.replace("missing_covariates:\n    - {column: CD19NEG", "missing_covariates:\n    - {column: BMBURDEN")
    assert both != text
    path.write_text(both, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "(top level)" not in str(err.value)
    number = int(str(err.value).split(" line ")[1].split(":")[0])
    assert "missing_covariates" in both.splitlines()[number - 1]


def _set_cells(path, changes):
    """changes: {(row number as seen in the file, column name in row 1): new text} in a ';' CSV."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(";")
    for (row, name), text in changes.items():
        cells = lines[row - 1].split(";")
        cells[header.index(name)] = text
        lines[row - 1] = ";".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_validation_messages_use_the_sites_column_names_and_codes(sites, capsys):
    # item 8: "column relapse_date (Date of relapse after CAR-T)" and "(here salvage is yes)"
    # while the site's file says "Rezidiv Datum" and "ja"/"nein"
    _set_cells(sites.parent / "site_a_export.csv", {(2, "Rezidiv Datum"): "", (3, "Salvage"): "nein"})
    code, text = _run(capsys, "validate", str(sites))
    assert code == 1
    assert "row 2, patient SYN-A001, column 'Rezidiv Datum' (relapse_date: Date of relapse after CAR-T): " \
           "'Rezidiv Datum' is missing" in text
    assert "(here 'Salvage' (salvage) is 'nein' (no))" in text
    assert "here salvage is" not in text


def test_define_describes_subjid_as_it_was_made():
    # item 7: with real data define.csv said "Sequence number ... (001, 002, ...)" while ADSL held "2DF37INQ"
    import dataclasses

    from analysis.adam_define import define_frame
    from analysis.config import load_config
    from analysis.derive import subject_ids
    from analysis.pipeline import load_cohort

    derived = load_cohort(load_config()).derived  # synthetic: no key, sequence numbers

    def subjid(d):
        define = define_frame(d)
        return define.loc[(define["Dataset"] == "ADSL") & (define["Variable"] == "SUBJID"), "Derivation"].item()

    assert subjid(derived).startswith("Sequence number")
    key = b"a-secret-key-of-at-least-32-chars!"
    adsl = derived.adsl.assign(SUBJID=subject_ids(derived.adsl["SITEID"], derived.adsl["USUBJID"], key).to_numpy())
    text = subjid(dataclasses.replace(derived, adsl=adsl))
    assert "Sequence" not in text and "Keyed hash" in text and "first 8 base-32 characters" in text
    assert key.decode() not in text


def test_workbook_rows_name_the_sheet_and_a_total_row_is_one_line(sites, capsys):
    # item 29: "site_b_registry.xlsx row 5" without the sheet; a "Total" footer gave one
    # "missing, required" line per column
    import openpyxl

    path = sites.parent / "site_b_registry.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Patients"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=5, column=header.index("sex") + 1).value = None
    footer = sheet.max_row + 2
    sheet.cell(row=footer, column=1).value = "Total: 24 patients"
    workbook.save(path)
    code, text = _run(capsys, "validate", str(sites))
    assert code == 1
    assert "site_b_registry.xlsx sheet Patients row 5, patient" in text
    lines = [line for line in text.splitlines() if f"row {footer}" in line]
    assert len(lines) == 1 and "not a patient row" in lines[0] and "'Total: 24 patients'" in lines[0]


def test_cart_data_folder_with_sources_yml_uses_it(sites, capsys, monkeypatch):
    # item 21: a folder holding sources.yml and mapping files was read file by file, without them
    # ("values seem to be separated by semicolons", "add site: CODE ... in analysis.yml")
    monkeypatch.setenv("CART_DATA", str(sites.parent))
    code, text = _run(capsys, "validate")
    assert code == 0, text
    (sites.parent / "sources.yml").unlink()
    (sites.parent / "site_a_export.csv").unlink()
    (sites.parent / "site_b_registry.xlsx").unlink()
    code, text = _run(capsys, "validate")
    assert "in analysis.yml" not in text.split("or to its entry")[0]
    assert "sources: [{path: site_c.sav, site: CODE}]" in text and "CART_DATA" in text


def test_age_with_decimals_is_refused_as_not_completed_years(sites, capsys):
    # item 30: "45,5" was accepted though the dictionary says "Age in completed years"
    _set_cells(sites.parent / "site_a_export.csv", {(2, "Alter bei Rezidiv"): "45,5"})
    code, text = _run(capsys, "validate", str(sites))
    assert code == 1
    assert "column 'Alter bei Rezidiv' (age_at_relapse: Age at relapse): 45,5 is not a whole number" in text
    assert "completed years" in text


def test_copied_configuration_in_a_subfolder_says_paths_are_relative_to_it(tmp_path, monkeypatch):
    # item 30: CART_CONFIG=revisions/r1.yml failed ".../revisions/data/synthetic/site_a.csv does not
    # exist" without saying that paths are relative to the configuration file
    from analysis.config import ConfigError, load_config

    folder = tmp_path / "revisions"
    folder.mkdir()
    for name in ("data/synthetic/site_a.csv", "data/dictionary.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    config = folder / "r1.yml"
    config.write_text("data:\n  sources:\n    - path: data/synthetic/site_a.csv\n  dictionary: data/dictionary.yml\n",
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_config("revisions/r1.yml")
    text = str(err.value)
    assert "r1.yml line 3: data file" in text
    assert "relative to its folder" in text and "write ../data/synthetic/site_a.csv" in text
    assert "write ../data/dictionary.yml" in text


def test_copied_configuration_does_not_make_a_second_subject_id_key(tmp_path, monkeypatch):
    # item 30 (same cause): data.id_key was relative to the configuration even when the file did not
    # name it; a copy in revisions/ silently created revisions/data/private/usubjid.key and gave every
    # patient a new USUBJID. A key named in the file is relative to it (and a missing one there is
    # refused, not created); one not named is the project's own key, wherever the copy lives.
    import pandas as pd

    from analysis.config import ConfigError, load_config
    from analysis.pipeline import subject_id_key

    (tmp_path / "data" / "private").mkdir(parents=True)
    (tmp_path / "data" / "private" / "usubjid.key").write_text("k" * 64 + "\n", encoding="ascii")
    (tmp_path / "site.csv").write_bytes((PROJECT_ROOT / "data/synthetic/site_a.csv").read_bytes())
    (tmp_path / "revisions").mkdir()
    dictionary = PROJECT_ROOT / "data/dictionary.yml"
    (tmp_path / "revisions" / "default.yml").write_text(
        f"data:\n  sources: [../site.csv]\n  dictionary: {dictionary}\n", encoding="utf-8")
    (tmp_path / "revisions" / "named.yml").write_text(
        f"data:\n  sources: [../site.csv]\n  dictionary: {dictionary}\n  id_key: data/private/usubjid.key\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config("revisions/default.yml").id_key_path == (PROJECT_ROOT / "data/private/usubjid.key").resolve()
    config = load_config("revisions/named.yml")
    with pytest.raises(ConfigError) as err:
        subject_id_key(config, pd.DataFrame({"synthetic": ["no"]}))
    assert "write ../data/private/usubjid.key" in str(err.value)
    assert not (tmp_path / "revisions" / "data").exists()


def test_validate_warns_when_a_model_covariate_lacks_its_optional_column(tmp_path, capsys):
    """Audit item 2: without the optional column marrow_blasts_pct the configured
    Cox model (which uses the marrow tumour burden group made from it) cannot be
    fitted; `validate` passed silently. It now says so as a warning (exit 0, the
    column is optional), naming the column and the covariate in words, once."""
    from analysis.simulate import simulate_cohort

    path = tmp_path / "no_blasts.csv"
    simulate_cohort().drop(columns=["marrow_blasts_pct"]).to_csv(path, index=False)
    code, text = _run(capsys, "validate", str(path))
    assert code == 0
    lines = [line for line in text.splitlines() if "marrow_blasts_pct" in line]
    assert len(lines) == 1, text
    assert lines[0].startswith("column marrow_blasts_pct (Bone-marrow blasts at relapse): no patient has a value")
    assert "bone-marrow tumour burden (BMBURDEN)" in lines[0] and lines[0].endswith("[warning]")
