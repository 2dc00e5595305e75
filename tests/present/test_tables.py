"""Tests of analysis.present.tables (display frames, HTML and Markdown output)
and analysis.present.quarto (output-format detection).

References:
* the display frames on the shipped cohort are checked against the Results
  object they format (every P string equals ``style.fmt_p`` of the result's
  p, counts and percentages equal the computed numbers): the cohort's numbers
  are being recalibrated, so no value of the cohort is written here;
* the HTML and Markdown of small FIXED inputs built in this file are compared
  with snapshot files under tests/present/snapshots/ — regression values
  produced by our own code (great_tables 1.1.0, tabulate 0.10.0). After a
  deliberate change, rewrite them with
  ``UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/present/test_tables.py`` and
  review the diff.

No R reference is involved (presentation only; no statistic is computed).
Tolerance: exact string equality throughout.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.compute.baseline import BaselineResult
from analysis.present import quarto
from analysis.present import style as st
from analysis.present import tables as T
from analysis.present.tables import baseline as TB
from analysis.present.tables import common as TC
from analysis.present.tables import display as TD
from analysis.present.tables import DisplayTable, Footnote
from analysis.results import Results, run_analysis

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

TABLES = [
    "table1", "table1_full", "table2", "table3", "dictionary_table", "factor_conventions_table",
    "median_methods_table", "landmark_table", "zph_table", "cox_full_table", "transplant_summary_table",
    "transplant_listing_table", "versions_table", "flow_table",
]
FRAMES = {
    "table1": "table1_frame", "table1_full": "table1_full_frame", "table2": "table2_frame",
    "table3": "table3_frame", "dictionary_table": "dictionary_frame",
    "factor_conventions_table": "factor_conventions_frame", "median_methods_table": "median_methods_frame",
    "landmark_table": "landmark_frame", "zph_table": "zph_frame", "cox_full_table": "cox_full_frame",
    "transplant_summary_table": "transplant_summary_frame", "transplant_listing_table": "transplant_listing_frame",
    "versions_table": "versions_frame", "flow_table": "flow_frame",
}

ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z][A-Za-z0-9]*(\s[^>]*)?/?>")
MD_MARK = re.compile(r"\^([a-z]+)\^")
GT_MARK = re.compile(r'<span class="gt_footnote_marks"[^>]*>([a-z]+)</span>')


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def results() -> Results:
    return run_analysis()


@pytest.fixture(scope="module")
def displays(results) -> dict[str, DisplayTable]:
    return {name: getattr(T, name)(results) for name in TABLES}


@pytest.fixture(scope="module")
def markdowns(displays) -> dict[str, str]:
    return {name: d.to_markdown() for name, d in displays.items()}


@pytest.fixture(scope="module")
def htmls(displays) -> dict[str, str]:
    return {name: d.to_html() for name, d in displays.items()}


def _execute_info(tmp_path: Path, base_format: str) -> Path:
    path = tmp_path / "execute-info.json"
    path.write_text(json.dumps({"format": {"identifier": {"base-format": base_format,
                                                          "target-format": base_format},
                                           "pandoc": {"to": base_format}}}), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- quarto.output_format


def test_output_format_without_quarto_is_html(monkeypatch):
    monkeypatch.delenv(quarto.EXECUTE_INFO_ENV, raising=False)
    assert quarto.output_format() == "html"
    assert quarto.is_html()


@pytest.mark.parametrize("written, expected", [("typst", "typst"), ("docx", "docx"), ("html", "html"),
                                               ("DOCX", "docx"), ("revealjs", "revealjs")],
                         ids=["typst", "docx", "html", "upper-case", "revealjs"])
def test_output_format_reads_base_format(monkeypatch, tmp_path, written, expected):
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(_execute_info(tmp_path, written)))
    assert quarto.output_format() == expected
    assert quarto.is_html() == (expected in ("html", "revealjs"))


@pytest.mark.parametrize("content", ["not json", json.dumps({"format": {}}), json.dumps([1, 2]),
                                     json.dumps({"format": {"identifier": {"base-format": 3}}}), None],
                         ids=["malformed", "no-identifier", "not-an-object", "not-a-string", "missing-file"])
def test_output_format_falls_back_to_html(monkeypatch, tmp_path, content):
    path = tmp_path / "info.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(path))
    assert quarto.output_format() == "html"


@pytest.mark.parametrize("fmt, mime, absent", [("html", "text/markdown", "text/html"),
                                               ("typst", "text/markdown", "text/html"),
                                               ("docx", "text/markdown", "text/html")],
                         ids=["html", "typst", "docx"])
def test_mimebundle_switches_with_format(monkeypatch, tmp_path, displays, fmt, mime, absent):
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(_execute_info(tmp_path, fmt)))
    bundle = displays["table2"]._repr_mimebundle_()
    assert mime in bundle and absent not in bundle
    assert "text/plain" in bundle
    if fmt == "html":                 # raw HTML block, never text/html (REVIEW item 23: Quarto adds jQuery)
        assert bundle[mime].startswith("```{=html}\n") and 'id="gt-table2"' in bundle[mime]
        assert bundle[mime].rstrip().endswith("```")
    else:
        assert bundle[mime] == displays["table2"].to_markdown(word=fmt == "docx")


def test_mimebundle_through_ipython_formatter(monkeypatch, tmp_path, displays):
    """What a Jupyter kernel sends for the last expression of a cell."""
    from IPython.core.formatters import DisplayFormatter

    formatter = DisplayFormatter()
    monkeypatch.delenv(quarto.EXECUTE_INFO_ENV, raising=False)
    data, _ = formatter.format(displays["zph_table"])
    assert set(data) == {"text/html", "text/markdown", "text/plain"}
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(_execute_info(tmp_path, "html")))
    data, _ = formatter.format(displays["zph_table"])
    assert set(data) == {"text/markdown", "text/plain"}
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(_execute_info(tmp_path, "typst")))
    data, _ = formatter.format(displays["zph_table"])
    assert set(data) == {"text/markdown", "text/plain"}


def test_undeclared_format_offers_both_representations(monkeypatch, displays):
    """Quarto 1.6 and 1.7 set no QUARTO_EXECUTE_INFO: the table offers HTML and
    Markdown and Quarto's displayDataMimeType picks text/html for HTML targets
    and text/markdown for Typst and Word (quarto-cli src/core/jupyter/display-data.ts)."""
    monkeypatch.delenv(quarto.EXECUTE_INFO_ENV, raising=False)
    assert quarto.declared_format() is None
    bundle = displays["table2"]._repr_mimebundle_()
    assert 'id="gt-table2"' in bundle["text/html"]
    assert bundle["text/markdown"] == displays["table2"].to_markdown()


# --------------------------------------------------------------------------- every table


@pytest.mark.parametrize("name", TABLES)
def test_frame_function_matches_display(results, displays, name):
    frame = getattr(T, FRAMES[name])(results)
    pd.testing.assert_frame_equal(frame, displays[name].frame)
    cells = frame[list(displays[name].columns)]
    assert all(isinstance(v, str) for v in cells.to_numpy().ravel())


@pytest.mark.parametrize("name", TABLES)
def test_markdown_has_no_html_entity_or_tag(markdowns, name):
    text = markdowns[name]
    assert not ENTITY.search(text), ENTITY.search(text)
    assert "&#" not in text and "&lt;" not in text and "&amp;" not in text
    assert not HTML_TAG.search(text), HTML_TAG.search(text)


@pytest.mark.parametrize("name", TABLES)
def test_negative_numbers_print_a_minus_sign(displays, name):
    """REVIEW item 13: Table S7 printed '-0.128' (ASCII hyphen) in HTML and Word."""
    d = displays[name]
    for c in d.columns:
        for v in d.frame[c]:
            assert not re.search(r"(^|[\s(;,])-\d", str(v)), (c, v)


@pytest.mark.parametrize("name", TABLES)
def test_synthetic_note_in_both_formats(results, markdowns, htmls, name):
    assert results.synthetic, "the shipped cohort is synthetic"
    assert T.SYNTHETIC_NOTE in markdowns[name]
    assert T.SYNTHETIC_NOTE in html.unescape(htmls[name])


@pytest.mark.parametrize("name", TABLES)
def test_html_is_deterministic_with_fixed_id(results, displays, htmls, name):
    again = getattr(T, name)(results).to_html()
    assert again == htmls[name]
    assert f'id="{displays[name].id}"' in htmls[name]


def _pandoc_table_marks(md: str) -> tuple[list[str], list[str]]:
    """Superscript marks in the first table's header and body cells, in cell order, as Pandoc reads them."""
    pypandoc = pytest.importorskip("pypandoc")
    doc = json.loads(pypandoc.convert_text(md, "json", format="markdown"))
    table = next(b for b in doc["blocks"] if b["t"] == "Table")

    def marks(node) -> list[str]:
        out = []
        if isinstance(node, dict):
            if node.get("t") == "Superscript":
                out.append("".join(x.get("c", "") for x in node["c"] if x.get("t") == "Str"))
            else:
                out.extend(marks(node.get("c")))
        elif isinstance(node, list):
            for x in node:
                out.extend(marks(x))
        return out

    head = table["c"][3]
    bodies = table["c"][4]
    return marks(head), marks(bodies)


def _assert_marks_agree(d: DisplayTable, md: str, ht: str) -> None:
    """great_tables assigns the marks itself; the Markdown must use the same letter for the same note
    and put the marks on the same cells in the same order."""
    marks = d.marks()
    foot = html.unescape(ht[ht.find("<tfoot"):])
    gt_notes = dict(re.findall(r'<span class="gt_footnote_marks"[^>]*>([a-z]+)</span>\s*([^<]*)</td>', foot))
    assert {m: d.footnotes[i].text for i, m in marks.items()} == {m: t.strip() for m, t in gt_notes.items()}
    body_html = GT_MARK.findall(ht[ht.find("<tbody"):ht.find("</tbody>")])
    head_md, body_md = _pandoc_table_marks(md)
    assert body_html == body_md
    assert GT_MARK.findall(ht[ht.find("<thead"):ht.find("</thead>")]) == head_md
    for i, m in marks.items():
        assert f"^{m}^ " + TD._md_paragraph(d.footnotes[i].text) in md


@pytest.mark.parametrize("name", TABLES)
def test_footnote_marks_agree_between_html_and_markdown(displays, markdowns, htmls, name):
    _assert_marks_agree(displays[name], markdowns[name], htmls[name])


def test_footnote_marks_agree_on_fixed_layout():
    """Marks on column labels, the stub and body cells of one row, several rows, two groups:
    column labels first (left to right), then body cells by row, stub before columns."""
    frame = pd.DataFrame({"g": ["A", "A", "B"], "label": ["r0", "r1", "r2"], "n": ["1", "2", "3"],
                          "P": [".5", ".1", ".2"]})
    d = DisplayTable(frame=frame, columns=("label", "n", "P"), labels={}, id="gt-marks", group="g",
                     footnotes=(Footnote("p row0", "P", (0,)), Footnote("stub row0", "label", (0,)),
                                Footnote("n body row 2", "n", (2,)), Footnote("P label", "P"),
                                Footnote("n label", "n"), Footnote("n rows 0 and 1", "n", (1, 0))))
    assert d.marks() == {4: "a", 3: "b", 1: "c", 5: "d", 0: "e", 2: "f"}
    _assert_marks_agree(d, d.to_markdown(), d.to_html())


@pytest.mark.parametrize("name", TABLES)
def test_no_patient_identifier_or_date_in_tables(results, markdowns, htmls, name):
    adsl = results.derived.adsl
    text = markdowns[name] + html.unescape(htmls[name])
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)
    for value in adsl["USUBJID"]:
        assert value not in text
    if "patient_id" in results.cohort.dictionary:
        assert "patient_id" not in adsl.columns


# --------------------------------------------------------------------------- Table 1


def _split_n_pct(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+) \((\d+)%\)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def test_table1_counts_and_percentages_equal_baseline_numbers(results):
    frame = T.table1_frame(results)
    nums = results.baseline.numbers
    groups = ["Overall", *results.baseline.groups]
    checked = 0
    for rec in nums[nums["kind"] == "categorical"].itertuples(index=False):
        rows = frame[(frame["variable"] == rec.variable) & (frame["row"] == "level")]
        row = rows.iloc[list(pd.unique(nums.loc[nums["variable"] == rec.variable, "level"])).index(rec.level)]
        n, pct = _split_n_pct(row[str(rec.group)])
        assert n == rec.n
        assert pct == round(100 * rec.n / rec.n_available)
        checked += 1
    assert checked == (nums["kind"] == "categorical").sum()
    assert list(frame.columns[4:4 + len(groups)]) == groups


def test_table1_continuous_rows_show_median_min_max(results):
    frame = T.table1_frame(results)
    nums = results.baseline.numbers
    for rec in nums[nums["kind"] == "continuous"].itertuples(index=False):
        row = frame[(frame["variable"] == rec.variable) & (frame["row"] == "variable")].iloc[0]
        text = row[str(rec.group)]
        med, lo, hi = re.fullmatch(r"(\S+) \((\S+)\u2013(\S+)\)", text).groups()
        digits = len(med.split(".")[1]) if "." in med else 0
        assert (med, lo, hi) == (st.fmt_num(rec.median, digits), st.fmt_num(rec.min, digits),
                                 st.fmt_num(rec.max, digits))


def test_table1_p_values_and_tests(results, displays):
    frame = T.table1_frame(results)
    heads = frame[frame["row"] == "variable"].set_index("variable")
    tests = results.baseline.tests.set_index("variable")
    assert list(heads.index) == list(tests.index)
    for var, t in tests.iterrows():
        assert heads.loc[var, "P"] == st.fmt_p(t["p"])
        assert heads.loc[var, "test"] == st.fmt_test(t["test"])
    notes = [f.text for f in displays["table1"].footnotes if f.column == "P"]
    assert sorted(notes) == sorted({st.fmt_test(x) for x in tests["test"]})
    assert (frame.loc[frame["row"] != "variable", "P"] == "").all()


def test_table1_headers_carry_group_sizes(results, displays):
    sizes = dict(zip(results.baseline.group_sizes["group"], results.baseline.group_sizes["n"]))
    for g, n in sizes.items():
        assert displays["table1"].labels[str(g)] == f"{g} (n = {n})"


def test_table1_missing_line_only_where_values_are_missing(results):
    frame = T.table1_frame(results)
    nums = results.baseline.numbers
    has_missing = set(nums.loc[nums["n_missing"] > 0, "variable"])
    assert set(frame.loc[frame["row"] == "missing", "variable"]) == has_missing


def test_table1_full_adds_smd(results):
    frame = T.table1_full_frame(results)
    heads = frame[frame["row"] == "variable"].set_index("variable")
    for var, t in results.baseline.tests.set_index("variable").iterrows():
        assert heads.loc[var, "SMD"] == st.fmt_num(t["smd"], 2)
    assert "SMD" not in T.table1_frame(results).columns


# --------------------------------------------------------------------------- Table 2


def _pct1(x: int, n: int) -> str:
    return f"{100 * x / n:.1f}"


def test_table2_sections_and_rates(results):
    frame = T.table2_frame(results)
    resp = results.response
    assert list(pd.unique(frame["section"])) == ["Overall", "By regimen class", "By salvage group", "By factor"]
    o = frame[frame["section"] == "Overall"].iloc[0]
    assert o["cr"] == f"{resp.overall.x}/{resp.overall.n}"
    assert o["pct"] == (f"{_pct1(resp.overall.x, resp.overall.n)} "
                        f"({st.fmt_ci(100 * resp.overall.lower, 100 * resp.overall.upper)})")
    for section, table in (("By regimen class", resp.by_class), ("By salvage group", resp.by_group)):
        rows = frame[frame["section"] == section]
        assert list(rows["label"]) == [str(g) for g in table["group"]]
        for (_, row), rec in zip(rows.iterrows(), table.itertuples(index=False)):
            assert row["cr"] == f"{rec.x}/{rec.n}"
            assert row["pct"].split(" ")[0] == _pct1(rec.x, rec.n)


def test_table2_shows_the_salvage_groups_once(results):
    """REVIEW item 14: the salvage groups were under "By salvage group" (with CIs)
    and again under "By factor"."""
    frame = T.table2_frame(results)
    frame = frame[frame["section"] != "By regimen class"]          # "Chemotherapy" is also a class
    assert (frame["label"] == "Targeted").sum() == 1 and (frame["label"] == "Chemotherapy").sum() == 1
    assert not frame["key"].str.endswith(":salvage_group").any()
    assert (frame["section"] == "By salvage group").sum() == len(results.response.by_group)


def test_table2_p_values_equal_results(results):
    frame = T.table2_frame(results)
    resp = results.response
    group_rows = frame[frame["section"] == "By salvage group"]
    assert group_rows["P"].iloc[0] == st.fmt_p(resp.group_comparison.p)
    assert group_rows["test"].iloc[0] == st.fmt_test(resp.group_comparison.test_used)
    assert (group_rows["P"].iloc[1:] == "").all()
    heads = frame[frame["key"].str.startswith("factor:")]
    for fdef in resp.factor_defs:
        if fdef.column == TC.GROUP_COLUMN:
            continue
        rows = resp.factors[resp.factors["factor"] == fdef.key]
        head = heads[heads["key"] == f"factor:{fdef.key}"].iloc[0]
        assert head["label"] == fdef.label
        assert head["P"] == st.fmt_p(rows["p_global"].iloc[0])
        if len(rows) == 1:  # a two-level factor: the contrast's p under the rule
            assert head["P"] == st.fmt_p(rows["p"].iloc[0])
        levels = frame[frame["key"] == f"level:{fdef.key}"]
        first = rows.iloc[0]
        assert levels["cr"].iloc[0] == f"{first['x_reference']}/{first['n_reference']}"
        assert levels["pct"].iloc[0] == _pct1(first["x_reference"], first["n_reference"])
        assert list(levels["cr"].iloc[1:]) == [f"{r.x_level}/{r.n_level}" for r in rows.itertuples()]


def test_table2_markdown_keeps_plain_unicode(markdowns):
    md = markdowns["table2"]
    assert "Fisher's exact test" in md
    assert "\u2265" in md and ">=" not in md
    assert "**By factor**" in md


# --------------------------------------------------------------------------- Table 3


def test_table3_rows_and_p_values(results, displays):
    frame = T.table3_frame(results)
    cox = results.cox
    for var in cox.covariates:
        rows = frame[frame["variable"] == var]
        ref = rows.iloc[0]
        assert ref["label"].endswith("(reference)") and ref["uni_p"] == "" and ref["multi_p"] == ""
        for model, col in ((cox.multivariable.table, "multi"), (cox.univariable, "uni")):
            for rec in model[model["variable"] == var].itertuples(index=False):
                row = rows[rows["level"] == rec.level].iloc[0]
                assert row[f"{col}_p"] == st.fmt_p(rec.p)
                assert row[f"{col}_hr"] == (f"{st.fmt_ratio(rec.hr)} "
                                            f"({st.fmt_ratio(rec.lower)}\u2013{st.fmt_ratio(rec.upper)})")
    d = displays["table3"]
    assert [s[0] for s in d.spanners] == ["Univariable", "Multivariable"]
    notes = " ".join(f.text for f in d.footnotes)
    m = cox.multivariable
    assert f"{m.n} patients, {m.n_events} events" in notes and "Efron" in notes and "Wald" in notes
    for w in m.warnings:
        assert st.fmt_relation(w) in notes


def test_table3_markdown_keeps_less_than_sign(markdowns):
    assert re.search(r"(?<!\\)<18 \(reference\)", markdowns["table3"])


# --------------------------------------------------------------------------- supplementary tables


def test_factor_conventions_frame(results):
    frame = T.factor_conventions_frame(results)
    factors = results.response.factors
    assert len(frame) == len(factors)
    for (_, row), rec in zip(frame.iterrows(), factors.itertuples(index=False)):
        assert row["P"] == st.fmt_p(rec.p)
        assert (row["p_fisher"], row["p_yates"], row["p_chisq"]) == (
            st.fmt_p(rec.p_fisher), st.fmt_p(rec.p_chisq_yates), st.fmt_p(rec.p_chisq))
        assert row["disagree"] == ("Yes" if rec.conventions_disagree else "No")


def test_median_methods_frame(results):
    frame = T.median_methods_frame(results)
    for ep in (results.os, results.rfs):
        rows = frame[frame["endpoint"] == ep.paramcd].set_index("method")
        assert set(rows.index) == {"spss", "log", "log-log", "mean-spss"}
        for method, m in ep.medians.items():
            assert rows.loc[method, "estimate"] == (st.fmt_months(m.estimate) if m.reached else "NR")
            if not m.upper_reached:
                assert rows.loc[method, "ci"].endswith("NR")
        if ep.mean_spss is not None:
            assert rows.loc["mean-spss", "se"] == st.fmt_num(ep.mean_spss.se, 2)


def test_landmark_frame(results):
    frame = T.landmark_frame(results)
    for ep in (results.os, results.rfs):
        rows = frame[frame["endpoint"] == ep.paramcd]
        assert list(rows["n_risk"]) == [str(n) for n in ep.landmarks["n_risk"]]
        assert list(rows["surv"].str.split(" ").str[0]) == [st.fmt_num(100 * s, 1) for s in ep.landmarks["surv"]]


def test_zph_and_cox_full_frames(results):
    zph = T.zph_frame(results)
    if results.cox.zph is not None:
        assert list(zph["P"]) == [st.fmt_p(p) for p in results.cox.zph.table["p"]]
        assert zph["label"].iloc[-1] == "Global test"
    full = T.cox_full_frame(results)
    expected = list(results.cox.multivariable.table["p"]) + list(results.cox.univariable["p"])
    assert list(full["P"]) == [st.fmt_p(p) for p in expected]


def test_transplant_frames(results):
    t = results.transplant
    summary = T.transplant_summary_frame(results).set_index("label")
    assert summary.loc["Consolidative allo-HSCT", "value"] == st.fmt_n_pct(t.n_hsct, t.n_cr)
    for outcome, n in t.outcomes.items():
        if outcome == "Not in CR/CRi before transplant" and not n:   # a row only when a patient has it
            assert outcome not in summary.index
            continue
        assert summary.loc[outcome, "value"] == st.fmt_n_pct(n, t.n_hsct)
    listing = T.transplant_listing_frame(results)
    assert list(listing["no"]) == [str(i) for i in t.listing["LISTNO"]]
    assert set(listing.columns) == {"no", "age", "regimen", "response", "sequence", "cr_to_hsct",
                                    "outcome", "followup"}


def test_versions_and_flow_frames(results):
    versions = T.versions_frame(results)
    software = versions[versions["section"] == "Software"]
    assert dict(zip(software["label"], software["value"])) == results.versions
    flow = T.flow_frame(results)
    steps = results.derived.flow.steps
    assert list(flow.loc[flow["kind"] != "reason", "n"]) == [str(n) for n in steps["n"]]
    reasons = flow[flow["kind"] == "reason"]
    assert list(reasons["n"]) == [str(n) for n in results.derived.flow.exclusions["n"]]
    first = flow.set_index("step")["n"]
    assert int(first["relapsed"]) == int(first["salvage"]) + sum(int(n) for n in reasons["n"])


def test_dictionary_table_from_dictionary_or_results(results):
    from_results = T.dictionary_table(results)
    from_dictionary = T.dictionary_table(results.cohort.dictionary)
    pd.testing.assert_frame_equal(from_results.frame, from_dictionary.frame)
    assert T.SYNTHETIC_NOTE in from_results.source_notes
    assert from_dictionary.source_notes == ()
    assert list(from_results.frame["name"]) == results.cohort.dictionary.names
    with pytest.raises(ValueError, match="Dictionary or a Results"):
        T.dictionary_table("data/dictionary.yml")


# --------------------------------------------------------------------------- Markdown escaping


@pytest.mark.parametrize("text, expected", [
    ("P < .001", "P < .001"),
    ("<18", "<18"),
    ("\u226518", "\u226518"),
    ("Fisher's exact test", "Fisher's exact test"),
    ("a|b", "a\\|b"),
    ("x_y *z*", "x\\_y \\*z\\*"),
    ("<b>bold</b>", "\\<b>bold\\</b>"),
    ("&amp; &#39;", "\\&amp; \\&#39;"),
    ("$5 @ref [link]", "\\$5 \\@ref \\[link\\]"),
    ("a^2^ b~1~", "a\\^2\\^ b\\~1\\~"),
    ("line\nbreak", "line break"),
], ids=["less-than-space", "less-than-digit", "ge-symbol", "apostrophe", "pipe", "emphasis", "tag",
        "entity", "math-citation-link", "super-subscript", "newline"])
def test_md_escape(text, expected):
    assert TD._md_escape(text) == expected


@pytest.mark.parametrize("text, expected", [("1. First", "1\\. First"), ("- item", "\\- item"),
                                            ("# head", "\\# head"), ("> quote", "\\> quote"),
                                            ("Plain.", "Plain.")],
                         ids=["ordered-list", "bullet", "heading", "blockquote", "plain"])
def test_md_paragraph_is_never_a_block(text, expected):
    assert TD._md_paragraph(text) == expected


# --------------------------------------------------------------------------- DisplayTable on fixed inputs


def _component() -> DisplayTable:
    """A small fixed table with every component: stub, row groups, indentation,
    a spanner, marked footnotes on a column label and on body cells, a general
    note and the synthetic source note; text with <, ≥, an apostrophe, a pipe."""
    frame = pd.DataFrame({
        "section": ["Group A", "Group A", "Group A", "Group B"],
        "label": ["Age <18, n (%)", "Yes", "No", "Fisher's row | piped"],
        "indent": [0, 1, 1, 0],
        "n": ["", "3 (30%)", "7 (70%)", "\u226512"],
        "P": [".0036", "", "", "< .001"],
        "test": ["Pearson's \u03c7\u00b2 test", "", "", "Fisher's exact test"],
    })
    return DisplayTable(
        frame=frame, columns=("label", "n", "P"), labels={"label": "Characteristic", "n": "n (%)", "P": "P"},
        id="gt-component", group="section", indent="indent", spanners=(("Salvage", ("n", "P")),),
        footnotes=(Footnote("A general note with <angle> brackets & an ampersand."),
                   Footnote("Counts of patients with a known value.", "n"),
                   *TC._test_footnotes(frame)),
        source_notes=(T.SYNTHETIC_NOTE,))


def _fixed_baseline() -> BaselineResult:
    """A hand-made BaselineResult: two groups, one categorical variable with a
    missing value, one continuous variable."""
    rows = []
    for g, (m, f, avail, miss) in {"A": (3, 6, 9, 1), "B": (5, 5, 10, 0), "Overall": (8, 11, 19, 1)}.items():
        rows.append(["SEX", "Sex", "categorical", "M", g, m, avail, 100 * m / avail, np.nan, np.nan, np.nan, miss])
        rows.append(["SEX", "Sex", "categorical", "F", g, f, avail, 100 * f / avail, np.nan, np.nan, np.nan, miss])
    for g, (n, med, lo, hi) in {"A": (10, 27.5, 3, 60), "B": (10, 31, 8, 72), "Overall": (20, 29, 3, 72)}.items():
        rows.append(["AGE", "Age, years", "continuous", None, g, n, n, np.nan, med, lo, hi, 0])
    numbers = pd.DataFrame(rows, columns=["variable", "label", "kind", "level", "group", "n", "n_available", "pct",
                                          "median", "min", "max", "n_missing"])
    tests = pd.DataFrame({"variable": ["SEX", "AGE"], "label": ["Sex", "Age, years"],
                          "kind": ["categorical", "continuous"], "p": [0.64, 0.00049],
                          "test": ["Fisher's exact test", "Mann\u2013Whitney U test (normal approximation)"],
                          "smd": [0.41, 0.12], "note": [None, None]})
    sizes = pd.DataFrame({"group": ["A", "B", "Overall"], "n": [10, 10, 20]})
    return BaselineResult(numbers=numbers, tests=tests, smd_pairs=pd.DataFrame(), group_sizes=sizes,
                          groupby="GRP", groups=("A", "B"), n_missing_group=0, rule="fisher")


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"snapshot {name} missing: run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot (regression value)"


@pytest.mark.parametrize("kind", ["html", "md"])
def test_component_snapshot(kind):
    """Regression value: the fixed component table, HTML (id gt-component) and Markdown."""
    d = _component()
    _check_snapshot(f"component.{kind}", d.to_html() if kind == "html" else d.to_markdown())


@pytest.mark.parametrize("kind", ["html", "md"])
def test_table1_fixed_baseline_snapshot(kind):
    """Regression value: Table 1 built from a hand-made BaselineResult (id gt-fixed-table1)."""
    d = TB._table1(_fixed_baseline(), synthetic=True, smd=True, id="gt-fixed-table1")
    _check_snapshot(f"table1_fixed.{kind}", d.to_html() if kind == "html" else d.to_markdown())


def test_table1_fixed_baseline_content():
    d = TB._table1(_fixed_baseline(), synthetic=False, smd=False, id="gt-fixed-table1")
    f = d.frame.set_index("label")
    assert f.loc["Male", "A"] == "3 (33%)" and f.loc["Female", "B"] == "5 (50%)"
    assert f.loc["Missing", "A"] == "1" and f.loc["Missing", "B"] == "0"
    assert f.loc["Age, years, median (min\u2013max)", "A"] == "27.5 (3.0\u201360.0)"
    assert f.loc["Sex, n (%)", "P"] == ".64" and f.loc["Age, years, median (min\u2013max)", "P"] == "< .001"
    assert d.labels["A"] == "A (n = 10)" and d.source_notes == ()
    md = d.to_markdown()
    assert "^a^ Fisher's exact test" in md and "^b^ Mann\u2013Whitney U test (normal approximation)" in md


def test_component_markdown_structure():
    md = _component().to_markdown()
    lines = md.split("\n")
    header = lines[:lines.index(next(ln for ln in lines if ln.startswith("+:=")))]
    assert lines[0].startswith("+-") and "| Salvage " in header[1]             # spanner row (grid table)
    assert any(ln.startswith("| Characteristic") and "n (%)^a^" in ln and "*P*" in ln for ln in header)
    body = lines[len(header) + 1:]
    assert body[0].startswith("| **Group A** ") and body[0].rstrip().endswith(" |")  # spans every column
    assert body[0].count("|") == 2 and "**Group B**" in md
    assert f"| {TD.MD_INDENT}Yes" in md
    assert "Fisher's row \\| piped" in md
    assert "\\<angle> brackets & an ampersand." in md
    paragraphs = md.strip().split("\n\n")
    assert paragraphs[1:] == [T.SYNTHETIC_NOTE, "A general note with \\<angle> brackets & an ampersand.",
                              "^a^ Counts of patients with a known value.", "^b^ Pearson's \u03c7\u00b2 test",
                              "^c^ Fisher's exact test"]


def test_p_label_is_italic_in_markdown_and_html():
    """AMA style sets the statistic P in italics (REVIEW item 13)."""
    d = _component()
    assert "*P*" in d.to_markdown().split("+:=")[0]
    assert re.search(r">\s*<em>P</em>", d.to_html())
    assert TD._italic_p("P value", "*") == "*P* value" and TD._italic_p("PFS", "*") == "PFS"


def test_p_cell_does_not_wrap_after_its_sign(results):
    """'> .99' wrapped as '> / .99' (REVIEW item 26): a no-break space after the sign."""
    d = T.table1(results)
    cells = [v for v in d.frame["P"] if str(v).startswith((">", "<"))]
    assert cells
    md, ht = d.to_markdown(), d.to_html()
    for v in cells:
        fixed = v[0] + TD.NBSP + v[2:]
        assert fixed in md and v not in md
        assert html.escape(fixed, quote=False).replace("&gt;", "&gt;") in ht or fixed in html.unescape(ht)


def test_html_notes_are_flush_left(results):
    """REVIEW item 26: the source note was left-aligned, the other notes centred."""
    ht = T.table2(results).to_html()
    assert "#gt-table2 .gt_footnote, #gt-table2 .gt_sourcenote { text-align: left; }" in ht


def test_indent_levels_are_distinct_in_html(results):
    """Table S2 (patient flow): levels 2 and 3 both had 25 px (REVIEW item 25)."""
    d = T.flow_table(results)
    ht = d.to_html()
    stubs = re.findall(r"<th ([^>]*gt_stub[^>]*)>", ht)
    assert len(stubs) == len(d.frame)
    pads = {}
    for lv, attrs in zip(d.frame["indent"], stubs):
        m = re.search(r'padding-left: (\d+)px', attrs)
        pads.setdefault(int(lv), set()).add(int(m.group(1)) if m else 0)
    assert len(pads) >= 3 and all(len(v) == 1 for v in pads.values())
    by_level = [next(iter(pads[lv])) for lv in sorted(pads)]
    assert by_level == sorted(by_level) and len(set(by_level)) == len(by_level)
    assert by_level[1] - by_level[0] >= 10


def test_wide_table_fits_the_column_in_html(results):
    """Table S1 was wider than the column, its Definition hidden (REVIEW item 24)."""
    d = T.dictionary_table(results)
    assert d.is_wide()
    ht = d.to_html()
    assert re.search(r"width: ?100%", ht) and "table-layout: fixed" in ht.replace("table-layout:fixed", "table-layout: fixed")
    widths = [float(w) for w in re.findall(r'<col style="width:\s*([\d.]+)%', ht)]
    assert len(widths) == len(d.columns) and abs(sum(widths) - 100) < 0.5
    assert not T.table2(results).is_wide()


def test_empty_table_renders():
    frame = pd.DataFrame(columns=["label", "P"])
    d = DisplayTable(frame=frame, columns=("label", "P"), labels={"label": "Covariate", "P": "P"}, id="gt-empty",
                     footnotes=(Footnote("Nothing to show."),))
    assert 'id="gt-empty"' in d.to_html()
    assert d.to_markdown().split("\n")[1].startswith("| Covariate")


@pytest.mark.parametrize("kwargs, message", [
    (dict(group="section", frame=pd.DataFrame({"section": ["A", "B", "A"], "label": ["x", "y", "z"]})),
     "not contiguous"),
    (dict(frame=pd.DataFrame({"label": ["x"]}), footnotes=(Footnote("n", "P", (0,)),)), "not displayed"),
    (dict(frame=pd.DataFrame({"label": ["x"]}), footnotes=(Footnote("n", "label", (3,)),)), "out of range"),
    (dict(frame=pd.DataFrame({"label": ["x"]}), columns=("label", "missing")), "not in the display frame"),
], ids=["non-contiguous-groups", "footnote-column", "footnote-row", "unknown-column"])
def test_display_table_rejects_impossible_layouts(kwargs, message):
    args = dict(columns=("label",), labels={}, id="gt-bad")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        DisplayTable(**args)
