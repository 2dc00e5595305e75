"""Helpers shared by the table families: the synthetic-data note, alpha and CI
level, percentages with CIs, level labels, test footnotes and "not estimable" rows."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ...results import BASELINE_VARIABLES, Results
from .. import style as st
from .display import Footnote, _text


SYNTHETIC_NOTE = "Synthetic data \u2014 not patient data."
#: The ADSL column of the salvage groups: Table 2 compares it in its own section.
GROUP_COLUMN = "SALVGRP"

# =========================================================================== shared helpers


def _alpha(results: Results) -> float:
    return results.settings.tests.alpha


def _level(alpha: float) -> int:
    return int(round(100 * (1 - alpha)))


def _alpha_text(alpha: float) -> str:
    return st.fmt_alpha(alpha)


def _source_notes(synthetic: bool) -> tuple[str, ...]:
    return (SYNTHETIC_NOTE,) if synthetic else ()


def _pct(x: float | None) -> str:
    """A proportion (0-1) as a percentage without the sign, in the journal's
    decimals for a rate (``style.fmt_rate``): 0.4776 -> '47.8'."""
    return st.fmt_rate(x)


def _pct_ci(est: float | None, lower: float | None, upper: float | None) -> str:
    """'47.8 (35.4–60.3)' from proportions on the 0-1 scale."""
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return st.NOT_ESTIMABLE
    lo = None if lower is None else 100 * lower
    hi = None if upper is None else 100 * upper
    return f"{_pct(est)} ({st.fmt_ci(lo, hi, digits=st.rate_digits())})"


def _level_text(variable: str, level: Any) -> str:
    """A level as printed: sex M/F -> Male/Female, Y/N -> Yes/No, '>=' -> '≥'."""
    text = _text(level)
    if variable == "SEX" and text in ("M", "F"):
        return {"M": "Male", "F": "Female"}[text]
    if text in ("Y", "N"):
        return {"Y": "Yes", "N": "No"}[text]
    return st.fmt_relation(text)


def _empty_group_text(reason: str, variable: str, label: str) -> str:
    """A computation's "group 'Y' has no patients" in the reader's words: "no patient with
    extramedullary relapse: Yes" (labels, not codes; acceptance review item 5)."""
    return re.sub(r"group '([^']*)' has no patients",
                  lambda m: f"no patient in the group {label}: {_level_text(variable, m.group(1))}", reason)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def global_tests_text(model) -> str:
    """A Cox model's three global tests (likelihood-ratio, Wald, score), each with
    chi-squared, df and P: 'likelihood-ratio test χ² = 8.12, df = 3, P = .04; Wald
    test ...; score (log-rank) test ...'."""
    tests = [("likelihood-ratio test", model.likelihood_ratio_test), ("Wald test", model.wald_test),
             ("score (log-rank) test", model.score_test)]
    return "; ".join(f"{name} \u03c7\u00b2 = {st.fmt_num(t.statistic, 2)}, df = {t.df}, {st.fmt_p_text(t.p)}"
                     for name, t in tests)


def _sentence(text: str) -> str:
    text = _capitalise(st.fmt_relation(text.strip()))
    return text if text.endswith((".", "!", "?")) else text + "."


def _variable_labels(results: Results) -> dict[str, str]:
    """ADSL column -> label: the response factors' labels, then Table 1's."""
    labels = {c: lab for c, lab, _ in BASELINE_VARIABLES}
    labels.update({f.column: f.label for f in results.response.factor_defs})
    return labels


def _test_footnotes(frame: pd.DataFrame, *, column: str = "P", test: str = "test") -> tuple[Footnote, ...]:
    """One marked footnote per test named in ``frame[test]``, on the P cells of its rows."""
    rows: dict[str, list[int]] = {}
    for i, name in enumerate(frame[test]):
        if name:
            rows.setdefault(str(name), []).append(i)
    return tuple(Footnote(name, column, tuple(r)) for name, r in rows.items())


def _rule_note(rule: str) -> str:
    notes = {
        "fisher_if_expected_lt5_else_yates": (
            "P values: Fisher's exact test when any expected count was below 5, otherwise "
            "Pearson's \u03c7\u00b2 test with Yates' continuity correction (tables larger than 2 \u00d7 2: "
            "Fisher\u2013Freeman\u2013Halton exact test, or Pearson's \u03c7\u00b2 test)."),
        "fisher": "P values: Fisher's exact test (Fisher\u2013Freeman\u2013Halton for tables larger than 2 \u00d7 2).",
        "chisq_yates": "P values: Pearson's \u03c7\u00b2 test with Yates' continuity correction.",
        "chisq": "P values: Pearson's \u03c7\u00b2 test without continuity correction.",
    }
    return notes.get(rule, f"P values: rule {rule}.")


def _reserved(names: Sequence[str], reserved: Sequence[str]) -> None:
    clash = [n for n in names if n in reserved]
    if clash:
        raise ValueError(f"group name(s) {clash} clash with the table's own columns")


def _configured_rule(results: Results) -> str:
    """The configured 2 × 2 test rule (for notes when no comparison was made)."""
    return results.settings.tests.two_by_two


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _split_not_estimable(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with numbers, rows carrying a ``not_estimable`` reason) of a results frame."""
    if "not_estimable" not in table.columns or table.empty:
        return table, table.iloc[0:0]
    failed = table["not_estimable"].map(lambda v: not _is_missing(v))
    return table[~failed], table[failed]


def _whole_table_not_estimable(columns: Sequence[str], label_column: str, reason: str, *,
                               what: str | None = None, **values: Any) -> pd.DataFrame:
    """A one-row display frame saying why the table could not be made."""
    rec = {c: "" for c in columns}
    rec.update(values)
    rec[label_column] = st.fmt_not_estimable(reason, what)
    return pd.DataFrame([rec], columns=list(columns))
