"""Command line: exit codes, no traceback for data errors, ADaM exports."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from analysis.config import PROJECT_ROOT
from tests.conftest_data import base_table, change, write_csv


def run(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CART_DATA", "CART_CONFIG")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_validate_shipped_data_exit_0():
    out = run("validate")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_broken_file_exit_1_full_report(tmp_path):
    table = change(base_table(), "T-002", relapse_date="2019-02-30", sex="unknown")
    table = change(table, "T-003", death_date="2000-01-01")
    path = write_csv(table, tmp_path / "site_t.csv")
    out = run("validate", str(path))
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    assert "T-002" in text and "relapse_date" in text and "2019-02-30" in text
    assert "sex" in text and "T-003" in text
    assert "site_t.csv" in text


def test_usage_error_exit_2():
    out = run("validate", "--no-such-option")
    assert out.returncode == 2


def test_missing_data_path_exit_2_no_traceback(tmp_path):
    out = run("validate", str(tmp_path / "nothing.csv"))
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr


def test_adam_writes_adsl_and_adtte(tmp_path):
    out = run("adam", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    adsl = pd.read_csv(tmp_path / "adsl.csv")
    adtte = pd.read_csv(tmp_path / "adtte.csv")
    assert len(adsl) == 74 and (adsl["SALVFL"] == "Y").sum() == 67
    assert adsl["USUBJID"].is_unique
    assert set(adtte["USUBJID"]) <= set(adsl["USUBJID"])
    for col in ("STUDYID", "USUBJID", "SITEID", "AGE", "SEX", "SALVFL", "SALVGRP", "SALVMOD", "RELSITE", "CRFL"):
        assert col in adsl.columns
    assert set(adsl["SALVGRP"].dropna()) == {"Targeted", "Chemotherapy"}
    for col in ("USUBJID", "PARAMCD", "PARAM", "AVAL", "AVALU", "CNSR", "STARTDT", "ADT", "EVNTDESC", "CNSDTDSC"):
        assert col in adtte.columns
    assert set(adtte["PARAMCD"]) == {"OS", "RFS"}
    assert (tmp_path / "adsl.xpt").exists() and (tmp_path / "adtte.xpt").exists()


def test_adam_on_invalid_data_writes_nothing(tmp_path):
    bad = write_csv(change(base_table(), "T-001", sex="?"), tmp_path / "bad.csv")
    out_dir = tmp_path / "out"
    out = run("adam", "--out", str(out_dir), str(bad))
    assert out.returncode == 1
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_numbers_json_has_published_keys(published):
    out = run("numbers", "--json")
    assert out.returncode == 0, out.stderr
    raw = json.loads(out.stdout)
    for section in ("cohort", "response", "survival", "transplant"):
        missing = set(published[section]) - set(raw[section])
        assert not missing, (section, missing)
    assert set(raw["survival"]["os_ci_by_method"]) == {"spss", "log", "log-log"}
    assert set(raw["survival"]["rfs_ci_by_method"]) == {"spss", "log", "log-log"}
    model = raw["survival"]["cox_model"]
    assert [c["column"] for c in model["covariates"]][0] == "SALVGRP"
    assert all("reference" in c for c in model["covariates"])
    assert isinstance(raw["cohort"]["n_salvage"], int)


def test_bench_passes_its_options_through():
    """`python -m analysis bench --help` reaches the benchmark's own parser."""
    out = run("bench", "--help")
    assert out.returncode == 0, out.stderr
    assert "--sizes" in out.stdout


# --------------------------------------------------------------------------- a command line that explains itself

from analysis.__main__ import COMMANDS, build_parser  # noqa: E402

MARKUP = ("``", ":func:", ":class:", ":mod:", ":data:", ".. ")


def _subparsers(parser):
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(command):
    """--help at every level: exit 0, the environment variables and exit codes, no reST markup."""
    out = run(*([command] if command else []), "--help")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "usage:" in text
    if command != "bench":          # the benchmark's own parser (a developer tool)
        assert "CART_DATA" in text and "CART_CONFIG" in text
        assert "exit codes:" in text and "usage or configuration" in text
    assert not [m for m in MARKUP if m in text], text


def test_every_argument_has_a_description():
    import argparse

    parser = build_parser("cart-manuscript")
    subs = _subparsers(parser)
    assert set(subs) == set(COMMANDS)
    for name, sub in [("(top level)", parser), *subs.items()]:
        assert sub.description, name
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_unknown_command_is_a_usage_error():
    out = run("no-such-command")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_console_script_is_declared():
    import tomllib

    meta = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    module, func = meta["project"]["scripts"]["cart-manuscript"].split(":")
    assert (module, func) == ("analysis.__main__", "main")


def _console_script():
    from pathlib import Path

    script = Path(sys.executable).parent / "cart-manuscript"
    assert script.is_file(), "cart-manuscript is not installed: run bash tools/setup.sh"
    return script


def test_console_script_runs_from_another_folder(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CART_DATA", "CART_CONFIG", "PYTHONPATH")}
    script = _console_script()
    out = subprocess.run([str(script), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: cart-manuscript")
    out = subprocess.run([str(script), "validate"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run([str(script), "adam", "--no-xpt", "--out", "adam"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "adam" / "adsl.csv").is_file()      # relative paths are the caller's


def test_project_option(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CART_DATA", "CART_CONFIG", "PYTHONPATH")}
    script = _console_script()
    ok = subprocess.run([str(script), "--project", str(PROJECT_ROOT), "validate"], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    after = subprocess.run([str(script), "validate", "--project", str(PROJECT_ROOT)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, after.stdout + after.stderr
    bad = subprocess.run([str(script), "--project", str(tmp_path), "validate"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "no analysis.yml" in bad.stderr and "Traceback" not in bad.stderr


def test_run_sh_prints_timed_steps_and_stops_at_bad_data(tmp_path):
    """tools/run.sh: one line per step with its time; a failing step shows its output and its exit code."""
    bad = write_csv(change(base_table(), "T-001", sex="?"), tmp_path / "bad.csv")
    out = subprocess.run(["bash", "tools/run.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
                         env={**{k: v for k, v in __import__("os").environ.items() if k != "CART_CONFIG"},
                              "CART_DATA": str(bad)})
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"setup \(venv, pinned packages\) \.\.\. +done in +\d+\.\d s", lines[0]), lines[0]
    assert re.fullmatch(r"validate the data \.\.\. +failed \(exit 1\) after \d+\.\d s", lines[1]), lines[1]
    assert "T-001" in out.stdout and "bad.csv" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_a_failed_consistency_check_is_its_sentences_not_a_traceback(monkeypatch, capsys):
    """The pre-render step's check that the manuscript does not contradict itself names both
    sides of each disagreement; the command prints that and exits 1, without a traceback.
    Any other error is not swallowed."""
    from analysis import __main__ as cli
    from analysis.present.consistency import InconsistencyError

    def contradicts(args):
        raise InconsistencyError("The manuscript would contradict itself:\n- OS deaths differ")

    monkeypatch.setattr(cli, "cmd_prepare", contradicts)
    assert cli.main(["prepare"]) == 1
    err = capsys.readouterr().err
    assert "OS deaths differ" in err and "Traceback" not in err

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_prepare", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["prepare"])


@pytest.mark.parametrize("args, said", [
    (["export", "--out", "README.md"], "README.md is a file, not a folder"),
    (["adam", "--out", "README.md"], "README.md is a file, not a folder"),
    (["export", "--out", "README.md/sub"], "cannot be made: README.md is a file"),
    (["simulate", "--out", "README.md"], "README.md is a file, not a folder"),
    (["variables", "--out", "analysis"], "analysis is a folder; give the name of the file"),
    (["diff", "a.json", "b.json", "--out", "analysis"], "analysis is a folder; give the name of the file"),
    (["export", "--out", ""], "the folder name is empty"),
    (["variables", "--out", " "], "the file name is empty"),
])
def test_an_output_path_that_cannot_be_used_is_a_usage_error(args, said):
    """A file where an output folder should go (or a folder where a file should) is said
    before any work, exit 2 (it was a NotADirectoryError, FileExistsError or
    IsADirectoryError traceback with exit 1 after the whole analysis)."""
    out = run(*args)
    assert out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr


def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(monkeypatch, capsys):
    """Writing fails (a folder not writable, a full disk): the file and the reason, exit 2."""
    from analysis import __main__ as cli

    def cannot(args):
        raise PermissionError(13, "Permission denied", "/somewhere/_output/.runs")

    monkeypatch.setattr(cli, "cmd_export", cannot)
    assert cli.main(["export", "--out", "/somewhere/_output"]) == 2
    err = capsys.readouterr().err
    assert "Could not write or read /somewhere/_output/.runs: Permission denied." in err and "Traceback" not in err
