"""Table 1: baseline characteristics by salvage group (and the supplementary
version with standardized mean differences)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...compute.baseline import OVERALL, BaselineResult
from ...results import UNKNOWN_LEVELS, Results, estimable, unrecorded_baseline_variables
from .. import style as st
from .display import DisplayTable, Footnote
from .common import _level_text, _reserved, _source_notes, _test_footnotes, _whole_table_not_estimable


# =========================================================================== Table 1


def _table1(baseline: BaselineResult, *, synthetic: bool, smd: bool, id: str,
            title: str | None = None, unrecorded: Sequence[str] = (),
            decimals: Mapping[str, int] | None = None) -> DisplayTable:
    """Table 1 from a BaselineResult (the salvage set by salvage group).
    ``unrecorded``: labels of variables left out because no patient has a value (noted)."""
    nums, tests = baseline.numbers, baseline.tests
    groups = [OVERALL] + [g for g in baseline.groups]
    names = [str(g) for g in groups]
    _reserved(names, ("variable", "row", "indent", "label", "P", "test", "SMD"))
    sizes = {str(g): int(n) for g, n in zip(baseline.group_sizes["group"], baseline.group_sizes["n"])}
    records: list[dict] = []

    def add(variable: str, row: str, indent: int, label: str, cells: Mapping[str, str],
            p: str = "", test: str = "", smd_text: str = "") -> None:
        rec = {"variable": variable, "row": row, "indent": indent, "label": label}
        rec.update({n: cells.get(n, "") for n in names})
        rec.update({"P": p, "test": test})
        if smd:
            rec["SMD"] = smd_text
        records.append(rec)

    for t in tests.itertuples(index=False):
        sub = nums[nums["variable"] == t.variable]
        tested = t.test != "not tested"
        p_text = st.fmt_p(t.p)
        test_text = st.fmt_test(t.test) if tested else f"Not tested: {t.note}" if t.note else "Not tested"
        smd_text = st.fmt_num(t.smd, 2)
        if t.kind == "categorical":
            add(t.variable, "variable", 0, f"{t.label}, n (%)", {}, p_text, test_text, smd_text)
            for level in pd.unique(sub["level"]):
                cells = {}
                for rec in sub[sub["level"] == level].itertuples(index=False):
                    cells[str(rec.group)] = st.fmt_n_pct(int(rec.n), int(rec.n_available))
                add(t.variable, "level", 1, _level_text(t.variable, level), cells)
        else:
            values = sub[["median", "min", "max"]].to_numpy(dtype=float).ravel()
            values = values[~pd.isna(values)]
            digits = (decimals or {}).get(t.variable)
            if digits is None:
                digits = 0 if len(values) and all(float(v).is_integer() for v in values) else 1
            cells = {}
            for rec in sub.itertuples(index=False):
                if int(rec.n) == 0:
                    cells[str(rec.group)] = st.DASH
                else:
                    cells[str(rec.group)] = (f"{st.fmt_num(rec.median, digits)} "
                                             f"({st.fmt_ci(rec.min, rec.max, digits=digits)})")
            add(t.variable, "variable", 0, f"{t.label}, median (min{st.DASH}max)", cells, p_text, test_text,
                smd_text)
        missing = sub.drop_duplicates("group").set_index("group")["n_missing"]
        if (missing > 0).any():
            add(t.variable, "missing", 1, UNKNOWN_LEVELS.get(t.variable, "Missing"),
                {str(g): str(int(n)) for g, n in missing.items()})

    columns = ["variable", "row", "indent", "label", *names, "P", "test"] + (["SMD"] if smd else [])
    frame = pd.DataFrame(records, columns=columns)
    labels = {"label": "Characteristic", "P": "P", "SMD": "SMD"}
    labels.update({n: f"{n} (n = {sizes.get(n, 0)})" for n in names})
    notes = [Footnote("Percentages and P values are of patients with a known value; missing, unknown and "
                      "not documented values are counted on a row of their own.")]
    if baseline.n_missing_group:
        notes.append(Footnote(f"{baseline.n_missing_group} patients with an unknown group are not shown."))
    if unrecorded:
        notes.append(Footnote("Not shown, because no patient has a recorded value: " + "; ".join(unrecorded) + "."))
    if smd:
        notes.append(Footnote("SMD, absolute standardized mean difference between the groups (continuous "
                              "variables: from means and SDs; categorical variables: method of Yang and Dalton)."))
    display = ("label", *names, "P") + (("SMD",) if smd else ())
    return DisplayTable(frame=frame, columns=display, labels=labels, id=id, indent="indent",
                        footnotes=tuple(notes) + _test_footnotes(frame),
                        source_notes=_source_notes(synthetic), title=title)


def _recorded_decimals(results: Results, baseline: BaselineResult) -> dict[str, int]:
    """Decimals of each continuous summary from the variable as recorded (0 when every recorded
    value of the column is whole, else 1), not from its medians: a median of 55.5 from whole
    numbers prints as the other cells do (acceptance review item 12: "56.0 (0.0–93.0)" beside "52 (0–93)")."""
    adsl = results.derived.adsl
    out = {}
    for v in baseline.numbers.loc[baseline.numbers["kind"] == "continuous", "variable"].unique():
        if v in adsl.columns:
            values = pd.to_numeric(adsl[v], errors="coerce").dropna().to_numpy(dtype=float)
            if len(values):
                out[v] = 0 if all(float(x).is_integer() for x in values) else 1
    return out


def _table1_of(results: Results, *, smd: bool, id: str, title: str | None = None) -> DisplayTable:
    """Table 1 of the results; one "Not estimable: <reason>." row when the
    baseline comparison could not be made (e.g. only one salvage group)."""
    baseline = results.baseline
    if estimable(baseline):
        return _table1(baseline, synthetic=results.synthetic, smd=smd, id=id, title=title,
                       unrecorded=unrecorded_baseline_variables(results.derived),
                       decimals=_recorded_decimals(results, baseline))
    columns = ["variable", "row", "indent", "label", "P", "test"] + (["SMD"] if smd else [])
    frame = _whole_table_not_estimable(columns, "label", baseline.reason, what="comparison by salvage group",
                                       row="not_estimable", indent=0)
    return DisplayTable(frame=frame, columns=("label",), labels={"label": "Characteristic"}, id=id,
                        indent="indent", source_notes=_source_notes(results.synthetic), title=title)


def table1_frame(results: Results) -> pd.DataFrame:
    """Table 1 display frame: baseline characteristics of the salvage set.

    Columns: ``variable`` (ADSL column), ``row`` ("variable" heading row,
    "level" of a categorical variable, "missing"), ``indent`` (0/1),
    ``label``, then one column per group named by the group ("Overall",
    "Targeted", "Chemotherapy"; categorical "n (%)" with whole-number
    percentages of patients with a known value, continuous
    "median (min–max)", missing counts), ``P`` (style.fmt_p, on the heading
    row), ``test`` (the test's printed name, on the heading row). When the
    comparison is not estimable (``results.baseline`` is NotEstimable) the
    frame has one row (``row`` "not_estimable", ``label`` "Comparison by
    salvage group not estimable: <reason>.") and no group columns; variables
    that no patient has are left out and named in a note.
    """
    return _table1_of(results, smd=False, id="gt-table1").frame


def table1(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 1: baseline characteristics of the salvage set by salvage group, with P values."""
    return _table1_of(results, smd=False, id="gt-table1", title=title)


def table1_full_frame(results: Results) -> pd.DataFrame:
    """:func:`table1_frame` plus an ``SMD`` column (absolute standardized mean difference, 2 decimals)."""
    return _table1_of(results, smd=True, id="gt-table1-full").frame


def table1_full(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary version of Table 1, with the SMD column."""
    return _table1_of(results, smd=True, id="gt-table1-full", title=title)
