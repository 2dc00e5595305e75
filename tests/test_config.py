"""The configuration is a typed, validated contract (analysis/config.py): each
mistake a user makes gets one clear message naming the file, line and key,
exit 2, no traceback, and nothing is computed."""

from __future__ import annotations

import pytest
import yaml

from analysis.config import DEFAULT_CONFIG, PROJECT_ROOT, ConfigError, Settings, describe_settings, load_config
from tests.test_cli import run


def _shipped() -> dict:
    settings = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    settings["data"]["sources"] = [{**s, "path": str((PROJECT_ROOT / s["path"]).resolve())}
                                   for s in settings["data"]["sources"]]
    settings["data"].pop("dictionary", None)
    return settings


def _write(tmp_path, settings: dict, name: str = "revision.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


def _edit(**changes):
    def apply(s: dict) -> dict:
        for dotted, value in changes.items():
            *parents, last = dotted.split(".")
            node = s
            for p in parents:
                node = node.setdefault(p, {})
            if value is DELETE:
                node.pop(last)
            else:
                node[last] = value
        return s
    return apply


DELETE = object()


def _rename(old: str, new: str):
    def apply(s: dict) -> dict:
        s[new] = s.pop(old)
        return s
    return apply


def _rename_in(section: str, old: str, new: str):
    def apply(s: dict) -> dict:
        s[section][new] = s[section].pop(old)
        return s
    return apply


MISTAKES = [
    # id, edit, words the message must hold
    ("median-ci-value", _edit(**{"survival.median_ci": "loglog"}),
     ["survival.median_ci", "'loglog'", "log-log"]),
    ("two-by-two-value", _edit(**{"tests.two_by_two": "fishers"}),
     ["tests.two_by_two", "'fishers'", "did you mean 'fisher'"]),
    ("section-typo", _rename("survival", "survivall"),
     ["unknown setting 'survivall'", "did you mean 'survival'"]),
    ("key-typo", _rename_in("survival", "median_ci", "median_cis"),
     ["unknown setting 'survival.median_cis'", "did you mean 'median_ci'"]),
    ("alpha-range", _edit(**{"tests.alpha": 5}), ["tests.alpha"]),
    ("landmark-negative", _edit(**{"survival.landmarks_months": [-6]}), ["survival.landmarks_months"]),
    ("landmarks-none", _edit(**{"survival.landmarks_months": []}),
     ["survival.landmarks_months", "list at least one time"]),
    ("risk-times-none", _edit(**{"survival.risk_table_months": []}),
     ["survival.risk_table_months", "list at least one time"]),
    ("overlap", _edit(**{"cox.covariates": [{"column": "SALVGRP", "reference": "Targeted"},
                                            {"column": "CD19NEG", "reference": "N"}]}),
     ["revision.yml line", "sensitivity.missing_covariates", "CD19NEG", "cox.covariates"]),
    ("absent-column", _edit(**{"cox.covariates": [{"column": "SALVGRP", "reference": "Targeted"},
                                                  {"column": "CD19STATUS", "reference": "N"}]}),
     ["revision.yml line", "cox.covariates[1].column", "'CD19STATUS'", "did you mean 'CD19STAT'"]),
    ("absent-level", _edit(**{"cox.covariates": [{"column": "SALVGRP", "reference": "Targeted"},
                                                 {"column": "PRIORSCT", "reference": "No"}]}),
     ["revision.yml line", "cox.covariates[1].reference", "'No'", "choose one of N, Y"]),
    ("numeric-covariate-reference",  # accepted, then the model left the manuscript ("could not be fitted")
     _edit(**{"cox.covariates": [{"column": "SALVGRP", "reference": "Targeted"},
                                 {"column": "AGE", "reference": "40"}]}),
     ["revision.yml line", "cox.covariates[1].reference", "AGE is a number", "no reference level", "AGEGR1"]),
    ("age-cut-off-one-group", _edit(**{"definitions.adult_age_years": 99}),   # every patient is under 99
     ["revision.yml line", "definitions.adult_age_years", "AGEGR1", "cox.covariates[1]", "choose a cut-off above"]),
    ("landmark-beyond-follow-up", _edit(**{"survival.landmarks_months": [6, 12, 120]}),
     ["revision.yml line", "survival.landmarks_months", "120 months is beyond the last follow-up"]),
    ("covariates-none", _edit(**{"cox.covariates": []}),   # the model silently left the manuscript
     ["revision.yml line", "cox.covariates", "list at least one covariate"]),
    ("seed-negative", _edit(**{"tests.monte_carlo_seed": -5}),   # numpy refused it in every analysis (traceback)
     ["revision.yml line", "tests.monte_carlo_seed: must be 0 or more (got -5)"]),
    ("median-ci-capitals", _edit(**{"survival.median_ci": "LOG"}),
     ["survival.median_ci", "'LOG'", "did you mean 'log'"]),
    ("covariate-not-an-entry", _edit(**{"cox.covariates": ["SALVGRP"]}),   # was pydantic's "instance of Covariate"
     ["revision.yml line", "cox.covariates[0]: must be an entry written as {column: ..., reference: ...}"]),
    ("study-id-form", _edit(**{"study_id": "CART RELAPSE"}),               # was a regular expression
     ["revision.yml line", "study_id: 'CART RELAPSE' is not allowed", "letters, digits, - and _"]),
    ("switch-not-true-false", _edit(**{"sensitivity.competing_risks": "maybe"}),
     ["sensitivity.competing_risks: must be true or false"]),
    ("submitted-ledger-missing", _edit(**{"revisions.submitted_ledger": "nowhere/numbers.json"}),
     ["revision.yml line", "revisions.submitted_ledger", "nowhere/numbers.json"]),   # failed after the render
    ("missing-dictionary", _edit(**{"data.dictionary": "nowhere/dictionary.yml"}),
     ["data.dictionary", "does not exist"]),
]


@pytest.mark.parametrize("edit, words", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistake_is_one_clear_message_exit_2(tmp_path, edit, words):
    path = _write(tmp_path, edit(_shipped()))
    proc = run("--config", str(path), "numbers")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == "", "nothing is computed or printed"
    message = proc.stderr
    assert "revision.yml" in message or "configuration" in message
    assert "Input should" not in message and "instance of" not in message, "pydantic's words, not ours"
    for w in words:
        assert w in message, (w, message)


def test_a_cut_off_that_makes_one_group_gives_advice_that_works(tmp_path):
    """definitions.adult_age_years: 99 once said "choose one of <99" (for the reference level of
    AGEGR1), and following it left AGEGR1 with one level and the manuscript without its
    multivariable model. The message now names the cut-off and the cut-offs that give two groups;
    taking the highest of them (and its lower group as reference) gives a fitted model."""
    import re

    path = _write(tmp_path, _edit(**{"definitions.adult_age_years": 99})(_shipped()))
    proc = run("--config", str(path), "numbers")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "choose one of <99" not in proc.stderr
    highest = re.search(r"above \S+ and at most (\S+) years", proc.stderr).group(1)
    s = _edit(**{"definitions.adult_age_years": float(highest)})(_shipped())
    s["cox"]["covariates"] = [c if c["column"] != "AGEGR1" else {"column": "AGEGR1", "reference": f"<{highest}"}
                              for c in s["cox"]["covariates"]]
    proc = run("--config", str(_write(tmp_path, s)), "numbers")
    assert proc.returncode == 0, proc.stderr
    assert "could not be fitted" not in proc.stdout


def test_a_covariate_with_one_value_is_named_with_its_setting(tmp_path):
    """A covariate with one value among the analysed patients (the salvage set) because of a
    definitions cut-off cannot be fitted: a configuration problem at the cut-off's line, with
    the cut-offs that give two groups (from these made-up ages: above 20, at most 50). One
    with one value in the data themselves (PRIORSCT here: no analysed patient had a prior
    transplant) is no setting's fault: the analysis says the model is not estimable and why
    (tests/test_degenerate.py), as for a salvage group nobody received."""
    import pandas as pd

    from analysis.config import check_against_data

    path = _write(tmp_path, _shipped())
    settings = load_config(path).settings
    adsl = pd.DataFrame({"SALVGRP": ["Targeted", "Chemo", "Chemo", "Targeted"],
                         "AGE": [20.0, 30.0, 50.0, 80.0], "AGEGR1": [">=18"] * 4,
                         "BMBLAST": [10.0, 60.0, 70.0, 5.0], "BMBURDEN": ["<50%", ">=50%", ">=50%", "<50%"],
                         "PRIORSCT": ["N", "N", "N", "Y"], "CD19NEG": ["N", "Y", "N", "Y"],
                         "SALVFL": ["Y", "Y", "Y", "N"]})   # the patient aged 80 had no salvage
    with pytest.raises(ConfigError) as err:
        check_against_data(settings, adsl, followup_months=60.0, path=path)
    lines = str(err.value).splitlines()
    text = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines
    age = lines[0]
    number = int(age.split(" line ")[1].split(":")[0])
    assert "adult_age_years" in text[number - 1], (age, text[number - 1])
    assert "definitions.adult_age_years: 18 years puts every analysed patient in the same group of AGEGR1" in age
    assert "above 20 and at most 50 years" in age and "'>=18'" in age and "remove AGEGR1" in age
    adsl["AGEGR1"] = ["<18", ">=18", ">=18", ">=18"]
    check_against_data(settings, adsl, followup_months=60.0, path=path)   # PRIORSCT: the data's, not refused


def test_every_problem_at_once_with_line_numbers(tmp_path):
    s = _edit(**{"survival.median_ci": "loglog", "tests.two_by_two": "fishers"})(_shipped())
    s["survivall"] = {}
    path = _write(tmp_path, s)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    text = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        number = int(line.split(" line ")[1].split(":")[0])
        key = line.split(": ", 1)[1]
        assert any(k in text[number - 1] for k in ("median_ci", "two_by_two", "survivall")), (line, key)


def test_a_section_written_twice_names_both_lines(tmp_path):
    """`survival:` written again at the end of the file silently replaced the first one (PyYAML
    keeps the last); a mapping file already refused keys written twice, and so does this file."""
    path = _write(tmp_path, _shipped())
    text = path.read_text(encoding="utf-8")
    first = text.splitlines().index("survival:") + 1
    path.write_text(text + "survival:\n  median_ci: log\n", encoding="utf-8")
    again = len(text.splitlines()) + 1
    proc = run("--config", str(path), "settings")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"revision.yml line {again}: 'survival' is written twice (lines {first} and {again})" in proc.stderr


def test_a_key_written_twice_in_a_sources_list(tmp_path):
    site = PROJECT_ROOT / "data" / "synthetic" / "site_a.csv"
    (tmp_path / "sources.yml").write_text(f"sources:\n  - path: {site}\n    site: A\n    site: B\n",
                                          encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources.yml line 4: 'site' is written twice \(lines 3 and 4\)"):
        load_config(data=tmp_path / "sources.yml")


def test_a_site_code_written_as_a_number_is_text(tmp_path):
    """`site: 2` in a sources list was refused as "each source needs a 'path' ... (problem with:
    site)"; a site code is text, kept as written (`010` is "010", not YAML's octal 8)."""
    site = PROJECT_ROOT / "data" / "synthetic" / "site_a.csv"
    (tmp_path / "sources.yml").write_text(f"sources:\n  - {{path: {site}, site: 2}}\n"
                                          f"  - {{path: {site}, site: 010}}\n  - {{path: {site}, site: 2.50}}\n",
                                          encoding="utf-8")
    assert [s.site for s in load_config(data=tmp_path / "sources.yml").sources] == ["2", "010", "2.50"]
    s = _shipped()
    s["data"]["sources"][0]["site"] = 2
    assert load_config(_write(tmp_path, s)).sources[0].site == "2"


def test_sheet_position_is_described_as_the_loader_counts():
    """The loader reads `sheet: 2` as the second sheet (tests/test_load.py
    test_xlsx_with_two_sheets_needs_the_sheet_named); the description said "0-based"."""
    from analysis.config import SourceEntry

    description = SourceEntry.model_fields["sheet"].description
    assert "counted from 1" in description and "0-based" not in description


def test_submitted_ledger_is_checked_with_the_configuration(tmp_path):
    """A mistyped revisions.submitted_ledger was found only by the post-render step, after the
    whole render: `settings` and `prepare` now refuse it. A file that exists (relative to the
    configuration file) and a git revision REV:PATH (read by that step) are accepted."""
    s = _edit(**{"revisions.submitted_ledger": "submited-numbers.json"})(_shipped())
    path = _write(tmp_path, s)
    for command in ("settings", "prepare"):
        proc = run("--config", str(path), command, env_extra={"CART_VARIABLES": str(tmp_path / "v.yml")})
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "revisions.submitted_ledger: cannot read the submitted ledger submited-numbers.json" in proc.stderr
    assert not (tmp_path / "v.yml").exists()
    (tmp_path / "submited-numbers.json").write_text("{}", encoding="utf-8")
    assert load_config(path).settings.revisions.submitted_ledger == "submited-numbers.json"
    s["revisions"]["submitted_ledger"] = "submitted:ledgers/numbers.json"
    load_config(_write(tmp_path, s))
    s["revisions"]["submitted_ledger"] = "."
    with pytest.raises(ConfigError, match="revisions.submitted_ledger: . is a folder"):
        load_config(_write(tmp_path, s))


def test_invalid_yaml_and_latin1_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("survival:\n  median_ci: [log\n", encoding="utf-8")
    proc = run("--config", str(bad), "numbers")
    assert proc.returncode == 2 and "bad.yml line" in proc.stderr and "Traceback" not in proc.stderr
    latin = tmp_path / "latin.yml"
    latin.write_bytes("study_id: CAF\xc9\n".encode("latin-1"))
    proc = run("--config", str(latin), "numbers")
    assert proc.returncode == 2 and "UTF-8" in proc.stderr and "Traceback" not in proc.stderr


def test_config_outside_the_project_uses_the_shipped_dictionary(tmp_path):
    """Relative paths resolve against the configuration file; the dictionary
    defaults to the shipped one."""
    s = _shipped()
    (tmp_path / "data").mkdir()
    for i, src in enumerate(s["data"]["sources"]):
        target = tmp_path / "data" / f"site_{i}.csv"
        target.write_bytes(open(src["path"], "rb").read())
        src["path"] = f"data/site_{i}.csv"
    path = _write(tmp_path, s)
    cfg = load_config(path)
    assert cfg.dictionary_path == PROJECT_ROOT / "data" / "dictionary.yml"
    assert all(src.path.parent == tmp_path / "data" for src in cfg.sources)


def test_config_option_reaches_prepare(tmp_path):
    """`python -m analysis --config X prepare` uses X (it used to use analysis.yml)."""
    path = _write(tmp_path, _edit(**{"survival.median_ci": "log"})(_shipped()))
    variables = tmp_path / "_variables.yml"
    proc = run("--config", str(path), "prepare", env_extra={"CART_VARIABLES": str(variables)})
    assert proc.returncode == 0, proc.stderr
    written = yaml.safe_load(variables.read_text(encoding="utf-8"))
    assert written["stamp"]["config_hash"] == load_config(path).analysis_hash()


def test_every_setting_is_described_once():
    rows = describe_settings()
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys))
    assert all(desc for key, _, _, desc in rows), [k for k, _, _, d in rows if not d]
    assert "survival.median_ci" in keys and "tests.two_by_two" in keys


def test_shipped_file_states_every_default_it_lists():
    """analysis.yml is read through the model like any user file."""
    cfg = load_config(DEFAULT_CONFIG)
    assert isinstance(cfg.settings, Settings)


def test_settings_command_checks_and_lists_every_setting(tmp_path):
    proc = run("settings")
    assert proc.returncode == 0, proc.stderr
    for key, *_ in describe_settings():
        assert f"\n{key}  (" in proc.stdout, key
    bad = _write(tmp_path, _edit(**{"survival.median_ci": "loglog"})(_shipped()))
    proc = run("--config", str(bad), "settings")
    assert proc.returncode == 2 and "survival.median_ci" in proc.stderr


def test_header_row_of_a_source_reaches_loading(tmp_path):
    """sources.yml `header_row:` (column names under a title row) is read by the loader."""
    from analysis.load import load_sources
    from analysis.dictionary import load_dictionary
    from tests.conftest_data import base_table

    table = base_table()
    path = tmp_path / "site.csv"
    path.write_text("Export of site T,,\n" + table.to_csv(index=False), encoding="utf-8")
    (tmp_path / "sources.yml").write_text("sources:\n  - {path: site.csv, header_row: 2}\n", encoding="utf-8")
    cfg = load_config(data=tmp_path / "sources.yml")
    assert cfg.sources[0].header_row == 2
    loaded = load_sources(cfg.sources, load_dictionary(cfg.dictionary_path))
    assert len(loaded.raw) == len(table)
