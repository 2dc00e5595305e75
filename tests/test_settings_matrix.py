"""Every setting reaches every consumer (issue: a default repeated in a
consumer once kept Table 1 on Yates when Fisher was configured, the
sensitivity analyses on 67 patients when all 74 were asked for, and the
transplant listing on 30.4375 days a month).

Each case changes one setting of the shipped configuration and checks that
the computations, the tables, the figures, the ledger texts and the Methods
paragraph that depend on it all follow. Values compared come from the same
run's own results, so these are consistency checks, not regression values.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import yaml

from analysis.compute.response import CHISQ, CHISQ_YATES, FISHER
from analysis.config import DEFAULT_CONFIG, PROJECT_ROOT, TwoByTwoRule, load_config
from analysis.derive import Derived
from analysis.present import figures as F
from analysis.present import tables as T
from analysis.present import style as st
from analysis.present.numbers import build_registry
from analysis.present.sensitivity import guardrail_text
from analysis.present.text import statistical_methods
from analysis.results import run_analysis


def _shipped() -> dict:
    s = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    s["data"]["sources"] = [{**x, "path": str((PROJECT_ROOT / x["path"]).resolve())} for x in s["data"]["sources"]]
    s["data"].pop("dictionary", None)
    return s


@functools.lru_cache(maxsize=None)
def analysed(tmp: str, changes: tuple):
    """Results of the shipped configuration with ``changes`` ((dotted key, value), ...)."""
    s = _shipped()
    for dotted, value in changes:
        *parents, last = dotted.split(".")
        node = s
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = _thawed(value)
    path = f"{tmp}/cfg_{abs(hash(changes))}.yml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(s, fh, sort_keys=False)
    return run_analysis(load_config(path))


def _thawed(v):
    if isinstance(v, tuple):
        return [_thawed(x) for x in v]
    if isinstance(v, dict):
        return dict(v)
    return v


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return str(tmp_path_factory.mktemp("matrix"))


def run(tmp, **changes):
    return analysed(tmp, tuple((k.replace("__", "."), _frozen(v)) for k, v in sorted(changes.items())))


def _frozen(v):
    """Hashable form of a setting value (lists and dicts as tuples), for the cache."""
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return _FrozenDict(v)
    return v


class _FrozenDict(dict):
    def __hash__(self):
        return hash(tuple(sorted(self.items())))


def methods(r) -> str:
    return statistical_methods(r).data


def texts(r) -> dict[str, str]:
    return {f"{s}.{k}": n.text for s, k, n in build_registry(r).items()}


# --------------------------------------------------------------------------- tests.two_by_two

RULE_TEST_2X2 = {"fisher": FISHER, "chisq_yates": CHISQ_YATES, "chisq": CHISQ}
RULE_WORDS = {"fisher_if_expected_lt5_else_yates": "Fisher's exact test when any expected cell count was below 5",
              "fisher": "compared with Fisher's exact test",
              "chisq_yates": "with Yates' continuity correction",
              "chisq": "Pearson's χ² test"}


@pytest.mark.parametrize("rule", list(TwoByTwoRule.__args__))
def test_two_by_two_rule_reaches_table1_table2_and_methods(tmp, rule):
    r = run(tmp, tests__two_by_two=rule)
    assert r.baseline.rule == rule
    two_level = [v for v in ("SEX", "CYTORISK", "BCRABL1", "CD19STAT")
                 if v in set(r.baseline.tests["variable"])]
    used = dict(zip(r.baseline.tests["variable"], r.baseline.tests["test"]))
    factors = r.response.factors.dropna(subset=["test_used"])
    if rule in RULE_TEST_2X2:
        assert {used[v] for v in two_level} == {RULE_TEST_2X2[rule]}
        assert set(factors["test_used"]) <= {RULE_TEST_2X2[rule], CHISQ}
    frame = T.table1_frame(r)
    assert set(frame["test"].dropna()) - {""}   # the table names the tests it used
    assert RULE_WORDS[rule] in methods(r)
    assert texts(r)["text.two_by_two_rule_text"]


# --------------------------------------------------------------------------- survival.median_ci


@pytest.mark.parametrize("method", ["spss", "log", "log-log"])
def test_median_ci_method_reaches_text_tables_figures_and_methods(tmp, method):
    r = run(tmp, survival__median_ci=method)
    m = r.os.medians[method]
    t = texts(r)
    assert t["survival.median_ci_method"] == method
    assert st.fmt_months(m.estimate) in t["text.os_median"]
    if m.lower_reached and m.lower >= 0:
        assert st.fmt_months(m.lower) in t["text.os_median"]
    assert {"spss": "SPSS", "log": "log-transformed", "log-log": "log–log"}[method] in methods(r)
    fig = F.km_overall_figure(r)
    legend = " ".join(txt.get_text() for txt in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert st.fmt_months(m.estimate) in legend


# --------------------------------------------------------------------------- survival.population


@pytest.mark.parametrize("population", ["salvage", "all"])
def test_population_reaches_every_overall_survival_analysis(tmp, population, monkeypatch):
    """Every OS analysis (main, Cox, time-dependent HSCT Cox, Simon-Makuch,
    landmark, missing covariates) takes the configured population; only the
    all-patients description (os_all) asks for "all" on purpose."""
    calls: list[str] = []
    original = Derived.tte

    def spy(self, paramcd, *, population, columns=None):
        if paramcd == "OS":
            calls.append(population)
        return original(self, paramcd, population=population, columns=columns)

    monkeypatch.setattr(Derived, "tte", spy)
    analysed.cache_clear()
    r = run(tmp, survival__population=population)
    analysed.cache_clear()
    other = {"salvage": "all", "all": "salvage"}[population]
    assert calls.count(population) >= 6, calls
    assert calls.count(other) == (1 if other == "all" else 0), calls
    assert r.os.n == (74 if population == "all" else 67)
    assert ("all patients who relapsed" in methods(r)) == (population == "all")


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize("dpm", [30.4375, 30.44, 30.0])
def test_days_per_month_reaches_adtte_and_transplant_listing(tmp, dpm):
    r = run(tmp, definitions__days_per_month=dpm)
    adtte = r.derived.adtte
    days = (adtte["ADT"] - adtte["STARTDT"]).dt.days.to_numpy(float)
    np.testing.assert_allclose(adtte["AVAL"].to_numpy(float), days / dpm, rtol=1e-12)
    listing = r.transplant.listing
    cols = [c for c in listing if c.endswith("_MONTHS")]
    assert cols
    for c in cols:
        vals = listing[c].dropna().to_numpy(float) * dpm
        np.testing.assert_allclose(vals, np.round(vals), atol=1e-9)
    assert f"{dpm:g}" in methods(r)


@pytest.mark.parametrize("age", [18, 21])
def test_adult_age_reaches_groups_tables_and_methods(tmp, age):
    changes = {"definitions__adult_age_years": age}
    if age != 18:  # the Cox model names its reference level, which follows the cut
        changes["cox__covariates"] = [{"column": "SALVGRP", "reference": "Targeted"},
                                      {"column": "AGEGR1", "reference": f"<{age}"}]
    r = run(tmp, **changes)
    groups = set(r.derived.adsl["AGEGR1"].dropna())
    assert groups == {f"<{age}", f">={age}"}
    assert f"{age} years" in methods(r)
    labels = " ".join(T.table1_frame(r)["label"].astype(str))
    assert str(age) in labels


@pytest.mark.parametrize("cut", [50, 25])
def test_marrow_burden_cut_reaches_groups_and_methods(tmp, cut):
    changes = {"definitions__high_marrow_burden_pct": cut}
    if cut != 50:  # the Cox model names its reference level, which follows the cut
        changes["cox__covariates"] = [{"column": "SALVGRP", "reference": "Targeted"},
                                      {"column": "BMBURDEN", "reference": f"<{cut}%"}]
    r = run(tmp, **changes)
    assert set(r.derived.adsl["BMBURDEN"].dropna()) == {f"<{cut}%", f">={cut}%"}
    assert f"{cut}% blasts" in methods(r)


# --------------------------------------------------------------------------- tests.alpha and times


def test_alpha_reaches_confidence_levels_and_methods(tmp):
    r = run(tmp, tests__alpha=0.1)
    assert "90% CI" in " ".join(map(str, T.table2(r).labels.values())) + str(T.table2_frame(r).to_dict())
    assert "P values below .1" in methods(r) or "below 0.1" in methods(r) or ".10" in methods(r)
    assert r.os.medians["spss"].z == pytest.approx(1.6448536269514722, rel=1e-12)


def test_landmarks_reach_estimates_and_text(tmp):
    r = run(tmp, survival__landmarks_months=[3, 9])
    assert list(r.os.landmarks["time"]) == [3.0, 9.0]
    assert texts(r)["text.landmark_times_text"] == "3 and 9 months"


def test_risk_table_times_reach_the_figures(tmp):
    r = run(tmp, survival__risk_table_months=[0, 4, 8, 12, 16])
    # the configured times first, continued at the last spacing to cover the data (REVIEW item 9)
    assert list(r.os.risk["time"].unique())[:5] == [0.0, 4.0, 8.0, 12.0, 16.0]
    ax = [a for a in F.km_overall_figure(r).axes if a.get_gid() == "os-curves"][0]
    assert list(ax.get_xticks())[:5] == [0.0, 4.0, 8.0, 12.0, 16.0]


# --------------------------------------------------------------------------- cox and sensitivity


def test_cox_covariates_reach_table3_and_methods(tmp):
    r = run(tmp, cox__covariates=[{"column": "SALVGRP", "reference": "Targeted"},
                                  {"column": "CD19NEG", "reference": "N"}],
            sensitivity__missing_covariates=[])
    assert r.cox.covariates == ("SALVGRP", "CD19NEG")
    assert "CD19NEG" in set(r.cox.multivariable.table["variable"])
    assert "CD19" in methods(r)
    assert r.sensitivity.missing_covariates is None


@pytest.mark.parametrize("column, words", [("SITEID", "study site"), ("HSCTFL", "consolidative allo-HSCT")])
def test_cox_covariate_is_named_in_words_in_the_prose(tmp, column, words):
    """Any ADSL column configured as a Cox covariate is named in words in the
    text (audit item 3: "after adjustment for ... and SITEID"): SITEID by its
    name in analysis/present/labels.py, a column without one by its ADaM label."""
    r = run(tmp, cox__covariates=[{"column": "SALVGRP", "reference": "Targeted"}, {"column": column}],
            sensitivity__missing_covariates=[])
    prose = texts(r)
    assert prose["text.cox_adjusted_finding"].count(words) == 1, prose["text.cox_adjusted_finding"]
    for key in ("text.cox_adjusted_finding", "text.cox_group", "text.cox_group_sentence"):
        assert column not in prose[key], (key, prose[key])
    assert column not in methods(r) and words in methods(r)


def test_min_events_per_variable_reaches_methods(tmp):
    r = run(tmp, cox__min_events_per_variable=20)
    assert "fewer than 20 events" in methods(r)
    # and every Cox model of the supplement is checked against the configured threshold, not a default of 10
    td = r.sensitivity.cox_time_dependent
    assert any("fewer than 20 events" in w for w in td.warnings), td.warnings


def test_sensitivity_switches_reach_the_supplement_text(tmp):
    r = run(tmp, sensitivity__rfs_censor_at_hsct=False, sensitivity__time_dependent_hsct=False,
            sensitivity__landmark_months=[], sensitivity__competing_risks=False,
            sensitivity__missing_covariates=[])
    assert "No sensitivity analysis" in guardrail_text(r).data
    assert r.sensitivity.rfs_hsct is None and r.sensitivity.simon_makuch is None


def test_study_id_reaches_the_subject_identifiers(tmp):
    r = run(tmp, study_id="STUDY-X")
    assert r.derived.adsl["USUBJID"].str.startswith("STUDY-X-").all()
    assert set(r.derived.adtte["STUDYID"]) == {"STUDY-X"}


def test_every_setting_has_a_case_here():
    """A new setting must get a case in this file (or be named here as one
    that only locates data)."""
    from analysis.config import describe_settings

    source = open(__file__, encoding="utf-8").read()
    located = {"data.sources", "data.dictionary", "data.id_key", "tests.monte_carlo_seed",
               "tests.monte_carlo_samples"}
    for key, *_ in describe_settings():
        if key in located:
            continue
        assert key.replace(".", "__") in source or re.search(rf"\b{key.split('.')[-1]}\b", source), key


def test_monte_carlo_settings_and_rule_reach_table1(tmp, monkeypatch):
    """Table 1's categorical tests get the configured rule, alpha and a seeded
    generator with the configured number of tables (before, no generator was
    passed and a large r x c table was marked 'Not tested')."""
    from analysis.compute import baseline as baseline_mod

    seen = {}
    original = baseline_mod.baseline_table

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(baseline_mod, "baseline_table", spy)
    analysed.cache_clear()
    run(tmp, tests__monte_carlo_samples=5000, tests__two_by_two="fisher", tests__alpha=0.01)
    analysed.cache_clear()
    assert seen["rule"] == "fisher" and seen["alpha"] == 0.01 and seen["n_resamples"] == 5000
    assert isinstance(seen["rng"], np.random.Generator)


def test_journal_style_reaches_the_texts(tmp):
    """style.journal: the abstract's P statements follow the journal (cases of each journal in
    tests/present/test_journal_styles.py)."""
    from analysis.present import style as st

    try:
        t = texts(run(tmp, style__journal="nejm"))
        assert t["text.p_os_group"].startswith("P=0.")
    finally:
        st.use_journal(st.DEFAULT_JOURNAL)


def test_submitted_ledger_reaches_the_post_render_markup(tmp, tmp_path):
    """revisions.submitted_ledger is no analysis choice: the analysis, its hash (the documents'
    stamp) and the ledger's settings are the shipped configuration's. The post-render step reads
    the ledger it names, relative to the configuration file, and writes the change table (the
    marked-up copies: tests/test_revisions.py); without it, it reads and writes nothing."""
    from analysis import ledger as L
    from analysis.present.document import stamp
    from analysis.revisions.render import mark_up_render, submitted_ledger
    from analysis.revisions.settings import settings_of

    base = run(tmp)
    # the submitted version's ledger exists before a configuration names it (checked when it is read)
    ledger = L.build_ledger(build_registry(base, stamp=stamp(base)), PROJECT_ROOT)
    L.write_ledger(base.config.path.parent / "submitted-numbers.json", ledger)
    r = run(tmp, revisions__submitted_ledger="submitted-numbers.json")
    assert r.config.settings.revisions.submitted_ledger == "submitted-numbers.json"
    assert r.config.analysis_hash() == base.config.analysis_hash()
    assert "revisions" not in settings_of(r) and settings_of(r) == settings_of(base)
    assert texts(r) == texts(base)
    assert submitted_ledger(r.config) == str((r.config.path.parent / "submitted-numbers.json").resolve())
    out = tmp_path / "out"
    L.write_ledger(out / "numbers.json", ledger)
    written = mark_up_render(r.config, out, project_root=tmp_path / "no-kept-markdown")
    assert {p.name for p in written} == {"changes.md", "changes.docx"}
    assert mark_up_render(base.config, tmp_path / "untouched") == []
    assert not (tmp_path / "untouched").exists()
