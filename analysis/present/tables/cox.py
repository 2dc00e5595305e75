"""Table 3 (univariable and multivariable Cox models) and the supplementary Cox
tables: the models in full and the test of proportional hazards."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...results import CoxResults, Results, estimable
from .. import style as st
from ..cautions import failure_reason, not_estimable_reason, note_cautions
from ..exclusions import left_out_phrase
from .display import DisplayTable, Footnote
from .common import _alpha, _capitalise, global_tests_text, _is_missing, _level, _level_text, _source_notes, _split_not_estimable, _variable_labels


# =========================================================================== Table 3


def _hr_text(row: Mapping | None) -> str:
    if row is None:
        return ""
    if bool(row["monotone"]):
        return st.NOT_ESTIMABLE
    ci = st.fmt_ci(None, None, lower_text=st.fmt_ratio(float(row["lower"])),
                   upper_text=st.fmt_ratio(float(row["upper"])))
    return f"{st.fmt_ratio(float(row['hr']))} ({ci})"


def _p_text(row: Mapping | None) -> str:
    if row is None:
        return ""
    return st.NOT_ESTIMABLE if bool(row["monotone"]) else st.fmt_p(float(row["p"]))


_COX_TABLE_COLUMNS = ["term", "variable", "level", "reference", "coef", "se", "hr", "lower", "upper", "z", "p",
                      "monotone"]


def _row_reason(rec: Any) -> str:
    """Why the univariable model of a row was not fitted, in words (its ``not_fitted`` reason as data)."""
    return failure_reason(str(rec.not_estimable), getattr(rec, "not_fitted", None))


def _reasons(failed: pd.DataFrame, variable: str) -> str | None:
    """The reasons of ``variable``'s rows that were not fitted, in words, joined; None if there are none."""
    if failed.empty:
        return None
    texts = [_row_reason(rec) for rec in failed[failed["variable"] == variable].itertuples(index=False)]
    return "; ".join(dict.fromkeys(texts)) or None


def _left_out(results: Results) -> str:
    """Who the multivariable model leaves out and why (:func:`analysis.present.exclusions.left_out_phrase`)."""
    multi = results.cox.multivariable
    return left_out_phrase(results, results.cox.covariates, multi.n_excluded) if estimable(multi) else ""


def _table3(cox: CoxResults, *, labels: Mapping[str, str], synthetic: bool, alpha: float,
            id: str = "gt-table3", title: str | None = None, left_out: str = "") -> DisplayTable:
    multi = cox.multivariable
    multi_ok = estimable(multi)
    mt = multi.table if multi_ok else pd.DataFrame(columns=_COX_TABLE_COLUMNS)
    ut, u_failed = _split_not_estimable(cox.univariable)
    if "variable" not in ut.columns:
        ut = pd.DataFrame(columns=_COX_TABLE_COLUMNS)
    level = _level(alpha)
    records = []
    monotone_rows: dict[str, list[int]] = {"uni_hr": [], "multi_hr": []}
    uni_ne_rows: dict[str, list[int]] = {}

    def find(table: pd.DataFrame, var: str, lev: Any) -> dict | None:
        for row in table[table["variable"] == var].to_dict("records"):
            level_ = None if pd.isna(row["level"]) else row["level"]
            if level_ == lev:
                return row
        return None

    for var in cox.covariates:
        section = labels.get(var, var)
        m_rows, u_rows = mt[mt["variable"] == var], ut[ut["variable"] == var]
        u_reason = _reasons(u_failed, var)
        if m_rows.empty and u_rows.empty:  # no model gave a number: say why, once
            reason = u_reason or (not_estimable_reason(multi) if not multi_ok else "no coefficient for this covariate")
            records.append({"section": section, "variable": var, "level": None,
                            "label": st.fmt_not_estimable(reason), "indent": 0,
                            "uni_hr": "", "uni_p": "", "multi_hr": "", "multi_p": ""})
            continue
        numeric = all(pd.isna(v) for v in list(m_rows["level"]) + list(u_rows["level"]))
        if numeric:
            levels: list = [None]
        else:
            ref = cox.reference.get(var)
            if ref is None:
                ref = next((r for r in list(m_rows["reference"]) + list(u_rows["reference"]) if r is not None), None)
            records.append({"section": section, "variable": var, "level": ref,
                            "label": f"{_level_text(var, ref)} (reference)", "indent": 0,
                            "uni_hr": st.fmt_ratio(1.0) if len(u_rows) else "", "uni_p": "",
                            "multi_hr": st.fmt_ratio(1.0) if len(m_rows) else "", "multi_p": ""})
            levels = list(dict.fromkeys([*m_rows["level"], *u_rows["level"]]))
        for lev in levels:
            u, m = find(ut, var, lev), find(mt, var, lev)
            label = "Per unit increase" if lev is None else _level_text(var, lev)
            rec = {"section": section, "variable": var, "level": lev, "label": label, "indent": 0,
                   "uni_hr": _hr_text(u), "uni_p": _p_text(u), "multi_hr": _hr_text(m), "multi_p": _p_text(m)}
            if u is None and u_reason:
                rec["uni_hr"] = rec["uni_p"] = st.NOT_ESTIMABLE
                uni_ne_rows.setdefault(st.fmt_not_estimable(u_reason, "univariable model"), []).append(len(records))
            if m is None and not multi_ok:
                rec["multi_hr"] = rec["multi_p"] = st.NOT_ESTIMABLE
            records.append(rec)
            for key, row in (("uni_hr", u), ("multi_hr", m)):
                if row is not None and bool(row["monotone"]):
                    monotone_rows[key].append(len(records) - 1)
    frame = pd.DataFrame(records, columns=["section", "variable", "level", "label", "indent", "uni_hr", "uni_p",
                                           "multi_hr", "multi_p"])
    notes = [Footnote(f"Cox proportional-hazards models of overall survival from relapse. HR, hazard ratio; "
                      f"CI, {level}% Wald confidence interval. P values from Wald tests; tied event times "
                      f"handled by Efron's method.")]
    marked = []
    if multi_ok:
        text = (f"Multivariable model: {multi.n} patients, {multi.n_events} events, {multi.n_parameters} "
                f"parameters ({st.fmt_num(multi.events_per_parameter, 1)} events per parameter)")
        if multi.n_excluded:
            text += "; " + (left_out or f"{multi.n_excluded} patients left out for a missing covariate")
        notes.append(Footnote(text + "."))
    else:
        marked.append(Footnote(st.fmt_not_estimable(not_estimable_reason(multi), "multivariable model"), "multi_hr"))
        if cox.n_excluded:  # who the model would have left out, said although it was not fitted
            unrecorded = st.join_words([labels.get(c, c) for c in cox.unrecorded])
            notes.append(Footnote(
                f"Multivariable model: {cox.n_excluded} patients left out for a missing covariate"
                + (f"; {unrecorded} {'was' if len(cox.unrecorded) == 1 else 'were'} recorded for no patient"
                   if unrecorded else "") + "."))
    per_model = ut.drop_duplicates("variable")[["variable", "n", "n_events", "n_excluded"]] if len(ut) else ut
    if len(per_model) and per_model["n"].nunique() == 1 and per_model["n_events"].nunique() == 1:
        notes.append(Footnote(f"Univariable models: one model per covariate, each with "
                              f"{int(per_model['n'].iloc[0])} patients and {int(per_model['n_events'].iloc[0])} "
                              f"events."))
    elif len(per_model):
        parts = [f"{labels.get(r.variable, r.variable)}, {int(r.n)} patients and {int(r.n_events)} events"
                 for r in per_model.itertuples(index=False)]
        notes.append(Footnote("Univariable models (one per covariate): " + "; ".join(parts) + "."))
    # cautions in words (no codes); a coefficient that may be infinite is marked on its row instead
    for w in note_cautions(multi.cautions if multi_ok else ()):
        notes.append(Footnote(f"Caution, multivariable model: {w}."))
    for rec in (ut.drop_duplicates("variable").itertuples(index=False) if "cautions" in ut else ()):
        for w in note_cautions(rec.cautions):
            notes.append(Footnote(f"Caution, univariable model of {labels.get(rec.variable, rec.variable)}: "
                                  f"{w}."))
    for key, which in (("uni_hr", "univariable"), ("multi_hr", "multivariable")):
        if monotone_rows[key]:
            marked.append(Footnote(f"Not estimable in the {which} model: the coefficient may be infinite "
                                   f"(monotone likelihood).", key, tuple(monotone_rows[key])))
    marked.extend(Footnote(text, "uni_hr", tuple(rows)) for text, rows in uni_ne_rows.items())
    labels_ = {"label": "", "uni_hr": f"HR ({level}% CI)", "uni_p": "P", "multi_hr": f"HR ({level}% CI)",
               "multi_p": "P"}
    return DisplayTable(frame=frame, columns=("label", "uni_hr", "uni_p", "multi_hr", "multi_p"), labels=labels_,
                        id=id, group="section",
                        spanners=(("Univariable", ("uni_hr", "uni_p")), ("Multivariable", ("multi_hr", "multi_p"))),
                        footnotes=tuple(notes) + tuple(marked), source_notes=_source_notes(synthetic), title=title)


def table3_frame(results: Results) -> pd.DataFrame:
    """Table 3 display frame: univariable and multivariable Cox models of OS.

    Columns: ``section`` (covariate label), ``variable`` (ADSL column),
    ``level`` (the level; the reference level on its "(reference)" row; None
    for a numeric covariate), ``label``, ``indent``, ``uni_hr`` / ``multi_hr``
    ("1.95 (0.95–4.01)"; "1.00" on the reference row; "NE" for a coefficient
    that may be infinite), ``uni_p`` / ``multi_p`` (style.fmt_p of the Wald p).
    A model that could not be fitted prints "NE" (the multivariable model: with a
    marked note on its column label giving the reason); a covariate for which
    no model could be fitted has one row whose ``label`` reads
    "Not estimable: <reason>.".
    """
    return _table3(results.cox, labels=_variable_labels(results), synthetic=results.synthetic,
                   left_out=_left_out(results),
                   alpha=_alpha(results)).frame


def table3(results: Results, *, title: str | None = None) -> DisplayTable:
    """Table 3: univariable and multivariable Cox models for overall survival, side by side."""
    return _table3(results.cox, labels=_variable_labels(results), synthetic=results.synthetic,
                   left_out=_left_out(results),
                   alpha=_alpha(results), title=title)

_ZPH_TRANSFORMS = {"km": "1 \u2212 Kaplan\u2013Meier (R default)", "rank": "rank", "identity": "identity",
                   "log": "log"}


def _zph(results: Results, title: str | None = None) -> DisplayTable:
    labels_of = _variable_labels(results)
    zph = results.cox.zph
    records = []
    if zph is not None and estimable(zph):
        for rec in zph.table.itertuples(index=False):
            records.append({"term": rec.term, "label": "Global test" if rec.term == "GLOBAL" else
                            labels_of.get(rec.term, rec.term), "chisq": st.fmt_num(rec.chisq, 2),
                            "df": str(int(rec.df)), "P": st.fmt_p(rec.p)})
        note = (f"Grambsch\u2013Therneau score test of proportional hazards for the multivariable Cox model "
                f"(as cox.zph of R survival, version 3 or later); time transform: "
                f"{_ZPH_TRANSFORMS.get(zph.transform, zph.transform)}.")
    elif zph is not None:  # NotEstimable: say why in the table
        records.append({"term": "", "label": st.fmt_not_estimable(not_estimable_reason(zph)), "chisq": "", "df": "",
                        "P": ""})
        note = ("Grambsch\u2013Therneau score test of proportional hazards for the multivariable Cox model "
                "(as cox.zph of R survival, version 3 or later).")
    else:
        note = "The test of proportional hazards could not be computed for this model."
    frame = pd.DataFrame(records, columns=["term", "label", "chisq", "df", "P"])
    labels = {"label": "Covariate", "chisq": "\u03c7\u00b2", "df": "df", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "chisq", "df", "P"), labels=labels, id="gt-s-zph",
                        footnotes=(Footnote(note),), source_notes=_source_notes(results.synthetic), title=title)


def zph_frame(results: Results) -> pd.DataFrame:
    """Proportional-hazards test: ``term`` (covariate or GLOBAL), ``label``,
    ``chisq`` (2 decimals), ``df``, ``P``. When the test is not estimable, one
    row: ``term`` "", ``label`` "Not estimable: <reason>.", other cells empty."""
    return _zph(results).frame


def zph_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: test of proportional hazards (cox.zph) per covariate and global."""
    return _zph(results, title)


def _cox_full(results: Results, title: str | None = None) -> DisplayTable:
    labels_of = _variable_labels(results)
    cox = results.cox
    multi = cox.multivariable
    multi_ok = estimable(multi)
    level = _level(_alpha(results))
    records, monotone = [], []
    empty = {"coef": "", "se": "", "hr": "", "ci": "", "z": "", "P": ""}
    if not multi_ok:
        records.append({"section": "Multivariable model", "term": "",
                        "label": st.fmt_not_estimable(not_estimable_reason(multi)), **empty})
    sections = ([("Multivariable model", multi.table)] if multi_ok else []) + [("Univariable models",
                                                                                  cox.univariable)]
    for section, table in sections:
        for rec in table.itertuples(index=False):
            name = labels_of.get(rec.variable, rec.variable)
            if not _is_missing(getattr(rec, "not_estimable", None)):
                records.append({"section": section, "term": rec.term,
                                "label": st.fmt_not_estimable(_row_reason(rec), name), **empty})
                continue
            label = name if rec.level is None or (isinstance(rec.level, float) and math.isnan(rec.level)) else (
                f"{name}: {_level_text(rec.variable, rec.level)} vs {_level_text(rec.variable, rec.reference)}")
            if bool(rec.monotone):  # the fit's last iterate (coef -31, SE 3e6, HR 0.00) is no estimate
                records.append({"section": section, "term": rec.term, "label": label,
                                **dict.fromkeys(empty, st.NOT_ESTIMABLE)})
                monotone.append(len(records) - 1)
                continue
            records.append({"section": section, "term": rec.term, "label": label,
                            "coef": st.fmt_num(rec.coef, 3), "se": st.fmt_num(rec.se, 3),
                            "hr": st.fmt_ratio(rec.hr),
                            "ci": st.fmt_ci(None, None, lower_text=st.fmt_ratio(rec.lower),
                                            upper_text=st.fmt_ratio(rec.upper)),
                            "z": st.fmt_num(rec.z, 2), "P": st.fmt_p(rec.p)})
    frame = pd.DataFrame(records, columns=["section", "term", "label", "coef", "se", "hr", "ci", "z", "P"])

    notes = [
        Footnote(f"Cox proportional-hazards models of overall survival from relapse (Efron's method for ties). "
                 f"coef, log hazard ratio; SE, its standard error; HR, hazard ratio with {level}% Wald CI; "
                 f"z and P, Wald test."),
    ]
    if multi_ok:
        notes.append(Footnote(
            f"Multivariable model: {multi.n} patients, {multi.n_events} events, {multi.n_parameters} "
            f"parameters ({st.fmt_num(multi.events_per_parameter, 1)} events per parameter)"
            + (", " + left_out_phrase(results, results.cox.covariates, multi.n_excluded) if multi.n_excluded else "")
            + ". "
            + _capitalise(global_tests_text(multi))
            + f"; concordance (Harrell's C) {st.fmt_num(multi.concordance, 3)}."))
        notes.extend(Footnote(f"Caution, multivariable model: {w}.") for w in note_cautions(multi.cautions))
    marked = ()
    if monotone:
        marked = (Footnote("Not estimable: the coefficient may be infinite (monotone likelihood), so no "
                           "coefficient, HR, CI or P is given.", "label", tuple(monotone)),)
    labels = {"label": "", "coef": "coef", "se": "SE", "hr": "HR", "ci": f"{level}% CI", "z": "z", "P": "P"}
    return DisplayTable(frame=frame, columns=("label", "coef", "se", "hr", "ci", "z", "P"), labels=labels,
                        id="gt-s-cox", group="section", footnotes=tuple(notes) + marked,
                        source_notes=_source_notes(results.synthetic), title=title)


def cox_full_frame(results: Results) -> pd.DataFrame:
    """Full Cox output: ``section`` ("Multivariable model", "Univariable models"),
    ``term``, ``label`` ("Salvage group: Chemotherapy vs Targeted"), ``coef``,
    ``se`` (3 decimals), ``hr``, ``ci`` (2 decimals), ``z`` (2 decimals), ``P``;
    "NE" in each of them for a coefficient that may be infinite (monotone
    likelihood), with a marked note on its label.
    A model that could not be fitted has one row whose ``label`` says why
    ("Not estimable: <reason>." for the multivariable model, "<covariate> not
    estimable: <reason>." for a univariable one) and empty cells."""
    return _cox_full(results).frame


def cox_full_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """Supplementary table: the Cox models in full, with the global tests and concordance in the notes."""
    return _cox_full(results, title)
