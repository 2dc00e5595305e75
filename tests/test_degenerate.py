"""Degenerate but valid data render without crashing (issue 6, item 1).

Each case is built from the synthetic cohort (``analysis.simulate.simulate_cohort``)
by a small function below, written to a CSV in a temporary directory and run
through the whole chain: ``run_analysis`` -> ``build_registry`` ->
``consistency.check`` -> every table (HTML and Markdown) and every figure ->
for two representative cases, the manuscript's chunks and inline expressions
in a real Jupyter kernel (tests/qmd/harness.py, HTML target).

What is checked: nothing raises; every registry text, table (display frame and
Markdown) and figure text is free of "nan", "None" and "inf"; and every result
the analysis could not compute (a ``NotEstimable``, or a row with a
``not_estimable`` reason) has its reason shown in the table or figure that
reports it.

References: none numeric. No value of the cohort is written here (it is being
recalibrated); the expectations are read from the Results object of each
case. The only allowed "None" is a data value: the level "None" (no allo-HSCT
before relapse) in Table 1 and its code label in the data dictionary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.config import PROJECT_ROOT, load_config
from analysis.present import consistency
from analysis.present.cautions import failure_reason, not_estimable_reason
from analysis.present import figures as F
from analysis.present import sensitivity as S
from analysis.present import style as st
from analysis.present import tables as T
from analysis.present import text
from analysis.present.numbers import build_registry
from analysis.results import estimable, run_analysis
from analysis.simulate import simulate_cohort

BAD = re.compile(r"\b(None|nan|NaN|inf|-inf)\b")

TABLES = (
    "table1", "table1_full", "table2", "table3", "dictionary_table", "factor_conventions_table",
    "median_methods_table", "landmark_table", "zph_table", "cox_full_table", "transplant_summary_table",
    "transplant_listing_table", "versions_table", "flow_table",
)
#: table function -> its display-frame function
FRAMES = {t: ("table1_full_frame" if t == "table1_full" else t.removesuffix("_table") + "_frame") for t in TABLES}
FIGURES = (
    ("flow", F.flow_figure, ()),
    ("km_overall", F.km_overall_figure, ()),
    ("km_salvage_group", F.km_group_figure, ("salvage_group",)),
    ("km_relapse_site", F.km_group_figure, ("relapse_site",)),
    ("forest", F.forest_figure, ()),
    ("zph", F.zph_figure, ()),
)


# --------------------------------------------------------------------------- the cases


def no_events(df: pd.DataFrame) -> pd.DataFrame:
    """Nobody died or relapsed: every survival time censored."""
    df = df.copy()
    df["death_date"] = ""
    df["death_cause"] = ""
    df.loc[df["no_salvage_reason"] == "early_death", "no_salvage_reason"] = "other"  # nobody died early
    df["post_salvage_relapse"] = df["post_salvage_relapse"].where(df["post_salvage_relapse"] == "", "no")
    df["post_salvage_relapse_date"] = ""
    return df


def few_events(df: pd.DataFrame) -> pd.DataFrame:
    """Only the first five deaths kept: medians not reached."""
    df = df.copy()
    dead = df.index[df["death_date"] != ""]
    df.loc[dead[5:], ["death_date", "death_cause"]] = ""
    alive = df.index.isin(dead[5:]) & (df["no_salvage_reason"] == "early_death")
    df.loc[alive, "no_salvage_reason"] = "other"  # the deaths removed were not early
    return df


def no_chemo(df: pd.DataFrame) -> pd.DataFrame:
    """A salvage group with no patient (chemotherapy given to nobody)."""
    df = df.copy()
    df.loc[df["salvage_class"] == "chemotherapy", "salvage_class"] = "monoclonal_antibody"
    return df


def one_chemo(df: pd.DataFrame) -> pd.DataFrame:
    """A salvage group with one patient."""
    df = df.copy()
    df.loc[df.index[df["salvage_class"] == "chemotherapy"][1:], "salvage_class"] = "monoclonal_antibody"
    return df


def all_cr(df: pd.DataFrame) -> pd.DataFrame:
    """Every treated patient in CR (response tests undefined)."""
    df = df.copy()
    m = (df["salvage"] == "yes") & ~df["best_response"].isin(["CR", "CRi"])
    df.loc[m, "best_response"] = "CR"
    df.loc[m, "cr_date"] = df.loc[m, "salvage_date"]
    df.loc[m, "post_salvage_relapse"] = "no"
    return df


def no_cr(df: pd.DataFrame) -> pd.DataFrame:
    """Nobody in CR: no RFS population, no consolidative transplant."""
    df = df.copy()
    m = df["best_response"].isin(["CR", "CRi"])
    df.loc[m, "best_response"] = "NR"
    df.loc[m, ["cr_date", "post_salvage_relapse", "post_salvage_relapse_date"]] = ""
    df.loc[m & df["hsct_after_salvage"].isin(["first", "second"]), "hsct_after_salvage"] = "none"
    df.loc[m, "hsct_date"] = ""
    df.loc[df["death_cause"] == "transplant_related", "death_cause"] = "other"
    return df


def single_site(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["site"] = "SITE-A"
    return df


def empty_optional(df: pd.DataFrame) -> pd.DataFrame:
    """Optional columns recorded for nobody."""
    df = df.copy()
    df["marrow_blasts_pct"] = ""
    df["cytogenetic_risk"] = ""
    df["diagnosis_date"] = ""
    return df


def no_cns(df: pd.DataFrame) -> pd.DataFrame:
    """No CNS relapse: a 2 x 2 table with a zero margin."""
    df = df.copy()
    m = df["relapse_site"] == "cns"
    df.loc[m, "relapse_site"] = "bone_marrow"
    df.loc[m, "emd_preexisting"] = ""
    return df


def _without_deaths(df: pd.DataFrame, who: pd.Series) -> pd.DataFrame:
    """``df`` with the patients ``who`` alive at last contact (an early death becomes "other")."""
    df = df.copy()
    df.loc[who, ["death_date", "death_cause"]] = ""
    df.loc[who & (df["no_salvage_reason"] == "early_death"), "no_salvage_reason"] = "other"
    return df


def no_chemo_deaths(df: pd.DataFrame) -> pd.DataFrame:
    """Nobody treated with chemotherapy died: the salvage-group Cox coefficient
    tends to minus infinity (monotone likelihood; audit item 1)."""
    return _without_deaths(df, df["salvage_class"] == "chemotherapy")


def no_targeted_deaths(df: pd.DataFrame) -> pd.DataFrame:
    """Nobody in the reference group (targeted therapy) died: the salvage-group
    coefficient tends to plus infinity."""
    return _without_deaths(df, df["salvage_class"].isin(["cart_reinfusion", "monoclonal_antibody", "chemo_tki"]))


def no_adult_deaths(df: pd.DataFrame) -> pd.DataFrame:
    """No adult died: another covariate's coefficient (age group) is infinite;
    the salvage-group hazard ratio is still estimated."""
    return _without_deaths(df, pd.to_numeric(df["age_at_relapse"], errors="coerce") >= 18)


def no_blasts_column(df: pd.DataFrame) -> pd.DataFrame:
    """The optional column marrow_blasts_pct left out of the file: the Cox
    covariate BMBURDEN is missing for every patient (audit item 2)."""
    return df.drop(columns=["marrow_blasts_pct"])


CASES = {f.__name__: f for f in (no_events, few_events, no_chemo, one_chemo, all_cr, no_cr, single_site,
                                 empty_optional, no_cns, no_chemo_deaths, no_targeted_deaths, no_adult_deaths,
                                 no_blasts_column)}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return simulate_cohort()


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("degenerate")


def _write(base: pd.DataFrame, case_dir: Path, name: str) -> Path:
    path = case_dir / name / f"{name}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        CASES[name](base).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def analysed(base, case_dir):
    """name -> Results of that case, each analysed once for the module."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = run_analysis(load_config(data=str(_write(base, case_dir, name))))
        return cache[name]

    return get


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def case(request, analysed):
    """(name, results, registry) of one case."""
    results = analysed(request.param)
    return request.param, results, build_registry(results)


# --------------------------------------------------------------------------- helpers


def _bad(text_: str) -> list[str]:
    return BAD.findall(text_)


def _allowed_none(table: str, frame: pd.DataFrame, column: str, row: int) -> bool:
    """The data value "None" (no allo-HSCT before relapse) where it is a level or code label."""
    value = str(frame.at[row, column])
    if table in ("table1", "table1_full"):
        return column == "label" and value == "None" and frame.at[row, "variable"] == "PRSCTTIM"
    if table == "dictionary_table":
        return column == "codes" and not _bad(value.replace("= None", "= -"))
    return False


def _markdown_without_allowed(table: str, md: str) -> str:
    if table in ("table1", "table1_full"):
        md = re.sub(r"^\|[\s\u00a0]*None[\s\u00a0]*\|", "|", md, flags=re.M)   # Table 1 level row label
    if table == "dictionary_table":
        md = md.replace("= None", "= -")
    return md


def _table_texts(d: T.DisplayTable) -> str:
    """Every cell and note of a display table, as one text (for finding a reason)."""
    cells = d.frame[list(d.columns)].astype(str).to_numpy().ravel().tolist()
    return "\n".join(cells + [f.text for f in d.footnotes] + list(d.source_notes))


def _figure_texts(fig: Figure) -> str:
    """Every text of a figure, line breaks of wrapped messages undone."""
    return "\n".join(t.get_text().replace("\n", " ") for t in fig.findobj(Text) if t.get_text())


def _expected_reasons(results) -> dict[str, list[str]]:
    """Output name -> reasons it must show, from every result that could not be computed."""
    want: dict[str, list[str]] = {}

    def need(outputs: tuple[str, ...], value) -> None:
        if not estimable(value):
            for o in outputs:  # in words where the computation gave the reason as data (a Cox model's)
                want.setdefault(o, []).append(not_estimable_reason(value))

    need(("table1", "table1_full"), results.baseline)
    need(("median_methods_table", "landmark_table", "km_overall"), results.rfs)
    need(("median_methods_table", "landmark_table", "km_overall"), results.os)
    for fig, comp in (("km_salvage_group", results.os_by_group), ("km_relapse_site", results.os_by_emd)):
        need((fig,), comp)
        if estimable(comp):
            need((fig,), comp.logrank)
    need(("table2",), results.response.group_comparison)
    need(("table3", "cox_full_table", "forest"), results.cox.multivariable)
    need(("zph_table", "zph"), results.cox.zph)
    factors = results.response.factors
    for reason in factors.loc[factors["not_estimable"].notna(), "not_estimable"]:
        want.setdefault("table2", []).append(reason)
        want.setdefault("factor_conventions_table", []).append(reason)
    uni = results.cox.univariable
    if "not_estimable" in uni:
        for rec in uni[uni["not_estimable"].notna()].to_dict("records"):
            reason = failure_reason(rec["not_estimable"], rec.get("not_fitted"))
            want.setdefault("table3", []).append(reason)
            want.setdefault("cox_full_table", []).append(reason)
    return want


# --------------------------------------------------------------------------- tests


def test_registry_consistent_and_clean(case):
    """The numbers registry agrees with the results, and no text reads nan/None/inf."""
    name, results, registry = case
    assert consistency.check(results, registry) == []
    bad = [(s, k, e.text) for s, k, e in registry.items() if _bad(str(e.text))]
    assert bad == [], bad


def test_every_table_renders_in_html_and_markdown(case):
    """Every table function renders (great_tables HTML and Markdown), shows no
    nan/None/inf, and states the reason of every result it could not estimate."""
    name, results, _ = case
    want = _expected_reasons(results)
    for table in TABLES:
        d = getattr(T, table)(results)
        pd.testing.assert_frame_equal(getattr(T, FRAMES[table])(results), d.frame)
        html = d.to_html()
        md = d.to_markdown()
        assert "gt_table" in html, table
        assert "|" in md, table
        frame = d.frame
        for column in d.columns:
            for row in range(len(frame)):
                value = frame.at[row, column]
                assert isinstance(value, str), (table, column, row, value)
                if _bad(value):
                    assert _allowed_none(table, frame, column, row), (table, column, row, value)
        for f in d.footnotes:
            assert not _bad(f.text), (table, f.text)
        assert not _bad(_markdown_without_allowed(table, md)), (table, _bad(md))
        if results.synthetic:
            assert T.SYNTHETIC_NOTE in d.source_notes, table
        shown = _table_texts(d)
        for reason in want.get(table, []):
            if re.fullmatch(r"group '[^']*' has no patients", reason) and table in ("table2", "factor_conventions_table"):
                # said with the factor's label and level, not the code (acceptance review item 5)
                assert "no patient in the group" in shown and reason not in shown, (table, reason)
                continue
            assert st.fmt_relation(reason) in shown, (table, reason)


def test_every_figure_renders(case):
    """Every figure function draws, shows no nan/None/inf, and states the reason
    of every result it could not estimate (e.g. the RFS panel when nobody
    achieved CR/CRi)."""
    name, results, _ = case
    want = _expected_reasons(results)
    for key, make, args in FIGURES:
        fig = make(results, *args)
        assert isinstance(fig, Figure), key
        texts = _figure_texts(fig)
        assert not _bad(texts), (key, _bad(texts))
        if results.synthetic:
            assert F.SYNTHETIC_FOOTER in texts, key
        for reason in want.get(key, []):
            assert st.fmt_relation(reason) in texts, (key, reason)


def test_methods_text_renders(case):
    name, results, _ = case
    methods = text.statistical_methods(results).data
    assert methods and not _bad(methods)


def test_not_estimable_results_are_exercised(analysed):
    """The cases reach the not-estimable branches the presentation handles
    (so the tests above test them), and the messages read as intended."""
    r = analysed("no_cr")
    assert not estimable(r.rfs)
    fig = F.km_overall_figure(r)
    assert [t for t in fig.findobj(Text) if t.get_gid() == "rfs-empty"]
    assert "No patient achieved CR/CRi".lower() in _figure_texts(fig).lower()
    r = analysed("no_chemo")
    assert not estimable(r.baseline) and not estimable(r.cox.multivariable) and not estimable(r.cox.zph)
    assert not estimable(r.os_by_group.logrank) and not estimable(r.response.group_comparison)
    frame = T.table1_frame(r)
    assert list(frame["row"]) == ["not_estimable"]
    assert frame["label"].iloc[0] == st.fmt_not_estimable(r.baseline.reason, "comparison by salvage group")


@pytest.mark.parametrize("name, group", [("no_chemo_deaths", "chemotherapy"),
                                         ("no_targeted_deaths", "targeted-therapy")])
def test_salvage_group_without_deaths(name, group, analysed):
    """A salvage group without deaths (audit item 1: a traceback in
    build_registry): the multivariable model is fitted, its salvage-group
    coefficient flagged as possibly infinite, and the hazard ratio reported as
    not estimable with the reason, in the registry, Table 3, the full model
    table and the forest plot."""
    r = analysed(name)
    cox = r.cox.multivariable
    assert estimable(cox)
    group_rows = cox.table[cox.table["variable"] == "SALVGRP"]
    assert group_rows["monotone"].all()
    registry = build_registry(r)
    for key in ("cox_hr_chemotherapy_vs_targeted", "cox_hr_ci_lower", "cox_hr_ci_upper", "cox_p"):
        assert registry[f"survival.{key}"].raw is None
        assert registry[f"survival.{key}"].text == st.NOT_ESTIMABLE
    assert registry["text.cox_group"].text == f"hazard ratio not estimable: no patient in the {group} group died"
    assert registry["text.cox_group_sentence"].text == "the association of chemotherapy with OS could not be estimated"
    assert "could not be estimated" in registry["text.cox_adjusted_finding"].text
    frame = T.table3_frame(r)
    row = frame[(frame["variable"] == "SALVGRP") & (frame["level"] == "Chemotherapy")].iloc[0]
    assert (row["uni_hr"], row["uni_p"], row["multi_hr"], row["multi_p"]) == (st.NOT_ESTIMABLE,) * 4
    full = T.cox_full_frame(r)
    for _, row in full[full["term"] == "SALVGRP[Chemotherapy]"].iterrows():
        assert (row["hr"], row["ci"], row["P"]) == (st.NOT_ESTIMABLE,) * 3, row.to_dict()
    forest = F.forest_figure(r)
    i = list(cox.table["term"]).index("SALVGRP[Chemotherapy]")
    by_gid = {a.get_gid(): a for a in forest.findobj() if a.get_gid()}
    assert by_gid[f"forest-hr-{i}"].get_text() == by_gid[f"forest-p-{i}"].get_text() == st.NOT_ESTIMABLE
    assert f"forest-point-{i}" not in by_gid


def test_other_covariate_without_deaths(analysed):
    """A covariate level other than the salvage group without deaths: that
    coefficient is flagged and printed NE, and the salvage-group hazard ratio is
    still reported (R's coxph gives finite estimates for the other
    coefficients)."""
    r = analysed("no_adult_deaths")
    cox = r.cox.multivariable
    table = cox.table.set_index("term")
    assert bool(table.loc["AGEGR1[>=18]", "monotone"]) and not bool(table.loc["SALVGRP[Chemotherapy]", "monotone"])
    assert ("AGEGR1", ">=18") in cox.levels_without_events
    registry = build_registry(r)
    assert registry["survival.cox_hr_chemotherapy_vs_targeted"].raw == pytest.approx(
        float(table.loc["SALVGRP[Chemotherapy]", "hr"]))
    frame = T.table3_frame(r)
    row = frame[(frame["variable"] == "AGEGR1") & (frame["level"] == ">=18")].iloc[0]
    assert row["multi_hr"] == st.NOT_ESTIMABLE


#: What a reader must not see in a table note: an ADSL column code, a model term ("SALVGRP[Chemotherapy]"),
#: a quoted level code ("level 'Chemotherapy' of ...") or the fitting algorithm's name.
INTERNAL = re.compile(r"\b(SALVGRP|AGEGR1|BMBURDEN|PRIORSCT|CD19NEG|CYTORISK|hsct)\b|\w\[|(?<![A-Za-z])'[^'\s]+'|Newton")
COX_TABLES = (("table3", T.table3), ("cox_full_table", T.cox_full_table),
              ("time_dependent_cox_table", S.time_dependent_cox_table),
              ("missing_covariates_table", S.missing_covariates_table))


def _cox_messages(results) -> list[str]:
    """The computation's own messages for the Cox models it could not fit (main,
    univariable, proportional-hazards test, time-dependent, missing-covariate):
    for programmers, never for readers."""
    values = [results.cox.multivariable, results.cox.zph]
    sens = results.sensitivity
    if sens is not None:
        values += [sens.cox_time_dependent, sens.missing_covariates]
    messages = [v.reason for v in values if v is not None and not estimable(v) and v.cause is not None]
    uni = results.cox.univariable
    if "not_fitted" in uni:
        messages += [str(m) for m, f in zip(uni["not_estimable"], uni["not_fitted"]) if f is not None and f == f]
    return messages


def _shown_cox_texts(results, registry) -> list[tuple[str, str]]:
    """(where, text) of everything a reader sees of the Cox models: every
    displayed cell (status rows included) and note of Table 3, S6, S10, S15
    and S16, the forest and proportional-hazards figures, every phrase of the
    prose (the registry's text section) and the methods paragraphs."""
    shown = []
    for table, make in COX_TABLES + (("zph_table", T.zph_table),):
        d = make(results)
        shown += [(f"{table} cell", str(v)) for c in d.columns for v in d.frame[c]]
        shown += [(f"{table} note", f.text) for f in d.footnotes]
    shown += [(key, _figure_texts(fig(results))) for key, fig, _ in FIGURES if key in ("forest", "zph")]
    shown += [(f"text.{k}", str(e.text)) for s, k, e in registry.items() if s == "text"]
    shown += [("methods", text.statistical_methods(results).data), ("guardrail", S.guardrail_text(results).data)]
    return shown


def test_cox_notes_in_words(case):
    """Nothing a reader sees of the Cox models (every note, status row and cell
    of Table 3, S6, S10, S15 and S16, the figures, the prose) quotes the
    computation in its own terms: no column code, model term or quoted level
    code (cautions were printed as "level 'Chemotherapy' of 'SALVGRP' has no
    events"), and no message of a model that could not be fitted ("covariate
    'SALVGRP' has only one level ('Targeted')", "no patient has all covariates
    (no complete cases)"; audit item 1, left over)."""
    name, results, registry = case
    messages = _cox_messages(results)
    for where, shown in _shown_cox_texts(results, registry):
        assert not INTERNAL.search(shown), (where, shown)
        for message in messages:
            assert st.fmt_relation(message) not in shown and message not in shown, (where, message)


@pytest.mark.parametrize("name, reason", [
    ("no_chemo", "only patients in the targeted-therapy group were analysed, so the model has no comparison for "
                 "salvage group"),
    ("no_blasts_column", "bone-marrow tumour burden was recorded for no patient, so all {n} patients lacked a "
                         "covariate of the model"),
    ("empty_optional", "bone-marrow tumour burden was recorded for no patient, so all {n} patients lacked a "
                       "covariate of the model"),
    ("no_events", "no patient analysed died"),
])
def test_cox_not_fitted_said_in_words(name, reason, analysed):
    """A model that could not be fitted gives its reason in words, the same in
    Table 3 (row and note), S15, S16, the status rows of S6 and S10 (whose
    models fail for the same reason) and the prose; the reason comes from the
    computation as data (what, which covariate and level), not as a sentence
    to parse."""
    r = analysed(name)
    assert r.cox.multivariable.cause is not None
    reason = reason.format(n=r.os.n)
    said = f"Not estimable: {reason}."
    assert said in T.table3_frame(r)["label"].tolist()
    assert f"Multivariable model not estimable: {reason}." in [f.text for f in T.table3(r).footnotes]
    assert said in T.cox_full_frame(r)["label"].tolist()
    assert said in T.zph_frame(r)["label"].tolist()
    assert build_registry(r)["text.cox_group"].text == f"hazard ratio not estimable: {reason}"
    for make in (S.time_dependent_cox_table, S.missing_covariates_table):
        assert said in make(r).frame["status"].tolist(), make.__name__


@pytest.mark.parametrize("name, phrase", [
    ("no_chemo_deaths", "no patient in the chemotherapy group died, so its hazard ratio cannot be estimated"),
    ("no_targeted_deaths", "no patient in the targeted-therapy group (the reference group) died"),
    ("no_adult_deaths", "no patient aged \u226518 years died, so its hazard ratio cannot be estimated"),
])
def test_cox_caution_said_in_words(name, phrase, analysed):
    """A level without deaths is said with the group's name, in the notes of
    Table 3 (both models), the full model table (S15) and the missing-covariate
    sensitivity table (S10); the cautions come from the computation as data
    (variable and level), not as sentences to parse."""
    r = analysed(name)
    assert any(c.kind in ("level_without_events", "reference_without_events")
               for c in r.cox.multivariable.cautions)
    notes = {table: [f.text for f in make(r).footnotes] for table, make in COX_TABLES}
    assert f"Caution, multivariable model: {phrase}" in "\n".join(notes["table3"])
    assert f"Caution, univariable model of " in "\n".join(notes["table3"])
    assert f"Caution, multivariable model: {phrase}" in "\n".join(notes["cox_full_table"])
    assert phrase in "\n".join(notes["missing_covariates_table"])


@pytest.mark.parametrize("name", ["no_blasts_column", "empty_optional"])
def test_covariate_recorded_for_nobody(name, analysed):
    """A Cox covariate missing for every patient (audit item 2): the model
    cannot be fitted, and every patient of the OS population is counted as left
    out of it (the count said 0), with the covariate named in words in the
    text, in Table 3 and in a warning for whoever runs the analysis."""
    from analysis.present.exclusions import model_warnings

    r = analysed(name)
    assert not estimable(r.cox.multivariable)
    assert r.cox.unrecorded == ("BMBURDEN",)
    assert r.cox.n_excluded == r.os.n > 0
    registry = build_registry(r)
    assert registry["survival.cox_n_excluded"].raw == r.os.n
    assert registry["survival.cox_n"].raw == 0
    assert registry["text.cox_group"].text == (
        f"hazard ratio not estimable: bone-marrow tumour burden was recorded for no patient, so all {r.os.n} "
        f"patients lacked a covariate of the model")
    notes = [f.text for f in T.table3(r).footnotes]
    assert any(f"{r.os.n} patients left out for a missing covariate" in n and "recorded for no patient" in n
               for n in notes), notes
    (warning,) = model_warnings(r)
    assert "BMBURDEN (bone-marrow tumour burden) is missing for every patient" in warning
    assert f"all {r.os.n} patients" in warning
    assert "Record marrow_blasts_pct, the column it is made from, in the data" in warning  # (audit item 2)


@pytest.mark.parametrize("name", ["no_cr", "no_chemo", "no_blasts_column"])
def test_manuscript_chunks_run(name, base, case_dir, tmp_path, monkeypatch):
    """report.qmd's chunks and inline expressions run on degenerate data
    (HTML target), as `quarto render` would run them with CART_DATA set."""
    from analysis.present.document import prepare
    from tests.qmd.harness import execute_qmd

    data = _write(base, case_dir, name)
    variables_file = tmp_path / "_variables.yml"
    monkeypatch.setenv("CART_DATA", str(data))
    monkeypatch.setenv("CART_VARIABLES", str(variables_file))
    # banners go to tmp_path/_generated, not into the project
    prepare(data=str(data), variables=variables_file, root=tmp_path)
    variables = yaml.safe_load(variables_file.read_text(encoding="utf-8"))
    run = execute_qmd(PROJECT_ROOT / "report.qmd", target_format="html", variables=variables)
    assert run.findings.ok, "\n".join(run.findings.problems())
    for inline in run.inlines:
        assert inline.result, f"{inline.location}: `{inline.expression}` produced nothing"
        assert not _bad(inline.result), (inline.location, inline.result)
    for c in run.chunks:
        if not (c.executed and c.label):
            continue
        if c.label.startswith("tbl-"):
            assert not c.mime("text/html"), c.label            # raw HTML block in Markdown (REVIEW 23)
            assert "gt_table" in "".join("".join(m) for m in c.mime("text/markdown")), c.label
        if c.label.startswith("fig-"):
            assert c.mime("image/png") or c.mime("image/svg+xml"), c.label
    if name == "no_blasts_column":  # a model not fitted is said so, not "(0 patients, 0 deaths)" (audit item 2)
        shown = " ".join(i.result for i in run.inlines)
        assert "The multivariable Cox model could not be fitted" in shown
        assert "(0 patients" not in shown
