"""A registry's files read by two processes (analysis.load._load_each: the last
files in a forked one, analysis/aside.py) give what reading them all here gives:
the same rows, origins, problems (in file order) and kept distinct values. The
reference is the same load_sources with reading aside switched off, on files the
test writes from the valid base table of tests/conftest_data.py (one of them
ragged, so that the tolerant reader and its messages run in the forked process)."""

from __future__ import annotations

import pandas as pd
import pytest

import analysis.aside as aside_module
import analysis.load as load_module
from analysis.config import Source
from analysis.load import load_sources
from tests.conftest_data import base_table, dictionary, write_csv


@pytest.fixture(scope="module")
def dic():
    return dictionary()


def test_reading_aside_gives_what_reading_here_gives(tmp_path, dic, monkeypatch):
    sources = []
    for i, site in enumerate("TUVW"):
        table = base_table()
        table["patient_id"] = [f"{site}-{j}" for j in range(len(table))]
        table["site"] = site
        path = write_csv(table, tmp_path / f"site_{site.lower()}.csv")
        if i == 3:  # a ragged row and an unknown column: read by the csv module, with problems
            text = path.read_text(encoding="utf-8").splitlines()
            text[0] += ",extra"
            text[2] += ",1,2"
            path.write_text("\n".join(text) + "\n", encoding="utf-8")
        sources.append(Source(path))

    monkeypatch.setattr(load_module, "READ_ASIDE_BYTES", (float("inf"), float("inf")))  # all here
    here = load_sources(sources, dic)

    started = []

    def counted(fn, /, *args, **kwargs):
        started.append(fn)
        return aside_module.Aside(fn, args, kwargs, enabled=True)

    monkeypatch.setattr(load_module, "READ_ASIDE_BYTES", (0, float("inf")))
    monkeypatch.setattr(aside_module, "aside", counted)
    split = load_sources(sources, dic)
    assert started == [load_module._load_list]  # the last files were read aside

    pd.testing.assert_frame_equal(split.raw, here.raw, check_exact=True)
    pd.testing.assert_frame_equal(split.origin, here.origin, check_exact=True)
    assert split.problems == here.problems and any(p.rule == "row_length" for p in here.problems)
    assert split.splits.keys() == here.splits.keys()
    for name, kept in split.splits.items():
        assert load_module.checked_split(split.raw[name].to_numpy(dtype=object), kept) is kept


def test_plain_files_read_aside_keep_their_distinct_values(tmp_path, dic, monkeypatch):
    sources = []
    for site in "TUV":
        table = base_table()
        table["patient_id"] = [f"{site}-{j}" for j in range(len(table))]
        table["site"] = site
        sources.append(Source(write_csv(table, tmp_path / f"site_{site.lower()}.csv")))
    monkeypatch.setattr(load_module, "READ_ASIDE_BYTES", (float("inf"), float("inf")))
    here = load_sources(sources, dic)
    monkeypatch.setattr(load_module, "READ_ASIDE_BYTES", (0, float("inf")))
    split = load_sources(sources, dic)
    pd.testing.assert_frame_equal(split.raw, here.raw, check_exact=True)
    assert split.problems == here.problems
    assert split.splits and split.splits.keys() == here.splits.keys()
    for name, kept in split.splits.items():
        assert load_module.checked_split(split.raw[name].to_numpy(dtype=object), kept) is kept
