"""Tests for analysis/present/sensitivity.py (tables and figures of the
sensitivity analyses, and the immortal-time guardrail paragraph).

References (no R: presentation computes no statistic):
* every printed number is compared with the Results object it formats,
  formatted with analysis.present.style (exact string equality): the cohort
  is being recalibrated, so no value of the cohort is written here;
* the numbers at risk under the Simon-Makuch and cumulative-incidence curves
  and the group sizes are compared with counts made here directly from the
  data (the counting-process intervals of
  ``analysis.compute.sensitivity.hsct_counting_process`` and the ADTTE RFS
  rows), not with the display's own lookup;
* curve vertices are compared with the result tables to 1e-12.
The switched-off state is built as the brief asks: analysis.yml copied to
tmp_path with an empty ``sensitivity:`` section, ``load_config`` then
``run_analysis``. Not-estimable states are injected with dataclasses.replace.
Tolerance: exact string equality for text; 1e-12 for coordinates.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import yaml
from IPython.display import Markdown
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.compute.sensitivity import CIF_EVENTS, HSCT_GROUPS, hsct_counting_process
from analysis.config import DEFAULT_CONFIG, load_config
from analysis.present import quarto
from analysis.present import sensitivity as S
from analysis.present import style as st
from analysis.present.figures import SYNTHETIC_FOOTER, order_groups
from analysis.present.supplement import supplementary_names
from analysis.present.tables import SYNTHETIC_NOTE, DisplayTable
from analysis.results import NotEstimable, run_analysis

TOL = 1e-12
TABLES = ("rfs_hsct_table", "time_dependent_cox_table", "landmark_table", "cumulative_incidence_table",
          "missing_covariates_table")
FIGURES = ("simon_makuch_figure", "cumulative_incidence_figure")
ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z][A-Za-z0-9]*(\s[^>]*)?/?>")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def results_off(tmp_path_factory):
    """The shipped cohort analysed with every sensitivity analysis switched off."""
    settings = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    base = DEFAULT_CONFIG.parent
    settings["data"]["sources"] = [{**s, "path": str((base / s["path"]).resolve())}
                                   for s in settings["data"]["sources"]]
    settings["data"]["dictionary"] = str((base / settings["data"]["dictionary"]).resolve())
    settings["sensitivity"] = {"rfs_censor_at_hsct": False, "time_dependent_hsct": False, "landmark_months": [],
                               "competing_risks": False, "missing_covariates": []}
    path = tmp_path_factory.mktemp("config") / "analysis.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return run_analysis(load_config(path))


@pytest.fixture(scope="module")
def not_estimable(results):
    ne = lambda what: NotEstimable(what, "no patient has follow-up after a consolidative HSCT")  # noqa: E731
    sens = dataclasses.replace(
        results.sensitivity, rfs_hsct=ne("RFS"), cox_time_dependent=ne("td Cox"), simon_makuch=ne("SM"),
        landmarks=(ne("landmark analysis at 3 months"),), cumulative_incidence=ne("CIF"),
        missing_covariates=ne("missing"))
    return dataclasses.replace(results, sensitivity=sens)


def _frame(table: DisplayTable):
    return table.frame


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _gid(fig: Figure, gid: str):
    hits = [a for a in fig.findobj(lambda a: a.get_gid() == gid)]
    assert len(hits) == 1, gid
    return hits[0]


def _hr(row) -> str:
    return (f"{st.fmt_ratio(float(row['hr']))} "
            f"({st.fmt_ci(None, None, lower_text=st.fmt_ratio(float(row['lower'])), upper_text=st.fmt_ratio(float(row['upper'])))})")


def _bound(x, reached: bool) -> str:
    if not reached:
        return st.NOT_REACHED
    return st.NOT_ESTIMABLE if x is None or np.isnan(x) else st.fmt_num(float(x))


# --------------------------------------------------------------------------- 1. RFS censored at HSCT


def test_rfs_hsct_table_prints_the_result_rows_with_style(results):
    """Reference: results.sensitivity.rfs_hsct (two rows), formatted with style."""
    ref = results.sensitivity.rfs_hsct
    frame = _frame(S.rfs_hsct_table(results))
    assert list(frame["analysis"]) == list(ref["analysis"])
    for got, want in zip(frame.to_dict("records"), ref.to_dict("records")):
        assert got["n"] == str(int(want["n"])) and got["events"] == str(int(want["events"]))
        assert got["censored_hsct"] == str(int(want["n_censored_hsct"]))
        assert got["median"] == _bound(want["median"], bool(want["median_reached"]))
        lo, hi = _bound(want["lower"], bool(want["lower_reached"])), _bound(want["upper"], bool(want["upper_reached"]))
        assert got["ci"] == (st.NOT_ESTIMABLE if lo == hi == st.NOT_ESTIMABLE else f"{lo}{st.DASH}{hi}")


def test_rfs_hsct_as_defined_row_is_the_manuscript_rfs(results):
    """Reference: results.rfs (the manuscript's RFS analysis) by the configured median method."""
    method = results.settings.survival.median_ci
    m = results.rfs.medians[method]
    row = _frame(S.rfs_hsct_table(results)).iloc[0]
    assert row["n"] == str(results.rfs.n) and row["events"] == str(results.rfs.events)
    assert row["median"] == st.fmt_months(m.estimate, reached=m.reached)


# --------------------------------------------------------------------------- 2. time-dependent Cox


def test_time_dependent_cox_table_prints_both_models(results):
    """Reference: results.sensitivity.cox_time_dependent.table and results.cox.multivariable.table."""
    td = results.sensitivity.cox_time_dependent
    main = {r["term"]: r for r in results.cox.multivariable.table.to_dict("records")}
    frame = _frame(S.time_dependent_cox_table(results))
    assert list(frame["term"]) == list(td.table["term"])
    assert frame["term"].iloc[0] == "hsct" and frame["main_hr"].iloc[0] == "" and frame["main_p"].iloc[0] == ""
    for got, want in zip(frame.to_dict("records"), td.table.to_dict("records")):
        if want["monotone"]:
            assert got["td_hr"] == st.NOT_ESTIMABLE
            continue
        assert got["td_hr"] == _hr(want) and got["td_p"] == st.fmt_p(want["p"])
        if want["term"] in main and not main[want["term"]]["monotone"]:
            assert got["main_hr"] == _hr(main[want["term"]]) and got["main_p"] == st.fmt_p(main[want["term"]]["p"])


def test_time_dependent_cox_notes_give_the_fit(results):
    """Reference: the TimeDependentCoxResult counts and likelihood-ratio test."""
    td = results.sensitivity.cox_time_dependent
    notes = " ".join(f.text for f in S.time_dependent_cox_table(results).footnotes)
    assert f"{td.n} patients ({td.n_hsct} with follow-up after a transplant), {td.n_events} deaths" in notes
    assert st.fmt_p_text(td.likelihood_ratio_test.p) in notes
    for w in td.warnings:
        assert st.fmt_relation(w) in notes


# --------------------------------------------------------------------------- 3. Simon-Makuch


def test_simon_makuch_curves_are_the_result_steps(results):
    """Reference: results.sensitivity.simon_makuch (time, surv per group); the HSCT curve starts at 1."""
    sm = results.sensitivity.simon_makuch
    fig = S.simon_makuch_figure(results)
    for i, group in enumerate(HSCT_GROUPS):
        rows = sm[sm["group"] == group].sort_values("time")
        x, y = _gid(fig, f"curve-{i}").get_data()
        np.testing.assert_allclose(x[1:], rows["time"], rtol=0, atol=TOL)
        np.testing.assert_allclose(y[1:], rows["surv"], rtol=0, atol=TOL)
        assert y[0] == 1.0
        if group == HSCT_GROUPS[1]:
            assert x[0] == pytest.approx(rows.loc[rows["n_enter"] > 0, "time"].min(), abs=TOL) or x[0] == 0.0


def test_simon_makuch_numbers_at_risk_against_counting_process_intervals(results):
    """Reference: intervals (tstart, tstop] of hsct_counting_process counted directly:
    at a time t > 0 the intervals of the group with tstart < t <= tstop; at 0 those starting at 0."""
    cp = hsct_counting_process(results.derived, population=results.settings.survival.population)
    fig = S.simon_makuch_figure(results)
    risk = _gid(fig, "simon-makuch-risk")
    ticks = [float(t) for t in _gid(fig, "simon-makuch-curves").get_xticks()]
    shown = {}
    for t in risk.texts:
        shown.setdefault(round(t.get_position()[1]), []).append(t.get_text())
    for i, code in enumerate((0, 1)):
        part = cp[cp["hsct"] == code]
        want = [int(((part["tstart"] == 0) if t == 0 else ((part["tstart"] < t) & (t <= part["tstop"]))).sum())
                for t in ticks]
        assert shown[i] == [str(n) for n in want]


def test_simon_makuch_note_patients_deaths_and_hsct_hr(results):
    """Reference: results.os (the salvage OS analysis), the time-dependent Cox HSCT row,
    SIMON_MAKUCH_NOTE; legend n = patients with an interval in the group (counting process)."""
    assert results.os.population == "salvage"  # the sensitivity analyses use the salvage set
    fig = S.simon_makuch_figure(results)
    note = _gid(fig, "simon-makuch-note").get_text().replace("\n", " ")
    assert f"n = {results.os.n} patients; {results.os.events} deaths." in note
    row = results.sensitivity.cox_time_dependent.table.iloc[0]
    assert f"HR {_hr(row)}; {st.fmt_p_text(row['p'])}" in note
    assert " ".join(S.SIMON_MAKUCH_NOTE.split()) in note
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    cp = hsct_counting_process(results.derived, population=results.settings.survival.population)
    assert legend[0] == f"No HSCT (n = {cp.loc[cp['hsct'] == 0, 'USUBJID'].nunique()})"
    assert legend[1] == f"HSCT (n = {cp.loc[cp['hsct'] == 1, 'USUBJID'].nunique()})"


# --------------------------------------------------------------------------- 4. landmark


def test_landmark_table_one_block_per_landmark(results):
    """Reference: results.sensitivity.landmarks (groups, log-rank) and the configured landmark months."""
    frame = _frame(S.landmark_table(results))
    months = results.settings.sensitivity.landmark_months
    assert len(results.sensitivity.landmarks) == len(months)
    for lm, m in zip(results.sensitivity.landmarks, months):
        block = frame[frame["section"] == f"Landmark at {float(m):g} months from relapse"]
        assert list(block["group"]) == list(lm.groups["group"])
        for got, want in zip(block.to_dict("records"), lm.groups.to_dict("records")):
            assert got["n"] == str(int(want["n"])) and got["events"] == str(int(want["events"]))
            if want["n"]:
                assert got["median"] == st.fmt_months(None if np.isnan(want["median"]) else want["median"],
                                                      reached=bool(want["median_reached"]))
        assert block["P"].iloc[0] == (st.fmt_p(lm.logrank.p) if lm.logrank is not None else st.NOT_ESTIMABLE)
        assert (block["P"].iloc[1:] == "").all()


def test_landmark_table_notes_account_for_every_patient(results):
    """Reference: LandmarkResult n_at_risk + n_excluded = the salvage OS analysis (results.os.n)."""
    notes = " ".join(f.text for f in S.landmark_table(results).footnotes)
    for lm in results.sensitivity.landmarks:
        assert lm.n_at_risk + lm.n_excluded == results.os.n
        assert f"{lm.n_at_risk} of {results.os.n} patients" in notes
        assert f"({lm.n_excluded} died or were censored by then)" in notes


# --------------------------------------------------------------------------- 5. competing risks


def test_cumulative_incidence_table_cells_against_estimates(results):
    """Reference: results.sensitivity.cumulative_incidence.estimates and gray_test, formatted as
    percentages with one decimal and style.fmt_ci; Gray's P with style.fmt_p."""
    ci = results.sensitivity.cumulative_incidence
    frame = _frame(S.cumulative_incidence_table(results))
    body = frame[frame["label"].str.startswith("At ")]
    assert len(body) == len(ci.estimates) // 2
    for rec in ci.estimates.to_dict("records"):
        row = body[(body["group"] == rec["group"]) & (body["time"] == f"{rec['time']:g}")]
        assert len(row) == 1
        col = "relapse" if rec["event"] == CIF_EVENTS[0] else "nrm"
        if np.isnan(rec["lower"]):
            want = f"{st.fmt_num(100 * rec['cif'])} ({st.NOT_ESTIMABLE})"
        else:
            want = f"{st.fmt_num(100 * rec['cif'])} ({st.fmt_ci(100 * rec['lower'], 100 * rec['upper'])})"
        assert row[col].iloc[0] == want
        assert row["n_risk"].iloc[0] == str(int(rec["n_risk"]))
    gray = frame[frame["label"] == "Gray's test, P"].iloc[0]
    p = dict(zip(ci.gray_test["event"], ci.gray_test["p"]))
    assert gray["relapse"] == st.fmt_p(p[CIF_EVENTS[0]]) and gray["nrm"] == st.fmt_p(p[CIF_EVENTS[1]])


def test_cumulative_incidence_group_sizes_against_rfs_data(results):
    """Reference: the ADTTE RFS rows (patients in CR/CRi) counted by salvage group."""
    rfs = results.derived.tte("RFS", population="all")
    sections = set(_frame(S.cumulative_incidence_table(results))["section"])
    assert f"All patients in CR/CRi (n = {len(rfs)})" in sections
    for group, n in rfs["SALVGRP"].value_counts().items():
        assert f"{group} (n = {n})" in sections


def test_cumulative_incidence_figure_curves_and_risk_against_rfs_data(results):
    """Reference: curves = results' Aalen-Johansen steps (1e-12); numbers at risk = RFS patients
    of the group with time >= the tick, counted here; Gray's P with style.fmt_p_text."""
    ci = results.sensitivity.cumulative_incidence
    rfs = results.derived.tte("RFS", population="all")
    fig = S.cumulative_incidence_figure(results)
    groups = order_groups([g for g in ci.curves["group"].unique() if g != "All"])  # one order everywhere
    for event, letter in zip(CIF_EVENTS, "AB"):
        for i, g in enumerate(groups):
            rows = ci.curves[(ci.curves["group"] == g) & (ci.curves["event"] == event)]
            x, y = _gid(fig, f"cif-{letter}-curve-{i}").get_data()
            np.testing.assert_allclose(x[1:], rows["time"], rtol=0, atol=TOL)
            np.testing.assert_allclose(y[1:], rows["cif"], rtol=0, atol=TOL)
            assert (x[0], y[0]) == (0.0, 0.0)
        ticks = [float(t) for t in _gid(fig, f"cif-{letter}-curves").get_xticks()]
        shown = {}
        for t in _gid(fig, f"cif-{letter}-risk").texts:
            shown.setdefault(round(t.get_position()[1]), []).append(t.get_text())
        for i, g in enumerate(groups):
            times = rfs.loc[rfs["SALVGRP"] == g, "AVAL"]
            assert shown[i] == [str(int((times >= t).sum())) for t in ticks]
        p = dict(zip(ci.gray_test["event"], ci.gray_test["p"]))[event]
        assert _gid(fig, f"cif-{letter}-gray-p").get_text() == f"Gray's test {st.fmt_p_text(p)}"
    note = _gid(fig, "cif-note").get_text()
    assert note.startswith(f"{len(rfs)} patients in CR/CRi: {ci.n_relapse} relapses, {ci.n_death} deaths")


# --------------------------------------------------------------------------- 6. missing covariates


def test_missing_covariates_table_side_by_side(results):
    """Reference: results.sensitivity.missing_covariates (both approaches), per term."""
    ref = results.sensitivity.missing_covariates
    frame = _frame(S.missing_covariates_table(results)).set_index("term")
    assert list(frame.index) == list(dict.fromkeys(ref["term"]))
    for rec in ref.to_dict("records"):
        prefix = "cc" if rec["approach"] == "complete_case" else "mc"
        want = st.NOT_ESTIMABLE if rec["monotone"] else _hr(rec)
        assert frame.loc[rec["term"], f"{prefix}_hr"] == want
        if not rec["monotone"]:
            assert frame.loc[rec["term"], f"{prefix}_p"] == st.fmt_p(rec["p"])
    only_mc = set(ref.loc[ref["approach"] == "missing_category", "term"]) - set(
        ref.loc[ref["approach"] == "complete_case", "term"])
    assert only_mc and all(frame.loc[t, "cc_hr"] == "" for t in only_mc)
    notes = " ".join(f.text for f in S.missing_covariates_table(results).footnotes)
    for approach, name in (("complete_case", "Complete case"), ("missing_category", "Missing as a category")):
        first = ref[ref["approach"] == approach].iloc[0]
        assert f"{name}: {int(first['n'])} patients, {int(first['n_events'])} deaths" in notes


# --------------------------------------------------------------------------- guardrail paragraph


def test_guardrail_text_names_each_analysis_switched_on_with_its_supplementary_float(results):
    """Reference: analysis.yml (all analyses on) and analysis.present.supplement numbering."""
    text = S.guardrail_text(results)
    assert isinstance(text, Markdown)
    body = text.data
    names = supplementary_names()
    for key in ("tbl_s_td_cox", "fig_s_simon_makuch", "tbl_s_landmark_response", "tbl_s_rfs_hsct", "tbl_s_cif",
                "fig_s_cif", "tbl_s_missing"):
        assert f"Supplementary {names[key]}" in body, key
    assert "not used as baseline groupings for overall survival" in body
    assert "time-dependent covariate" in body and "Simon\u2013Makuch" in body and "landmark" in body
    months = results.settings.sensitivity.landmark_months
    assert f"at {float(months[0]):g} months" in body
    assert "[@therneau2000]" in body


def test_guardrail_text_with_sensitivity_switched_off(results_off):
    """Reference: the empty sensitivity section: only the guardrail and no analysis sentence."""
    body = S.guardrail_text(results_off).data
    assert "not used as baseline groupings for overall survival" in body
    assert "No sensitivity analysis of these groupings was performed." in body
    assert "Simon" not in body and "landmark" not in body and "Supplementary" not in body


# --------------------------------------------------------------------------- states


@pytest.mark.parametrize("name", TABLES)
def test_switched_off_table_says_so(results_off, name):
    """Reference: the empty sensitivity section -> every result None -> one row naming the switch."""
    field = {"rfs_hsct_table": "rfs_hsct", "time_dependent_cox_table": "cox_time_dependent",
             "landmark_table": "landmarks", "cumulative_incidence_table": "cumulative_incidence",
             "missing_covariates_table": "missing_covariates"}[name]
    table = getattr(S, name)(results_off)
    assert len(table.frame) == 1
    assert table.frame["status"].iloc[0] == (f"Switched off in the analysis configuration (analysis.yml, "
                                             f"sensitivity: {S.CONFIG_KEYS[field]}).")
    assert SYNTHETIC_NOTE in table.source_notes
    assert "gt_table" in table.to_html() and "Switched off" in table.to_markdown()


@pytest.mark.parametrize("name", FIGURES)
def test_switched_off_figure_says_so(results_off, name):
    fig = getattr(S, name)(results_off)
    assert "Switched off" in _gid(fig, "sensitivity-empty").get_text()
    assert _gid(fig, "synthetic-footer").get_text() == SYNTHETIC_FOOTER
    assert fig._repr_png_().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", TABLES)
def test_not_estimable_table_gives_the_reason(not_estimable, name):
    table = getattr(S, name)(not_estimable)
    text = table.to_markdown()
    assert "Not estimable: no patient has follow-up after a consolidative HSCT." in text
    assert "gt_table" in table.to_html()


@pytest.mark.parametrize("name", FIGURES)
def test_not_estimable_figure_gives_the_reason(not_estimable, name):
    fig = getattr(S, name)(not_estimable)
    assert "Not estimable: no patient has follow-up" in _gid(fig, "sensitivity-empty").get_text().replace("\n", " ")


def test_unknown_analysis_is_an_error(results):
    with pytest.raises(ValueError, match="unknown sensitivity analysis"):
        S.state(results, "bogus")


# --------------------------------------------------------------------------- rendering, synthetic note, privacy


@pytest.mark.parametrize("name", TABLES)
def test_table_renders_html_and_plain_markdown(results, name):
    table = getattr(S, name)(results)
    html = table.to_html()
    assert "gt_table" in html and SYNTHETIC_NOTE in html
    md = table.to_markdown()
    assert "|" in md and SYNTHETIC_NOTE in md
    assert not ENTITY.search(md) and not HTML_TAG.search(md)


@pytest.mark.parametrize("fmt, mime, absent", [("html", "text/markdown", "text/html"),
                                               ("typst", "text/markdown", "text/html"),
                                               ("docx", "text/markdown", "text/html")],
                         ids=["html", "typst", "docx"])
def test_tables_display_by_output_format(monkeypatch, tmp_path, results, fmt, mime, absent):
    info = tmp_path / "info.json"
    info.write_text(json.dumps({"format": {"identifier": {"base-format": fmt}}}), encoding="utf-8")
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(info))
    for name in TABLES:
        bundle = getattr(S, name)(results)._repr_mimebundle_()
        assert mime in bundle and absent not in bundle, name
        assert bundle[mime].startswith("```{=html}") == (fmt == "html"), name   # raw HTML block (REVIEW 23)


@pytest.mark.parametrize("name", FIGURES)
def test_figure_has_synthetic_footer_and_displays(results, name):
    fig = getattr(S, name)(results)
    assert _gid(fig, "synthetic-footer").get_text() == SYNTHETIC_FOOTER
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_no_identifier_or_date_in_any_display(results):
    """Privacy: no USUBJID and no date (YYYY-MM-DD or the dictionary's date format) is printed."""
    ids = set(results.derived.adsl["USUBJID"].astype(str))
    shown = [getattr(S, n)(results).to_markdown() for n in TABLES]
    shown += ["\n".join(_texts(getattr(S, n)(results))) for n in FIGURES]
    shown.append(S.guardrail_text(results).data)
    for text in shown:
        assert not any(i in text for i in ids)
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b", text)
