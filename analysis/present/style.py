"""The one place for formatting conventions: p-values, percentages, estimates,
confidence intervals, "not reached". Tables, figures and prose all use these.

Journal convention (haematology journals, e.g. Blood; AMA style): P without a
leading zero, two decimals, three below .01, "P < .001" below one in a
thousand (:class:`PStyle`); negative numbers with a true minus sign; estimates in
months to one decimal; hazard and odds ratios to two decimals; percentages of
a response rate to one decimal, baseline percentages to whole numbers; an en
dash between CI bounds.
"""

from __future__ import annotations

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass

DASH = "\u2013"        # en dash for ranges and CIs
NOT_REACHED = "NR"     # median or bound not reached
NOT_ESTIMABLE = "NE"   # not estimable (e.g. no events, separation)


@dataclass(frozen=True)
class PStyle:
    """How P values print. The default is AMA / Blood style (AMA Manual of Style,
    11th ed., 19.5): no leading zero, 2 decimals, 3 decimals below .01,
    "< .001" below that, "> .99" above; P set in italics where the format allows.
    One object, so that a journal-style setting can swap it."""

    decimals: int = 2            # P >= small
    small: float = 0.01
    small_decimals: int = 3      # P < small
    threshold: float = 0.001     # below: "< .001"
    leading_zero: bool = False
    upper: float = 0.99          # above: "> .99"
    italic: bool = True          # "*P*" in Markdown; plain where no markup is possible


#: The journal style in use (AMA / Blood).
AMA_P_STYLE = PStyle()
P_STYLE = AMA_P_STYLE

#: Decimals of a percentage, by kind of number (one convention for each kind in
#: abstract, Results and tables; REVIEW item 13): a rate that is an outcome with a
#: CI (CR/CRi rate, survival at a landmark) to one decimal; a descriptive
#: "n (%)" (Table 1, patient flow) to whole numbers.
RATE_PCT_DIGITS = 1
COUNT_PCT_DIGITS = 0

#: U+2212 MINUS SIGN for negative numbers (an ASCII hyphen reads as a dash; REVIEW item 13).
MINUS = "\u2212"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _strip_zero(text: str, leading_zero: bool) -> str:
    if not leading_zero and text.startswith("0."):
        return text[1:]
    return text


def _round_half_up(x: float, decimals: int) -> str:
    """``x`` to ``decimals`` places, halves up as printed (.0095 -> .010, .125 -> .13),
    not as the binary float happens to fall (f"{0.0095:.3f}" is '0.009')."""
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def fmt_p(p: float | None, *, style: PStyle = P_STYLE) -> str:
    """A p-value as the journal prints it, without the "P": '.72', '.004', '< .001', '> .99'."""
    if _missing(p):
        return NOT_ESTIMABLE
    if p < style.threshold:
        return "< " + _strip_zero(f"{style.threshold:g}", style.leading_zero)
    if p > style.upper:
        return "> " + _strip_zero(f"{style.upper:g}", style.leading_zero)
    text = _round_half_up(p, style.small_decimals)
    if float(text) >= style.small:            # .0096 rounds to .010: print it as .01
        text = _round_half_up(p, style.decimals)
    if float(text) > style.upper:             # .994 rounds to 1.00 with upper .99
        return "> " + _strip_zero(f"{style.upper:g}", style.leading_zero)
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


def signed(text: str) -> str:
    """A formatted number with U+2212 for its minus sign: '-0.128' -> '−0.128'."""
    return MINUS + text[1:] if text.startswith("-") else text


def fmt_num(x: float | None, digits: int = 1) -> str:
    if _missing(x):
        return NOT_ESTIMABLE
    if math.isinf(x):
        return NOT_REACHED
    return signed(f"{x:.{digits}f}")


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


def fmt_pct(x: float | None, digits: int = RATE_PCT_DIGITS) -> str:
    """A proportion (0–1) as a percentage: 0.4776 -> '47.8%'."""
    if _missing(x):
        return NOT_ESTIMABLE
    return f"{100 * x:.{digits}f}%"


def fmt_n_pct(n: int, d: int, digits: int = COUNT_PCT_DIGITS) -> str:
    """'28 (61%)' with the percentage of d; d = 0 gives '0 (–)'."""
    if d == 0:
        return f"{n} ({DASH})"
    return f"{n} ({100 * n / d:.{digits}f}%)"


def fmt_ratio(x: float | None, digits: int = 2) -> str:
    if _missing(x) or (isinstance(x, float) and math.isinf(x)):
        return NOT_ESTIMABLE
    return signed(f"{x:.{digits}f}")


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
