"""Validation of the loaded cohort against the data dictionary (load -> validate).

Validation only checks and reports; it never changes the data. The checks are
a pandera ``DataFrameSchema`` built from ``data/dictionary.yml``
(:func:`build_schema`), run with ``lazy=True`` so that every failure is
collected at once; pandera's failure cases are mapped back to the file, row
and patient through ``LoadedCohort.origin`` and reworded as plain
:class:`~analysis.load.Problem` messages.

Rules, per value (column checks): the value can be read as its type (a date
that exists in the calendar, a number); a category holds one of its codes; a
number lies in its range; a required variable is present; a date is not in the
future.

Rules across a row (dataframe-level "wide" checks, one boolean per row):

* conditional requirements both ways: a variable whose requirement is a
  condition (``salvage == yes``) is present exactly when the condition holds
  ("cr_date is given but best_response is PR"; "best_response is CR but
  cr_date is missing"). This also covers: no best response, salvage class or
  salvage date without salvage; a cause of death only with a date of death; a
  relapse after salvage remission only after CR/CRi.
* clinical order of dates (:data:`CLINICAL_ORDER`): each date is on or after
  the nearest earlier date in the order that is given (equal dates allowed);
* end of follow-up (date of death when given, else date of last contact): no
  date after it;
* the consolidative transplant after salvage (hsct_date) is on or after the
  start of salvage;
* the date of last contact is not after the date of death.

Clinical consistency rules across variables (``rules:`` in the dictionary,
:class:`analysis.dictionary.Rule`): each an error or a warning as the
dictionary says, evaluated vectorised beside the rules above.

Across all sites: the pseudonym (patient_id) is unique; rows under different
pseudonyms whose every date, number and code agree are reported (the
dictionary's ``same_record`` rule, a warning naming both rows).

The report (:meth:`ValidationReport.format`) groups problems of one kind
repeated in one file and column into one line; the problems themselves stay
one per cell (:meth:`ValidationReport.to_frame`). Its exit status
(:attr:`ValidationReport.exit_code`) is 2 when a file the user writes (a
mapping file, the sources list) is wrong, 1 for data errors, 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from ._lazy import lazy

pa = lazy("pandera.pandas")    # imported on first use: a document kernel never validates

from .config import Config, optional_input
from .dictionary import Condition, Dictionary, Rule, Variable, load_dictionary
from .load import (
    ISO_DATE_FORMAT,
    LoadedCohort,
    Problem,
    checked_split,
    distinct_text,
    is_missing,
    is_text,
    load_sources,
    map_distinct,
    map_split,
    _ranges,
    date_format_hint,
    date_layout,
    missing_hint,
    parse_value,
    show_value,
    site_code,
    visible,
)

__all__ = [
    "CLINICAL_ORDER",
    "END_OF_FOLLOW_UP",
    "DataValidationError",
    "Problem",
    "ValidationReport",
    "build_schema",
    "validate",
    "validate_config",
]

#: Dates in the order the clinical course allows (each on or after the previous).
CLINICAL_ORDER = (
    "diagnosis_date",
    "cart_date",
    "relapse_date",
    "salvage_date",
    "cr_date",
    "post_salvage_relapse_date",
)
#: End of follow-up: the first of these that is given.
END_OF_FOLLOW_UP = ("death_date", "last_contact_date")
ORDER_IN_WORDS = (
    "diagnosis, CAR-T infusion, relapse, start of salvage, CR/CRi, relapse after salvage, "
    "then death or last contact"
)
#: Problems of the configuration the user writes (exit status 2), not of the data (exit status 1).
CONFIGURATION_RULES = ("mapping", "duplicate_source", "sheet", "source_site")
_POSITION = "__position__"  # helper column: keeps every failing row visible in pandera's failure cases
_PATIENT_ID = "patient_id"


# ---------------------------------------------------------------------------
# The report


class DataValidationError(ValueError):
    """The data failed validation; ``report`` holds every problem."""

    def __init__(self, report: "ValidationReport") -> None:
        super().__init__(report.format())
        self.report = report


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found, loading problems first, then validation problems
    in file and row order.

    ``n_patients``: rows loaded; ``n_files``: files that contributed rows.
    """

    problems: tuple[Problem, ...] = field(default_factory=tuple)
    n_patients: int = 0
    n_files: int = 0

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")

    @property
    def configuration_errors(self) -> tuple[Problem, ...]:
        """Errors in files the user writes (mapping files, the sources list), not in the data."""
        return tuple(p for p in self.errors if p.rule in CONFIGURATION_RULES)

    @property
    def exit_code(self) -> int:
        """0 valid; 2 when a file the user writes (mapping, sources list) is wrong; else 1 for data errors."""
        return 2 if self.configuration_errors else 1 if self.errors else 0

    @property
    def ok(self) -> bool:
        """True when there is no error-level problem (warnings do not fail)."""
        return not self.errors

    def format(self) -> str:
        """One line per problem (problems of one kind repeated in one file and column: one
        line for all of them, see :func:`_grouped_lines`), then a line counting them and a
        line saying what to do."""
        lines = _grouped_lines(self.problems)
        patients = {(p.file, p.row) for p in self.problems if p.row is not None}
        whole_files = sum(1 for p in self.problems if p.row is None)
        if not self.problems:
            lines.append(
                f"No problems: {_count(self.n_patients, 'patient')} from {_count(self.n_files, 'file')} "
                "passed every check."
            )
            return "\n".join(lines)
        n_err, n_warn = len(self.errors), len(self.warnings)
        summary = f"{_count(len(self.problems), 'problem')} ({_count(n_err, 'error')}, {_count(n_warn, 'warning')})"
        if patients:
            summary += f" concerning {_count(len(patients), 'patient')} of {self.n_patients} loaded"
        else:
            summary += f"; {_count(self.n_patients, 'patient')} loaded"
        if whole_files:
            summary += f"; {_count(whole_files, 'problem')} {'concerns' if whole_files == 1 else 'concern'} a whole file or column"
        lines.append(summary + ".")
        configuration = self.configuration_errors
        if configuration:
            at_line = all(re.search(r" line \d+", p.message) for p in configuration)
            lines.append(
                "The configuration has errors: correct the entries named above (in the mapping file, the sources "
                "list or analysis.yml" + (", at the line given" if at_line else "")
                + ") and run again; data/mapping.example.yml shows every mapping entry."
            )
        if n_err > len(configuration):
            lines.append(
                ("Then correct" if configuration else "What to do: correct")
                + " each value named above in the site's export (or the site's mapping "
                "file, see data/mapping.example.yml) and run again; data/dictionary.yml defines every "
                "variable, code and rule. Nothing is analysed until every error is resolved."
            )
        elif n_err:
            lines.append("Nothing is analysed until every error is resolved.")
        elif any(p.rule == "covariate_input" for p in self.warnings):
            lines.append("The data can be analysed, but not every model: the warnings say which and what to do.")
        else:
            lines.append("The data can be analysed; the warnings name columns that were not used.")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per problem; columns file, row, patient, column, value, rule, message, level."""
        columns = ["file", "row", "patient", "column", "value", "rule", "message", "level"]
        frame = pd.DataFrame([{c: getattr(p, c) for c in columns} for p in self.problems], columns=columns)
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def raise_if_errors(self) -> None:
        """Raise :class:`DataValidationError` (message: :meth:`format`) when not ``ok``."""
        if not self.ok:
            raise DataValidationError(self)


#: Problems of one kind repeated at least this often in one file and column are reported on one line.
GROUP_AT = 4
#: Rules about one value (or one whole row's shape) whose problems are grouped.
GROUPED_RULES = frozenset(
    ["type", "code", "range", "future_date", "required", "required_if", "not_applicable", "site_mismatch", "site_code",
     "row_length", "unique_patient"]
)


def _pattern(problem: Problem) -> str:
    """The message with the value left out: problems of one kind share it."""
    message = problem.message
    if problem.value:
        message = message.replace(visible(problem.value), "…").replace(problem.value, "…")
    return message.split("; ", 1)[0]  # hints (after '; ') may name the value


def _grouped_lines(problems: tuple[Problem, ...]) -> list[str]:
    """One line per problem, except that problems with the same file, rule, column, level and
    message (the value left out) that occur GROUP_AT times or more become one line:
    'FILE, column C (label): 28 values are not a date (expected YYYY-MM-DD), e.g. rows 2–29
    '22/09/2020', '23/09/2020'; set date_format: ...' ."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groupable = p.row is not None and p.rule in GROUPED_RULES
        key = (p.file, p.rule, p.column, p.level, _pattern(p)) if groupable else (id(p),)
        groups.setdefault(key, []).append(p)
    lines = []
    for key, members in groups.items():
        first = members[0]
        pattern = _pattern(first)
        mixed = ""
        if "is not a date" in pattern:
            expected = re.search(r"is not a date \(expected ([^)]+)\)", pattern)
            date_format = expected[1] if expected else ISO_DATE_FORMAT
            mixed = _mixed_layouts_hint(members, date_format)
        if len(members) < GROUP_AT:
            # a few refused dates in different layouts: each keeps its line (row, patient), and each
            # says the layouts are mixed instead of advising a date_format of its own (they would contradict)
            lines += [_with_hint(p, mixed).line() if mixed and p.value and date_layout(p.value) else p.line()
                      for p in members]
            continue
        values = list(dict.fromkeys(p.value for p in members if p.value is not None))
        shown = ", ".join(visible(v) if visible(v) != v else f"'{v}'" for v in values[:3]) + (", ..." if len(values) > 3 else "")
        rows = f"rows {_ranges(sorted(p.row for p in members))}"
        n = len(members)
        if pattern.startswith("… is ") and values:
            text = f"{n} values are {pattern[len('… is '):].rstrip('.')}, e.g. {rows}: {shown}"
        elif pattern.startswith("… is "):
            text = f"{n} values are {pattern[len('… is '):].rstrip('.')} ({rows})"
        elif len(values) == 1:
            text = f"{n} rows ({rows}): {pattern.replace('…', values[0]).rstrip('.')}"
        else:
            text = f"{n} rows ({rows}): {pattern.rstrip('.')}" + (f" (e.g. {shown})" if values else "")
        hint = ""
        if "is not a date" in pattern:
            hint = mixed or date_format_hint(values, date_format)
        if not hint and "; " in first.message:
            hint = "; " + first.message.split("; ", 1)[1].rstrip(".")
            if first.value and first.value in hint and len(values) > 1:
                hint = hint.replace(first.value, "…")
        grouped = Problem(first.file, None, None, first.column, None, first.rule, text + hint + ".",
                          first.level, first.label, first.site_column)
        lines.append(grouped.line())
    return lines


def _mixed_layouts_hint(members: list[Problem], date_format: str) -> str:
    """'; the dates are written in several layouts: DD/MM/YYYY (rows 4, 8), MM/DD/YYYY (rows 5, 9) ...'
    when the refused dates of a column are in two or more layouts (no date_format reads them all,
    and one would misread the others), else ''."""
    rows: dict[str, list[int]] = {}
    layouts = {v: date_layout(v) for v in {p.value for p in members if p.value}}  # once per distinct value
    for p in members:
        layout = layouts.get(p.value)
        if layout is not None and p.row is not None:
            rows.setdefault(layout, []).append(p.row)
    definite = [layout for layout in rows if " or " not in layout]
    if len(definite) < 2:
        return ""
    named = ", ".join(f"{layout} ({'row' if len(n) == 1 else 'rows'} {_ranges(sorted(n), limit=3)})"
                      for layout, n in sorted(rows.items(), key=lambda item: min(item[1])))
    besides = f", besides {date_format} (the date_format of the site's mapping file)" if date_format != ISO_DATE_FORMAT else ""
    return (f"; the dates are written in several layouts: {named}{besides}. One date_format cannot read them all "
            "(and would misread day and month of the others): write every date of the column in one layout, "
            "e.g. YYYY-MM-DD")


def _with_hint(problem: Problem, hint: str) -> Problem:
    """``problem`` with its hint (the message after its first '; ') replaced by ``hint`` ('; ...')."""
    return replace(problem, message=problem.message.split("; ", 1)[0].rstrip(".") + hint + ".")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------
# Row-wise helpers shared by the checks and by the messages


def _each(series: pd.Series, fn: Callable[[Any], Any], dtype: Any = bool) -> pd.Series:
    """``series.map(fn)``, with ``fn`` evaluated once per distinct value for text
    columns (:func:`analysis.load.map_distinct`; ``fn`` treats every missing
    value alike). Used for every per-value rule, so that a registry of a
    million rows is checked in seconds with the same results."""
    return pd.Series(map_distinct(series.to_numpy(dtype=object), fn, dtype=dtype), index=series.index)


def _element_check(fn: Callable[[Any], bool], name: str, frame: "_Frame") -> pa.Check:
    """A per-value rule as a vectorised pandera check: the failures of
    ``element_wise=True``. ``ignore_na=False``: every rule here decides about a
    missing value itself (``required`` fails it, the others pass it, as pandera's
    ``ignore_na`` would), and pandera is spared a search for missing values per rule."""
    return pa.Check(lambda s: frame.column_each(s, fn), name=name, ignore_na=False, n_failure_cases=1)


class _Frame:
    """What the checks of one schema read from the data, computed once instead of
    once per rule: the distinct values of each column
    (:func:`analysis.load.distinct_text`) and the parsed dates. pandera passes
    the same frame object to every dataframe-level check, and the same column
    object to every check of that column; a different object (compared by
    identity, held by a weak reference) starts afresh. A performance device
    for registry-scale data: the results are those of the rules applied cell
    by cell."""

    def __init__(self, known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        #: splits found while reading (LoadedCohort.splits), used where checked_split proves them right
        self._known = known or {}
        self._ref: Callable[[], pd.DataFrame | None] = lambda: None
        self._splits: dict[str, Any] = {}
        self._dates: _Dates | None = None
        self._column_ref: Callable[[], pd.Series | None] = lambda: None
        self._column_split: Any = None

    def column_each(self, series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
        """``series.map(fn)`` as booleans for a column check; pandera passes the same
        column object to each check of the column, so its distinct values are
        found once for all of them."""
        values = series.to_numpy(dtype=object)
        if self._column_ref() is not series:
            self._column_ref = weakref.ref(series)
            self._column_split = self._distinct(series.name, values)
        return pd.Series(map_split(values, self._column_split, fn, dtype=bool), index=series.index)

    def _use(self, df: pd.DataFrame) -> None:
        if self._ref() is not df:
            self._ref = weakref.ref(df)
            self._splits, self._dates = {}, None

    def split(self, df: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray] | None:
        self._use(df)
        if column not in self._splits:
            self._splits[column] = self._distinct(column, df[column].to_numpy(dtype=object))
        return self._splits[column]

    def _distinct(self, column: Hashable, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        known = checked_split(values, self._known.get(column)) if column in self._known else None
        return known if known is not None else distinct_text(values)

    def each(self, df: pd.DataFrame, column: str, fn: Callable[[Any], Any]) -> pd.Series:
        """``df[column].map(fn)`` as booleans, ``fn`` once per distinct value."""
        values = df[column].to_numpy(dtype=object)
        return pd.Series(map_split(values, self.split(df, column), fn, dtype=bool), index=df.index)

    def holds(self, df: pd.DataFrame, cond: Condition) -> pd.Series:
        """``cond.holds(df)``, evaluated on the distinct values of the condition's
        column (it is a rule on that one value) when the column is text."""
        split = self.split(df, cond.column) if cond.column in df.columns else None
        if split is None:
            return cond.holds(df)
        codes, uniques = split
        small = pd.DataFrame({cond.column: np.append(uniques, None).astype(object)})
        table = cond.holds(small).to_numpy(dtype=bool)  # the last row: missing (code -1)
        return pd.Series(table[codes], index=df.index)

    def present(self, df: pd.DataFrame, column: str) -> pd.Series:
        return self.each(df, column, lambda v: not is_missing(v))

    def dates(self, df: pd.DataFrame, make: Callable[[pd.DataFrame], "_Dates"]) -> "_Dates":
        self._use(df)
        if self._dates is None:
            self._dates = make(df)
        return self._dates


def _wide(fn: Callable[[pd.DataFrame], pd.Series], name: str) -> pa.Check:
    """A rule across a row (one boolean per row). ``ignore_na=False``: pandera would
    otherwise pass rows whose every value is missing, which never occur here (the
    helper column ``_POSITION`` is never missing, and every rule passes such a row
    anyway), at the cost of testing the whole frame for missing values once per rule."""
    return pa.Check(fn, name=name, ignore_na=False, n_failure_cases=1)  # rows: from its output (_failures)


def _valid_code(var: Variable) -> Callable[[Any], bool]:
    allowed = set(var.code_labels)
    return lambda v: is_missing(v) or parse_value(v, "category") in allowed


class _Dates:
    """The date columns of some rows, read once with :func:`parse_value`
    (NaT where missing or unreadable: the type check reports those), and the
    date rules evaluated on them, one value per row.
    """

    def __init__(
        self, frame: pd.DataFrame, dates: tuple[str, ...], order: tuple[str, ...], end: tuple[str, ...],
        date_format: str,
    ) -> None:
        def read(value: Any) -> np.datetime64:
            try:
                day = parse_value(value, "date", date_format=date_format)
            except ValueError:
                day = None
            return np.datetime64("NaT", "D") if day is None else np.datetime64(day.date(), "D")

        self.index = frame.index
        self.columns = dates
        self.order = order
        self.end = end
        self.followed = order + tuple(c for c in dates if c not in order and c not in end)
        n = len(frame)
        self.values = np.array(
            [map_distinct(frame[c].to_numpy(dtype=object), read, dtype="datetime64[D]")
             if c in frame else [np.datetime64("NaT", "D")] * n for c in dates],
            dtype="datetime64[D]",
        ).reshape(len(dates), n).T  # rows x date columns

    def __getitem__(self, column: str) -> np.ndarray:
        return self.values[:, self.columns.index(column)]

    def earlier(self) -> np.ndarray:
        """For each row and each date of the clinical order: the position (in the order) of the
        nearest earlier date that is given, or -1."""
        n = len(self.index)
        nearest = np.full(n, -1)
        out = np.full((n, len(self.order)), -1)
        for j, column in enumerate(self.order):
            out[:, j] = nearest
            nearest = np.where(~np.isnat(self[column]), j, nearest)
        return out

    def order_violations(self) -> np.ndarray:
        """rows x order: the date is before the nearest earlier given date (NaT compares False)."""
        if not self.order:
            return np.zeros((len(self.index), 0), dtype=bool)
        values = np.column_stack([self[c] for c in self.order])
        earlier = self.earlier()
        rows = np.arange(len(self.index))[:, None]
        before = values[rows, np.clip(earlier, 0, None)]
        return (earlier >= 0) & (values < before)

    def end_of_follow_up(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (name, date) of the end of follow-up, the first of ``end`` that is given."""
        names = np.full(len(self.index), None, dtype=object)
        when = np.full(len(self.index), np.datetime64("NaT", "D"))
        for column in reversed(self.end):  # the first given wins
            given = ~np.isnat(self[column])
            names[given] = column
            when[given] = self[column][given]
        return names, when

    def after_end(self) -> np.ndarray:
        """Per row: the first date (clinical order first, then the others) after the end of follow-up, or None."""
        _, when = self.end_of_follow_up()
        out = np.full(len(self.index), None, dtype=object)
        for column in reversed(self.followed):  # the first one wins
            out[self[column] > when] = column
        return out


def _row_check(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=bool), index=index)


# ---------------------------------------------------------------------------
# The schema


def _name(rule: str, column: str | None) -> str:
    return f"{rule}|{column or ''}"


def _split(check_name: str) -> tuple[str, str | None]:
    rule, _, column = check_name.partition("|")
    return rule, column or None


def _parses(kind: str, date_format: str, decimal: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        try:
            parse_value(value, kind, date_format=date_format, decimal=decimal)
        except ValueError:
            return False
        return True

    return check


def _in_range(var: Variable, decimal: str) -> Callable[[Any], bool]:
    low, high = var.range

    def check(value: Any) -> bool:
        try:
            number = parse_value(value, var.type, decimal=decimal)
        except ValueError:
            return True  # the type check reports it
        return number is None or low <= number <= high

    return check


def _not_future(date_format: str, today: dt.date) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        try:
            day = parse_value(value, "date", date_format=date_format)
        except ValueError:
            return True  # the type check reports it
        return day is None or day.date() <= today

    return check


def _date_columns(dictionary: Dictionary) -> tuple[str, ...]:
    return tuple(v.name for v in dictionary.variables if v.type == "date")


def build_schema(
    dictionary: Dictionary,
    *,
    date_format: str = ISO_DATE_FORMAT,
    decimal: str = ".",
    clinical_order: tuple[str, ...] = CLINICAL_ORDER,
    end_of_follow_up: tuple[str, ...] = END_OF_FOLLOW_UP,
    splits: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> pa.DataFrameSchema:
    """The pandera schema for raw rows written with ``date_format`` and ``decimal``.

    Built from the dictionary: one Column per variable (no dtype: raw values
    are checked as written) with per-value checks ``type``, ``code``,
    ``range``, ``required``, ``future_date`` (no date after the day of the
    run: a date not yet reached is a typing error, usually of the year);
    dataframe-level checks, each returning one
    boolean per row: ``required_if`` and ``not_applicable`` for each
    conditional requirement, ``date_order`` (each date of ``clinical_order``
    on or after the nearest earlier one given), ``end_of_follow_up`` (no date
    after the first of ``end_of_follow_up`` that is given),
    ``hsct_before_salvage`` and ``contact_after_death``. Check names are
    'rule|column' ('rule|' for rules across columns). Validate with
    ``lazy=True``.

    Performance (registry scale): each per-value rule is a vectorised check
    that evaluates the rule once per distinct value of the column
    (:func:`analysis.load.map_distinct`) and the rules across a row share the
    distinct values and parsed dates of the frame (:class:`_Frame`); the
    failures are those of the rule applied cell by cell. ``splits``: the
    distinct values of the columns as read (:attr:`LoadedCohort.splits`), each
    used only for a column it provably describes (:func:`analysis.load.checked_split`).
    """
    dates = _date_columns(dictionary)
    order = tuple(c for c in clinical_order if c in dates)
    end = tuple(c for c in end_of_follow_up if c in dates)
    columns = {}
    frame = _Frame(splits)
    for var in dictionary.variables:
        checks = []
        if var.required:
            checks.append(_element_check(lambda v: not is_missing(v), name=_name("required", var.name), frame=frame))
        # The rules below pass every missing value themselves, so pandera need not
        # drop missing values first (ignore_na=False there: same failures, one
        # pass less over the column per rule).
        if var.type in ("number", "integer", "date"):
            checks.append(_element_check(_parses(var.type, date_format, decimal), name=_name("type", var.name), frame=frame))
        if var.type == "date":
            checks.append(_element_check(_not_future(date_format, dt.date.today()),
                                         name=_name("future_date", var.name), frame=frame))
        if var.type == "category" and var.codes:
            checks.append(_element_check(_valid_code(var), name=_name("code", var.name), frame=frame))
        if var.range is not None and var.type in ("number", "integer"):
            checks.append(_element_check(_in_range(var, decimal), name=_name("range", var.name), frame=frame))
        columns[var.name] = pa.Column(None, checks=checks, nullable=True, required=True)

    wide: list[pa.Check] = []
    for var in dictionary.variables:
        cond = var.required_if
        if cond is None:
            continue

        def required_if(df: pd.DataFrame, col: str = var.name, cond: Condition = cond) -> pd.Series:
            return ~(frame.holds(df, cond) & ~frame.present(df, col))

        def not_applicable(df: pd.DataFrame, col: str = var.name, cond: Condition = cond) -> pd.Series:
            return ~(frame.present(df, col) & ~frame.holds(df, cond) & _condition_known(df, cond, dictionary, frame))

        wide.append(_wide(required_if, _name("required_if", var.name)))
        wide.append(_wide(not_applicable, _name("not_applicable", var.name)))

    def read(df: pd.DataFrame) -> _Dates:
        return frame.dates(df, lambda d: _Dates(d, dates, order, end, date_format))

    if len(order) > 1:
        wide.append(
            _wide(lambda df: _row_check(~read(df).order_violations().any(axis=1), df.index),
                  _name("date_order", None))
        )
    if end:
        wide.append(
            _wide(lambda df: _row_check(pd.isna(read(df).after_end()), df.index),
                  _name("end_of_follow_up", None))
        )
    if "hsct_date" in dates and "salvage_date" in dates:

        def hsct_after_salvage(df: pd.DataFrame) -> pd.Series:
            d = read(df)
            return _row_check(~(d["hsct_date"] < d["salvage_date"]), df.index)

        wide.append(_wide(hsct_after_salvage, _name("hsct_before_salvage", None)))
    if "death_date" in dates and "last_contact_date" in dates:

        def contact_before_death(df: pd.DataFrame) -> pd.Series:
            d = read(df)
            return _row_check(~(d["last_contact_date"] > d["death_date"]), df.index)

        wide.append(_wide(contact_before_death, _name("contact_after_death", None)))

    for rule in dictionary.rules:
        if rule.same_record:
            continue  # across rows: checked on the pooled cohort (validate)

        def rule_ok(df: pd.DataFrame, rule: Rule = rule) -> pd.Series:
            return _row_check(~_rule_broken(df, rule, frame, read, dictionary, decimal), df.index)

        wide.append(_wide(rule_ok, _name("rule", rule.id)))

    return pa.DataFrameSchema(columns, checks=wide, strict=False, ordered=False)


def _rule_broken(
    df: pd.DataFrame, rule: Rule, frame: _Frame, read: Callable[[pd.DataFrame], _Dates], dictionary: Dictionary,
    decimal: str,
) -> np.ndarray:
    """Per row: the dictionary rule is triggered and broken. A rule is not judged on a row
    where what it compares is missing or unreadable (other checks report those)."""
    n = len(df)
    triggered = frame.holds(df, rule.when).to_numpy(dtype=bool) if rule.when else np.ones(n, dtype=bool)
    if rule.then:
        holds = np.zeros(n, dtype=bool)
        known = np.ones(n, dtype=bool)
        given = np.zeros(n, dtype=bool)
        for cond in rule.then:
            holds |= frame.holds(df, cond).to_numpy(dtype=bool)
            if cond.present:
                given |= True  # the absence itself contradicts the rule
            else:
                known &= _condition_known(df, cond, dictionary, frame).to_numpy(dtype=bool)
                given |= frame.present(df, cond.column).to_numpy(dtype=bool)
        return triggered & ~holds & known & given
    if rule.span:
        return triggered & (_span_days(df, rule, read, decimal) > _span_limit(df, rule, decimal))
    return np.zeros(n, dtype=bool)


def _span_days(df: pd.DataFrame, rule: Rule, read: Callable[[pd.DataFrame], _Dates], decimal: str) -> np.ndarray:
    dates = read(df)
    return (dates[rule.span.end] - dates[rule.span.start]) / np.timedelta64(1, "D")  # NaN where a date is missing


def _span_limit(df: pd.DataFrame, rule: Rule, decimal: str) -> np.ndarray:
    span = rule.span
    if span.days is not None:
        return np.full(len(df), float(span.days))

    def years(value: Any) -> float:
        try:
            number = parse_value(value, "number", decimal=decimal)
        except ValueError:
            number = None
        return np.nan if number is None else number

    return (_each(df[span.years_of], years, dtype=float).to_numpy(dtype=float) + span.slack_years) * 365.25


def _condition_known(df: pd.DataFrame, cond: Condition, dictionary: Dictionary, frame: _Frame) -> pd.Series:
    """The condition's column is missing or a valid value (else its own check already reports it)."""
    if cond.present or cond.column not in dictionary:
        return pd.Series(True, index=df.index)
    var = dictionary[cond.column]
    if var.type != "category":
        return pd.Series(True, index=df.index)
    return frame.each(df, cond.column, _valid_code(var))


def _unique_schema() -> pa.DataFrameSchema:
    """Pooled check across all sites: each given pseudonym appears once."""

    def unique(df: pd.DataFrame) -> pd.Series:
        col = df[_PATIENT_ID]
        if is_text(col.to_numpy(dtype=object)):
            # all text: parse_value(v, "string") is v.strip(), and only spaces is missing
            ids = pd.Series([None if v is None or not isinstance(v, str) else (v.strip() or None)
                             for v in col.to_numpy(dtype=object)], index=col.index, dtype=object)
        else:
            ids = _each(col, lambda v: None if is_missing(v) else parse_value(v, "string"), dtype=object)
        return ~(ids.notna() & ids.duplicated(keep=False))

    return pa.DataFrameSchema(
        {_PATIENT_ID: pa.Column(None, nullable=True)}, checks=[_wide(unique, _name("unique_patient", _PATIENT_ID))]
    )


# ---------------------------------------------------------------------------
# From pandera's failure cases to problems


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[str, Hashable]]:
    """(check name, row index) of every failure, in schema order, without repeats.

    The failing rows of each check are read from the check's own output (one
    boolean per row, ``SchemaError.check_output``), not from pandera's failure
    cases: those list every cell of a failing row for a rule across the row,
    which pandera reshapes with pandas' ``unstack`` at a cost that grows with
    the failing rows times the columns (0.4 s for the 2,400 warnings of a
    100,000-patient registry). The checks keep one failure case each
    (``n_failure_cases=1``); the rows are the same."""
    # the frame with a position column, its other columns not copied (a copy is ~0.25 GB at
    # 1,000,000 patients); pandera validates it in place (its own copy: another one) and only reads it
    position = pd.Series(np.arange(len(frame)), index=frame.index, name=_POSITION)
    checked = pd.concat([frame, position], axis=1, copy=False)
    try:
        schema.validate(checked, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as err:
        pairs: set[tuple[str, Hashable]] = set()
        broken = []
        for error in err.schema_errors:
            output, name = error.check_output, getattr(error.check, "name", None)
            if name is None or not isinstance(output, pd.Series) or not output.index.equals(checked.index):
                broken.append(error)  # a check that raised, or a failure that is not a check's (a missing column)
                continue
            failed = checked.index[~output.to_numpy(dtype=bool)]
            pairs.update((str(name), i) for i in failed)
        if broken:
            cases = err.failure_cases
            broken_cases = cases[cases["index"].isna() | cases["check"].isna()]
            raise RuntimeError(f"a validation check could not run:\n{broken_cases.to_string()}") from None
        order = {name: i for i, name in enumerate(_check_names(schema))}
        return sorted(pairs, key=lambda p: (frame.index.get_loc(p[1]), order.get(p[0], len(order))))
    return []


def _check_names(schema: pa.DataFrameSchema) -> list[str]:
    names = [check.name for col in schema.columns.values() for check in col.checks]
    return names + [check.name for check in schema.checks]


def _site_name(loaded: LoadedCohort, file: str, column: str, *, alone: bool = False) -> str:
    """A column as the site's file names it, the dictionary's name in brackets: "'Rezidiv Datum' (relapse_date)"
    (``alone``: without them, for the column the line already names); the dictionary's name when the file uses it."""
    theirs = loaded.site_names.get(file, {}).get(column)
    return (f"'{theirs}'" if alone else f"'{theirs}' ({column})") if theirs and theirs != column else column


def _site_value(loaded: LoadedCohort, file: str, column: str, value: str | None) -> str | None:
    """A code as the site's file writes it, the dictionary's code in brackets: "'ja' (yes)"."""
    theirs = loaded.site_codes.get(file, {}).get(column, {}).get(value) if value is not None else None
    return f"'{theirs}' ({value})" if theirs and theirs != value else value


class _Rows:
    """The rows of a frame, read by label and column name: ``frame.loc[idx]``
    without building a Series of every column for each problem (~0.1 ms each, a
    fifth of the time the messages of a registry's thousands of warnings took).
    Each column's array is taken once, when first read."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame, self.index, self._arrays = frame, frame.columns, {}

    def row(self, idx: Hashable) -> "_Row":
        position = self.frame.index.get_loc(idx)
        if not isinstance(position, (int, np.integer)):  # a repeated label: not one row
            raise KeyError(f"row {idx!r} is not one row of the frame")
        return _Row(self, int(position))

    def value(self, position: int, column: str) -> Any:
        if column not in self._arrays:
            if column not in self.index:
                raise KeyError(column)
            self._arrays[column] = self.frame[column].to_numpy()
        return self._arrays[column][position]


class _Row:
    """One row of :class:`_Rows`: ``row[column]`` is the object ``frame.loc[idx][column]``
    holds; ``row.index`` the frame's columns."""

    __slots__ = ("_rows", "_position", "index")

    def __init__(self, rows: _Rows, position: int) -> None:
        self._rows, self._position, self.index = rows, position, rows.index

    def __getitem__(self, column: str) -> Any:
        return self._rows.value(self._position, column)


def _problem(
    rule: str,
    column: str | None,
    idx: Hashable,
    raw: pd.DataFrame,
    loaded: LoadedCohort,
    dictionary: Dictionary,
    date_format: str,
    decimal: str,
    rows: tuple[_Rows, _Rows] | None = None,
) -> Problem | list[Problem]:
    """The problem(s) behind one failed check on one row, in plain words (several for
    ``date_order`` when a row breaks the order in more than one place). ``rows``:
    :class:`_Rows` of ``raw`` and ``loaded.origin``, made once for all problems."""
    raw_rows, origin_rows = rows if rows is not None else (_Rows(raw), _Rows(loaded.origin))
    origin = origin_rows.row(idx)
    row = raw_rows.row(idx)
    value = show_value(row[column]) if column and column in row.index else None
    where = dict(file=origin["file"], row=int(origin["row"]), patient=origin["patient"])
    dates = _date_columns(dictionary)
    order = tuple(c for c in CLINICAL_ORDER if c in dates)
    end = tuple(c for c in END_OF_FOLLOW_UP if c in dates)
    # this row's dates, read only for the rules whose message compares dates
    needs_dates = rule in ("date_order", "end_of_follow_up") or (rule == "rule" and dictionary.rule(column).span)
    parsed = _Dates(raw.loc[[idx]], dates, order, end, date_format) if needs_dates else None

    if rule == "type":
        var = dictionary[column]
        try:
            parse_value(row[column], var.type, date_format=date_format, decimal=decimal)
            reason = "readable"  # not reached: the check failed on this value
        except ValueError as err:
            reason = str(err)
        message = f"{visible(value)} is not {reason}"
        hint = missing_hint(value)
        if not hint and var.type in ("number", "integer") and decimal == "." and re.fullmatch(r"\s*[+-]?\d+,\d+\s*", str(row[column])):
            hint = "; if this site writes decimal commas, add decimal: \",\" to its mapping file"
        if not hint and var.type in ("number", "integer") and _WITH_UNIT.fullmatch(str(row[column])):
            hint = f"; write the number alone, without a unit or sign such as %, years or <{' (' + var.unit + ')' if var.unit else ''}"
        if not hint and var.type == "date":
            hint = date_format_hint([value], date_format)
        if not hint and var.type == "integer" and reason == "a whole number":
            hint = f"; the dictionary asks for {var.definition[:1].lower()}{var.definition[1:].rstrip('.')}" \
                if var.definition else ""
        return Problem(**where, column=column, value=value, rule=rule, message=message + hint + ".")
    if rule == "code":
        var = dictionary[column]
        allowed = ", ".join(f"{code} ({label})" for code, label in var.codes)
        return Problem(
            **where, column=column, value=value, rule=rule,
            message=(
                f"{visible(value)} is not an allowed code for {column} (allowed: {allowed})"
                + (missing_hint(value) or f"; if the site uses its own codes, map them in its mapping file "
                   f"(codes: {column}: {value}: ...)")
                + "."
            ),
        )
    if rule == "range":
        var = dictionary[column]
        low, high = var.range
        unit = f" {var.unit}" if var.unit else ""
        return Problem(
            **where, column=column, value=value, rule=rule,
            message=f"{value} is outside the allowed range for {column}, {low:g} to {high:g}{unit}.",
        )
    if rule == "future_date":
        return Problem(
            **where, column=column, value=value, rule=rule,
            message=f"{value} is in the future (after today, {dt.date.today().isoformat()}); check the year.",
        )
    file = where["file"]
    if rule == "required":
        var = dictionary[column]
        name = _site_name(loaded, file, column, alone=True)
        return Problem(
            **where, column=column, value=value, rule=rule,
            message=f"{name if name != column else f'{column} ({var.label})'} is missing; it is required for "
                    "every patient.",
        )
    if rule in ("required_if", "not_applicable"):
        cond = dictionary[column].required_if
        actual = show_value(row[cond.column]) if cond.column in row.index else None
        name, cond_name = _site_name(loaded, file, column, alone=True), _site_name(loaded, file, cond.column)
        actual = _site_value(loaded, file, cond.column, actual)
        if rule == "required_if":
            message = (
                f"{name} is missing, but it is required when {cond.text()} "
                f"(here {cond_name} is {actual})."
            )
        else:
            state = f"{cond_name} is {actual}" if actual is not None else f"{cond_name} is missing"
            message = f"{name} {value} is given, but {state}: {column} is recorded only when {cond.text()}."
        return Problem(**where, column=column, value=value, rule=rule, message=message)
    if rule == "date_order":
        out = []
        violated, earlier = parsed.order_violations()[0], parsed.earlier()[0]
        for j in np.flatnonzero(violated):
            later, before = order[j], order[earlier[j]]
            out.append(
                Problem(
                    **where, column=None, value=show_value(row[later]), rule=rule,
                    message=(
                        f"{_site_name(loaded, file, later)} {show_value(row[later])} is before "
                        f"{_site_name(loaded, file, before)} {show_value(row[before])} "
                        f"(dates must follow the clinical order: {ORDER_IN_WORDS})."
                    ),
                )
            )
        return out
    if rule == "end_of_follow_up":
        end_name = parsed.end_of_follow_up()[0][0]
        later = parsed.after_end()[0]
        end_value = show_value(row[end_name])
        what = "the date of death" if end_name == "death_date" else "the date of last contact (no death recorded)"
        return Problem(
            **where, column=None, value=end_value, rule=rule,
            message=(
                f"{_site_name(loaded, file, end_name)} {end_value} is before {_site_name(loaded, file, later)} "
                f"{show_value(row[later])}: no date may follow the end "
                f"of follow-up, here {what} (dates must follow the clinical order: {ORDER_IN_WORDS})."
            ),
        )
    if rule == "hsct_before_salvage":
        hsct = show_value(row["hsct_date"])
        return Problem(
            **where, column=None, value=hsct, rule=rule,
            message=(
                f"hsct_date {hsct} is before salvage_date {show_value(row['salvage_date'])}: the consolidative "
                "transplant after salvage cannot precede the start of salvage."
            ),
        )
    if rule == "contact_after_death":
        contact = show_value(row["last_contact_date"])
        return Problem(
            **where, column=None, value=contact, rule=rule,
            message=(
                f"last_contact_date {contact} is after death_date {show_value(row['death_date'])}: nothing can "
                "follow death (the date of last contact is at most the date of death)."
            ),
        )
    if rule == "rule":
        return _rule_problem(dictionary.rule(column), row, where, decimal, parsed, dictionary, loaded)
    raise RuntimeError(f"no message for validation rule {rule!r}")


def _rule_problem(rule: Rule, row: "_Row | pd.Series", where: dict, decimal: str, parsed: "_Dates | None",
                  dictionary: Dictionary, loaded: LoadedCohort | None = None) -> Problem:
    """A broken dictionary rule: the values it read (each variable with its label, in the site's
    own words where its mapping file renames them), then the rule's own words."""

    def fact(column: str) -> str:
        value = show_value(row[column]) if column in row.index else None
        theirs = _site_name(loaded, where["file"], column) if loaded is not None else column
        if loaded is not None:
            value = _site_value(loaded, where["file"], column, value)
        name = (theirs if theirs != column else
                f"{column} ({dictionary.label(column)})" if dictionary.label(column) else column)
        return f"{name} is {value}" if value is not None else f"{name} is missing"

    facts = []
    if rule.when is not None:
        facts.append(fact(rule.when.column))
    if rule.then:
        shown = {rule.when.column} if rule.when is not None else set()
        facts += [fact(c.column) for c in rule.then if c.column not in shown]
        value = show_value(row[rule.when.column]) if rule.when is not None else None
    else:
        span = rule.span
        start, end = show_value(row[span.start]), show_value(row[span.end])
        days = int((parsed[span.end][0] - parsed[span.start][0]) / np.timedelta64(1, "D"))
        facts.append(f"{span.start} {start} to {span.end} {end} is {days} days ({days / 365.25:.1f} years)")
        if span.years_of:
            facts.append(fact(span.years_of))
        value = end
    return Problem(**where, column=None, value=value, rule=rule.id, message=f"{'; '.join(facts)}: {rule.message}.",
                   level=rule.level)


#: Two files that share at least this many patients, and at least half of the patients of the smaller
#: one, are taken for two versions of one export (two data freezes), reported once for the pair.
VERSIONS_SHARE = 2


def _duplicate_problems(loaded: LoadedCohort) -> tuple[list[tuple[Hashable, Problem]], list[Problem]]:
    """Pseudonyms used by more than one row (rule ``unique_patient``). Two files that hold largely
    the same patients (:data:`VERSIONS_SHARE`; e.g. the 2024 and 2025 freezes of one export, both in
    the data folder; or two sites' files numbering their patients alike, told as such, see
    :func:`_export_versions`) are one problem for the pair, not one per patient and file; a patient repeated
    in the same file, or in a file that shares only a few patients with it, keeps a line per row.

    Returns (row problems with their index, problems of a pair of files)."""
    out: list[tuple[Hashable, Problem]] = []
    raw, origin = loaded.raw, loaded.origin
    failures = _failures(_unique_schema(), raw[[_PATIENT_ID]])
    if not failures:
        return out, []
    # the rows of each repeated pseudonym (as read: missing -> None), found once: scanning every row for
    # each repeat took time growing with the repeats times the rows (minutes for a registry with hundreds)
    ids = _each(raw[_PATIENT_ID], lambda v: None if is_missing(v) else parse_value(v, "string"), dtype=object)
    repeated = {parse_value(raw.at[idx, _PATIENT_ID], "string") for _, idx in failures}
    rows_of: dict[str, list[Hashable]] = {}
    for j, pid in ids[ids.isin(repeated).to_numpy(dtype=bool)].items():  # in raw's order
        rows_of.setdefault(pid, []).append(j)
    versions, whole = _export_versions(loaded, ids, repeated)
    for check, idx in failures:
        pid = parse_value(raw.at[idx, _PATIENT_ID], "string")
        file = origin.at[idx, "file"]
        others = [j for j in rows_of.get(pid, ()) if j != idx]
        if others and all(frozenset((file, origin.at[j, "file"])) in versions for j in others):
            continue  # only in the other version of the same export: said once for the two files
        others = [f"{origin.at[j, 'file']} row {origin.at[j, 'row']}" for j in others]
        out.append(
            (
                idx,
                Problem(
                    file=file, row=int(origin.at[idx, "row"]), patient=origin.at[idx, "patient"],
                    column=_PATIENT_ID, value=pid, rule="unique_patient",
                    message=(
                        f"patient_id {pid} is used more than once (also {'; '.join(others)}); each pseudonym "
                        "must be unique across all sites."
                    ),
                ),
            )
        )
    return out, whole


def _export_versions(loaded: LoadedCohort, ids: pd.Series,
                     repeated: set[str]) -> tuple[set[frozenset[str]], list[Problem]]:
    """The pairs of files that hold largely the same pseudonyms (at least :data:`VERSIONS_SHARE`
    patients and at least half of the patients of the smaller file), and one problem for each pair.

    What the pair is depends on the site its shared patients were loaded with (``raw``'s site
    column, which holds the configured site where the file has none): of one site, the two files
    look like two versions of one export (two data freezes); of two different sites (site_a.csv of
    SITE-A and site_b.csv of SITE-B both numbering their patients 001, 002 ...), the two sites use
    the same pseudonyms, which must be unique across the study. Counted on the distinct
    (file, pseudonym, site) rows, vectorised."""
    files = loaded.origin["file"].to_numpy(dtype=object)
    raw = loaded.raw
    if "site" in raw.columns:
        sites = _each(raw["site"], lambda v: None if is_missing(v) else (show_value(v) or "").strip() or None,
                      dtype=object).to_numpy(dtype=object)
    else:
        sites = np.full(len(files), None, dtype=object)
    held = pd.DataFrame({"file": files, "pid": ids.to_numpy(dtype=object), "site": sites})
    held = held[held["pid"].notna().to_numpy(dtype=bool)]
    if held["file"].nunique() < 2:
        return set(), []
    n_of = held.drop_duplicates(["file", "pid"]).groupby("file", sort=False).size()
    order = {f: i for i, f in enumerate(pd.unique(files))}
    shared = held[held["pid"].isin(repeated).to_numpy(dtype=bool)].drop_duplicates(["file", "pid"])
    pairs = shared.merge(shared, on="pid", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["file_a"].map(order) < pairs["file_b"].map(order)).to_numpy(dtype=bool)]
    pairs = pairs.assign(same=(pairs["site_a"].fillna("").to_numpy(dtype=object)
                               == pairs["site_b"].fillna("").to_numpy(dtype=object)))
    versions: set[frozenset[str]] = set()
    whole: list[Problem] = []
    for (a, b), group in pairs.groupby(["file_a", "file_b"], sort=False):
        pids = group["pid"]
        n = len(pids)
        n_a, n_b = int(n_of[a]), int(n_of[b])
        if n < VERSIONS_SHARE or 2 * n < min(n_a, n_b):
            continue  # a few patients in both: a real repeat, told patient by patient
        versions.add(frozenset((a, b)))
        if not group["same"].all():  # not (only) one site's: two sites' pseudonyms collide
            whole.append(_sites_sharing_pseudonyms(a, b, group))
            continue
        both = (f"the file holds the same {n} patients as {a}" if n == n_a == n_b
                else f"the file holds {n} of the same patients as {a} ({n_b} patients in this file, {n_a} in {a})")
        examples = ("e.g. " if n > 3 else "") + ", ".join(pids.iloc[:3])
        if a in loaded.listed and b in loaded.listed:
            at_a, at_b = loaded.listed[a], loaded.listed[b]
            list_file, _, line = at_a.rpartition(" line ")
            if list_file and at_b.startswith(f"{list_file} line "):  # 'sources.yml line 2 or line 3'
                at_b = at_b[len(list_file) + 1:]
            advice = f"keep the one to analyse and delete the other's entry from the sources list ({at_a} or {at_b})"
        else:
            advice = ("keep only the one to analyse in the data folder, or list the files to read in a "
                      "sources.yml (one entry per site file; see 'Rendering with other data' in README.md)")
        whole.append(Problem(
            file=b, row=None, patient=None, column=_PATIENT_ID, value=None, rule="unique_patient",
            message=(f"{both} ({examples}): the two files look like two versions of one export "
                     f"(two data freezes), and each patient may be in the data only once. To read one version, "
                     f"{advice}."),
        ))
    return versions, whole


def _sites_sharing_pseudonyms(a: str, b: str, group: pd.DataFrame) -> Problem:
    """The one problem for two files of different sites that use the same pseudonyms for many
    patients (each numbering its own patients 001, 002 ...): not two versions of one export (the
    files are of two sites), and not one patient per pseudonym told twice row by row."""
    crossed = group[~group["same"].to_numpy(dtype=bool)]

    def site_of(column: str) -> str:
        named = crossed[column].dropna()
        return str(named.mode().iloc[0]) if len(named) else "(no site)"

    site_a, site_b = site_of("site_a"), site_of("site_b")
    n = len(group)
    examples = ("e.g. " if n > 3 else "") + ", ".join(group["pid"].iloc[:3])
    return Problem(
        file=b, row=None, patient=None, column=_PATIENT_ID, value=None, rule="unique_patient",
        message=(f"the files of site {site_a} ({a}) and site {site_b} (this file) use the same pseudonyms for "
                 f"{n} patients ({examples}), which would be read as the same patients at two sites; each "
                 f"pseudonym must be unique across the whole study, not only within a site. Give the patients of "
                 f"the two sites different pseudonyms in the exports, e.g. by prefixing each site's pseudonyms "
                 f"with its site code ({site_a}-{group['pid'].iloc[0]}, {site_b}-{group['pid'].iloc[0]}); a "
                 f"mapping file cannot change pseudonyms."),
    )


def _site_code_problems(loaded: LoadedCohort) -> tuple[list[tuple[Hashable, Problem]], list[Problem]]:
    """The ADaM datasets write each site as :func:`analysis.load.site_code` (ASCII: SAS transport
    files hold nothing else). Refused here, before any analysis: a site that has no such form,
    and two sites written differently that would become one code (they would be counted as one
    site), also when they differ only in capitals. A site named in the sources list is the
    configuration's problem (rule ``source_site``, exit 2, naming its line); a site read from
    the file's site column is the data's (rule ``site_code``, naming the rows).

    Returns (row problems with their index, problems of a whole file or of several files)."""
    raw, origin = loaded.raw, loaded.origin
    sites = _each(raw["site"], lambda v: None if is_missing(v) else parse_value(v, "string"), dtype=object)
    pairs = pd.DataFrame({"file": origin["file"].to_numpy(), "site": sites.to_numpy()}).dropna().drop_duplicates()
    rows_found: list[tuple[Hashable, Problem]] = []
    whole: list[Problem] = []
    by_code: dict[str, list[tuple[str, str, str | None, str]]] = {}

    def rows_of(file: str, site: str) -> pd.Index:
        return raw.index[((origin["file"] == file) & (sites == site)).to_numpy(dtype=bool)]

    for file, site in pairs.itertuples(index=False, name=None):
        configured = loaded.configured_sites.get(file)
        where = None
        if configured is not None and configured[0].strip() == site:
            where = configured[1] or "the configuration's entry for this file"
        try:
            code = site_code(site)
        except ValueError as err:
            advice = "write the site in Latin letters and digits (for example its short code, such as SITE-01)"
            if where is not None:
                whole.append(Problem(
                    file, None, None, "site", site, "source_site",
                    f"{where}: the site {site!r} cannot be written in ASCII letters and digits for the ADaM "
                    f"datasets (SITEID, USUBJID); {err}: {advice} at that line."))
            else:
                for idx in rows_of(file, site):
                    rows_found.append((idx, Problem(
                        file, int(origin.at[idx, "row"]), origin.at[idx, "patient"], "site", site, "site_code",
                        f"{visible(site)} is not a site that can be written in ASCII letters and digits for the "
                        f"ADaM datasets (SITEID, USUBJID); {err}: {advice}.")))
            continue
        by_code.setdefault(code.upper(), []).append((file, site, where, code))

    for members in by_code.values():
        if len({site for _, site, _, _ in members}) < 2:
            continue
        described = []
        for file, site, where, _ in members:
            if where is not None:
                described.append(f"'{site}' ({where})")
            else:
                numbers = sorted(int(origin.at[i, "row"]) for i in rows_of(file, site))
                described.append(f"'{site}' ({file}, column site, {'row' if len(numbers) == 1 else 'rows'} "
                                 f"{_ranges(numbers)})")
        codes = list(dict.fromkeys(code for *_, code in members))
        become = (f"all as {codes[0]}" if len(codes) == 1 else
                  f"as {', '.join(codes[:-1])} and {codes[-1]}, which differ only in capitals")
        configured = any(where is not None for _, _, where, _ in members)
        files = {file for file, *_ in members}
        whole.append(Problem(
            members[0][0] if len(files) == 1 else None, None, None, "site", None,
            "source_site" if configured else "site_code",
            f"the sites {', '.join(described[:-1])} and {described[-1]} would be written in the ADaM datasets "
            f"(SITEID, USUBJID: ASCII letters, digits and '-') {become}, so they would be taken for one site. If "
            "they are one site, write its name the same way everywhere; if not, give them names that differ in "
            "letters or digits."))
    return rows_found, whole


_WITH_UNIT = re.compile(r"\s*([<>~≈]\s*[+-]?\d+([.,]\d+)?|[+-]?\d+([.,]\d+)?\s*[^\d\s,.].*)\s*")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Variables that do not describe the patient's course: left out when rows are compared.
_NOT_COMPARED = ("patient_id", "site", "synthetic")


def _same_record_problems(loaded: LoadedCohort, dictionary: Dictionary, rule: Rule) -> list[tuple[Hashable, Problem]]:
    """Rows under different pseudonyms whose every date, number and code is the same (free
    text and the site left out; dates compared as dates, whatever the file's date format).
    Rows with no date of relapse or CAR-T are not compared (too little to call them the same)."""
    raw, origin = loaded.raw, loaded.origin
    compared = [v for v in dictionary.variables if v.type != "string" and v.name not in _NOT_COMPARED]
    layouts = origin.groupby(["date_format", "decimal"], sort=False).indices

    def normalised(var: Variable, rows: pd.Index) -> pd.Series:
        """The values as read (dates as ISO dates, numbers as numbers, whatever the file's layout)."""
        column = pd.Series(None, index=rows, dtype=object)
        for (date_format, decimal), positions in layouts.items():
            index = raw.index[positions]
            index = index if rows is raw.index else index.intersection(rows)
            if len(index) == 0:
                continue

            def norm(value: Any, kind: str = var.type, date_format: str = date_format, decimal: str = decimal) -> Any:
                if kind == "date" and isinstance(value, str) and _ISO.fullmatch(value):
                    return value  # already the ISO form compared (equal dates, equal text)
                try:
                    parsed = parse_value(value, kind, date_format=date_format, decimal=decimal)
                except ValueError:
                    return show_value(value)
                return parsed.date().isoformat() if isinstance(parsed, pd.Timestamp) else parsed

            column.loc[index] = _each(raw.loc[index, var.name], norm, dtype=object).to_numpy()
        return column

    # first the rows that share the anchor dates (few), then every compared value of those only
    anchors = [v for v in compared if v.name in ("cart_date", "relapse_date")]
    if not anchors:
        return []
    key = pd.DataFrame({v.name: normalised(v, raw.index) for v in anchors}, index=raw.index)
    candidates = key.notna().all(axis=1) & key.duplicated(keep=False)  # ISO text or None: hashable as is
    if not candidates.any():
        return []
    rows = raw.index[candidates.to_numpy()]
    # narrowed one compared value at a time: rows the same in every value are the same in each, so a
    # row with no twin so far has none. At registry scale the shared anchor dates leave ~45% of the
    # rows, a value or two more none; every value of all of those at once took 3.6 s at 1,000,000
    # patients. Rows are told apart by codes of the values' text (what is compared below).
    codes = np.zeros(len(rows), dtype=np.int64)
    for var in compared:
        values, _ = pd.factorize(normalised(var, rows).astype(str).to_numpy())
        codes, _ = pd.factorize(codes * (int(values.max()) + 1) + values)   # < len(rows)**2: fits
        kept = pd.Series(codes).duplicated(keep=False).to_numpy()
        rows, codes = rows[kept], codes[kept]
        if len(rows) == 0:
            return []
    key = pd.DataFrame({v.name: normalised(v, rows) for v in compared}, index=rows)
    twins = key.astype(str).duplicated(keep=False)
    if not twins.any():
        return []
    out = []
    groups = key[twins].astype(str).groupby(list(key.columns), sort=False).groups
    for members in groups.values():
        ids = {idx: show_value(raw.at[idx, _PATIENT_ID]) for idx in members}
        if len({(i or "").strip() for i in ids.values()}) < 2:
            continue  # the same pseudonym: reported by the uniqueness rule
        idx, rest = members[0], members[1:]  # one problem per group, on its first row, naming the others
        others = ", ".join(
            f"{origin.at[j, 'file']} row {origin.at[j, 'row']} (site {show_value(raw.at[j, 'site'])}, "
            f"patient {ids[j]})"
            for j in rest
        )
        out.append(
            (
                idx,
                Problem(
                    file=origin.at[idx, "file"], row=int(origin.at[idx, "row"]),
                    patient=origin.at[idx, "patient"], column=None, value=ids[idx], rule=rule.id,
                    message=(f"(site {show_value(raw.at[idx, 'site'])}) is the same as {others}: "
                             f"{rule.message}."),
                    level=rule.level,
                ),
            )
        )
    return out


def validate(loaded: LoadedCohort, dictionary: Dictionary, *,
             covariates: Mapping[str, str] | None = None) -> ValidationReport:
    """Check the loaded cohort against every rule of the dictionary; report all problems at once.

    Rows are validated with :func:`build_schema` for the way their file writes
    dates and decimals (``origin.date_format``, ``origin.decimal``), then all
    sites together for unique pseudonyms. A required column reported missing
    from a whole file is not reported again for each of its rows.

    ``covariates``: the configured Cox model's covariates (ADSL column -> its name
    in words); an optional input column one of them is made from
    (:func:`analysis.config.optional_input`) with no value for any patient is a
    warning (:func:`_covariate_input_problems`): the column may be left out, but
    then the model cannot be fitted.
    """
    raw, origin = loaded.raw, loaded.origin
    if not raw.index.equals(origin.index):
        raise ValueError("loaded.origin is not aligned with loaded.raw (different index)")
    absent = {
        (p.file, p.column) for p in loaded.problems if p.column and (
            p.rule in ("missing_column", "missing_site", "mapping")
            or p.rule == "identifier_column" and p.site_column)  # the mapping's column for it refused unread
    }
    found: list[tuple[Hashable, Problem]] = []
    rows = (_Rows(raw), _Rows(origin))
    site_whole: list[Problem] = []
    if len(raw):
        layouts = origin.groupby(["date_format", "decimal"], sort=False).indices  # positions, cheaper than .groups
        for (date_format, decimal), positions in layouts.items():
            # the rows written in this layout (all of them, as they are, when every file writes alike)
            frame = raw if len(layouts) == 1 else raw.loc[origin.index[positions]]
            schema = build_schema(dictionary, date_format=date_format, decimal=decimal,
                                  splits=loaded.splits if frame is raw else None)
            for check, idx in _failures(schema, frame):
                rule, column = _split(check)
                if rule == "required" and (origin.at[idx, "file"], column) in absent:
                    continue
                made = _problem(rule, column, idx, raw, loaded, dictionary, date_format, decimal, rows)
                found += [(idx, p) for p in (made if isinstance(made, list) else [made])]
        duplicate_found, duplicate_whole = _duplicate_problems(loaded)
        found += duplicate_found
        site_found, site_whole = _site_code_problems(loaded)
        found += site_found
        site_whole += duplicate_whole
        for rule in dictionary.rules:
            if rule.same_record:
                found += _same_record_problems(loaded, dictionary, rule)
    found = _not_patient_rows(found, raw, dictionary)
    position = {idx: i for i, idx in enumerate(raw.index)}
    found.sort(key=lambda item: position[item[0]])  # stable: keeps schema order within a row
    problems = (tuple(loaded.problems) + tuple(site_whole) + tuple(p for _, p in found)
                + _covariate_input_problems(loaded, covariates or {}))
    labels = {v.name: v.label for v in dictionary.variables}
    problems = tuple(replace(p, label=labels[p.column]) if p.column in labels and p.label is None else p
                     for p in problems)
    if loaded.sheets:
        problems = tuple(replace(p, sheet=loaded.sheets[p.file]) if p.file in loaded.sheets and p.rule != "sheet"
                         else p for p in problems)
    if loaded.site_names:  # the site's own column name first (item: messages in the site's words)
        problems = tuple(
            replace(p, site_column=theirs)
            if p.column and p.file and p.rule not in (*CONFIGURATION_RULES, "mapping_unused")
            and (theirs := loaded.site_names.get(p.file, {}).get(p.column)) and theirs != p.column
            else p
            for p in problems
        )
    return ValidationReport(
        problems=problems,
        n_patients=len(raw),
        n_files=int(origin["file"].nunique()) if len(origin) else 0,
    )


def _not_patient_rows(found: list[tuple[Hashable, Problem]], raw: pd.DataFrame, dictionary: Dictionary
                      ) -> list[tuple[Hashable, Problem]]:
    """A row with one value at most (a 'Total: 24 patients' or a note under the data) is not a
    patient: one problem saying so replaces its "missing, required" problems, one per column."""
    required = {}
    for idx, p in found:
        if p.rule == "required":
            required[idx] = required.get(idx, 0) + 1
    suspects = [idx for idx, n in required.items() if n >= 2]
    if not suspects:
        return found
    values = raw.loc[suspects, [c for c in raw.columns if c not in ("site", "synthetic")]]
    lonely = {}
    for idx, row in values.iterrows():
        given = [(c, v) for c, v in row.items() if not is_missing(v)]
        if len(given) <= 1:
            lonely[idx] = given
    if not lonely:
        return found
    out, said = [], set()
    for idx, p in found:
        if idx not in lonely:
            out.append((idx, p))
        elif idx not in said:
            said.add(idx)
            given = lonely[idx]
            what = (f"holds only {show_value(given[0][1])!r} (read as {given[0][0]})" if given else
                    "holds no value of the dictionary's columns")
            out.append((idx, replace(
                p, patient=None, column=None, value=given[0][1] if given else None, rule="not_a_patient",
                message=f"the row {what}: it is not a patient row (a total or a note under the data?); "
                        "delete it from the file, or fill in the patient's values.")))
    return out


def covariate_input_message(covariate: str, name: str) -> str:
    """Why an optional input column with no value matters: the Cox covariate made
    from it, in words and as configured (one wording, for :func:`validate`'s report)."""
    return (f"no patient has a value, so the Cox model's covariate {name} ({covariate}), made from this column, is "
            f"missing for every patient and the multivariable model cannot be fitted. Record this column in the "
            f"data, or remove {covariate} from `cox: covariates:` in the configuration.")


def _covariate_input_problems(loaded: LoadedCohort, covariates: Mapping[str, str]) -> tuple[Problem, ...]:
    """A warning for each optional input column (absent, or empty for every
    patient) that a configured Cox covariate is made from."""
    raw = loaded.raw
    out = []
    for covariate, name in covariates.items():
        column = optional_input(covariate)
        if column is None or column not in raw.columns or not len(raw):
            continue
        if raw[column].map(is_missing).all():
            out.append(Problem(None, None, None, column, None, "covariate_input",
                               covariate_input_message(covariate, name), "warning"))
    return tuple(out)


def validate_config(config: Config) -> ValidationReport:
    """Load the dictionary and the sources named by ``config``, load them, validate them."""
    dictionary = load_dictionary(config.dictionary_path)
    return validate(load_sources(config.sources, dictionary), dictionary)
