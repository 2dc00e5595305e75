"""No impossible interval, time or number form is printed anywhere.

Scans everything a reader sees: every figure's texts (legends, in-plot text,
risk tables, notes), the executed manuscript and supplement (prose with its
inline results, every table as the Markdown the Typst and Word outputs get,
every Markdown chunk output), the abstract's variables and the ledger's texts,
for the defects of the render review of 2026-12-06: "NR–NR" (item 8), a
negative bound of a time interval such as "(95% CI, -0.9–11.5)" (item 1), an
ASCII hyphen used as a minus sign and a negative zero (item 13).
"""

from __future__ import annotations

import re

import pytest
import yaml
from matplotlib.text import Text

from analysis.config import DEFAULT_CONFIG, PROJECT_ROOT, load_config
from analysis.present import figures as F
from analysis.present.numbers import build_registry
from analysis.present import sensitivity as S
from analysis.present import tables as T
from analysis.results import run_analysis
from tests.qmd.harness import execute_qmd

DASH, MINUS = "\u2013", "\u2212"

#: (what is wrong, pattern)
DEFECTS = (
    ("an interval of two 'not reached' limits", re.compile(rf"NR\s*[{DASH}-]\s*NR")),
    ("a negative time limit", re.compile(rf"CI,? [{MINUS}-]\d|\(\s*[{MINUS}-]\d+(\.\d+)?\s*[{DASH}]")),
    ("an ASCII hyphen as minus sign", re.compile(r"(?<![\w.)\]])-\d")),
    ("a negative zero", re.compile(rf"[{MINUS}-]0(\.0+)?(?![.\d])")),
)


def _defects(where: str, text: str) -> list[str]:
    out = []
    for what, pattern in DEFECTS:
        for m in pattern.finditer(text):
            out.append(f"{where}: {what}: ...{text[max(0, m.start() - 40):m.end() + 40]!r}...")
    return out


def test_the_patterns_catch_the_reviewed_defects():
    """The review's own examples are caught (and the fixed forms are not)."""
    for bad in ("Median NR (95% CI, NR\u2013NR)", "Median 5.3 mo (95% CI, -0.9\u201311.5)",
                "5.3 (\u22120.9\u201311.5)", "coefficient -0.128", "\u22120.0"):
        assert _defects("example", bad), bad
    for good in ("Median NR (95% CI, NE)", "Median 5.3 mo (95% CI, 0*\u201311.5)", "NR (95% CI, 4.7\u2013NR)",
                 "coefficient \u22120.128", "2026-12-02", "CD19-negative", "log-log", "0.0 (NE)"):
        assert not _defects("example", good), good


@pytest.fixture(scope="module")
def results():
    return run_analysis()


def test_no_defect_in_any_figure(results):
    found = []
    for stem, make in F.figure_makers(results).items():
        fig = make()
        for t in fig.findobj(Text):
            found += _defects(f"{stem} ({t.get_gid() or 'text'})", t.get_text())
    assert not found, "\n".join(found)


def test_no_defect_in_the_ledger_texts(results):
    found = []
    for section, key, number in build_registry(results).items():
        found += _defects(f"{section}.{key}", number.text)
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def variables():
    from analysis.present.document import prepare

    prepare()
    return yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", ["report.qmd", "supplement.qmd"])
def test_no_defect_in_the_executed_documents(variables, doc):
    """Prose with inline results and every table and Markdown output, as the Typst/Word outputs get them."""
    run = execute_qmd(PROJECT_ROOT / doc, target_format="typst", variables=variables)
    found = _defects(f"{doc} prose", run.markdown)
    for c in run.chunks:
        if not c.executed:
            continue
        for mime in ("text/markdown", "text/plain"):
            for part in c.mime(mime):
                found += _defects(f"{doc} chunk {c.label or c.chunk.index} ({mime})", "".join(part))
    found += _defects("_variables.yml", yaml.safe_dump(variables, allow_unicode=True))
    assert not found, "\n".join(found)


def test_every_median_uses_the_configured_method(results):
    """REVIEW item 7 ("the manuscript mixes interval methods"): the landmark
    medians of Table S12 used Brookmeyer-Crowley (log) whatever the configuration."""
    method = results.settings.survival.median_ci
    sens = results.sensitivity
    assert {lm.method for lm in sens.landmarks} == {method}
    assert set(sens.rfs_hsct["method"]) == {method}


def _results_with(tmp_path_factory, method: str):
    settings = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    base = DEFAULT_CONFIG.parent
    settings["data"]["sources"] = [{**s, "path": str((base / s["path"]).resolve())}
                                   for s in settings["data"]["sources"]]
    settings["data"]["dictionary"] = str((base / settings["data"]["dictionary"]).resolve())
    settings["survival"]["median_ci"] = method
    path = tmp_path_factory.mktemp("config") / "analysis.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return run_analysis(load_config(path))


@pytest.mark.parametrize("method", ["log", "log-log"])
def test_no_defect_with_the_brookmeyer_crowley_methods(tmp_path_factory, method):
    """The same scan of figures, median tables and ledger texts when a reviewer asks for
    another CI method (analysis.yml survival: median_ci)."""
    res = _results_with(tmp_path_factory, method)
    found = []
    for stem, make in F.figure_makers(res).items():
        for t in make().findobj(Text):
            found += _defects(f"{method} {stem}", t.get_text())
    for section, key, number in build_registry(res).items():
        found += _defects(f"{method} {section}.{key}", number.text)
    for name, table in (("S5", T.median_methods_table(res)), ("S10", S.rfs_hsct_table(res)),
                        ("S12", S.landmark_table(res))):
        found += _defects(f"{method} Table {name}", table.to_markdown())
    assert not found, "\n".join(found)


def test_methods_paragraph_states_how_intervals_are_printed(results):
    """The Methods say what 'truncated at 0', NR and NE mean for the configured method."""
    from analysis.present.text import statistical_methods

    body = statistical_methods(results).data
    method = results.settings.survival.median_ci
    if method == "spss":
        assert "truncated at 0" in body and "not estimable, NE" in body
    else:
        assert "not reached (NR)" in body


def test_cumulative_incidence_upper_limits_truncated_at_100_are_marked(results):
    """REVIEW item 14 ('Table S13: the CIs are truncated at 100.0'): the log interval is cut at
    100% as R survfit does; every such cell carries a footnote saying so, and no other cell does."""
    ci = results.sensitivity.cumulative_incidence
    table = S.cumulative_incidence_table(results)
    frame = table.frame
    expected = set()
    for rec in ci.estimates.to_dict("records"):
        if rec["upper"] >= 1.0 > rec["cif"]:
            col = "relapse" if rec["event"] == "Relapse" else "nrm"
            row = frame.index[(frame["group"] == rec["group"]) & (frame["time"] == f"{rec['time']:g}")][0]
            expected.add((int(row), col))
    marked = {(r, f.column) for f in table.footnotes if "truncated at 100%" in f.text for r in f.rows}
    assert marked == expected
