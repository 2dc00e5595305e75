"""Loading the sites' exports into one raw cohort (first step: load -> validate).

:func:`load_sources` reads every file named by the configuration (CSV, Excel
.xlsx, SPSS .sav), maps the site's own column names and codes onto the data
dictionary (``data/dictionary.yml``) and pools the rows into one
:class:`LoadedCohort`. Loading never cleans silently: values stay as they were
read, and everything that stops a file or a column from being read is recorded
as a :class:`Problem` (which :mod:`analysis.validate` reports together with the
rule violations). :func:`to_typed` turns data that passed validation into
analysis types.

What loading does change, and only this:

* **Column names** are matched to the dictionary ignoring case and surrounding
  spaces, or renamed through the site's mapping file (``columns:``).
* **Codes** of category variables are mapped in this order: (1) SPSS value
  labels (a labelled code is replaced by its label), (2) the site's mapping
  file (``codes:``; their code matched ignoring case and surrounding spaces),
  (3) the built-in rule: a value equal to a dictionary code or to its label,
  ignoring case and surrounding spaces, is replaced by the dictionary code
  ("Male", " male" -> ``male``). Anything else stays as read and fails
  validation with a message naming it.
* **Missing values**: an empty cell is missing; so is a cell equal to one of
  the mapping file's ``missing:`` tokens. Nothing else is turned into missing.
* **Dates** are converted to ISO text 'YYYY-MM-DD' only where the file format
  stores real dates (Excel date cells, SPSS date variables); a time of day in
  such a cell is dropped (the analysis counts days). Dates written as text are
  left as text (a time of day written in them is refused, with a hint, but for
  00:00, as R, SAS and SQL write a date); validation and :func:`to_typed` read them with one
  shared function, :func:`parse_value`.
* **Site**: from the ``site`` column, or from the configuration's ``site:`` for
  the file; with both, empty cells take the configured site and a differing
  value is reported. The site stays as written ("Hôpital Saint-Louis"); the
  ADaM datasets write it as :func:`site_code` (ASCII: Hopital-Saint-Louis), and
  validation refuses a site without that form or two sites sharing one.

Columns whose names look like direct identifiers (``identifier_patterns`` in
the dictionary) are refused: their values are never read into the cohort,
unless the site's mapping file maps the column explicitly to a date, number or
code variable (then read and checked as that variable) or to null (not read,
not reported). A text variable (patient_id) is never read from such a column.

What loading refuses or reports rather than misread: a CSV whose text mixes
two encodings, a quote that swallows the rows after it, a renamed workbook or
binary file; a workbook with formulas whose results were never stored, or
encrypted; percent-formatted Excel cells (read as the number shown, with a
warning); column names below row 1 (``header_row:`` in the mapping file, or a
source's ``header_row`` when the configuration has that key); a sheet without
the dictionary's columns (the sheet that has them is named); a file listed
twice among the sources (read once). Mapping file problems name the file and
line and are configuration problems (rule ``mapping``).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import gc
import io
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .config import PROJECT_ROOT, Source
from .dictionary import Dictionary
from .yamlio import UserFileError, duplicate_keys, line_of, load_yaml, read_text

ISO_DATE_FORMAT = "YYYY-MM-DD"
MAPPING_KEYS = ("columns", "codes", "date_format", "decimal", "delimiter", "missing", "header_row")
ORIGIN_COLUMNS = ("file", "row", "patient", "date_format", "decimal")
LEVELS = ("error", "warning")


# ---------------------------------------------------------------------------
# Problems and the loaded cohort


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a person opening the file sees it.

    ``file``: path relative to the project root (else as given); ``row``: row
    number in the file (header = row 1; .sav: case number), ``None`` for a
    problem of the whole file; ``patient``: pseudonym as read; ``column``:
    dictionary name (or the file's own column name for a column that was not
    read); ``value``: the value in ``column`` as text (``None`` when the cell
    is empty), or for a rule across columns the date that breaks it;
    ``rule``: short rule id (e.g. "type", "code", "date_order");
    ``message``: plain words; ``level``: "error" or "warning".
    """

    file: str | None
    row: int | None
    patient: str | None
    column: str | None
    value: str | None
    rule: str
    message: str
    level: str = "error"
    label: str | None = None  # the dictionary's label of ``column``, shown beside it
    site_column: str | None = None  # the site's own name of ``column`` (through its mapping file), shown first
    sheet: str | None = None  # the Excel sheet read, shown after the file

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"problem level must be 'error' or 'warning', not {self.level!r}")

    def line(self) -> str:
        """One line: 'FILE row R, patient P, column C: MESSAGE'."""
        where = []
        if self.file:
            where.append(self.file + (f" sheet {self.sheet}" if self.sheet else "")
                         + (f" row {self.row}" if self.row is not None else ""))
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.row is not None:
            where.append(f"patient {self.patient}" if self.patient else "patient (no pseudonym)")
        if self.column and self.site_column:
            where.append(f"column '{self.site_column}' ({self.column}" + (f": {self.label})" if self.label else ")"))
        elif self.column:
            where.append(f"column {self.column}" + (f" ({self.label})" if self.label else ""))
        prefix = ", ".join(where)
        text = f"{prefix}: {self.message}" if prefix else self.message
        if self.level == "warning":
            text = f"{text} [warning]"
        return text


@dataclass(frozen=True)
class LoadedCohort:
    """The pooled input, as read.

    ``raw``: one row per input row; one column per dictionary variable, in
    dictionary order (a variable absent from a file is missing, ``None``);
    values as read (text, numbers; real date cells as 'YYYY-MM-DD'), after
    the name and code mapping described in the module docstring.

    ``origin``: aligned with ``raw`` (same index), columns ``file`` (str),
    ``row`` (int, header = row 1; .sav: case number), ``patient`` (pseudonym as
    read, text or ``None``), ``date_format`` (how the file writes dates, e.g.
    'YYYY-MM-DD') and ``decimal`` ('.' or ',') for :func:`parse_value`.

    ``problems``: the :class:`Problem` s found while loading, in file order.
    """

    raw: pd.DataFrame
    origin: pd.DataFrame
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    #: for messages in the site's own words: file -> dictionary name -> the site's column name,
    #: and file -> dictionary name -> our code -> the site's code (files with a mapping file only)
    site_names: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    site_codes: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict, compare=False)
    #: file -> the Excel sheet read (workbooks only)
    sheets: dict[str, str] = field(default_factory=dict, compare=False)
    #: file -> (the site the configuration names for it, where: "sources.yml line 3", or "" when not known)
    configured_sites: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)
    #: file -> where a sources list names it ("sources.yml line 3"); files found in a folder are not in it
    listed: dict[str, str] = field(default_factory=dict, compare=False)
    #: column -> ``(codes, uniques)`` of ``raw``'s column as the fast CSV reader found them (every file read
    #: by it): the distinct values :func:`distinct_text` would find again, for validation and typing to
    #: skip that (a performance device; each is used only when :func:`checked_split` proves it right)
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)


# ---------------------------------------------------------------------------
# Values: missing, display, parsing (shared by validation and to_typed)


def is_missing(value: Any) -> bool:
    """Missing: None, NaN, NA, NaT, or text that is empty or only spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def show_value(value: Any) -> str | None:
    """A value as a person would write it (34.0 -> '34'); ``None`` when missing."""
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat(sep=" ")
    return str(value)


_INVISIBLE = {
    "\u00a0": "no-break space", "\u202f": "narrow no-break space", "\u2007": "figure space",
    "\u200b": "zero-width space", "\u200c": "zero-width non-joiner", "\u200d": "zero-width joiner",
    "\u2060": "word joiner", "\ufeff": "byte-order mark", "\u00ad": "soft hyphen", "\t": "tab",
}


def visible(text: str | None) -> str | None:
    """``text`` with invisible characters written out: 'female<U+200B>' (a zero-width
    space), so a message never says "female is not an allowed code (allowed: female)"."""
    if text is None:
        return None
    found = [ch for ch in dict.fromkeys(text)
             if ch in _INVISIBLE or (ch != " " and unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"))]
    if not found:
        return text
    marked = "".join(f"<U+{ord(ch):04X}>" if ch in found else ch for ch in text)
    names = ", ".join(f"U+{ord(ch):04X} {_INVISIBLE.get(ch) or unicodedata.name(ch, 'control character').lower()}"
                      for ch in found)
    return f"'{marked}' (holds an invisible character: {names}; delete it)"


#: What sites and programs write for a missing value (R's NA, SPSS's ., Excel's #N/A ...).
MISSING_WORDS = frozenset(
    ["na", "n/a", "n.a.", "#n/a", "nan", "null", "none", "missing", "-", "--", ".", "?", "nd", "n.d.",
     "not available", "not done", "k.a.", "ka", "unbekannt", "inconnu", "nk", "unk", "#null!"]
)


def missing_hint(value: str | None) -> str:
    """A hint for a value that reads as a missing-value token, else ''."""
    if value is None or value.strip().casefold() not in MISSING_WORDS:
        return ""
    token = value.strip()
    return (f"; if {token} means 'missing' (as R writes NA), leave the cell empty, or declare it in the "
            f"site's mapping file: missing: [\"{token}\"]")


#: Latin letters that Unicode decomposition (NFKD) leaves as they are, with their usual ASCII spelling.
_LATIN_TO_ASCII = str.maketrans({
    "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
    "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "TH", "þ": "th", "ı": "i",
})


def site_code(site: Any) -> str:
    """The site as written in the ADaM datasets (SITEID, and inside USUBJID): ASCII letters,
    digits and '_', every other run of characters written as one '-' ("Hôpital Saint-Louis"
    -> 'Hopital-Saint-Louis', "SITE A" -> 'SITE-A'; a code such as 'SITE-A' stays as it is).
    Accents are dropped (Unicode NFKD decomposition, then the combining marks removed) and
    ß, æ, œ, ø, ł, đ, þ are spelled out. SAS transport files hold ASCII only.

    Raises ValueError (completing "the site ... cannot be a site code: ...") when a letter
    has no ASCII form (Greek, Cyrillic, CJK ...) or nothing is left."""
    text = (show_value(site) or "").strip()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN_TO_ASCII))
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    foreign = list(dict.fromkeys(ch for ch in letters if not ch.isascii() and ch.isalnum()))
    if foreign:
        raise ValueError(f"{', '.join(foreign[:5])} {'has' if len(foreign) == 1 else 'have'} no form in "
                         "ASCII letters")
    code = re.sub(r"[^A-Za-z0-9_]+", "-", letters).strip("-")
    if not code:
        raise ValueError("it holds no letter or digit")
    return code


#: A date written as text followed by a time of day ('2017-09-19 14:30', '19.09.2017 14:30:00', ISO's 'T').
_TIME_OF_DAY = re.compile(r"(?P<date>\d[\d./ -]*\d)[ T](?P<time>\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)")

_DATE_CANDIDATES = ("DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "DD-MM-YYYY", "MM-DD-YYYY", "YYYY/MM/DD",
                    "YYYY.MM.DD", "DD MM YYYY", "YYYYMMDD")


def date_format_hint(values: Sequence[str | None], date_format: str = ISO_DATE_FORMAT) -> str:
    """'; set date_format: DD/MM/YYYY ...' when every value is a real date in one other
    layout (several layouts named when the values fit more than one); '; ... remove the
    time ...' when every value is a date followed by a time of day (``date_format``: the
    file's, so that a date part already in it asks for nothing more); else ''."""
    texts = [v.strip() for v in values if v]
    if not texts:
        return ""
    timed = [_TIME_OF_DAY.fullmatch(t) for t in texts]
    if all(timed):
        dates = [m["date"] for m in timed]
        then = "" if all(_date_or_none(d, date_format) for d in dates) else date_format_hint(dates)
        return (f"; {'they hold' if len(texts) > 1 else 'it holds'} a time of day ({timed[0]['time']}): remove the "
                "time and keep the date only (in Excel: format the column as a date without time before exporting)"
                + (f", then{then[1:]}" if then else ""))
    fits = []
    for fmt in _DATE_CANDIDATES:
        try:
            if fmt == "YYYYMMDD":
                ok = all(re.fullmatch(r"\d{8}", t) and dt.date(int(t[:4]), int(t[4:6]), int(t[6:])) for t in texts)
            else:
                ok = all(_parse_date(t, fmt) is not None for t in texts)
        except ValueError:
            ok = False
        if ok and fmt != "YYYYMMDD":
            fits.append(fmt)
    if not fits:
        sample = texts[0]
        if re.fullmatch(r"\d{5}(\.0+)?", sample) and 10000 <= float(sample) <= 80000:
            day = dt.date(1899, 12, 30) + dt.timedelta(days=int(float(sample)))
            return (f"; {sample} looks like an Excel date serial number ({day.isoformat()}): format the column "
                    "as a date in Excel before exporting")
        if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2}", sample):
            return "; the year has two digits: write all four (e.g. 2019)"
        if (re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}", sample)
                and not re.fullmatch(r"\d{2}[./-]\d{2}[./-]\d{4}|\d{4}[./-]\d{2}[./-]\d{2}", sample)):
            return "; day and month need two digits each (e.g. 01.02.2019, not 1.2.2019)"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", sample):
            return "; that day does not exist in the calendar (check day and month)"
        return ""
    if date_format != ISO_DATE_FORMAT and date_format not in fits:  # the file's other dates are in date_format
        return (f"; {'they are' if len(texts) > 1 else 'it is'} written {' or '.join(fits)}, but the site's "
                f"mapping file says date_format: {date_format}: write {'them' if len(texts) > 1 else 'it'} as "
                f"{date_format} like the file's other dates")
    if len(fits) == 1:
        return f"; set date_format: {fits[0]} in the site's mapping file"
    return (f"; {'they read' if len(texts) > 1 else 'it reads'} as {' or '.join(fits)}: set date_format: "
            "to the one the site uses in the site's mapping file")


def _date_or_none(text: str, date_format: str) -> pd.Timestamp | None:
    try:
        return _parse_date_text(text, date_format)
    except ValueError:
        return None


_LAYOUT = re.compile(r"(?P<a>\d{1,4})(?P<sep>[./ -])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})")


def date_layout(text: str) -> str | None:
    """The layout a date written as text is in ('DD/MM/YYYY', 'MM/DD/YYYY', 'YYYY-MM-DD', ...;
    'DD/MM/YYYY or MM/DD/YYYY' when day and month are both 12 or less), ``None`` if not a date."""
    match = _LAYOUT.fullmatch(text.strip())
    if not match:
        return None
    a, b, c, sep = match["a"], match["b"], match["c"], match["sep"]
    if len(a) == 4 and len(c) <= 2:
        return f"YYYY{sep}MM{sep}DD"
    if len(c) != 4 or len(a) > 2:
        return None
    day_month, month_day = f"DD{sep}MM{sep}YYYY", f"MM{sep}DD{sep}YYYY"
    if int(a) > 12 >= int(b):
        return day_month
    if int(b) > 12 >= int(a):
        return month_day
    return f"{day_month} or {month_day}" if int(a) <= 12 and int(b) <= 12 else None


_DATE_TOKENS = {"YYYY": r"(?P<year>\d{4})", "MM": r"(?P<month>\d{2})", "DD": r"(?P<day>\d{2})"}
_DATE_SEPARATORS = "-./ "


@functools.lru_cache(maxsize=64)
def date_pattern(date_format: str) -> re.Pattern[str]:
    """Regular expression for a date format written with YYYY, MM, DD and separators -./ and space.

    Raises ValueError for a format that is not built from exactly these parts.
    (Cached: it is asked for once per date read.)
    """
    rest = date_format
    pattern = ""
    seen = set()
    while rest:
        for token, rx in _DATE_TOKENS.items():
            if rest.startswith(token):
                if token in seen:
                    raise ValueError(f"date format {date_format!r} uses {token} twice")
                seen.add(token)
                pattern += rx
                rest = rest[len(token):]
                break
        else:
            if rest[0] not in _DATE_SEPARATORS:
                raise ValueError(
                    f"date format {date_format!r} is not built from YYYY, MM, DD and the separators - . / or space"
                )
            pattern += re.escape(rest[0])
            rest = rest[1:]
    if seen != set(_DATE_TOKENS):
        raise ValueError(f"date format {date_format!r} needs YYYY, MM and DD")
    return re.compile(pattern)


_NUMBER = {
    ".": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    ",": re.compile(r"[+-]?(\d+(,\d*)?|,\d+)"),
}


def parse_value(value: Any, kind: str, *, date_format: str = ISO_DATE_FORMAT, decimal: str = ".") -> Any:
    """Read one raw value as the dictionary type ``kind``; the single parser
    used by validation (to accept or reject a value) and by :func:`to_typed`.

    Returns ``None`` for a missing value (:func:`is_missing`), a float for
    number and integer, a ``pandas.Timestamp`` for date, and text (surrounding
    spaces removed; 34.0 written as '34') for string and category. Raises
    ValueError whose message completes "VALUE is not ..." (e.g. "a date
    (expected YYYY-MM-DD)").

    Rules: numbers are digits with at most one decimal separator (``decimal``,
    '.' or ','), optionally signed, with no thousands separators or exponents;
    numeric cells (Excel, SPSS) are taken as they are. Dates are text in
    ``date_format`` or in ISO 'YYYY-MM-DD' (how loading writes real date
    cells), with two-digit day and month, and must exist in the calendar
    (2021-02-30 is refused). Surrounding spaces are ignored.
    """
    if is_missing(value):
        return None
    if kind in ("string", "category"):
        return show_value(value).strip()
    if kind in ("number", "integer"):
        number = _parse_number(value, decimal)
        if kind == "integer" and not number.is_integer():
            raise ValueError("a whole number")
        return number
    if kind == "date":
        return _parse_date(value, date_format)
    raise ValueError(f"of the unknown type {kind!r}")


def _parse_number(value: Any, decimal: str) -> float:
    example = "12,5" if decimal == "," else "12.5"
    expected = f"a number (expected digits with a decimal {'comma' if decimal == ',' else 'point'}, such as {example})"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(expected)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(expected)
        return number
    if not isinstance(value, str):
        raise ValueError(expected)
    text = value.strip()
    if decimal not in _NUMBER or not _NUMBER[decimal].fullmatch(text):
        raise ValueError(expected)
    return float(text.replace(",", ".")) if decimal == "," else float(text)


def _parse_date(value: Any, date_format: str) -> pd.Timestamp:
    expected = f"a date (expected {date_format})"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if value.time() != dt.time(0):
            raise ValueError(expected)
        return pd.Timestamp(value.date())
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if not isinstance(value, str):
        raise ValueError(expected)
    return _parse_date_text(value.strip(), date_format)


@functools.lru_cache(maxsize=1 << 16)
def _parse_date_text(text: str, date_format: str) -> pd.Timestamp:
    """A date written as text, read once per distinct text: validation and
    typing read the same few thousand dates several times (type, future-date
    and date-order rules, then the typed values), ~15 us each. Timestamps are
    immutable, so the one object can be shared; a refused text is not
    remembered (its ValueError is raised again)."""
    for fmt in dict.fromkeys((date_format, ISO_DATE_FORMAT)):
        match = date_pattern(fmt).fullmatch(text)
        if match:
            try:
                day = dt.date(int(match["year"]), int(match["month"]), int(match["day"]))
            except ValueError:
                raise ValueError(f"a date (expected {date_format})") from None
            return pd.Timestamp(day)
    midnight = _MIDNIGHT.fullmatch(text)
    if midnight:                      # '2016-01-23 00:00:00', as R, SAS and SQL export a date: that day
        return _parse_date_text(midnight["date"], date_format)
    raise ValueError(f"a date (expected {date_format})")


#: A date written as text with the time 00:00 (as R, SAS and SQL write a date: '2016-01-23 00:00:00',
#: ISO's 'T' too): read as that day, as a date cell at midnight is. Any other time of day is refused
#: with a hint (:func:`date_format_hint`): the day it belongs to may depend on the time zone it was written in.
_MIDNIGHT = re.compile(r"(?P<date>\d[\d./ -]*\d)[ T]00:00(:00(\.0+)?)?")


def is_text(values: np.ndarray) -> bool:
    """Every value of the object array is text or missing (and there is at least one value)."""
    return len(values) > 0 and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def distinct_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, uniques)`` of an object array whose values are all text or
    missing (how CSV columns are read), else ``None``.

    ``uniques[codes[i]] == values[i]``; a missing value (None, NaN, NA, NaT)
    has code -1. A function of one value that treats every missing value alike
    (all the readers here start with :func:`is_missing`) can then be evaluated
    once per distinct value instead of once per cell: at registry scale a
    column of a million cells holds a few thousand distinct dates and a
    handful of codes. (A performance device; results are those of the
    cell-by-cell evaluation.)
    """
    if not is_text(values):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def checked_split(values: np.ndarray, split: tuple[np.ndarray, np.ndarray] | None
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """``split`` if it is a :func:`distinct_text` of ``values`` (one code per value,
    every unique used, ``uniques[codes]`` equal to the values cell by cell, code -1
    where a value is None), else ``None``: a split kept from reading
    (:attr:`LoadedCohort.splits`) is used only for the values it describes, even
    if the frame was changed since. (Checking costs a third of finding it again.)"""
    if split is None:
        return None
    codes, uniques = split
    if len(codes) != len(values) or (len(uniques) and not np.bincount(codes[codes >= 0], minlength=len(uniques)).all()):
        return None
    table = np.empty(len(uniques) + 1, dtype=object)  # the last slot: missing (code -1) -> None
    table[:-1] = uniques
    try:
        same = bool(np.asarray(table[codes] == values, dtype=bool).all())
    except (TypeError, ValueError):  # a value that does not compare to text (pd.NA ...): not as read
        return None
    return split if same else None


def pooled_splits(per_file: list[dict[str, tuple[np.ndarray, np.ndarray]]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The files' ``(codes, uniques)`` of each column, as one split of the pooled
    column (the files' rows one after another): uniques made distinct, None made
    code -1, codes in the smallest integer type that holds them."""
    out = {}
    for name in per_file[0] if per_file else ():
        if not all(name in f for f in per_file):
            continue
        uniques = np.concatenate([f[name][1] for f in per_file])
        pooled, distinct = pd.factorize(uniques, use_na_sentinel=True)  # None -> -1
        if not all(type(u) is str for u in distinct):
            continue
        kind = next(t for t in (np.int8, np.int16, np.int32, np.int64) if len(distinct) < np.iinfo(t).max)
        pooled = pooled.astype(kind)
        parts, start = [], 0
        for f in per_file:
            codes, file_uniques = f[name]
            parts.append(pooled[start:start + len(file_uniques)][codes])
            start += len(file_uniques)
        out[name] = (np.concatenate(parts), np.asarray(distinct, dtype=object))
    return out


def map_distinct(values: np.ndarray, fn: Callable[[Any], Any], *, dtype: Any = object) -> np.ndarray:
    """``[fn(v) for v in values]`` as an array of ``dtype``, computing ``fn`` once
    per distinct value when the values are text or missing (see
    :func:`distinct_text`; a missing value is represented by ``None``), else
    once per cell. ``fn`` must be a pure function of the value that treats
    every missing value alike."""
    return map_split(values, distinct_text(values), fn, dtype=dtype)


def map_split(values: np.ndarray, split: tuple[np.ndarray, np.ndarray] | None, fn: Callable[[Any], Any], *,
              dtype: Any = object) -> np.ndarray:
    """:func:`map_distinct` with the ``split = distinct_text(values)`` already made."""
    if split is None:
        out = np.empty(len(values), dtype=dtype)
        for i, v in enumerate(values):
            out[i] = fn(v)
        return out
    codes, uniques = split
    table = np.empty(len(uniques) + 1, dtype=dtype)  # the last slot: missing (code -1)
    for i, v in enumerate(uniques):
        table[i] = fn(v)
    table[-1] = fn(None)
    return table[codes]


def _parse_many(values: np.ndarray, kind: str, *, date_format: str, decimal: str,
                split: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray, tuple[int, Any, ValueError] | None]:
    """:func:`parse_value` of every value (object array) as ``(codes, table)``, the
    parsed values being ``table[codes]`` (the last slot of ``table`` is the
    missing value, ``None``), and the first value it refuses as ``(position,
    value, error)`` (``None`` when all are read). ``split``: the values'
    :func:`distinct_text`, when already known."""
    split = split if split is not None else distinct_text(values)
    if split is None:
        table = np.empty(len(values) + 1, dtype=object)
        for i, v in enumerate(values):
            try:
                table[i] = parse_value(v, kind, date_format=date_format, decimal=decimal)
            except ValueError as err:
                return np.arange(len(values)), table, (i, v, err)
        return np.arange(len(values)), table, None
    codes, uniques = split
    table = np.empty(len(uniques) + 1, dtype=object)  # the last slot: missing (code -1) -> None
    if kind in ("string", "category"):
        # parse_value's rule for text, vectorised (identifiers are mostly distinct):
        # surrounding spaces removed; empty or only spaces is missing
        table[:-1] = [u.strip() or None for u in uniques]
        return codes, table, None
    errors = {}
    for i, v in enumerate(uniques):
        try:
            table[i] = parse_value(v, kind, date_format=date_format, decimal=decimal)
        except ValueError as err:
            errors[i] = err
    if errors:
        pos = int(np.flatnonzero(np.isin(codes, list(errors)))[0])
        return codes, table, (pos, values[pos], errors[int(codes[pos])])
    return codes, table, None


def to_typed(raw: pd.DataFrame, dictionary: Dictionary, *, origin: pd.DataFrame | None = None,
             splits: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """Analysis types for data that PASSED validation.

    Returns a new frame with the same index and one column per dictionary
    variable, in dictionary order: date -> ``datetime64[ns]``, number ->
    ``float64``, integer -> ``Int64``, category and string -> pandas
    ``string`` (the dictionary codes; surrounding spaces removed); missing ->
    NA. Values are read with :func:`parse_value`, the function validation used
    to accept them; ``origin`` (from :class:`LoadedCohort`) supplies each row's
    ``date_format`` and ``decimal`` (without it: the dictionary's date format
    and a decimal point). Raises ValueError for a value validation would have
    refused. (Each distinct value of a text column is read once per file
    layout: the same result as reading cell by cell, fast for a registry;
    ``splits``: :attr:`LoadedCohort.splits`, the distinct values already
    found, each used only where :func:`checked_split` proves it right.)
    """
    if origin is not None and not origin.index.equals(raw.index):
        raise ValueError("origin is not aligned with raw (different index)")
    n = len(raw)
    formats = list(origin["date_format"]) if origin is not None else [dictionary.date_format] * n
    decimals = list(origin["decimal"]) if origin is not None else ["."] * n
    # rows that share a date format and decimal mark (one group per file layout)
    groups = (
        [np.arange(n)] if origin is None or n == 0 else
        list(pd.DataFrame({"f": formats, "d": decimals}).groupby(["f", "d"], sort=False).indices.values())
    )
    out = {}
    for var in dictionary.variables:
        column = raw[var.name] if var.name in raw.columns else pd.Series([None] * n, index=raw.index, dtype=object)
        column_values = column.to_numpy(dtype=object)
        # each value is read once per distinct value and file layout, then converted
        # to the analysis type once per distinct value (dates: no Timestamp per cell)
        if var.type == "date":
            values = np.empty(n, dtype="datetime64[ns]")
        elif var.type == "number":
            values = np.empty(n, dtype="float64")
        else:
            values = np.empty(n, dtype=object)
        failed: list[tuple[int, Any, ValueError]] = []
        # one layout: the column's split as read (several: each layout's rows find their own)
        known = checked_split(column_values, (splits or {}).get(var.name)) if len(groups) == 1 else None
        for rows in groups:
            if len(rows) == 0:
                continue
            first = int(rows[0])
            fmt, dec = formats[first], decimals[first]
            codes, table, bad = _parse_many(column_values[rows], var.type, date_format=fmt, decimal=dec,
                                            split=known)
            if bad is not None:
                failed.append((int(rows[bad[0]]), bad[1], bad[2]))
                continue
            if var.type == "date":
                table = pd.to_datetime(table).astype("datetime64[ns]").to_numpy()
            elif var.type == "number":
                table = np.array([np.nan if v is None else v for v in table], dtype="float64")
            values[rows] = table[codes]
        if failed:
            pos, value, err = min(failed, key=lambda f: f[0])  # the first failing row, as a row-by-row scan
            raise ValueError(
                f"to_typed needs validated data: row {raw.index[pos]!r}, column {var.name}: "
                f"{show_value(value)} is not {err}"
            )
        if var.type in ("date", "number"):
            out[var.name] = pd.Series(values, index=raw.index)
        elif var.type == "integer":
            out[var.name] = pd.Series(pd.array(values, dtype="Int64"), index=raw.index)
        else:
            out[var.name] = pd.Series(pd.array(values, dtype="string"), index=raw.index)
    return pd.DataFrame(out, index=raw.index)


# ---------------------------------------------------------------------------
# The site's mapping file


@dataclass(frozen=True)
class SiteMapping:
    """A parsed mapping file (format: data/mapping.example.yml).

    ``columns``: their column name (case-folded) -> dictionary name, or ``None``
    to ignore the column on purpose; ``codes``: dictionary column -> their code
    (case-folded) -> dictionary code; ``missing``: case-folded tokens that mean
    missing.
    """

    columns: dict[str, str | None] = field(default_factory=dict, hash=False)
    codes: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    date_format: str | None = None
    decimal: str = "."
    delimiter: str = ","
    missing: tuple[str, ...] = ()
    header_row: int | None = None
    #: where each ``columns:`` entry is written, for messages: case-folded name -> ("mapping file F line N", name as written)
    written: dict[str, tuple[str, str]] = field(default_factory=dict, hash=False, compare=False)
    #: dictionary column -> our code -> their code as written (the first, when several map to one)
    codes_written: dict[str, dict[str, str]] = field(default_factory=dict, hash=False, compare=False)


class _StringBoolLoader(yaml.SafeLoader):
    """YAML without YAML 1.1 booleans: yes/no/on/off stay text (they are codes here)."""


_StringBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _key(value: Any) -> str:
    """How codes and names are compared: text form, no surrounding spaces, case-folded."""
    return (show_value(value) or "").strip().casefold()


def read_mapping(path: Path, dictionary: Dictionary, *, file: str) -> tuple[SiteMapping | None, list[Problem]]:
    """Read and check a mapping file; ``None`` (with problems) when it cannot be used.

    Every problem is a configuration problem (rule ``mapping``: the command
    line exits 2) whose message names the mapping file and, where known, the
    line: invalid YAML, a file not saved as UTF-8, an entry of the wrong shape
    (``columns:`` written as a list, a code table that is not pairs), a name
    or code that is not in the dictionary.
    """
    shown = _shown_path(path)

    def problem(message: str, *keys: str | int) -> Problem:
        line = line_of(node, keys) if keys else None
        where = f" line {line}" if line else ""
        return Problem(file, None, None, None, None, "mapping", f"mapping file {shown}{where}: {message}")

    node = None
    try:
        _, node = load_yaml(path, what="mapping file")
        spec = yaml.load(read_text(path, what="mapping file"), Loader=_StringBoolLoader)
    except UserFileError as err:
        text = str(err)
        text = f"mapping file {shown}" + (text[len(str(path)):] if text.startswith(str(path)) else f": {text}")
        if "'\\t'" in text and "tabs" not in text:
            text += "; indent with spaces, not tabs"
        return None, [Problem(file, None, None, None, None, "mapping", text)]
    except yaml.YAMLError as err:  # PyYAML accepted it with one loader but not the other: not expected
        return None, [problem(f"is not valid YAML ({type(err).__name__}).")]
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return None, [
            problem(
                f"must hold entries such as 'columns:' and 'codes:' (one per line, 'name: value'), "
                f"not {_yaml_kind(spec)}."
            )
        ]
    problems = [Problem(file, None, None, None, None, "mapping", f"mapping file {shown} line {line}: {message}")
                for line, message in _duplicate_keys(node)]
    for key in spec:
        if key not in MAPPING_KEYS:
            problems.append(problem(f"unknown entry {key!r} (allowed: {', '.join(MAPPING_KEYS)}).", str(key)))

    def pairs(key: str, *keys: str) -> dict:
        value = spec.get(key) if not keys else spec[key].get(keys[0])
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        what = f"{key}:" if not keys else f"codes for {keys[0]}"
        example = "Geschlecht: sex" if key == "columns" and not keys else "their code: our code (m: male)"
        problems.append(
            problem(
                f"{what} must be pairs 'their name: our name', one per line such as '{example}', "
                f"not {_yaml_kind(value)}"
                + (" (remove the '- ' before each entry)." if isinstance(value, list) else "."),
                key, *keys,
            )
        )
        return {}

    columns: dict[str, str | None] = {}
    written: dict[str, tuple[str, str]] = {}
    for theirs, ours in pairs("columns").items():
        if ours is not None and (not _is_scalar(ours) or str(ours) not in dictionary):
            problems.append(
                problem(
                    f"column {show_value(theirs)!r} is mapped to {ours!r}, which is not in the data "
                    "dictionary (see data/dictionary.yml for the names).",
                    "columns", str(theirs),
                )
            )
            continue
        line = line_of(node, ["columns", str(theirs)])
        # two entries mapping columns to one variable are allowed here: a mapping shared by an old and a
        # new export layout names both spellings ('Geschlecht: sex', 'Sex (m/w): sex'); it is an error only
        # when one data file holds both columns (_mapping_clashes, where the file's header is known)
        columns[_key(theirs)] = None if ours is None else str(ours)
        written[_key(theirs)] = (f"mapping file {shown}" + (f" line {line}" if line else ""), show_value(theirs) or "")

    codes: dict[str, dict[str, str]] = {}
    codes_written: dict[str, dict[str, str]] = {}
    for column, _table in pairs("codes").items():
        column = str(column)
        if column not in dictionary:
            problems.append(
                problem(f"codes are given for {column!r}, which is not in the data dictionary.", "codes", column)
            )
            continue
        table = pairs("codes", column)
        if not table:
            continue
        allowed = dictionary[column].code_labels
        codes[column] = {}
        for theirs, ours in table.items():
            ours_text = show_value(ours) if _is_scalar(ours) else None
            if ours_text is None or (allowed and ours_text not in allowed):
                problems.append(
                    problem(
                        f"code {show_value(theirs)!r} of {column} is mapped to {ours!r}, which is not a code of "
                        f"{column} (codes: {', '.join(allowed) if allowed else 'none: it is not a category'}).",
                        "codes", column, str(theirs),
                    )
                )
                continue
            codes[column][_key(theirs)] = ours_text
            codes_written.setdefault(column, {}).setdefault(ours_text, show_value(theirs) or "")

    date_format = spec.get("date_format")
    if date_format is not None:
        try:
            if not isinstance(date_format, str):
                raise ValueError(f"date format {date_format!r} must be text such as DD.MM.YYYY")
            date_pattern(date_format)
        except ValueError as err:
            problems.append(problem(f"{err} (for example DD.MM.YYYY).", "date_format"))
            date_format = None
    decimal = show_value(spec.get("decimal", "."))
    if decimal not in (".", ","):
        problems.append(problem(f"decimal must be \".\" or \",\", not {spec.get('decimal')!r}.", "decimal"))
        decimal = "."
    delimiter = show_value(spec.get("delimiter", ",")) or ""
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        problems.append(
            problem(f"delimiter must be one character such as \";\", not {spec.get('delimiter')!r}.", "delimiter")
        )
        delimiter = ","
    missing = spec.get("missing")
    missing = [] if missing is None else missing if isinstance(missing, list) else [missing]
    if not all(_is_scalar(m) for m in missing):
        problems.append(problem("missing: must be a list of texts such as [\"k.A.\", \"NA\"].", "missing"))
        missing = []
    header_row = spec.get("header_row", 1)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        problems.append(
            problem(f"header_row must be the number of the row holding the column names (1, 2, ...), "
                    f"not {header_row!r}.", "header_row")
        )
        header_row = 1
    mapping = SiteMapping(
        columns=columns,
        codes=codes,
        date_format=date_format,
        decimal=decimal,
        delimiter=delimiter,
        missing=tuple(_key(m) for m in missing),
        header_row=header_row if "header_row" in spec else None,
        written=written,
        codes_written=codes_written,
    )
    for token in mapping.missing:
        clash = [v.name for v in dictionary.variables
                 if any(token in (_key(code), _key(label)) for code, label in v.codes)]
        if clash:
            problems.append(
                Problem(
                    file, None, None, None, None, "mapping",
                    f"mapping file {shown} line {line_of(node, ['missing'])}: the missing-value text {token!r} is also "
                    f"a code of {', '.join(clash)}: those values are read as missing. Remove it from missing: if "
                    "they are real answers.",
                    "warning",
                )
            )
    failed = any(p.level == "error" for p in problems)
    return (None if failed else mapping), problems


def _duplicate_keys(node: yaml.Node | None) -> list[tuple[int, str]]:
    """(line, "KEY is written twice ...") for every key repeated within one YAML mapping, names
    compared as codes are (the configuration file uses the same check: yamlio.duplicate_keys)."""
    return duplicate_keys(node, same=_key)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, dt.date))


def _yaml_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of pairs"
    return f"the single value {value!r}"


# ---------------------------------------------------------------------------
# Reading one file into a header and numbered rows


@dataclass
class _Table:
    header: list[Any]
    rows: list[tuple[int, list[Any]]]  # (row number a person sees, cells)
    #: the fast CSV reader's table instead of ``rows`` (:func:`_read_csv_fast`): per column
    #: ``(codes, uniques)``, the cells being ``uniques[codes]``, and the row numbers
    columns: list[tuple[np.ndarray, np.ndarray]] | None = None
    numbers: np.ndarray | None = None

    def first_rows(self, k: int) -> list[tuple[int, list[Any]]]:
        """The first ``k`` rows as ``(number, cells)``."""
        if self.columns is None:
            return self.rows[:k]
        return [(int(self.numbers[i]), [uniques[codes[i]] for codes, uniques in self.columns])
                for i in range(min(k, len(self.numbers)))]


def _shown_path(path: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _blank(cells: Sequence[Any]) -> bool:
    try:  # all text (a CSV row): blank when the cells joined are only spaces; one C-level pass
        return not "".join(cells).strip()
    except TypeError:
        return all(is_missing(c) for c in cells)


_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive; if it is a workbook, rename it to .xlsx"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or a password-protected one; open it in Excel and "
                          "save it as CSV UTF-8 (or as .xlsx without a password)"),
    (b"$FL2", "an SPSS data file; rename it to .sav"),
    (b"$FL3", "an SPSS data file; rename it to .sav"),
    (b"%PDF", "a PDF document, not a table"),
)
_UTF8_CHAR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode_text(data: bytes, what: str) -> tuple[str | None, str | None]:
    """(text, None), or (None, why the bytes cannot be read as one text)."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return None, f"the file is not a CSV text file but {kind}."
    if b"\x00" in data:
        return None, (
            f"the file is not plain text (it may be UTF-16 'Unicode text' or a renamed spreadsheet); "
            f"save it as {what} UTF-8."
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    if _UTF8_CHAR.search(data):  # some UTF-8 characters, yet not UTF-8 throughout: two encodings mixed
        utf8, other = [], []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if line.isascii():
                continue
            try:
                utf8.append((number, line.decode("utf-8")))
            except UnicodeDecodeError:
                other.append((number, line.decode("cp1252", errors="replace")))
        if utf8 and other:
            def example(lines: list[tuple[int, str]]) -> str:
                number, text = lines[0]
                word = next((w for w in re.split(r"[,;\t\s]+", text) if not w.isascii()), text)
                return f"{_ranges([n for n, _ in lines])} (e.g. line {number} '{word.strip()}')"

            return None, (
                f"the file mixes two text encodings: lines {example(utf8)} are UTF-8, lines {example(other)} "
                "are Windows-1252/Latin-1, so one of the two parts would be read wrongly "
                "(one site or code could become two). Open the file in a text editor or spreadsheet, check the "
                f"accented values, and save it again as {what} UTF-8."
            )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d, ...)
        text = data.decode("latin-1")
    control = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    if control > max(3, len(text[:20000]) // 100):
        return None, f"the file is not a text file (it holds binary data); export the data again as {what}."
    return text, None


def _ranges(numbers: Sequence[int], limit: int = 4) -> str:
    """'2–5, 9, 12–14' for sorted numbers (the first ``limit`` runs, then '...')."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    shown = [f"{a}" if a == b else f"{a}–{b}" for a, b in runs[:limit]]
    return ", ".join(shown) + (", ..." if len(runs) > limit else "")


def _read_csv(path: Path, file: str, delimiter: str, header_row: int | None = None
              ) -> tuple[_Table | None, list[Problem]]:
    def problem(rule: str, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(file, None, None, None, None, rule, message)]

    data = path.read_bytes()
    if not data.strip():
        return problem("empty_file", "the file is empty.")
    text, why = _decode_text(data, "CSV")
    if text is None:
        return problem("unreadable_file", why)
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if len(first_line) == 5 and first_line.lower().startswith("sep="):  # Excel's line naming the delimiter
        delimiter = first_line[4]
        header_row = max(header_row or 2, 2)
    elif header_row in (None, 1):
        fast = _read_csv_fast(text, delimiter)
        if fast is not None:
            return fast, []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as err:
        return problem("unclosed_quote", _csv_error(text, delimiter, err))
    if reader.line_num != len(records):  # a value spans several lines: quoted line breaks
        found = _unclosed_quote(text, delimiter)
        if found:
            return problem("unclosed_quote", found)
    numbered = list(enumerate(records, start=1))  # (number, cells)
    if header_row is not None:
        numbered = [(n, cells) for n, cells in numbered if n >= header_row]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        return problem("empty_file", "the file is empty." if header_row is None else
                       f"the file has no column names in row {header_row} (header_row) or after it.")
    header_number, header = numbered[0]
    if header_number != (header_row or 1):
        return problem(
            "header_row",
            f"row {header_row or 1} is empty; the column names must be in row {header_row or 1} (they were found "
            f"in row {header_number}): delete the rows above them, or write header_row: {header_number} in the "
            "site's mapping file.",
        )
    if len(header) == 1:
        for sep, name in ((";", "semicolons (;)"), ("\t", "tabs")):
            if sep != delimiter and sep in header[0]:
                shown = "\\t" if sep == "\t" else sep
                return problem(
                    "delimiter",
                    f"the values seem to be separated by {name}, not by commas; save the file as "
                    f"comma-separated CSV, or write delimiter: \"{shown}\" in the site's mapping file.",
                )
    return _Table(header, numbered[1:]), []


def _read_csv_fast(text: str, delimiter: str) -> _Table | None:
    """The table :func:`_read_csv` would read, by pandas' C parser, for a plain file;
    ``None`` (read it with the csv module) for anything else.

    A registry's export is read in a fraction of the time and memory: each column
    comes as ``(codes, uniques)`` (a pandas categorical) instead of a Python string
    per cell (at 1,000,000 patients 30 million strings, 2.5 GiB). Only a file
    whose cells the two readers provably split alike takes this path: no quote
    character, no NUL, no byte-order mark left, line ends \n or \r\n only, no empty
    line, the column names in the first line (at least two), every line with
    exactly as many delimiters as the first, no line longer than the csv module's
    field limit, no blank row (only spaces and delimiters) and no row repeating
    the first column's name. Everything the tolerant reader reports (stray
    quotes, ragged or blank rows, repeated headers, header below row 1, another
    delimiter) therefore goes the csv module's way with its messages.
    """
    if (len(delimiter) != 1 or not delimiter.isascii() or delimiter in "\r\n\"" or not text
            or "\ufeff" in text or '"' in text or "\x00" in text
            or ("\r" in text and text.count("\r") != text.count("\r\n"))):
        return None
    first, newline, body = text.partition("\n")
    header = first.removesuffix("\r").split(delimiter)
    if not newline or len(header) < 2 or not "".join(header).strip():
        return None
    body = body.removesuffix("\n").removesuffix("\r")  # the last line's end (an empty line after it: below)
    if not body or body.startswith(("\n", "\r\n")) or "\n\n" in body or "\n\r\n" in body or body.endswith("\r"):
        return None
    data = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    per_line = np.bincount(np.searchsorted(ends, np.flatnonzero(data == ord(delimiter))), minlength=len(ends) + 1)
    lengths = np.diff(ends, prepend=-1, append=len(data)) - 1
    n_lines = len(ends) + 1
    if (per_line != len(header) - 1).any() or lengths.max() >= csv.field_size_limit():
        return None
    del data, ends, per_line, lengths
    try:
        frame = pd.read_csv(io.StringIO(body), sep=delimiter, header=None, names=list(range(len(header))),
                            index_col=False, dtype="category", keep_default_na=False, na_filter=False,
                            quoting=csv.QUOTE_NONE, skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError):
        return None
    if len(frame) != n_lines or frame.shape[1] != len(header):
        return None
    columns = []
    blank = np.ones(n_lines, dtype=bool)
    for position in range(len(header)):
        values = frame[position].array
        codes, uniques = values.codes, np.asarray(values.categories, dtype=object)
        if (codes < 0).any() or not all(type(u) is str for u in uniques):
            return None
        if blank.any():
            blank &= np.array([not u.strip() for u in uniques] + [True])[codes]
        columns.append((codes, uniques))
    del frame
    if blank.any() or header[0] in set(columns[0][1]):  # blank rows, or the column names repeated
        return None
    return _Table(header, [], columns=columns, numbers=np.arange(2, n_lines + 2))


def _records_with_lines(text: str, delimiter: str):
    """(record number, first line, last line, cells) of each record, until the csv module stops."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for number, cells in enumerate(reader, start=1):
        yield number, start, reader.line_num, cells
        start = reader.line_num + 1


def _unclosed_quote(text: str, delimiter: str) -> str | None:
    """The message for a quote that swallows line breaks and the rows after it, or None
    (a quoted value with a line break in it is allowed when it looks like text)."""
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    for number, first, last, cells in _records_with_lines(text, delimiter):
        if last == first:
            continue
        for pos, cell in enumerate(cells):
            if "\n" not in cell and "\r" not in cell:
                continue
            swallowed = cell.split("\n", 1)[1] if "\n" in cell else ""
            if delimiter in swallowed or last >= n_lines:
                closed = (f"and closed only on line {last}" if last < n_lines
                          else "and never closed")
                return (
                    f"a quote (\") opens the value in column {_column_letter(pos)} of row {number} "
                    f"(line {first}) {closed}: lines {first + 1}–{last} were read as part of that one value, "
                    f"so the rows there were lost. Remove the stray quote, or close it, and run again."
                )
    return None


def _csv_error(text: str, delimiter: str, err: csv.Error) -> str:
    """The message for a file the csv module stops reading (e.g. 'field larger than field limit')."""
    last = None
    try:
        for last in _records_with_lines(text, delimiter):
            pass
    except csv.Error:
        pass
    line = last[2] + 1 if last else 1
    if "field limit" in str(err):
        return (
            f"from line {line} on, the rest of the file reads as one value longer than "
            f"{csv.field_size_limit():,} characters: a quote (\") opened there (row {last[0] + 1 if last else 1}) "
            "is never closed. Remove the stray quote, or close it, and run again."
        )
    return f"the file cannot be read as CSV from line {line} on ({err}); check the quotes (\") there."


def _excel_cell(value: Any) -> Any:
    """A real date cell becomes 'YYYY-MM-DD' (a time of day in it dropped: hospital systems export
    date-times, and every endpoint here counts days); an empty cell None; everything else stays as read."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)
    return value


def _read_excel(path: Path, file: str, sheet: str | int | None, header_row: int | None = None,
                known: Callable[[Any], bool] = lambda name: False) -> tuple[_Table | None, list[Problem]]:
    """One sheet of a workbook. ``known`` tells whether a header cell names a dictionary
    variable (directly or through the mapping): it points at the sheet that holds the data
    when the wrong one is read or none is named."""
    import openpyxl  # an optional reader: imported only for Excel files

    def problem(rule: str, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(file, None, None, None, None, rule, message)]

    with open(path, "rb") as handle:
        start = handle.read(8)
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        return problem(
            "unreadable_file",
            "the workbook is password-protected (encrypted) or an old Excel file (.xls) renamed to .xlsx; "
            "open it in Excel, remove the password (File > Info > Protect Workbook) and save it as .xlsx.",
        )
    if not start.startswith(b"PK"):
        text, _ = _decode_text(Path(path).read_bytes()[:4096], "CSV")
        if start.startswith((b"$FL2", b"$FL3")):
            return problem("unreadable_file", "the file is an SPSS data file named .xlsx; rename it to .sav.")
        if text is not None and "\n" in text and any(sep in text for sep in ",;\t"):
            return problem(
                "unreadable_file",
                "the file is text (probably CSV) named .xlsx, not an Excel workbook; rename it to .csv, "
                "or open it in Excel and save it as .xlsx.",
            )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for a damaged file
        return problem(
            "unreadable_file",
            f"the file cannot be read as an Excel workbook (.xlsx) ({type(err).__name__}); "
            "it may be damaged or in another format: open it in Excel and save it again as .xlsx.",
        )
    problems: list[Problem] = []
    try:
        names = workbook.sheetnames
        if not names:
            return problem("empty_file", "the workbook has no sheets.")

        def matches(name: str) -> int:
            """How many cells of the sheet's first rows name dictionary variables (best row)."""
            rows = workbook[name].iter_rows(min_row=1, max_row=max(5, header_row or 1), values_only=True)
            return max((sum(1 for v in row if known(v)) for row in rows), default=0)

        def best_other(than: str | None) -> str:
            scores = {n: matches(n) for n in names if n != than}
            best = max(scores, key=scores.get, default=None)
            if best is None or scores[best] == 0:
                return ""
            return f"; the sheet '{best}' holds {scores[best]} of the dictionary's columns (sheet: {best})"

        if sheet is None:
            if len(names) > 1:
                suggestion = best_other(None) or f" (sheet: {names[0]})"
                return problem(
                    "sheet",
                    f"the workbook has {len(names)} sheets ({', '.join(names)}); name the one to read "
                    f"in the configuration{suggestion.replace('; the', ': the', 1)}.",
                )
            name = names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 1 <= sheet <= len(names):
                return problem(
                    "sheet",
                    f"sheet {sheet} does not exist: sheets are numbered from 1 and the workbook has "
                    f"{len(names)} ({', '.join(names)}){best_other(None)}.",
                )
            name = names[sheet - 1]
        else:
            if str(sheet) not in names:
                return problem(
                    "sheet", f"there is no sheet named {sheet!r}; the sheets are: {', '.join(names)}{best_other(None)}."
                )
            name = str(sheet)
        if len(names) > 1 and matches(name) == 0:
            other = best_other(name)
            if other:
                return problem(
                    "sheet", f"the sheet '{name}' holds none of the data dictionary's columns{other}."
                )
        worksheet = workbook[name]
        worksheet.reset_dimensions()  # the size stored in the file may be wrong: read every cell
        rows = []
        percent: dict[int, list[tuple[int, Any]]] = {}
        for number, cells in enumerate(worksheet.iter_rows(min_row=1), start=1):
            values = []
            for pos, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if (isinstance(value, (int, float)) and not isinstance(value, bool)
                        and "%" in (getattr(cell, "number_format", None) or "")):
                    percent.setdefault(pos, []).append((number, value))
                    value = round(value * 100, 10)  # the number the user sees: 0.48 shown as 48 %
                values.append(_excel_cell(value))
            rows.append((number, values))
    finally:
        workbook.close()
    if not rows or all(_blank(cells) for _, cells in rows):
        return problem("empty_file", "the sheet is empty.")
    first = header_row or 1
    header_cells = next((cells for n, cells in rows if n == first), [])
    if _blank(header_cells):
        below = next((n for n, cells in rows if n > first and not _blank(cells)), None)
        hint = f" (they were found in row {below}): delete the rows above them, or write header_row: {below} in the site's mapping file" if below else ""
        return problem("header_row", f"row {first} is empty; the column names must be in row {first}{hint}.")
    header = header_cells
    for pos, cells in sorted(percent.items()):
        heading = show_value(header[pos]) if pos < len(header) else None
        cells = [(n, v) for n, v in cells if n > first]
        if not cells:
            continue
        n, v = cells[0]
        problems.append(
            Problem(
                file, None, None, heading or _column_letter(pos), None, "percent_cells",
                f"{_count_of(len(cells), 'cell')} of column {_column_letter(pos)} ('{heading}') "
                f"{'is' if len(cells) == 1 else 'are'} formatted as percent in Excel (e.g. row {n}: stored "
                f"{show_value(v)}, shown {show_value(round(v * 100, 10))} %); "
                f"{'it was' if len(cells) == 1 else 'they were'} read as the number shown "
                f"({show_value(round(v * 100, 10))}). Check that this is what the column means.",
                "warning",
            )
        )
    problems += _uncomputed_formulas(path, file, name, header, first)
    if any(p.rule == "formula" for p in problems):
        return None, problems
    return _Table(header, [(n, cells) for n, cells in rows if n > first]), problems


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _uncomputed_formulas(path: Path, file: str, sheet: str, header: list[Any], first: int) -> list[Problem]:
    """Formula cells without a stored result (saved by a program that does not compute
    formulas): openpyxl reads them as empty, so they would pass as missing values."""
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            if not any(b"<f" in archive.read(n) for n in archive.namelist()
                       if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                return []
    except (zipfile.BadZipFile, OSError, KeyError):
        return []
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    found: list[tuple[int, int, str]] = []
    try:
        for number, (cached, written) in enumerate(
            zip(values[sheet].iter_rows(values_only=True), formulas[sheet].iter_rows(values_only=True)), start=1
        ):
            for pos, (value, formula) in enumerate(zip(cached, written)):
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    found.append((number, pos, formula))
    finally:
        values.close()
        formulas.close()
    if not found:
        return []
    number, pos, formula = found[0]
    heading = show_value(header[pos]) if pos < len(header) else _column_letter(pos)
    return [
        Problem(
            file, None, None, heading, None, "formula",
            f"{_count_of(len(found), 'cell')} {'holds a formula' if len(found) == 1 else 'hold formulas'} without a "
            f"stored result (e.g. row {number}, column {_column_letter(pos)} '{heading}': {formula}), so "
            f"{'its value is' if len(found) == 1 else 'their values are'} unknown (rows "
            f"{_ranges(sorted({n for n, _, _ in found}))}). Open the workbook in Excel or LibreOffice, let it "
            "calculate, and save it again (or paste the values instead of the formulas).",
        )
    ]


def _read_sav(path: Path, file: str) -> tuple[_Table | None, list[Problem]]:
    import pyreadstat  # an optional reader: imported only for SPSS files

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as err:  # pyreadstat raises its own error types
        return None, [
            Problem(
                file, None, None, None, None, "unreadable_file",
                f"the file cannot be read as an SPSS data file (.sav) ({type(err).__name__}).",
            )
        ]
    labels = {
        name: {_key(code): label for code, label in table.items()}
        for name, table in (meta.variable_value_labels or {}).items()
    }
    header = list(frame.columns)
    rows = []
    for case, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        cells = []
        for name, value in zip(header, values):
            value = _excel_cell(value)
            if isinstance(value, str) and value == "":
                value = None  # SPSS writes an empty text value for missing
            elif name in labels and not is_missing(value):
                value = labels[name].get(_key(value), value)  # an unlabelled code stays as read
            cells.append(value)
        rows.append((case, cells))
    return _Table(header, rows), []


# ---------------------------------------------------------------------------
# From a table to dictionary columns


def _identifier_kind(name: str, dictionary: Dictionary) -> str | None:
    """Which identifier pattern the column name matches, if any. The name is tried as
    written and with every run of spaces and punctuation written as '_' and accents
    dropped ("Last Name", "E-Mail", "Prénom" -> last_name, e_mail, prenom), as the
    patterns use underscores and plain letters."""
    if name.casefold() in {n.casefold() for n in dictionary.names}:
        return None
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch))
    plain = re.sub(r"[^0-9a-z]+", "_", folded).strip("_")
    for kind, pattern in dictionary.identifier_patterns:
        if re.search(pattern, name, flags=re.IGNORECASE) or re.search(pattern, plain, flags=re.IGNORECASE):
            return kind
    return None


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rem = divmod(position - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _builtin_codes(dictionary: Dictionary) -> dict[str, dict[str, str]]:
    """Per category variable: code or label (case-folded) -> code; codes win over labels."""
    out = {}
    for var in dictionary.variables:
        if var.type == "category":
            table = {_key(label): code for code, label in var.codes}
            table.update({_key(code): code for code, _ in var.codes})
            out[var.name] = table
    return out


def _plain(name: str) -> str:
    """A column name reduced to letters and digits joined by '_' (invisible characters dropped)."""
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Cc"))
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_")


def _looks_like(name: str, dictionary: Dictionary) -> str | None:
    """The dictionary variable a column name most likely means (its name or label written
    another way, e.g. 'Age at relapse', 'age-at-relapse', 'sex\u200b'), or None."""
    import difflib

    plain = _plain(name)
    forms = {}
    for var in dictionary.variables:
        forms[_plain(var.name)] = var.name
        forms.setdefault(_plain(var.label), var.name)
    if plain in forms:
        return forms[plain]
    close = difflib.get_close_matches(plain, list(forms), n=1, cutoff=0.85)
    return forms[close[0]] if close else None


def _rows_by_column(table: _Table, file: str, problems: list[Problem]
                    ) -> tuple[list[tuple[int, list[Any]]], int, list[Any], list[tuple[Any, ...]]]:
    """The rows of a table read row by row: padded to the widest row, without blank rows and
    rows repeating the column names (reported in ``problems``), and their cells by column."""
    width = max([len(table.header)] + [len(cells) for _, cells in table.rows])
    header = list(table.header) + [None] * (width - len(table.header))
    rows = [(n, cells if len(cells) == width else list(cells) + [None] * (width - len(cells)))
            for n, cells in table.rows]
    rows = [(n, cells) for n, cells in rows if not _blank(cells)]  # blank lines are not patients
    first_name = header[0]
    repeated = [n for n, cells in rows if first_name is not None and cells[0] == first_name and cells == header]
    if repeated:  # the column names again further down: exports pasted together
        problems.append(
            Problem(
                file, None, None, None, None, "repeated_header",
                f"{'row' if len(repeated) == 1 else 'rows'} {_ranges(repeated)} "
                f"{'repeats' if len(repeated) == 1 else 'repeat'} the column names of row "
                f"{table.rows[0][0] - 1 if table.rows else 1} (exports pasted together?); "
                f"{'it was' if len(repeated) == 1 else 'they were'} not read as patients. Delete "
                f"{'it' if len(repeated) == 1 else 'them'} from the file.",
                "warning",
            )
        )
        skip = set(repeated)
        rows = [(n, cells) for n, cells in rows if n not in skip]
    # the cells by column (tuples; zip transposes in C, so a registry of a million rows stays fast)
    by_column = list(zip(*[cells for _, cells in rows])) if rows else [()] * width
    return rows, width, header, by_column


#: marks a frame of :func:`_frame_from_table` whose values are all text or None (no NaN to replace)
_TEXT_ONLY = "cart_text_only"
_SPLITS = "cart_splits"  # the fast CSV reader's (codes, values) per column, for LoadedCohort.splits
#: dictionary name -> the file's column (its mapping key) read as it through the mapping file (one of several alternatives a
#: shared mapping may name), for messages in the site's words (:func:`_site_words`)
_READ_AS = "cart_read_as"


def _frame_from_table(
    table: _Table, source: Source, mapping: SiteMapping, dictionary: Dictionary, file: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    names = {n.casefold(): n for n in dictionary.names}
    rows: list[tuple[int, list[Any]]] | None = None
    read_splits: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # column position -> (codes, values as mapped)
    if table.columns is not None:  # the fast CSV reader's columns: no row to pad, drop or report
        width, header, numbers = len(table.header), list(table.header), table.numbers
        used = [np.bincount(codes, minlength=len(uniques)) > 0 for codes, uniques in table.columns]

        def has_values(pos: int) -> bool:
            return any(not is_missing(u) for u in table.columns[pos][1][used[pos]])

        def cells_of(pos: int, fn: Callable[[Any], Any]) -> np.ndarray:
            codes, uniques = table.columns[pos]
            mapped = map_split(uniques, None, fn)  # fn once per distinct text
            read_splits[pos] = (codes, mapped)
            return mapped[codes]
    else:
        rows, width, header, by_column = _rows_by_column(table, file, problems)
        numbers = [n for n, _ in rows]

        def has_values(pos: int) -> bool:
            return any(not is_missing(v) for v in by_column[pos])

        def cells_of(pos: int, fn: Callable[[Any], Any]) -> np.ndarray:
            # once per distinct value for text columns (CSV), else once per cell
            return map_distinct(np.fromiter(by_column[pos], dtype=object, count=len(numbers)), fn)

    taken: dict[str, int] = {}
    refused: set[str] = set()  # variables whose column (named by the mapping file) was refused as an identifier
    unknown_seen: set[str] = set()
    for pos, name in enumerate(header):
        text = show_value(name)
        if text is None:
            if pos < len(table.header) and has_values(pos):  # beyond the header: reported as row_length

                problems.append(
                    Problem(
                        file, None, None, _column_letter(pos), None, "unknown_column",
                        f"column {_column_letter(pos)} has values but no name in row 1; it was ignored.",
                        "warning",
                    )
                )
            continue
        text = text.strip()
        if _key(text) in mapping.columns and mapping.columns[_key(text)] is None:
            continue  # ignored on purpose by the mapping file: not read, whatever its name looks like
        kind = _identifier_kind(text, dictionary)
        mapped = mapping.columns.get(_key(text))
        if kind is not None and (mapped is None or dictionary[mapped].type == "string"):
            # never read unless the mapping file says which checked variable it is: a date, number or
            # code, whose check refuses a name or telephone number; a text variable (patient_id) checks
            # nothing, so a name mapped to it would be read as the pseudonym
            if mapped is None:
                message = (f"the column '{text}' looks like a direct identifier ({kind}) and was refused: its values "
                           "were not read. Direct identifiers must not leave the site; remove the column from the "
                           "export (each patient is identified only by the study pseudonym, patient_id). If it "
                           "holds a date, number or code of the data dictionary instead, map it to that variable "
                           "in the site's mapping file (columns:).")
            else:
                var = dictionary[mapped]
                message = (f"the column looks like a direct identifier ({kind}) and was refused: its values were "
                           f"not read, so {mapped}{' (required)' if var.required and mapped != 'site' else ''} has no column. The "
                           "mapping file names it, but a text variable is never read from a column named like an "
                           "identifier (nothing would show that its values are not names or numbers): rename the "
                           "column in the export, or remove it if it holds a direct identifier.")
            problems.append(
                Problem(
                    file, None, None, mapped or text, None, "identifier_column", message,
                    # the variable it was to be read as, where validation looks for a column not read
                    label=dictionary[mapped].label if mapped else None, site_column=text if mapped else None,
                )
            )
            if mapped is not None:
                refused.add(mapped)
            continue
        if mapped is not None:
            target = mapped  # named by the mapping file (an identifier-looking name included: its values are checked)
        elif text.casefold() in names:
            target = names[text.casefold()]
        else:
            if text.casefold() not in unknown_seen:
                unknown_seen.add(text.casefold())
                shown = visible(text) if visible(text) != text else f"'{text}'"
                like = _looks_like(text, dictionary)
                hint = (
                    f"; it looks like {like} ({dictionary[like].label}): name the column {like}, or map it in the "
                    f"site's mapping file (columns: {text}: {like})" if like and like not in taken else
                    " (rename it in the site's mapping file if it holds a dictionary variable)"
                )
                problems.append(
                    Problem(
                        file, None, None, text, None, "unknown_column",
                        f"the column {shown} is not in the data dictionary and was ignored{hint}.",
                        "warning",
                    )
                )
            continue
        if target in taken:
            first = show_value(header[taken[target]])
            problems.append(
                Problem(
                    file, None, None, target, None, "duplicated_column",
                    f"{target} appears twice (columns {_column_letter(taken[target])} '{first}' and "
                    f"{_column_letter(pos)} '{text}'); only the first was read. Keep one column per variable.",
                )
            )
            continue
        taken[target] = pos

    problems += _unmatched_mapping(header, taken, mapping, dictionary, file)
    unmatched = {p.column for p in problems if p.rule == "mapping"}
    suggested = {p.value for p in problems if p.rule == "mapping" and p.value}
    problems = [p for p in problems if not (p.rule == "unknown_column" and p.column in suggested)]

    for number, cells in rows if rows is not None and len(table.header) < width else ():
        if any(not is_missing(c) for c in cells[len(table.header):]):
            patient = show_value(cells[taken["patient_id"]]) if "patient_id" in taken else None
            problems.append(
                Problem(
                    file, number, patient, None, None, "row_length",
                    f"the row has more values than there are column names ({len(table.header)}); "
                    "the values beyond the last named column were not read.",
                )
            )

    missing_tokens = set(mapping.missing)
    builtin = _builtin_codes(dictionary)
    data: dict[str, list[Any]] = {}
    for var in dictionary.variables:
        if var.name not in taken:
            data[var.name] = [None] * len(numbers)
            continue
        pos = taken[var.name]

        def read(value: Any, name: str = var.name) -> Any:
            if isinstance(value, str) and value == "":
                value = None
            elif missing_tokens and not is_missing(value) and _key(value) in missing_tokens:
                value = None
            if name in mapping.codes and not is_missing(value):
                value = mapping.codes[name].get(_key(value), value)
            if name in builtin and not is_missing(value):
                value = builtin[name].get(_key(value), value)
            return value

        data[var.name] = cells_of(pos, read)
    raw = pd.DataFrame(data, columns=dictionary.names, dtype=object)

    if "site" not in taken:
        if source.site is None:
            problems.append(
                Problem(
                    file, None, None, "site", None, "missing_site",
                    "the file has no site column and the configuration names no site for it; add "
                    + ("site: CODE to this file's entry (" + source.written["path"] + ")." if source.written.get("path")
                       else f"site: CODE to this file's entry under sources: in a sources.yml ('sources: [{{path: "
                            f"{Path(source.path).name}, site: CODE}}]') and set CART_DATA to that file, or to its "
                            "entry under data: sources: in analysis.yml."),
                )
            )
        else:
            raw["site"] = str(source.site)
    elif source.site is not None:
        for i, value in enumerate(raw["site"]):
            if is_missing(value):
                raw.iat[i, raw.columns.get_loc("site")] = str(source.site)
            elif show_value(value).strip() != str(source.site):
                problems.append(
                    Problem(
                        file, int(numbers[i]), show_value(raw["patient_id"].iat[i]), "site", show_value(value),
                        "site_mismatch",
                        f"site {show_value(value)} differs from the site {source.site} named for this file "
                        "in the configuration.",
                    )
                )

    for var in dictionary.variables:
        if (var.required and var.name not in taken and var.name != "site" and var.name not in unmatched
                and var.name not in refused):  # a refused column's message says the variable was not read
            problems.append(
                Problem(
                    file, None, None, var.name, None, "missing_column",
                    f"the required column {var.name} ({var.label}) is missing from the file.",
                )
            )

    origin = pd.DataFrame(
        {
            "file": [file] * len(numbers),
            "row": numbers,
            "patient": [v if type(v) is str and v.strip() else show_value(v) for v in raw["patient_id"]],
            "date_format": [mapping.date_format or dictionary.date_format] * len(numbers),
            "decimal": [mapping.decimal] * len(numbers),
        },
        columns=list(ORIGIN_COLUMNS),
    )
    origin["row"] = origin["row"].astype("int64")
    if table.columns is not None:  # the fast CSV reader's: every value text (read maps text to text) or None
        # set last: pandas deep-copies a frame's attrs into every Series or frame taken from it
        # (NDFrame.__finalize__), here each column's split, 1.4 s at 1,000,000 patients
        raw.attrs[_TEXT_ONLY] = True
        raw.attrs[_SPLITS] = {name: read_splits[pos] for name, pos in taken.items() if pos in read_splits}
    if mapping.columns:
        raw.attrs[_READ_AS] = {name: _key(header[pos]) for name, pos in taken.items()
                               if mapping.columns.get(_key(header[pos])) == name}
    return raw, origin, problems


def _unmatched_mapping(header: list[Any], taken: dict[str, int], mapping: SiteMapping, dictionary: Dictionary,
                       file: str) -> list[Problem]:
    """A ``columns:`` entry of the mapping file naming a column the file does not have. A
    misspelling (a column of the file that nothing read is close to it) or a required
    variable left without a column is a configuration error (rule ``mapping``, exit 2)
    naming the mapping file's line and the column meant; else a warning (a mapping file
    shared by exports that differ)."""
    import difflib

    present = {_key(h): show_value(h).strip() for h in header if show_value(h)}
    free = {k: v for k, v in present.items() if k not in mapping.columns
            and k not in {n.casefold() for n in dictionary.names}}
    out = []
    for theirs, ours in mapping.columns.items():
        if theirs in present or ours is None or ours in taken:
            continue
        where, name = mapping.written.get(theirs, ("the site's mapping file", theirs))
        close = difflib.get_close_matches(theirs, list(free), n=1, cutoff=0.75)
        like = free[close[0]] if close else None
        required = dictionary[ours].required and ours != "site"
        message = (f"{where}: the column '{name}' (mapped to {ours}) is not in the file"
                   + (f"; did you mean '{like}'? (that column was ignored). Write the name exactly as in the "
                      "file's row of column names." if like else
                      "; check its spelling against the file's row of column names"
                      + (f" (columns not read: {', '.join(repr(v) for v in list(free.values())[:8])}"
                         + (", ..." if len(free) > 8 else "") + ")." if free else ".")))
        error = like is not None or required
        out.append(Problem(file, None, None, ours, like, "mapping" if error else "mapping_unused",
                           message if error else message + " The mapping entry was not used.",
                           "error" if error else "warning"))
    return out


def _mapping_clashes(header: list[Any], mapping: SiteMapping, dictionary: Dictionary, file: str) -> list[Problem]:
    """Two columns of this data file that the mapping file reads as one variable: a configuration
    error (rule ``mapping``, exit 2) at the later entry, naming both lines. A mapping file may name
    several alternative columns for one variable (one mapping shared by an old and a new export
    layout: 'Geschlecht: sex' and 'Sex (m/w): sex'); only a file holding more than one of them is
    refused, since which column holds the variable is the user's call."""
    present = {_key(h) for h in header if show_value(h)}
    by_target: dict[str, list[str]] = {}
    for theirs, ours in mapping.columns.items():  # in the mapping file's order
        if ours is not None and theirs in present:
            by_target.setdefault(ours, []).append(theirs)
    out = []
    for ours, keys in by_target.items():
        first_where, first_name = mapping.written.get(keys[0], ("", keys[0]))
        _, found, first_line = first_where.rpartition(" line ")
        var = dictionary[ours]
        for theirs in keys[1:]:
            where, name = mapping.written.get(theirs, ("the site's mapping file", theirs))
            out.append(Problem(
                file, None, None, None, None, "mapping",
                f"{where}: the column {name!r} is mapped to {ours} ({var.label}), and so is {first_name!r}"
                + (f" (line {first_line})" if found else "") + f", and the data file has both columns; a "
                f"variable is read from one column. Keep the entry of the column that holds the "
                f"{var.label.lower()} and map the other to its own variable (or to null to ignore it)."))
    return out


def header_row_of(source: Source, mapping: SiteMapping) -> int | None:
    """The row holding the column names: the mapping file's ``header_row:``, else the
    source entry's ``header_row`` (a sources.yml key, when the configuration has it), else None (row 1)."""
    if mapping.header_row is not None:
        return mapping.header_row
    value = getattr(source, "header_row", None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _known_column(mapping: SiteMapping, dictionary: Dictionary) -> Callable[[Any], bool]:
    names = {n.casefold() for n in dictionary.names}

    def known(value: Any) -> bool:
        if not isinstance(value, str) and (value is None or isinstance(value, (int, float))):
            return False
        key = _key(value)
        return key in names or mapping.columns.get(key) is not None
    return known


def _misplaced_header(table: _Table, known: Callable[[Any], bool], first: int, file: str) -> Problem | None:
    """A header row with (almost) no dictionary names above a row full of them: the
    column names are lower down (e.g. under merged group headings)."""
    here = sum(1 for v in table.header if known(v))
    for number, cells in table.first_rows(5):
        there = sum(1 for v in cells if known(v))
        if there >= 3 and there >= 2 * here + 2:
            above = [show_value(v) for v in table.header if not is_missing(v)][:4]
            shown = f" ({', '.join(repr(a) for a in above)}, perhaps headings over merged cells)" if above else ""
            return Problem(
                file, None, None, None, None, "header_row",
                f"the column names seem to be in row {number}, not in row {first}: row {number} holds {there} of "
                f"the data dictionary's column names, row {first} only {here}{shown}. Write header_row: {number} "
                "in the site's mapping file (or delete the rows above the column names) and run again.",
            )
    return None


def _load_one(source: Source, dictionary: Dictionary) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    path = Path(source.path)
    file = _shown_path(path)
    problems: list[Problem] = []
    mapping = SiteMapping()
    if source.mapping is not None:
        read, mapping_problems = read_mapping(Path(source.mapping), dictionary, file=file)
        if read is None:  # not read with a mapping that may misread it: the data's problems would mislead
            last = max(i for i, p in enumerate(mapping_problems) if p.level == "error")
            mapping_problems[last] = replace(
                mapping_problems[last], message=mapping_problems[last].message
                + " The data file was not read; it is checked once the mapping file is corrected.")
            return None, None, problems + mapping_problems
        problems += mapping_problems
        mapping = read
    if not path.exists():
        return None, None, problems + [
            Problem(file, None, None, None, None, "unreadable_file", "the file does not exist.")
        ]
    if path.is_dir():
        return None, None, problems + [
            Problem(file, None, None, None, None, "unreadable_file", "this is a folder, not a data file.")
        ]
    suffix = path.suffix.lower()
    header_row = header_row_of(source, mapping)
    known = _known_column(mapping, dictionary)
    try:
        if suffix == ".csv":
            table, read_problems = _read_csv(path, file, mapping.delimiter, header_row)
        elif suffix == ".xlsx":
            table, read_problems = _read_excel(path, file, source.sheet, header_row, known)
        elif suffix == ".sav":
            table, read_problems = _read_sav(path, file)
        elif suffix == ".xls":
            table, read_problems = None, [
                Problem(
                    file, None, None, None, None, "unreadable_file",
                    "old Excel files (.xls) cannot be read; save the workbook as .xlsx (in Excel: Save As, Excel Workbook).",
                )
            ]
        else:
            table, read_problems = None, [
                Problem(
                    file, None, None, None, None, "unreadable_file",
                    f"files of type '{suffix}' cannot be read; use CSV, Excel .xlsx or SPSS .sav.",
                )
            ]
    except OSError as err:
        table, read_problems = None, [
            Problem(file, None, None, None, None, "unreadable_file", f"the file cannot be opened ({err.strerror}).")
        ]
    except Exception as err:  # a damaged file the readers' libraries fail on while reading (zip, XML, ...)
        table, read_problems = None, [
            Problem(
                file, None, None, None, None, "unreadable_file",
                f"the file cannot be read: it may be damaged ({type(err).__name__}: {str(err)[:120]}); "
                "open it in the program that made it and save it again.",
            )
        ]
    problems += [_sheet_problem(p, source) if p.rule == "sheet" else p for p in read_problems]
    if table is None:
        return None, None, problems
    misplaced = _misplaced_header(table, known, header_row or 1, file)
    if misplaced is not None:
        return None, None, problems + [misplaced]
    clashes = _mapping_clashes(table.header, mapping, dictionary, file)
    if clashes:  # not read with a mapping that may misread it: the data's problems would mislead
        clashes[-1] = replace(clashes[-1], message=clashes[-1].message
                              + " The data file was not read; it is checked once the mapping file is corrected.")
        return None, None, problems + clashes
    raw, origin, frame_problems = _frame_from_table(table, source, mapping, dictionary, file)
    problems += frame_problems
    if raw.empty:
        problems.append(
            Problem(file, None, None, None, None, "no_patients", "the file has column names but no patients.")
        )
    return raw, origin, problems


def _sheet_problem(problem: Problem, source: Source) -> Problem:
    """A wrong or missing ``sheet:`` is the configuration's (exit 2): name where the source entry
    is written, or, for a workbook given directly (CART_DATA), say how to name the sheet."""
    where = source.written.get("sheet") or source.written.get("path")
    if where:
        return replace(problem, message=f"{where}: {problem.message}")
    named = re.search(r"\(sheet: ([^)]*)\)", problem.message)
    sheet = named.group(1) if named else "NAME"
    return replace(
        problem,
        message=problem.message.replace(" in the configuration", "")
        + f" To name it, write a file sources.yml beside the workbook holding 'sources: [{{path: "
        f"{Path(source.path).name}, sheet: {sheet}}}]' and set CART_DATA to that file (or give the entry "
        "under data: sources: in analysis.yml).",
    )


def _same_files(sources: Sequence[Source]) -> tuple[list[Source], list[Problem]]:
    """The sources without repeats: a file listed twice (same path and sheet) or two names for
    the same content are read once, and the repeat is reported once (rule ``duplicate_source``,
    a configuration problem)."""
    import hashlib

    kept: list[Source] = []
    problems: list[Problem] = []
    seen: dict[tuple[Any, ...], tuple[int, Source]] = {}
    sizes: dict[int, int] = {}
    for source in sources:
        try:
            size = Path(source.path).stat().st_size
        except OSError:
            continue
        sizes[size] = sizes.get(size, 0) + 1
    for position, source in enumerate(sources, start=1):
        path = Path(source.path)
        resolved = path.resolve()
        try:  # the content is compared only between files of the same size (a registry's files are read once)
            size = path.stat().st_size
            same_size = path.is_file() and sizes.get(size, 0) > 1
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if same_size else str(resolved)
        except OSError:
            digest = str(resolved)
        key = (digest, source.sheet)
        if key in seen:
            first_position, first = seen[key]
            same_path = Path(first.path).resolve() == resolved
            what = (f"is listed twice in the data sources (entries {first_position} and {position})" if same_path
                    else f"has the same content as {_shown_path(Path(first.path))} (data sources entries "
                         f"{first_position} and {position}): the same export listed twice under two names")
            problems.append(
                Problem(
                    _shown_path(path), None, None, None, None, "duplicate_source",
                    f"the file {what}; it was read once. Remove the repeated entry from the sources list.",
                )
            )
            continue
        seen[key] = (position, source)
        kept.append(source)
    return kept, problems


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Reading builds millions of short-lived lists and strings, none in a
    reference cycle (reference counting frees them); Python's cyclic collector
    would scan them again and again while they pile up (a third of the
    reading time at 100,000 patients). Paused while reading, then back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: CSV bytes from which the files are read by two processes (analysis/aside.py), and up to which: about
#: the 20,000 to 500,000 patients of aside.worth (~220 bytes a patient in the benchmark's registries).
READ_ASIDE_BYTES = (4_000_000, 110_000_000)
#: What a byte read aside costs against one read here: the forked process also sends what it read
#: back (pickled and unpickled, ~30% of the reading time), so it takes the smaller share.
READ_ASIDE_COST = 1.3


def _load_each(sources: Sequence[Source], dictionary: Dictionary) -> list[tuple[Any, Any, list[Problem]]]:
    """:func:`_load_one` of each source, in order. A registry of several CSV files
    (:data:`READ_ASIDE_BYTES`) is read by two processes: the last files in a forked
    one while this one reads the others, split where the two take least
    (:data:`READ_ASIDE_COST`; analysis/aside.py: the values are those of reading
    them here)."""
    from .aside import aside

    sizes = []
    for source in sources:
        try:
            sizes.append(Path(source.path).stat().st_size if Path(source.path).suffix.lower() == ".csv" else None)
        except OSError:
            sizes.append(None)
    total = sum(size or 0 for size in sizes)
    split = len(sources)
    if len(sources) > 1 and None not in sizes and READ_ASIDE_BYTES[0] <= total <= READ_ASIDE_BYTES[1]:
        def taking(k: int) -> float:  # the files from k on read aside: the longer of the two parts
            return max(sum(sizes[:k]), READ_ASIDE_COST * sum(sizes[k:]))

        best = min(range(1, len(sources)), key=taking)
        if taking(best) < 0.85 * total:  # at least 15% sooner, else one process (a fork costs too)
            split = best
    if split == len(sources):
        return [_load_paused(source, dictionary) for source in sources]
    side = aside(_load_list, sources[split:], dictionary)
    try:
        here = [_load_paused(source, dictionary) for source in sources[:split]]
    except BaseException:
        side.cancel()
        raise
    return here + side.result()


def _load_paused(source: Source, dictionary: Dictionary) -> tuple[Any, Any, list[Problem]]:
    with _cyclic_gc_paused():
        return _load_one(source, dictionary)


def _load_list(sources: Sequence[Source], dictionary: Dictionary) -> list[tuple[Any, Any, list[Problem]]]:
    return [_load_paused(source, dictionary) for source in sources]


def load_sources(sources: Sequence[Source], dictionary: Dictionary) -> LoadedCohort:
    """Read every source and pool the rows into one :class:`LoadedCohort`.

    Formats: CSV (UTF-8, UTF-8 with BOM, or Windows-1252/Latin-1 text;
    delimiter ',' unless the mapping file says otherwise), Excel .xlsx (the
    Source's ``sheet``, by name or by position counting from 1; a workbook with
    several sheets needs one named) and SPSS .sav (value labels applied).
    A file that cannot be read contributes no rows and one problem saying why;
    the other files are still read. Rows that are entirely empty are not
    patients and are skipped; every other row is kept, whatever it contains.
    """
    if not sources:
        raise ValueError("no data sources given")
    raws, origins, problems = [], [], []
    sources, problems = _same_files(sources)
    read_as: dict[str, dict[str, str]] = {}
    for raw, origin, file_problems in _load_each(sources, dictionary):
        problems += file_problems
        if raw is not None and _READ_AS in raw.attrs:
            read_as[str(origin["file"].iat[0]) if len(origin) else ""] = raw.attrs.pop(_READ_AS)
        if raw is not None and not raw.empty:
            raws.append(raw)
            origins.append(origin)
    text_only = bool(raws) and all(r.attrs.pop(_TEXT_ONLY, False) for r in raws)
    per_file = [r.attrs.pop(_SPLITS, None) for r in raws]  # (before concat, which would copy attrs)
    splits = pooled_splits(per_file) if text_only and all(f is not None for f in per_file) else {}
    del per_file
    if raws:
        raw = pd.concat(raws, ignore_index=True)
        origin = pd.concat(origins, ignore_index=True)
    else:
        raw = pd.DataFrame({name: pd.Series(dtype=object) for name in dictionary.names})
        origin = pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in ORIGIN_COLUMNS})
    if not text_only:  # (the fast CSV reader's frames hold only text and None: two copies of them saved)
        raw = raw.astype(object)
        raw = raw.where(raw.notna(), None)
    names, codes = _site_words(sources, dictionary, read_as)
    configured = {_shown_path(Path(s.path)): (str(s.site), s.written.get("site", "")) for s in sources
                  if s.site is not None}
    listed = {_shown_path(Path(s.path)): s.written["path"] for s in sources if s.written.get("path")}
    return LoadedCohort(raw=raw, origin=origin, problems=tuple(problems), site_names=names, site_codes=codes,
                        sheets=_sheets_read(sources), splits=splits, configured_sites=configured, listed=listed)


def _sheets_read(sources: Sequence[Source]) -> dict[str, str]:
    """The sheet read from each workbook (by name; the first when none is named), for messages."""
    out = {}
    for source in sources:
        if Path(source.path).suffix.lower() != ".xlsx":
            continue
        if isinstance(source.sheet, str):
            out[_shown_path(Path(source.path))] = source.sheet
            continue
        try:  # the names from xl/workbook.xml only (openpyxl would also load the shared strings)
            import zipfile
            from xml.etree import ElementTree

            with zipfile.ZipFile(source.path) as archive:
                root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            names = [e.get("name") for e in root.iter() if e.tag.endswith("}sheet") or e.tag == "sheet"]
        except Exception:  # an unreadable workbook is reported by the reader
            continue
        position = source.sheet if isinstance(source.sheet, int) and not isinstance(source.sheet, bool) else 1
        if 1 <= position <= len(names) and (source.sheet is not None or len(names) == 1):
            out[_shown_path(Path(source.path))] = names[position - 1]
    return out


def _site_words(sources: Sequence[Source], dictionary: Dictionary, read_as: dict[str, dict[str, str]] | None = None
                ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict[str, str]]]]:
    """The site's own column names and codes per file, from its mapping file (read again: a few
    lines of YAML), so that messages say 'Rezidiv Datum' and 'ja' where the site's file does.
    ``read_as``: file -> dictionary name -> the mapping key of the column the file was read from, where the mapping
    names alternatives (the one the file holds is named)."""
    names: dict[str, dict[str, str]] = {}
    codes: dict[str, dict[str, dict[str, str]]] = {}
    for source in sources:
        if source.mapping is None:
            continue
        file = _shown_path(Path(source.path))
        mapping, _ = read_mapping(Path(source.mapping), dictionary, file=file)
        if mapping is None:
            continue
        names[file] = {ours: mapping.written.get(theirs, ("", theirs))[1]
                       for theirs, ours in mapping.columns.items() if ours is not None}
        names[file].update({ours: mapping.written.get(theirs, ("", theirs))[1]
                            for ours, theirs in (read_as or {}).get(file, {}).items()})
        codes[file] = mapping.codes_written
    return names, codes
