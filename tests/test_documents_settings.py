"""What the executed documents say follows the settings and the data
(acceptance review 2026-12-06: a reviewer changed settings and data and found
the manuscript stating wrong things).

Both documents are executed as Quarto's Jupyter engine would
(:func:`tests.qmd.harness.execute_qmd`) under a reviewer's configuration:
alpha .10, all relapsed patients in the survival analyses, adult age cut-off
21 years, a risk table every 3 months to 12, every sensitivity analysis
switched off. The tests check rules (every interval label is the configured
level; every threshold is alpha), not values produced by our own code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pytest
import yaml
from scipy import stats

from analysis.config import DEFAULT_CONFIG, PROJECT_ROOT

REVIEWER = {
    "tests.alpha": 0.10,
    "survival.population": "all",
    "survival.risk_table_months": [0, 3, 6, 9, 12],
    "definitions.adult_age_years": 21,
    "sensitivity": {"rfs_censor_at_hsct": False, "time_dependent_hsct": False, "landmark_months": [],
                    "competing_risks": False, "missing_covariates": []},
}


def shipped_settings() -> dict:
    s = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    s["data"]["sources"] = [{**x, "path": str((PROJECT_ROOT / x["path"]).resolve())} for x in s["data"]["sources"]]
    s["data"].pop("dictionary", None)
    return s


def with_changes(changes: dict) -> dict:
    s = shipped_settings()
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = s
        for p in parents:
            node = node[p]
        node[last] = value
    # the Cox reference level of the age group follows the cut-off
    cut = s["definitions"]["adult_age_years"]
    for c in s["cox"]["covariates"]:
        if c["column"] == "AGEGR1":
            c["reference"] = f"<{cut:g}"
    return s


def unescape(md: str) -> str:
    """Markdown text as a reader sees it (backslash escapes removed)."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!%,;:<>|'\"=$~^&])", r"\1", md)


@dataclass(frozen=True)
class Executed:
    texts: dict[str, str]          # document -> executed Markdown (chunk outputs in place, captions kept)
    plain_outputs: dict[str, list[str]]   # document -> text/plain-only displays (nothing a reader should see)
    variables: dict


def execute_documents(tmp, settings: dict, *, data: str | None = None, monkeypatch=None) -> Executed:
    """Both documents executed with ``settings`` (and ``data``), as `quarto render` would."""
    import os

    from analysis.present.document import prepare
    from tests.qmd.harness import execute_qmd

    cfg = tmp / "analysis.yml"
    cfg.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    variables_file = tmp / "_variables.yml"
    env = {"CART_CONFIG": str(cfg), "CART_VARIABLES": str(variables_file)}
    if data:
        env["CART_DATA"] = data
    saved = {k: os.environ.get(k) for k in (*env, "CART_DATA")}
    os.environ.pop("CART_DATA", None)
    os.environ.update(env)
    try:
        prepare(variables=variables_file, root=tmp)
        variables = yaml.safe_load(variables_file.read_text(encoding="utf-8"))
        texts, plain = {}, {}
        for doc in ("report.qmd", "supplement.qmd"):
            run = execute_qmd(PROJECT_ROOT / doc, target_format="docx", variables=variables)
            md = run.markdown
            plain[doc] = []
            for c in run.chunks:
                if not c.chunk.raw:
                    continue
                parts = [str(c.chunk.options[k]) for k in ("fig-cap", "tbl-cap", "fig-alt") if c.chunk.options.get(k)]
                for d in c.displays:
                    if "text/markdown" in d:
                        parts.append(d["text/markdown"])
                    elif not any(k.startswith("image/") for k in d) and "text/plain" in d:
                        plain[doc].append(f"{c.label}: {d['text/plain']}")
                md = md.replace(c.chunk.raw, "\n\n".join(parts), 1)
            texts[doc] = unescape(md)
        return Executed(texts, plain, variables)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def reviewer(tmp_path_factory) -> Executed:
    return execute_documents(tmp_path_factory.mktemp("reviewer"), with_changes(REVIEWER))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> Executed:
    return execute_documents(tmp_path_factory.mktemp("shipped"), shipped_settings())


def all_text(ex: Executed) -> str:
    return "\n".join(ex.texts.values())


# --------------------------------------------------------------------------- 1. alpha


LEVEL = re.compile(r"(\d+(?:\.\d+)?)% (?:CI|confidence|Wald|pointwise)")


@pytest.mark.parametrize("which", ["reviewer", "shipped"])
def test_every_interval_label_is_the_configured_level(which, request):
    ex = request.getfixturevalue(which)
    alpha = REVIEWER["tests.alpha"] if which == "reviewer" else shipped_settings()["tests"]["alpha"]
    want = f"{100 * (1 - alpha):g}"
    text = all_text(ex)
    found = LEVEL.findall(text)
    assert found, "no interval label found"
    wrong = sorted({m.group(0) for m in LEVEL.finditer(text) if m.group(1) != want})
    assert not wrong, f"interval labels not at {want}%: {wrong}"


def test_the_spss_interval_multiplier_is_the_normal_quantile_of_alpha(reviewer):
    z = stats.norm.ppf(1 - REVIEWER["tests.alpha"] / 2)          # 1.6448...
    text = all_text(reviewer)
    printed = re.findall(r"± (\d\.\d+) (?:standard errors|SE)", text)
    assert printed, "the Methods and Table S14 name the multiplier"
    assert all(abs(float(x) - z) < 0.5 * 10 ** -(len(x) - 2) for x in printed), printed
    assert "1.96" not in re.sub(r"\(\d\.\d+–1\.96\)", "", text)     # an interval limit may be 1.96
    assert not re.search(r"± z (?:SE|standard)", text), "a 'z' the reader is not told"


def test_every_significance_threshold_is_alpha_with_the_p_value_decimals(reviewer):
    text = all_text(reviewer)
    thresholds = re.findall(r"(?:P values below|P <) (\.\d+)", text)
    assert ".10" in thresholds
    assert not [t for t in thresholds if t not in (".10", ".001")], thresholds


# --------------------------------------------------------------------------- 2. transplant without remission


def _transplanted_without_remission(folder):
    """The shipped synthetic site files with one patient (alive, no response to salvage) given a
    first consolidative transplant, as a site reported it to the reviewer."""
    import shutil

    import pandas as pd

    folder.mkdir(exist_ok=True)
    for f in sorted((PROJECT_ROOT / "data" / "synthetic").glob("site_*.csv")):
        shutil.copy(f, folder / f.name)
    a = pd.read_csv(folder / "site_a.csv", dtype=str, keep_default_na=False)
    i = a.index[(a.best_response == "NR") & (a.prior_transplant == "none") & (a.death_date == "")][0]
    start, end = pd.Timestamp(a.loc[i, "salvage_date"]), pd.Timestamp(a.loc[i, "last_contact_date"])
    a.loc[i, ["hsct_after_salvage", "hsct_date"]] = ["first", (start + (end - start) / 2).date().isoformat()]
    a.to_csv(folder / "site_a.csv", index=False)
    return folder, a.loc[i, "patient_id"]


@pytest.fixture(scope="module")
def no_remission(tmp_path_factory):
    from analysis.config import load_config
    from analysis.results import run_analysis

    folder, patient = _transplanted_without_remission(tmp_path_factory.mktemp("nr") / "sites")
    return run_analysis(load_config(None, data=str(folder))), folder, patient


def test_transplant_without_remission_is_a_validation_warning(no_remission):
    from analysis.dictionary import load_dictionary
    from analysis.load import load_sources
    from analysis.config import Source
    from analysis.validate import validate

    _, folder, patient = no_remission
    dic = load_dictionary(PROJECT_ROOT / "data" / "dictionary.yml")
    report = validate(load_sources([Source(p) for p in sorted(folder.glob("*.csv"))], dic), dic)
    found = [p for p in report.problems if p.patient == patient]
    assert [(p.rule, p.level) for p in found] == [("hsct_without_remission", "warning")]


def test_no_patient_outside_remission_is_counted_as_remaining_in_remission(no_remission):
    from analysis.present.numbers import build_registry

    r, _, _ = no_remission
    listing = r.transplant.listing
    in_cr = listing[listing["OUTCOME"].str.contains("In CR")]
    assert in_cr["BESTRESP"].isin(["CR", "CRi", "Complete remission",
                                   "Complete remission with incomplete count recovery"]).all()
    n_never = int((~listing["BESTRESP"].astype(str).str.startswith(("CR", "Complete"))).sum())
    assert n_never == 1
    reg = build_registry(r)
    assert reg["transplant.n_hsct_in_cr_at_last_followup"].raw == len(in_cr)
    sentence = reg["text.hsct_outcomes_sentence"].text
    assert "had not reached CR/CRi" in sentence


def test_a_transplant_without_remission_keeps_the_manuscript_consistent(no_remission):
    """Regression: the pre-render step's consistency check summed four of the five transplant
    outcomes, so data with a patient transplanted without CR/CRi (a validation warning, not an
    error) stopped every render with "transplant outcomes do not add up"."""
    from analysis.present.consistency import check
    from analysis.present.numbers import build_registry

    r, _, _ = no_remission
    assert check(r, build_registry(r)) == []


def test_flow_figure_boxes_neither_overlap_nor_leave_the_figure(no_remission):
    from analysis.present import figures as F

    r, _, _ = no_remission
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = F.flow_figure(r)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fb = fig.bbox
    boxes = [p.get_window_extent(renderer) for ax in fig.axes for p in ax.patches
             if str(p.get_gid() or "").startswith("box-")]
    texts = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts
             if str(t.get_gid() or "").startswith("text-")]
    assert any(str(p.get_gid()) == "box-hsct_not_cr" for ax in fig.axes for p in ax.patches)
    for b in boxes + texts:
        assert fb.x0 - 0.5 <= b.x0 and b.x1 <= fb.x1 + 0.5 and fb.y0 - 0.5 <= b.y0 and b.y1 <= fb.y1 + 0.5, b
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not a.overlaps(b), (a, b)


# --------------------------------------------------------------------------- 4, 13, 14, 24: who is analysed


@functools.lru_cache(maxsize=None)
def _analysed(tmp: str, key: str):
    from analysis.config import load_config
    from analysis.results import run_analysis

    settings = {"reviewer": with_changes(REVIEWER), "cox_swap": with_changes(COX_SWAP)}[key]
    path = f"{tmp}/{key}.yml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(settings, fh, sort_keys=False)
    return run_analysis(load_config(path))


#: rev_cox.yml of the review: CD19 status (not assessed in some patients) in the main model, the
#: (complete) transplant history as the added covariate of the missing-covariate analysis
COX_SWAP = {
    "cox.covariates": [{"column": "SALVGRP", "reference": "Targeted"}, {"column": "AGEGR1", "reference": "<18"},
                       {"column": "BMBURDEN", "reference": "<50%"}, {"column": "CD19NEG", "reference": "N"}],
    "sensitivity.missing_covariates": [{"column": "PRIORSCT", "reference": "N"}],
}


@pytest.fixture(scope="module")
def tmpdir_(tmp_path_factory):
    return str(tmp_path_factory.mktemp("analysed"))


def test_overall_survival_population_is_named_as_configured(reviewer):
    n_all = int(reviewer.variables["cohort"]["n_relapsed_after_cart"])
    n_salvage = int(reviewer.variables["cohort"]["n_salvage"])
    report = reviewer.texts["report.qmd"]
    assert n_all != n_salvage
    assert f"Median OS of the {n_all} patients who relapsed" in report
    assert not re.search(rf"Median OS of the {n_all} patients who received salvage", report)
    assert "in patients who received salvage therapy" not in report.split("Kaplan–Meier estimates of (A)")[1][:300]


def test_patients_without_salvage_are_not_called_missing_a_covariate(reviewer, tmpdir_):
    r = _analysed(tmpdir_, "reviewer")
    adsl = r.derived.adsl
    cols = list(r.cox.covariates)
    salvage = adsl[adsl["SALVFL"] == "Y"]
    truly_missing = int(salvage[cols].isna().any(axis=1).sum())
    n_no_salvage = int((adsl["SALVFL"] != "Y").sum())
    text = all_text(reviewer)
    for n in re.findall(r"(\d+) (?:patients )?left out for a missing covariate", text):
        assert int(n) <= truly_missing, n
    assert f"{n_no_salvage} patients without salvage therapy left out" in text
    methods = text.split("## Statistical analysis")[1].split("## ")[0] if "## Statistical analysis" in text else text
    assert "without salvage therapy" in methods


def test_methods_say_complete_case_only_when_someone_is_left_out(tmpdir_):
    from analysis.present.text import statistical_methods

    swap = _analysed(tmpdir_, "cox_swap")
    assert swap.cox.multivariable.n_excluded > 0
    assert "complete-case analysis" in statistical_methods(swap).data
    shipped = run_shipped()
    if shipped.cox.multivariable.n_excluded == 0:
        assert "complete-case analysis: patients with a missing value" not in statistical_methods(shipped).data


@functools.lru_cache(maxsize=None)
def run_shipped():
    from analysis.results import run_analysis

    return run_analysis()


def test_missing_covariate_analysis_text_follows_which_covariates_are_incomplete(tmpdir_):
    from analysis.present import sensitivity as S

    r = _analysed(tmpdir_, "cox_swap")
    assert not r.derived.adsl.loc[r.derived.adsl["SALVFL"] == "Y", "PRIORSCT"].isna().any()
    guard = S.guardrail_text(r).data
    assert "not assessed in every patient" not in guard
    assert "no value was missing" in guard
    notes = " ".join(f.text for f in S.missing_covariates_table(r).footnotes)
    left = re.findall(r"Missing as a category: \d+ patients, \d+ deaths, (\d+)", notes)
    if left and int(left[0]):
        assert "keeps every patient" not in notes


def test_age_group_is_worded_from_its_cut_off(tmpdir_):
    from analysis.present.text import statistical_methods

    methods = statistical_methods(_analysed(tmpdir_, "reviewer")).data
    assert "≥21 vs <21 years" in methods and "adult vs paediatric" not in methods


def test_a_denominator_with_missing_values_states_them(tmpdir_):
    from analysis.present.numbers import build_registry

    r = run_shipped()
    salvage = r.derived.adsl[r.derived.adsl["SALVFL"] == "Y"]
    n_missing = int(salvage["CYTORISK"].isna().sum())
    text = build_registry(r).t.cytogenetics_sentence_part
    if n_missing:
        assert f"not recorded in {n_missing}" in text
    else:
        assert "not recorded" not in text


# --------------------------------------------------------------------------- 5. one site, empty groups


@pytest.fixture(scope="module")
def one_site(tmp_path_factory) -> Executed:
    """One site's file alone (SITE-A of the shipped cohort: no extramedullary relapse at all)."""
    import shutil

    tmp = tmp_path_factory.mktemp("one_site")
    shutil.copy(PROJECT_ROOT / "data" / "synthetic" / "site_a.csv", tmp / "site_a.csv")
    settings = shipped_settings()
    settings["data"]["sources"] = [{"path": str(tmp / "site_a.csv")}]
    return execute_documents(tmp, settings)


def test_one_site_is_not_called_multi_institutional(one_site, shipped):
    assert int(one_site.variables["cohort"]["n_sites"]) == 1
    text = all_text(one_site) + yaml.safe_dump(one_site.variables)
    assert not re.search(r"\b1 (participating )?institutions\b", text)
    assert "multi-institutional" not in all_text(one_site)
    title = one_site.variables["text"]["cohort_kind"]
    assert title == "single-institution"
    n = int(shipped.variables["cohort"]["n_sites"])
    assert n > 1 and f"{n} participating institutions" in all_text(shipped)


def test_empty_groups_are_said_in_words_and_no_code_reaches_the_reader(one_site):
    text = all_text(one_site) + " ".join(str(v) for v in one_site.variables["text"].values())
    assert not re.search(r"\bOf the 0 patients\b|\b0 of 0\b", text)
    assert not re.search(r"group '[^']*' has no patients", text)
    assert "No patient had an extramedullary relapse" in text


def test_no_chunk_prints_a_python_object(one_site, shipped, reviewer):
    """Also with every sensitivity analysis switched off (review item 3: Figures S1/S2 printed
    "<JournalFigure size 1050x421.5 with 0 Axes>")."""
    for ex in (one_site, shipped, reviewer):
        for doc, outs in ex.plain_outputs.items():
            assert not outs, (doc, outs)


# --------------------------------------------------------------------------- 17. risk-table times


def _risk_columns(fig) -> dict[str, set[float]]:
    out: dict[str, set[float]] = {}
    for ax in fig.axes:
        gid = str(ax.get_gid() or "")
        if gid.endswith("-risk"):
            out[gid] = {round(float(t.get_position()[0]), 9) for t in ax.texts}
    return out


@pytest.mark.parametrize("key", ["reviewer", "shipped"])
def test_risk_tables_show_exactly_the_configured_times(key, tmpdir_):
    from analysis.present import figures as F

    r = _analysed(tmpdir_, "reviewer") if key == "reviewer" else run_shipped()
    configured = {float(t) for t in r.settings.survival.risk_table_months}
    figs = [F.km_overall_figure(r), F.km_group_figure(r, "salvage_group")]
    found = False
    for fig in figs:
        for gid, xs in _risk_columns(fig).items():
            found = True
            assert xs <= configured, (gid, sorted(xs - configured))
    assert found


# --------------------------------------------------------------------------- 25, 28: wording of uncertain results


def test_subgroup_finding_is_worded_as_exploratory_not_causal():
    from analysis.present.numbers import build_registry

    r = run_shipped()
    t = build_registry(r).t
    for text in (t.cr_emd_sentence, t.conclusion):
        assert not re.search(r"\b(determines?|suggests?|proves?|causes?)\b", text), text
    if "more often than non-CNS" in t.cr_emd_sentence or "less often than non-CNS" in t.cr_emd_sentence:
        assert "exploratory" in t.cr_emd_sentence and "exploratory" in t.conclusion


def test_landmark_estimates_from_few_patients_say_so_and_methods_name_the_interval():
    from analysis.present.numbers import FEW_AT_RISK, build_registry
    from analysis.present.text import statistical_methods

    r = run_shipped()
    t = build_registry(r).t
    for ep, text in ((r.os, t.os_landmarks), (r.rfs, t.rfs_landmarks)):
        for _, row in ep.landmarks.iterrows():
            if int(row["n_risk"]) < FEW_AT_RISK:
                assert f"{int(row['n_risk'])} patient" in text and "at risk" in text, text
    assert "log scale" in statistical_methods(r).data


# --------------------------------------------------------------------------- 26. one wording per term


def test_each_term_has_one_wording_in_the_documents(shipped):
    from analysis.present.labels import CR_CRI_TERM

    text = all_text(shipped)
    expansions = set(re.findall(r"complete remission with (?:full or incomplete haematological recovery|"
                                r"or without count recovery|incomplete count recovery)", text))
    assert expansions == {CR_CRI_TERM}, expansions
    assert not re.search(r"CD19-negative relapse", text)
    assert not re.search(r"Synthetic data\W+SYNTHETIC DATA", text, re.I)
    from analysis.present import figures as F

    figure_terms = {full for short, _, full in F.ABBREVIATIONS if short == "CR/CRi"}
    assert figure_terms == {CR_CRI_TERM}          # the figure notes (drawn in the images)


# --------------------------------------------------------------------------- 12. Table 1 decimals


def test_table1_decimals_follow_the_variable_not_its_medians(tmp_path):
    """Whole-number marrow blasts with a few values missing: a median that falls on .5 does not
    switch the row to one decimal (the other rows and the complete data print whole numbers)."""
    import shutil

    import numpy as np
    import pandas as pd

    from analysis.config import load_config
    from analysis.present import tables as T
    from analysis.results import run_analysis

    for f in sorted((PROJECT_ROOT / "data" / "synthetic").glob("site_*.csv")):
        shutil.copy(f, tmp_path / f.name)
    a = pd.read_csv(tmp_path / "site_a.csv", dtype=str, keep_default_na=False)
    salvage = [i for i in a.index if a.loc[i, "salvage"] == "yes" and a.loc[i, "marrow_blasts_pct"] != ""]
    for k in range(1, 6):
        b = a.copy()
        b.loc[salvage[:k], "marrow_blasts_pct"] = ""
        b.to_csv(tmp_path / "site_a.csv", index=False)
        r = run_analysis(load_config(None, data=str(tmp_path)))
        rows = r.baseline.numbers[(r.baseline.numbers["variable"] == "BMBLAST")]
        if any(not float(m).is_integer() for m in rows["median"] if not np.isnan(m)):
            break
    else:
        pytest.skip("no half median reached")
    recorded = pd.to_numeric(r.derived.adsl["BMBLAST"], errors="coerce").dropna()
    assert (recorded == recorded.round()).all()
    frame = T.table1_frame(r)
    row = frame[(frame["variable"] == "BMBLAST") & (frame["row"] == "variable")].iloc[0]
    for group in ("Overall", "Targeted", "Chemotherapy"):
        assert not re.search(r"\d\.\d", str(row[group])), (group, row[group])


# --------------------------------------------------------------------------- 19. caption and note agree


def test_landmark_table_caption_does_not_cite_another_interval_method_than_its_note(shipped):
    """Table S7's caption cited Brookmeyer–Crowley while its note (the manuscript's method,
    SPSS by default) said median ± z SE."""
    text = shipped.texts["supplement.qmd"]
    block = text.split("Landmark analysis of overall survival by CR/CRi")[1][:600]
    assert "@brookmeyer1982" not in block


def test_supplement_does_not_describe_sensitivity_analyses_that_were_not_done(reviewer, shipped):
    assert "No sensitivity analysis of these groupings was performed" in reviewer.texts["report.qmd"]
    supplement = reviewer.texts["supplement.qmd"]
    assert "Why these analyses were done" not in supplement
    assert "No sensitivity analysis was performed" in supplement
    assert "Why these analyses were done" in shipped.texts["supplement.qmd"]
