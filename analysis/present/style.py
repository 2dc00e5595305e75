"""The one place for formatting conventions: p-values, percentages, estimates,
confidence intervals, "not reached". Tables, figures and prose all use these.

Default journal convention (haematology journals, e.g. Blood; AMA style): P
without a leading zero, two decimals, three below .01, "P < .001" below one in
a thousand (:class:`PStyle`); negative numbers with a true minus sign; estimates
in months to one decimal; hazard and odds ratios to two decimals; percentages of
a response rate to one decimal, baseline percentages to whole numbers below a
denominator of 100 (:class:`PercentStyle`); an en dash between CI bounds. Other
journals: :data:`JOURNALS`, chosen by the ``style.journal`` setting.
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass

DASH = "\u2013"        # en dash for ranges and CIs
MINUS = "\u2212"       # minus sign of a negative number (never the ASCII hyphen)
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
    letter: str = "P"            # the statistic's letter in running text ("P", Lancet "p")
    spaced: bool = True          # "P = .04" (AMA) or "P=0.04" (NEJM, Lancet)


#: AMA / Blood P values (the default journal style).
AMA_P_STYLE = PStyle()


@dataclass(frozen=True)
class PercentStyle:
    """Decimals of a percentage, by kind of number (one convention for each kind in
    abstract, Results and tables; REVIEW item 13).

    rate_digits : a rate that is an outcome with a CI (CR/CRi rate, survival at a
        landmark, cumulative incidence).
    count_digits : a descriptive "n (%)" (Table 1, patient flow, transplant
        summary), as (smallest denominator, decimals) steps: ((0, 0), (100, 1))
        prints whole numbers below a denominator of 100 and one decimal from 100.
    """

    rate_digits: int = 1
    count_digits: tuple[tuple[int, int], ...] = ((0, 0),)

    def count_digits_for(self, denominator: int) -> int:
        return [digits for least, digits in self.count_digits if denominator >= least][-1]


@dataclass(frozen=True)
class FigureStyle:
    """Figure widths and text as the journal asks for submitted figures.

    single_mm, double_mm : one- and two-column widths, in millimetres.
    fonts : font families in order of preference; the first one installed is
        used, then the matplotlib-shipped fallback (DejaVu), so a bare machine
        draws the same figure.
    font_size : text size in points (tick labels, axis labels, annotations).
    """

    single_mm: float
    double_mm: float
    fonts: tuple[str, ...] = ("Arial", "Helvetica", "Liberation Sans", "DejaVu Sans")
    font_size: float = 8.0

    @property
    def single_in(self) -> float:
        return self.single_mm / 25.4

    @property
    def double_in(self) -> float:
        return self.double_mm / 25.4


@dataclass(frozen=True)
class JournalStyle:
    """How numbers print for one journal: P values, the decimal mark, the
    separator between interval limits, the decimals of percentages, and the
    size and font of figures. Chosen by the ``style.journal`` setting and made
    current by :func:`use_journal` (as gtsummary's ``theme_gtsummary_journal()``
    sets a theme for every table)."""

    name: str
    label: str
    p: PStyle
    figure: FigureStyle
    decimal_mark: str = "."
    ci_separator: str = DASH
    percent: PercentStyle = PercentStyle()


#: AMA Manual of Style (11th ed., ch 18 "Numbers and Percentages"): a
#: percentage of a denominator below 100 as a whole number, from 100 to one
#: decimal (Blood and JAMA follow the AMA manual).
AMA_PERCENT = PercentStyle(count_digits=((0, 0), (100, 1)))

#: The journals' conventions, from their instructions for authors as we read
#: them (re-check before submission; journals revise them):
#:
#: * Blood (ASH "Instructions for authors", which follow the AMA Manual of Style)
#:   and JAMA (AMA Manual of Style, 11th ed., 19.5): "P = .004", no leading zero,
#:   two decimals, three below .01, "P < .001"; en dash between limits;
#:   percentages as :data:`AMA_PERCENT`. Figures: Blood style guide "Figures",
#:   "Image size and layout": 8.0 cm wide (1 column), 17 cm at most (2 columns),
#:   fonts not prescribed (Blood's vendor sets its own); JAMA Network
#:   instructions for authors, "Figures": 3.3 in (1 column), 7 in at most
#:   (2 columns), Arial or Helvetica.
#: * NEJM ("New Manuscripts", statistical reporting): "P=0.004", leading zero, no
#:   spaces, "P<0.001"; "to" between interval limits; "no. (%)" with one decimal.
#:   NEJM's illustrators redraw figures and it prescribes no width for submitted
#:   ones: the JAMA widths and fonts are used.
#: * The Lancet ("Information for authors", house style): "p=0·004", lower-case p,
#:   the decimal point set as a mid-line dot (U+00B7, "23·4, not 23.4"), "to"
#:   between interval limits, whole-number percentages in "n (%)". Figures
#:   (Lancet artwork guidance, redrawn in house style): 75 mm (1 column),
#:   154 mm (2 columns), Times New Roman.
#:
#: Rates with a CI print to one decimal in every style (an estimate, not a count).
JOURNALS: dict[str, JournalStyle] = {
    "blood": JournalStyle("blood", "Blood", AMA_P_STYLE, FigureStyle(80.0, 170.0), percent=AMA_PERCENT),
    "jama": JournalStyle("jama", "JAMA", AMA_P_STYLE, FigureStyle(3.3 * 25.4, 7.0 * 25.4), percent=AMA_PERCENT),
    "nejm": JournalStyle("nejm", "New England Journal of Medicine",
                         PStyle(leading_zero=True, spaced=False), FigureStyle(3.3 * 25.4, 7.0 * 25.4),
                         ci_separator=" to ", percent=PercentStyle(count_digits=((0, 1),))),
    "lancet": JournalStyle("lancet", "The Lancet", PStyle(leading_zero=True, spaced=False, letter="p",
                                                          italic=False),
                           FigureStyle(75.0, 154.0, fonts=("Times New Roman", "Liberation Serif", "DejaVu Serif")),
                           decimal_mark="\u00b7", ci_separator=" to ", percent=PercentStyle(count_digits=((0, 0),))),
}


def _default_journal() -> str:
    """The default of the ``style.journal`` setting: analysis/config.py is the one
    place for it (and for the allowed names, which must be the keys of JOURNALS)."""
    import typing

    from ..config import StyleSettings

    field = StyleSettings.model_fields["journal"]
    allowed = set(typing.get_args(field.annotation))
    if allowed != set(JOURNALS):
        raise RuntimeError(f"style.journal allows {sorted(allowed)} but style.JOURNALS defines {sorted(JOURNALS)}")
    return field.default


DEFAULT_JOURNAL = _default_journal()
_current: list[JournalStyle] = [JOURNALS[DEFAULT_JOURNAL]]


def use_journal(name: str) -> JournalStyle:
    """Make ``name``'s style the one every formatter uses (the entry points call
    it with the configured ``style.journal`` before presenting results)."""
    _current[0] = JOURNALS[name]
    return _current[0]


def _default_alpha() -> float:
    """The default of the ``tests.alpha`` setting (analysis/config.py is the one place for it)."""
    from ..config import TestsSettings

    return float(TestsSettings.model_fields["alpha"].default)


#: The significance level in force (``tests.alpha``): a P value that would round to it prints
#: with more decimals (:func:`fmt_p`). Set by the entry points with :func:`use_settings`.
_alpha = [_default_alpha()]


def use_alpha(alpha: float) -> None:
    """Make ``alpha`` the level P values are kept apart from when rounded (see :func:`fmt_p`)."""
    _alpha[0] = float(alpha)


def use_settings(settings) -> None:
    """What every formatter reads from the configuration, made current at once (the
    entry points call it before presenting results): the journal style and alpha."""
    use_journal(settings.style.journal)
    use_alpha(settings.tests.alpha)


def journal() -> JournalStyle:
    """The journal style in use."""
    return _current[0]


def _dec(text: str) -> str:
    """A formatted number with the journal's decimal mark."""
    mark = _current[0].decimal_mark
    return text if mark == "." else text.replace(".", mark)


def with_decimal_mark(text: str) -> str:
    """``text`` (a label made by another library, e.g. a matplotlib tick label)
    with the journal's decimal mark in every number: only a point between
    digits changes ('0.5' -> Lancet '0·5'; a full stop stays)."""
    mark = _current[0].decimal_mark
    return text if mark == "." else re.sub(r"(?<=\d)\.(?=\d)|(?<![\w.])\.(?=\d)", mark, text)


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


def fmt_p(p: float | None, *, style: PStyle | None = None) -> str:
    """A p-value as the journal prints it, without the "P": '.72', '.004', '< .001', '> .99'."""
    return _dec(_fmt_p(p, style or journal().p))


def _fmt_p(p: float | None, style: PStyle) -> str:
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
    decimals = len(text.split(".")[1])
    while float(text) == _alpha[0] and p != _alpha[0] and decimals < 6:
        # a P that rounds to the significance level is not printed as the level (.05006 -> .0501;
        # AMA 19.5 gives 3 digits where rounding would give .05; more where 3 still read .050)
        decimals += 1
        text = _round_half_up(p, decimals)
    return _strip_zero(text, style.leading_zero)


def fmt_p_text(p: float | None, *, style: PStyle | None = None) -> str:
    """'P = .004' or 'P < .001' for running text (NEJM 'P=0.004', Lancet 'p=0·004')."""
    style = style or journal().p
    body = fmt_p(p, style=style)
    if body == NOT_ESTIMABLE:
        return f"{style.letter} not estimable"
    if body.startswith(("<", ">")):
        return f"{style.letter} {body}" if style.spaced else f"{style.letter}{body.replace(' ', '')}"
    return f"{style.letter} = {body}" if style.spaced else f"{style.letter}={body}"


def fmt_p_below(alpha: float, *, style: PStyle | None = None) -> str:
    """A significance threshold as a P statement: 'P < .05' (NEJM 'P<0.05', Lancet 'p<0·05')."""
    style = style or journal().p
    a = fmt_alpha(alpha, style=style)
    return f"{style.letter} < {a}" if style.spaced else f"{style.letter}<{a}"


def fmt_alpha(alpha: float, *, style: PStyle | None = None) -> str:
    """A significance level as the P values print it: 0.05 -> '.05', 0.01 -> '.01', 0.1 -> '.10'
    (at least the P values' decimals), 0.005 -> '.005'.

    A threshold, not an estimate: printed as given (not to ``style.significant``
    digits, which would make 0.05 read '.050')."""
    style = style or journal().p
    return _dec(_strip_zero(f"{alpha:.{max(style.decimals, -Decimal(repr(alpha)).normalize().as_tuple().exponent)}f}",
                            style.leading_zero))


def signed(text: str) -> str:
    """A formatted number with U+2212 for its sign; a value that rounds to zero
    has no sign ('-0.0' -> '0.0')."""
    if not text.startswith("-"):
        return text
    if float(text) == 0:
        return text[1:]
    return MINUS + text[1:]


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number to ``digits`` decimals, negative with U+2212; NE when missing."""
    if _missing(x):
        return NOT_ESTIMABLE
    if math.isinf(x):
        return NOT_REACHED
    return _dec(signed(f"{x:.{digits}f}"))


def fmt_months(x: float | None, *, reached: bool = True, digits: int = 1) -> str:
    """A time in months; an estimate that was not reached prints as NR."""
    if not reached or (x is not None and isinstance(x, float) and math.isinf(x)):
        return NOT_REACHED
    return fmt_num(x, digits)


def fmt_ci(lower: float | None, upper: float | None, *, digits: int = 1,
           lower_text: str | None = None, upper_text: str | None = None) -> str:
    """'4.2–13.1'; a missing bound prints as given (e.g. 'NR') or NE. A range
    with a negative bound is written '−0.9 to 11.5' (an en dash after a minus
    sign would be ambiguous)."""
    lo = lower_text if lower_text is not None else fmt_num(lower, digits)
    hi = upper_text if upper_text is not None else fmt_num(upper, digits)
    if lo.startswith(MINUS) or hi.startswith(MINUS):
        return f"{lo} to {hi}"
    return f"{lo}{journal().ci_separator}{hi}"


def fmt_estimate_ci(est: float | None, lower: float | None, upper: float | None, *, digits: int = 1,
                    level: int = 95, est_text: str | None = None, lower_text: str | None = None,
                    upper_text: str | None = None) -> str:
    """'8.6 (95% CI, 4.2–13.1)'."""
    e = est_text if est_text is not None else fmt_num(est, digits)
    return f"{e} ({level}% CI, {fmt_ci(lower, upper, digits=digits, lower_text=lower_text, upper_text=upper_text)})"


# --------------------------------------------------------------------------- median survival with its CI

#: Note printed wherever a median's lower limit was truncated (figure legends,
#: table footnotes, prose), and the mark put after the truncated limit.
TRUNCATED_NOTE = "lower limit truncated at 0"
TRUNCATED_MARK = "*"


@dataclass(frozen=True)
class MedianCI:
    """A median survival time and its CI as printed (:func:`fmt_median_ci`).

    estimate : '5.3', 'NR' (not reached) or 'NE' (reached, not estimable).
    lower, upper : the printed limits ('0', '4.1', 'NR', 'NE'), or None when
        no interval is printed (``ci`` is then 'NE').
    truncated : the lower limit was below 0 and is printed as 0.
    """

    estimate: str
    lower: str | None
    upper: str | None
    truncated: bool = False

    @property
    def reached(self) -> bool:
        return self.estimate != NOT_REACHED

    def ci_text(self, mark: str = "") -> str:
        """'0–11.5', '4.7–NR', 'NE'; ``mark`` follows a truncated lower limit ('0*–11.5')."""
        if self.lower is None or self.upper is None:
            return NOT_ESTIMABLE
        lower = self.lower + (mark if self.truncated else "")
        return fmt_ci(None, None, lower_text=lower, upper_text=self.upper)

    @property
    def ci(self) -> str:
        return self.ci_text()

    def text(self, *, level: str | int = 95, unit: str = "", mark: str = "") -> str:
        """'5.3 mo (95% CI, 0*–11.5)', 'NR (95% CI, NE)', 'NR (95% CI, 4.7–NR)'
        (``unit`` only after a number)."""
        est = self.estimate if not unit or self.estimate in (NOT_REACHED, NOT_ESTIMABLE) \
            else f"{self.estimate} {unit}"
        return f"{est} ({level}% CI, {self.ci_text(mark)})"

    def phrase(self, *, level: str | int = 95, brackets: bool = False) -> str:
        """Running text: '5.3 months (95% CI, 0–11.5; lower limit truncated at 0)',
        'not reached (95% CI, 4.7 months to not reached)', 'not reached (95% CI
        not estimable)'; with ``brackets`` the interval is in square brackets,
        for a phrase that itself stands in parentheses."""
        o, c = ("[", "]") if brackets else ("(", ")")
        words = {NOT_REACHED: "not reached", NOT_ESTIMABLE: "not estimable"}
        est = words.get(self.estimate, f"{self.estimate} months")
        if self.lower is None or self.upper is None:
            return f"{est} {o}{level}% CI not estimable{c}"
        if NOT_REACHED in (self.lower, self.upper) or NOT_ESTIMABLE in (self.lower, self.upper):
            lo = words.get(self.lower, f"{self.lower} months")
            hi = words.get(self.upper, f"{self.upper} months")
            ci = f"{lo} to {hi}"
        else:
            ci = self.ci_text()
        note = f"; {TRUNCATED_NOTE}" if self.truncated else ""
        return f"{est} {o}{level}% CI, {ci}{note}{c}"


def fmt_median_ci(estimate: float | None, lower: float | None, upper: float | None, *, method: str,
                  reached: bool = True, lower_reached: bool = True, upper_reached: bool = True,
                  digits: int = 1) -> MedianCI:
    """The one place where a median survival time and its CI become text; every
    figure, table, sentence and ledger text prints medians through it.

    ``method`` is the CI method ("spss", "log", "log-log"); ``reached`` and
    ``*_reached`` say whether the curve / the band giving that limit fell to
    0.5 (:class:`analysis.compute.survival.MedianResult`). Rules:

    * A median not reached prints NR; a median or limit that exists but could
      not be estimated prints NE.
    * "spss" (estimate ± z SE): a median not reached has no interval at all, so
      the CI prints "NE" ("NR (95% CI, NE)", never "NR–NR"); a lower limit below
      0 (a time cannot be negative) prints "0" and sets ``truncated``, which the
      caller states ("lower limit truncated at 0", :data:`TRUNCATED_NOTE`).
    * "log" / "log-log" (Brookmeyer–Crowley): a limit not reached prints NR
      ("5.3 (95% CI, 4.1–NR)", "NR (95% CI, 4.7–NR)"); when neither limit is
      reached no limit exists and the CI prints "NE".
    * A CI with both limits NE prints "NE" once.

    Only the text is changed: the unrounded values stay in the results and the
    ledger.
    """
    if not reached:
        est = NOT_REACHED
    else:
        est = fmt_num(estimate, digits)

    def limit(x: float | None, limit_reached: bool) -> str:
        if not limit_reached:
            return NOT_REACHED
        return fmt_num(x, digits)

    if method == "spss" and not reached:
        return MedianCI(est, None, None)
    lo, hi = limit(lower, lower_reached), limit(upper, upper_reached)
    if (lo == hi == NOT_ESTIMABLE) or (lo == NOT_REACHED and hi == NOT_REACHED):
        return MedianCI(est, None, None)
    truncated = False
    if lo not in (NOT_REACHED, NOT_ESTIMABLE) and lower is not None and lower < 0:
        lo, truncated = "0", True
    return MedianCI(est, lo, hi, truncated)


def median_ci_of(m) -> MedianCI:
    """:func:`fmt_median_ci` of a :class:`~analysis.compute.survival.MedianResult`."""
    return fmt_median_ci(m.estimate, m.lower, m.upper, method=m.method, reached=m.reached,
                         lower_reached=m.lower_reached, upper_reached=m.upper_reached)


def rate_digits() -> int:
    """Decimals of a rate with a CI in the journal's style (:class:`PercentStyle`)."""
    return journal().percent.rate_digits


_DECIMALS_WORDS = {0: "as whole numbers", 1: "to one decimal", 2: "to two decimals"}


def percent_convention_text() -> str:
    """The journal's decimals of percentages in words, for Methods (a reader sees
    "61%" in Table 1 and "61.1% (95% CI ...)" in the text and should know why):
    "Percentages of patients are given as whole numbers below a denominator of
    100 and to one decimal from 100, and rates with confidence intervals to one
    decimal." (AMA)."""
    pct = journal().percent
    steps = [(least, _DECIMALS_WORDS.get(d, f"to {d} decimals")) for least, d in pct.count_digits]
    if len(steps) == 1:
        counts = steps[0][1]
    else:
        parts = []
        for i, (least, words) in enumerate(steps):
            upper = steps[i + 1][0] if i + 1 < len(steps) else None
            if i == 0 and upper is not None:
                parts.append(f"{words} below a denominator of {fmt_int(upper)}")
            else:
                parts.append(f"{words} from {fmt_int(least)}")
        counts = " and ".join(parts)
    rate = _DECIMALS_WORDS.get(pct.rate_digits, f"to {pct.rate_digits} decimals")
    return f"Percentages of patients are given {counts}, and rates with confidence intervals {rate}."


def fmt_rate(x: float | None, digits: int | None = None) -> str:
    """A proportion (0–1) as a percentage number without the sign, in the
    journal's decimals for a rate: 0.4776 -> '47.8' (tables, whose header says %)."""
    if _missing(x):
        return NOT_ESTIMABLE
    return fmt_num(100 * x, rate_digits() if digits is None else digits)


def fmt_pct(x: float | None, digits: int | None = None) -> str:
    """A proportion (0–1) as a percentage in the journal's decimals for a rate:
    0.4776 -> '47.8%'. Every percentage of a rate prints through it or :func:`fmt_rate`."""
    if _missing(x):
        return NOT_ESTIMABLE
    return fmt_rate(x, digits) + "%"


def fmt_pct_ci(lower: float | None, upper: float | None, digits: int | None = None) -> str:
    """The CI of a rate, each limit a percentage: '35.4%–60.3%' (NEJM, Lancet
    '35.4% to 60.3%')."""
    return fmt_ci(None, None, lower_text=fmt_pct(lower, digits), upper_text=fmt_pct(upper, digits))


def fmt_n_pct(n: int, d: int, digits: int | None = None) -> str:
    """'28 (61%)' with the percentage of d in the journal's decimals for a
    count (AMA: whole numbers below a denominator of 100); d = 0 gives '0 (–)'."""
    if d == 0:
        return f"{n} ({DASH})"
    digits = journal().percent.count_digits_for(d) if digits is None else digits
    return _dec(f"{n} ({100 * n / d:.{digits}f}%)")


def fmt_g(x: float) -> str:
    """A number as short as it is exact ('3', '1.5', '0.05'; as ``f"{x:g}"``)
    with the journal's decimal mark and U+2212 for a minus: tick labels, times
    and levels in figures."""
    return _dec(signed(f"{x:g}"))


def p_header(label: str) -> str:
    """A column header with the statistic P in the journal's letter ('P' ->
    Lancet 'p', 'Disagree about P < .05' -> 'Disagree about p < 0·05')."""
    return _P_WORD.sub(journal().p.letter, label)


#: The statistic P as a word of its own (not in 'PFS', '*P*' or 'CR/P').
_P_WORD = re.compile(r"(?<![\w*/])P(?![\w*])")


def fmt_ratio(x: float | None, digits: int = 2) -> str:
    if _missing(x) or (isinstance(x, float) and math.isinf(x)):
        return NOT_ESTIMABLE
    return _dec(signed(f"{x:.{digits}f}"))


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
