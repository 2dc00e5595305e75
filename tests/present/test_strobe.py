"""Tests for analysis/present/strobe.py (the STROBE checklist and where the
manuscript addresses each item).

References:
* the STROBE checklist for cohort studies (von Elm et al. 2007, Lancet
  370:1453-7): 22 items, with lettered sub-items 1a-b, 6a-b, 12a-e, 13a-c,
  14a-c and 16a-c;
* the documents themselves: every pointer must name a label that exists in
  report.qmd (with its includes) or supplement.qmd; the numbering of the
  supplementary floats is cross-checked with analysis.present.supplement;
* a small fixture project written here, with hand-written expectations
  (heading paths, float numbers, labels in code and comments ignored).
No R and no statistic is involved. Tolerance: exact string equality.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis import ledger as L
from analysis.config import PROJECT_ROOT
from analysis.present import quarto
from analysis.present import strobe as SB
from analysis.present.supplement import SUPPLEMENTARY_TABLES, supplementary_names
from analysis.present.tables import SYNTHETIC_NOTE

ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);")
HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z][A-Za-z0-9]*(\s[^>]*)?/?>")

STROBE_ITEMS = (["1a", "1b"] + [str(i) for i in range(2, 6)] + ["6a", "6b"] + [str(i) for i in range(7, 12)]
                + [f"12{c}" for c in "abcde"] + [f"13{c}" for c in "abc"] + [f"14{c}" for c in "abc"] + ["15"]
                + [f"16{c}" for c in "abc"] + [str(i) for i in range(17, 23)])


# --------------------------------------------------------------------------- the checklist as data


def test_checklist_has_the_strobe_cohort_items_in_order():
    """Reference: von Elm et al. 2007, checklist for cohort studies (22 items and their sub-items)."""
    items = [it.item for it in SB.CHECKLIST]
    assert items == STROBE_ITEMS
    assert len({re.match(r"\d+", i).group(0) for i in items}) == 22


def test_checklist_entries_are_well_formed():
    prefixes = ("sec-", "tbl-", "fig-", "supptbl-", "suppfig-")
    for it in SB.CHECKLIST:
        assert it.topic and it.recommendation and it.section
        assert it.status in SB.STATUSES
        for p in it.where:
            assert p in ("title", "abstract") or p.startswith(prefixes), (it.item, p)
        if it.status in ("partly", "not applicable", "not reported"):
            assert it.note, it.item


@pytest.mark.parametrize("kwargs, message", [
    (dict(status="reported"), "needs at least one pointer"),
    (dict(status="not reported", where=("sec-methods",)), "points nowhere"),
    (dict(status="done", where=("sec-methods",)), "status must be one of"),
], ids=["reported-without-pointer", "not-reported-with-pointer", "unknown-status"])
def test_item_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SB.StrobeItem("4", "Methods", "Study design", "text", **kwargs)


# --------------------------------------------------------------------------- pointers against the documents


def test_every_pointer_resolves_in_the_documents():
    """Reference: report.qmd (with its includes) and supplement.qmd as they are."""
    resolved = SB.resolve()
    pointed = [p for it in SB.CHECKLIST for p in it.where]
    assert list(resolved.loc[resolved["pointer"] != "", "pointer"]) == pointed
    assert (resolved.loc[resolved["pointer"] != "", "text"] != "").all()


def test_pointer_to_a_missing_label_fails():
    bad = (SB.StrobeItem("4", "Methods", "Study design", "text", ("sec-design", "sec-no-such-section")),
           SB.StrobeItem("13c", "Results", "Participants", "text", ("fig-no-such-figure",)))
    with pytest.raises(ValueError, match=r"4: sec-no-such-section; 13c: fig-no-such-figure"):
        SB.resolve(bad)


def test_supplementary_numbers_agree_with_supplement_module():
    """Reference: analysis.present.supplement.supplementary_names (the manuscript's citations)."""
    labels = SB.document_labels()
    names = supplementary_names()
    for name in SUPPLEMENTARY_TABLES:
        assert labels[f"supptbl-{name}"].text == f"Supplementary {names['tbl_s_' + name.replace('-', '_')]}"


def test_manuscript_labels_in_document_order():
    """Reference: sections/results.qmd order (fig-flow first figure, tbl-cox third table) and headings."""
    labels = SB.document_labels()
    assert labels["fig-flow"].text == "Figure 1" and labels["tbl-baseline"].text == "Table 1"
    assert labels["tbl-cox"].text == "Table 3" and labels["fig-forest"].text == "Figure 5"
    assert labels["sec-statistics"].text == "Methods \u203a Statistical analysis"
    assert labels["sec-s-sensitivity"].text == "Supplement \u203a Sensitivity analyses"
    assert labels["sec-statistics"].file == "sections/methods.qmd"
    assert labels["title"].text == "Title" and labels["abstract"].text == "Abstract"


def test_ledger_displays_entry_lists_the_supplementary_tables_the_checklist_shows():
    """Reference: analysis.ledger.DISPLAYS['strobe.strobe_table'] must be the registry names of
    the supplementary tables and figures the checklist points to."""
    keys = {f"tbl_s_{p[len('supptbl-'):].replace('-', '_')}" for it in SB.CHECKLIST for p in it.where
            if p.startswith("supptbl-")}
    keys |= {f"fig_s_{p[len('suppfig-'):].replace('-', '_')}" for it in SB.CHECKLIST for p in it.where
             if p.startswith("suppfig-")}
    assert set(L.DISPLAYS["strobe.strobe_table"]) == keys


# --------------------------------------------------------------------------- fixture project


FIXTURE = {
    "report.qmd": """---
title: "A cohort study"
abstract: |
  Short.
---

```{python}
#| label: setup
x = 1
```

{{< include sections/a.qmd >}}

# Discussion {#sec-discussion}

<!-- # Hidden {#sec-hidden} -->
""",
    "sections/a.qmd": """# Methods {#sec-methods}

## Statistical analysis {#sec-statistics}

```markdown
# Not a heading {#sec-in-code}
::: {#supptbl-in-code}
```

```{python}
#| label: fig-one
#| fig-cap: "One"
1
```

```{python}
#| label: tbl-one
1
```

```{python}
#| label: fig-two
2
```
""",
    "supplement.qmd": """---
title: "Supplement"
---

# Extra {#sec-s-extra}

::: {#supptbl-a}
Table A.
:::

::: {#suppfig-a}
Figure A.
:::

::: {#supptbl-b}
Table B.
:::
""",
}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name, text in FIXTURE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_document_labels_fixture_project_hand_written_expectations(project):
    labels = {k: (v.document, v.file, v.text) for k, v in SB.document_labels(project).items()}
    assert labels == {
        "title": ("report", "report.qmd", "Title"),
        "abstract": ("report", "report.qmd", "Abstract"),
        "sec-methods": ("report", "sections/a.qmd", "Methods"),
        "sec-statistics": ("report", "sections/a.qmd", "Methods \u203a Statistical analysis"),
        "fig-one": ("report", "sections/a.qmd", "Figure 1"),
        "tbl-one": ("report", "sections/a.qmd", "Table 1"),
        "fig-two": ("report", "sections/a.qmd", "Figure 2"),
        "sec-discussion": ("report", "report.qmd", "Discussion"),
        "sec-s-extra": ("supplement", "supplement.qmd", "Supplement \u203a Extra"),
        "supptbl-a": ("supplement", "supplement.qmd", "Supplementary Table S1"),
        "suppfig-a": ("supplement", "supplement.qmd", "Supplementary Figure S1"),
        "supptbl-b": ("supplement", "supplement.qmd", "Supplementary Table S2"),
    }


def test_fixture_project_resolves_and_rejects(project):
    ok = (SB.StrobeItem("12a", "Methods", "Statistical methods", "text", ("sec-statistics", "tbl-one", "supptbl-b")),)
    assert list(SB.resolve(ok, root=project)["text"]) == ["Methods \u203a Statistical analysis", "Table 1",
                                                          "Supplementary Table S2"]
    for hidden in ("sec-in-code", "supptbl-in-code", "sec-hidden"):
        with pytest.raises(ValueError, match=hidden):
            SB.resolve((SB.StrobeItem("9", "Methods", "Bias", "text", (hidden,)),), root=project)


def test_duplicate_label_fails(project):
    (project / "supplement.qmd").write_text(FIXTURE["supplement.qmd"] + "\n# Again {#sec-methods}\n",
                                            encoding="utf-8")
    with pytest.raises(ValueError, match="'sec-methods' is defined twice"):
        SB.document_labels(project)


def test_missing_include_fails(project):
    (project / "sections" / "a.qmd").unlink()
    with pytest.raises(ValueError, match="document not found"):
        SB.document_labels(project)


# --------------------------------------------------------------------------- the table


def test_strobe_frame_where_column():
    """Reference: CHECKLIST statuses and notes; resolved pointer texts."""
    frame = SB.strobe_frame().set_index("item")
    assert list(frame.index) == STROBE_ITEMS
    assert frame.loc["6b", "where"] == "Not applicable: The study is not matched."
    assert frame.loc["22", "where"] == "Declarations \u203a Funding"
    assert frame.loc["13c", "where"] == "Figure 1"
    assert frame.loc["12e", "where"] == "Methods \u203a Statistical analysis; Supplement \u203a Sensitivity analyses"
    names = supplementary_names()
    assert f"Supplementary {names['tbl_s_flow']}" in frame.loc["13a", "where"]
    note = "(Relapse period and end of follow-up are given; the period of data collection is not.)"
    assert note in frame.loc["5", "where"]


def test_strobe_table_renders_html_and_markdown(results, monkeypatch, tmp_path):
    table = SB.strobe_table(results)
    assert table.id == "gt-s-strobe" and len(table.frame) == len(STROBE_ITEMS)
    html = table.to_html()
    assert "gt_table" in html and SYNTHETIC_NOTE in html and "Recommendation" in html
    md = table.to_markdown()
    assert "|" in md and SYNTHETIC_NOTE in md and "**Methods**" in md
    assert not ENTITY.search(md) and not HTML_TAG.search(md)
    info = tmp_path / "info.json"
    info.write_text(json.dumps({"format": {"identifier": {"base-format": "typst"}}}), encoding="utf-8")
    monkeypatch.setenv(quarto.EXECUTE_INFO_ENV, str(info))
    bundle = table._repr_mimebundle_()
    assert "text/markdown" in bundle and "text/html" not in bundle


def test_strobe_is_a_supplementary_table_of_the_document():
    """Numbered where the manuscript first cites it (Methods; tests/test_documents.py
    checks the order of first citation), no longer last."""
    text = (PROJECT_ROOT / "supplement.qmd").read_text(encoding="utf-8")
    tables = re.findall(r"^::: \{#supptbl-([\w-]+)\}", text, flags=re.M)
    assert "strobe" in tables
    assert "strobe.strobe_table(results)" in text
