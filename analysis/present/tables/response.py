"""Table 2 (CR/CRi after salvage) and the supplementary table of each factor
comparison under every P-value convention."""

from __future__ import annotations

import pandas as pd

from ...results import ResponseResults, Results, estimable
from .. import style as st
from ..labels import CR_CRI_TERM
from .display import DisplayTable, Footnote
from .common import (GROUP_COLUMN, _empty_group_text, _alpha, _alpha_text, _configured_rule, _is_missing, _level, _level_text, _pct,
                     _pct_ci, _rule_note, _source_notes, _split_not_estimable, _test_footnotes)


# =========================================================================== Table 2


def _table2(response: ResponseResults, *, synthetic: bool, alpha: float, id: str = "gt-table2",
            title: str | None = None, rule: str) -> DisplayTable:
    """Table 2 from the response results. ``rule`` (the configured 2 × 2 rule)
    is named in the notes when the salvage groups could not be compared."""
    level = _level(alpha)
    records: list[dict] = []

    def add(section: str, label: str, indent: int, cr: str, pct: str, p: str = "", test: str = "",
            key: str = "") -> None:
        records.append({"section": section, "key": key, "label": label, "indent": indent, "cr": cr,
                        "pct": pct, "P": p, "test": test})

    o = response.overall
    add("Overall", "All patients with salvage therapy", 0, f"{o.x}/{o.n}", _pct_ci(o.estimate, o.lower, o.upper),
        key="overall")
    for rec in response.by_class.itertuples(index=False):
        add("By regimen class", str(rec.group), 0, f"{rec.x}/{rec.n}", _pct_ci(rec.estimate, rec.lower, rec.upper),
            key="class")
    cmp = response.group_comparison
    factors = response.factors
    # the salvage-group factor is not repeated under "By factor" (REVIEW 14); why it
    # could not be compared is said here
    group_keys = [f.key for f in response.factor_defs if f.column == GROUP_COLUMN]
    group_failed = factors[factors["factor"].isin(group_keys)]
    group_reasons = [str(r) for r in group_failed.get("not_estimable", pd.Series(dtype=object)) if not _is_missing(r)]
    if estimable(cmp):
        cmp_p, cmp_test = st.fmt_p(cmp.p), st.fmt_test(cmp.test_used)
    else:
        cmp_p = st.NOT_ESTIMABLE
        cmp_test = st.fmt_not_estimable("; ".join(dict.fromkeys(
            _empty_group_text(r, GROUP_COLUMN, "salvage group") for r in [str(cmp.reason), *group_reasons])))
    for i, rec in enumerate(response.by_group.itertuples(index=False)):
        p, test = (cmp_p, cmp_test) if i == 0 else ("", "")
        add("By salvage group", str(rec.group), 0, f"{rec.x}/{rec.n}", _pct_ci(rec.estimate, rec.lower, rec.upper),
            p, test, key="group")
    excluded = []
    disagree = []
    for fdef in response.factor_defs:
        rows = factors[factors["factor"] == fdef.key]
        if rows.empty or fdef.column == GROUP_COLUMN:   # shown once, with CIs, "By salvage group" (REVIEW 14)
            continue
        rows, failed = _split_not_estimable(rows)
        if rows.empty:  # the comparison could not be made: say why on the factor's row
            reason = "; ".join(dict.fromkeys(_empty_group_text(str(r), fdef.column, fdef.label)
                                             for r in failed["not_estimable"]))
            add("By factor", fdef.label, 0, "", "", st.NOT_ESTIMABLE, st.fmt_not_estimable(reason),
                key=f"factor:{fdef.key}")
            continue
        first = rows.iloc[0]
        add("By factor", fdef.label, 0, "", "", st.fmt_p(first["p_global"]),
            "" if _is_missing(first["test_global"]) else st.fmt_test(str(first["test_global"])),
            key=f"factor:{fdef.key}")
        add("By factor", _level_text(fdef.column, first["reference"]), 1,
            f"{int(first['x_reference'])}/{int(first['n_reference'])}", _pct(first["rate_reference"]),
            key=f"level:{fdef.key}")
        for rec in rows.itertuples(index=False):
            add("By factor", _level_text(fdef.column, rec.level), 1, f"{int(rec.x_level)}/{int(rec.n_level)}",
                _pct(rec.rate_level), key=f"level:{fdef.key}")
        for rec in failed.itertuples(index=False):
            add("By factor", _level_text(fdef.column, rec.level), 1, "", st.NOT_ESTIMABLE, key=f"level:{fdef.key}")
        if int(first["n_missing"]) > 0:
            excluded.append(f"{fdef.label}, {int(first['n_missing'])}")
        if any(v is True or (not _is_missing(v) and bool(v)) for v in rows["conventions_disagree"]):
            disagree.append(fdef.label)
    frame = pd.DataFrame(records, columns=["section", "key", "label", "indent", "cr", "pct", "P", "test"])
    notes = [Footnote(f"CR/CRi, {CR_CRI_TERM}; "
                      f"{level}% CI, exact (Clopper\u2013Pearson) confidence interval. By factor: "
                      f"percentages without intervals."),
             Footnote(_rule_note(cmp.rule if estimable(cmp) else rule))]
    if excluded:
        notes.append(Footnote("Patients with an unknown or not applicable factor are left out of that "
                              "comparison: " + "; ".join(excluded) + "."))
    if disagree:
        notes.append(Footnote(f"The P-value conventions (Fisher's exact test, \u03c7\u00b2 with and without "
                              f"Yates' correction) disagree about {st.fmt_p_below(alpha)} for: "
                              + "; ".join(disagree) + " (see the supplementary table of test conventions)."))
    labels = {"label": "", "cr": "CR/CRi, n/N", "pct": f"% ({level}% CI)", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "cr", "pct", "P"), labels=labels, id=id,
                        group="section", indent="indent", footnotes=tuple(notes) + _test_footnotes(frame),
                        source_notes=_source_notes(synthetic), title=title)


def table2_frame(results: Results) -> pd.DataFrame:
    """Table 2 display frame: CR/CRi after salvage.

    Columns: ``section`` ("Overall", "By regimen class", "By salvage group",
    "By factor"), ``key`` (row kind: overall, class, group, factor:<key>,
    level:<key>), ``label``, ``indent``, ``cr`` ("x/n"), ``pct`` (percentage to
    one decimal, with the exact CI where the results hold one:
    "47.8 (35.4–60.3)"), ``P`` (style.fmt_p; salvage groups: on the first
    group's row; factors: on the factor's heading row), ``test`` (printed
    name of the test behind ``P``). A comparison that could not be made
    has ``P`` "NE" and ``test`` "Not estimable: <reason>." (a marked
    footnote); a factor that could not be compared has its heading row only.
    """
    return _table2(results.response, synthetic=results.synthetic, alpha=_alpha(results),
                   rule=_configured_rule(results)).frame


def table2(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 2: CR/CRi after salvage, overall, by regimen class, by salvage group and by factor."""
    return _table2(results.response, synthetic=results.synthetic, alpha=_alpha(results), title=title,
                   rule=_configured_rule(results))

def _factor_conventions(results: Results, title: str | None = None) -> DisplayTable:
    alpha = _alpha(results)
    labels_of = {f.key: f.label for f in results.response.factor_defs}
    columns_of = {f.key: f.column for f in results.response.factor_defs}
    records = []
    or_reasons: dict[str, list[str]] = {}
    for rec in results.response.factors.itertuples(index=False):
        column = columns_of.get(rec.factor, rec.column)
        if not _is_missing(getattr(rec, "not_estimable", None)):
            records.append({
                "factor": labels_of.get(rec.factor, rec.factor),
                "comparison": f"{_level_text(column, rec.level)} vs {_level_text(column, rec.reference)}",
                "cr": "", "min_expected": "", "P": st.NOT_ESTIMABLE,
                "test": st.fmt_not_estimable(_empty_group_text(str(rec.not_estimable), column,
                                                               labels_of.get(rec.factor, rec.factor))),
                "p_fisher": st.NOT_ESTIMABLE, "p_yates": st.NOT_ESTIMABLE, "p_chisq": st.NOT_ESTIMABLE,
                "disagree": "", "or": st.NOT_ESTIMABLE,
            })
            continue
        if _is_missing(rec.or_reason) and not _is_missing(rec.odds_ratio):
            odds = f"{st.fmt_ratio(rec.odds_ratio)} ({st.fmt_ci(None, None, lower_text=st.fmt_ratio(rec.or_lower), upper_text=st.fmt_ratio(rec.or_upper))})"
        else:
            odds = st.NOT_ESTIMABLE
            or_reasons.setdefault(str(rec.or_reason).removeprefix("not estimable (").rstrip(")"), []).append(
                labels_of.get(rec.factor, rec.factor))
        records.append({
            "factor": labels_of.get(rec.factor, rec.factor),
            "comparison": f"{_level_text(column, rec.level)} vs {_level_text(column, rec.reference)}",
            "cr": (f"{int(rec.x_level)}/{int(rec.n_level)} vs {int(rec.x_reference)}/{int(rec.n_reference)}"),
            "min_expected": st.fmt_num(rec.min_expected, 1),
            "P": st.fmt_p(rec.p),
            "test": st.fmt_test(str(rec.test_used)),
            "p_fisher": st.fmt_p(rec.p_fisher),
            "p_yates": st.fmt_p(rec.p_chisq_yates),
            "p_chisq": st.fmt_p(rec.p_chisq),
            "disagree": "Yes" if bool(rec.conventions_disagree) else "No",
            "or": odds,
        })
    frame = pd.DataFrame(records, columns=["factor", "comparison", "cr", "or", "min_expected", "P", "test",
                                           "p_fisher", "p_yates", "p_chisq", "disagree"])
    a = _alpha_text(alpha)
    level = _level(alpha)
    labels = {"factor": "Factor", "comparison": "Comparison", "cr": "CR/CRi, n/N",
              "or": f"OR ({level}% CI)", "min_expected":
              "Smallest expected count", "P": "P (rule)", "p_fisher": "Fisher's exact",
              "p_yates": "\u03c7\u00b2, Yates", "p_chisq": "\u03c7\u00b2, uncorrected",
              "disagree": f"Disagree about {st.fmt_p_below(alpha)}"}
    cmp = results.response.group_comparison
    notes = (Footnote(_rule_note(cmp.rule if estimable(cmp) else _configured_rule(results))),
             Footnote(f"OR, univariable odds ratio of CR/CRi (level vs reference) from logistic regression, with "
                      f"{level}% Wald confidence interval."),
             Footnote(f"Disagree: the three P values do not all fall on the same side of {a}. "
                      f"NE: the test is undefined (all compared patients had the same response)."))
    notes += tuple(Footnote(f"OR not estimable ({reason}): {'; '.join(names)}.") for reason, names in or_reasons.items())
    return DisplayTable(frame=frame, columns=("factor", "comparison", "cr", "or", "min_expected", "P", "p_fisher",
                                              "p_yates", "p_chisq", "disagree"),
                        labels=labels, id="gt-s-conventions", footnotes=notes + _test_footnotes(frame),
                        source_notes=_source_notes(results.synthetic), title=title)


def factor_conventions_frame(results: Results) -> pd.DataFrame:
    """Every factor comparison under every P-value convention.

    Columns: ``factor`` (label), ``comparison`` ("≥18 vs <18"), ``cr``
    ("x/n vs x/n", level vs reference), ``min_expected`` (one decimal),
    ``P`` (the configured rule's p), ``test`` (its test), ``p_fisher``,
    ``p_yates``, ``p_chisq`` (style.fmt_p; "NE" where undefined),
    ``disagree`` ("Yes"/"No": the conventions fall on different sides of alpha).
    A comparison that could not be made has every P "NE", ``test``
    "Not estimable: <reason>." (a marked footnote) and empty counts.
    """
    return _factor_conventions(results).frame


def factor_conventions_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: each factor comparison by Fisher, Yates and uncorrected χ², with a disagreement flag."""
    return _factor_conventions(results, title)
