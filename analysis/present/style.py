"""The one place for formatting conventions: p-values, percentages, estimates,
confidence intervals, "not reached". Tables, figures and prose all use these.

Journal convention (haematology journals, e.g. Blood): P without a leading
zero, two significant digits, "P < .001" below one in a thousand; estimates in
months to one decimal; hazard and odds ratios to two decimals; percentages of
a response rate to one decimal, baseline percentages to whole numbers; an en
dash between CI bounds.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

DASH = "\u2013"        # en dash for ranges and CIs
NOT_REACHED = "NR"     # median or bound not reached
NOT_ESTIMABLE = "NE"   # not estimable (e.g. no events, separation)


@dataclass(frozen=True)
class PStyle:
    significant: int = 2
    threshold: float = 0.001
    leading_zero: bool = False
    upper: float = 0.99


P_STYLE = PStyle()


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _strip_zero(text: str, leading_zero: bool) -> str:
    if not leading_zero and text.startswith("0."):
        return text[1:]
    return text


def fmt_p(p: float | None, *, style: PStyle = P_STYLE) -> str:
    """A p-value as the journal prints it, without the "P": '.0035', '< .001', '> .99'."""
    if _missing(p):
        return NOT_ESTIMABLE
    if p < style.threshold:
        return "< " + _strip_zero(f"{style.threshold:g}", style.leading_zero)
    if p > style.upper:
        return "> " + _strip_zero(f"{style.upper:g}", style.leading_zero)
    digits = style.significant - 1 - math.floor(math.log10(p))
    text = f"{p:.{max(digits, 0)}f}"
    # rounding can carry over into a new digit (0.0995 -> 0.10): re-derive digits
    if float(text) >= 10 ** (math.floor(math.log10(p)) + 1):
        text = f"{float(text):.{max(digits - 1, 0)}f}"
    return _strip_zero(text, style.leading_zero)


def fmt_p_text(p: float | None, *, style: PStyle = P_STYLE) -> str:
    """'P = .0035' or 'P < .001' for running text."""
    body = fmt_p(p, style=style)
    if body.startswith(("<", ">")):
        return f"P {body}"
    if body == NOT_ESTIMABLE:
        return "P not estimable"
    return f"P = {body}"


def fmt_alpha(alpha: float, *, style: PStyle = P_STYLE) -> str:
    """A significance level as the P values print it: 0.05 -> '.05', 0.01 -> '.01'.

    A threshold, not an estimate: printed as given (not to ``style.significant``
    digits, which would make 0.05 read '.050')."""
    return _strip_zero(f"{alpha:g}", style.leading_zero)


def fmt_num(x: float | None, digits: int = 1) -> str:
    if _missing(x):
        return NOT_ESTIMABLE
    if math.isinf(x):
        return NOT_REACHED
    return f"{x:.{digits}f}"


def fmt_months(x: float | None, *, reached: bool = True, digits: int = 1) -> str:
    """A time in months; an estimate that was not reached prints as NR."""
    if not reached or (x is not None and isinstance(x, float) and math.isinf(x)):
        return NOT_REACHED
    return fmt_num(x, digits)


def fmt_ci(lower: float | None, upper: float | None, *, digits: int = 1,
           lower_text: str | None = None, upper_text: str | None = None) -> str:
    """'4.2–13.1'; a missing bound prints as given (e.g. 'NR') or NE."""
    lo = lower_text if lower_text is not None else fmt_num(lower, digits)
    hi = upper_text if upper_text is not None else fmt_num(upper, digits)
    return f"{lo}{DASH}{hi}"


def fmt_estimate_ci(est: float | None, lower: float | None, upper: float | None, *, digits: int = 1,
                    level: int = 95, est_text: str | None = None, lower_text: str | None = None,
                    upper_text: str | None = None) -> str:
    """'8.6 (95% CI, 4.2–13.1)'."""
    e = est_text if est_text is not None else fmt_num(est, digits)
    return f"{e} ({level}% CI, {fmt_ci(lower, upper, digits=digits, lower_text=lower_text, upper_text=upper_text)})"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """A proportion (0–1) as a percentage: 0.4776 -> '47.8%'."""
    if _missing(x):
        return NOT_ESTIMABLE
    return f"{100 * x:.{digits}f}%"


def fmt_n_pct(n: int, d: int, digits: int = 0) -> str:
    """'28 (61%)' with the percentage of d; d = 0 gives '0 (–)'."""
    if d == 0:
        return f"{n} ({DASH})"
    return f"{n} ({100 * n / d:.{digits}f}%)"


def fmt_ratio(x: float | None, digits: int = 2) -> str:
    if _missing(x) or (isinstance(x, float) and math.isinf(x)):
        return NOT_ESTIMABLE
    return f"{x:.{digits}f}"


def fmt_int(n: int | None) -> str:
    return NOT_ESTIMABLE if n is None else f"{int(n)}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def fmt_month(day: datetime.date | None) -> str:
    """A date as the month and year a methods section gives: 'March 2017'."""
    return NOT_ESTIMABLE if day is None else f"{_MONTHS[day.month - 1]} {day.year}"


# --------------------------------------------------------------------------- names and symbols
# (added for the tables; they change no existing behaviour)

_RELATIONS = ((">=", "\u2265"), ("<=", "\u2264"))


def fmt_relation(text: str) -> str:
    """Comparison operators as printed symbols: '>=18' -> '≥18', 'S <= 0.45' -> 'S ≤ 0.45'."""
    for ascii_op, symbol in _RELATIONS:
        text = text.replace(ascii_op, symbol)
    return text


def fmt_test(name: str) -> str:
    """A test's name as printed: "chi-squared" becomes "χ²"
    ("Pearson's chi-squared test" -> "Pearson's χ² test"); other names unchanged."""
    return name.replace("chi-squared", "\u03c7\u00b2").replace("Chi-squared", "\u03c7\u00b2")


def fmt_not_estimable(reason: str, what: str | None = None) -> str:
    """Why a result is missing, as one sentence: 'Not estimable: all observations
    are censored.'; with ``what``: 'Multivariable Cox model not estimable: …'.
    Comparison operators print as symbols (:func:`fmt_relation`)."""
    head = f"{what[:1].upper()}{what[1:]} not estimable" if what else "Not estimable"
    body = fmt_relation(str(reason).strip()).rstrip(".")
    return f"{head}: {body}." if body else f"{head}."


def join_words(items: list[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' — how prose lists things."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
