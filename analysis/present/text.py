"""Generated prose: the synthetic-data notice and the statistical-methods paragraph.

The methods paragraph is written from the analysis configuration and the
results object, so that a change of test convention, CI method or model
covariates (a reviewer's request) changes the text with it.
"""

from __future__ import annotations

from IPython.display import Markdown

from ..derive import TARGETED_CLASSES, SALVMOD_LABELS
from ..results import Results
from ..results import estimable
from .exclusions import left_out_counts
from .labels import COVARIATE_TEXT, covariate_name, covariate_text, level_text, lower_first
from .numbers import FEW_AT_RISK, SYNTHETIC_NOTICE, ci_level, spss_z_text
from . import style as st
from .style import fmt_alpha, join_words

__all__ = ["COVARIATE_TEXT", "CI_HANDLING", "CI_TEXT", "RULE_TEXT", "statistical_methods", "synthetic_callout"]

RULE_TEXT = {
    "fisher_if_expected_lt5_else_yates": (
        "Proportions were compared with Pearson's χ² test with Yates' continuity correction, or with "
        "Fisher's exact test when any expected cell count was below 5 [@yates1934; @fisher1922]; larger "
        "tables used the Fisher–Freeman–Halton exact test"),
    "fisher": "Proportions were compared with Fisher's exact test [@fisher1922]",
    "chisq_yates": "Proportions were compared with Pearson's χ² test with Yates' continuity correction [@yates1934]",
    "chisq": "Proportions were compared with Pearson's χ² test",
}
#: The median-CI sentence by method; ``{level}`` and ``{z}`` come from tests.alpha.
CI_TEXT = {
    "spss": ("the {level}% CI of the median was the median ± {z} standard errors, as SPSS computes it: the "
             "standard error of the survival estimate at the median (Greenwood) divided by the slope of the "
             "curve between 55% and 45% survival [@collett2015]"),
    "log": ("the {level}% CI of the median was obtained by the method of Brookmeyer and Crowley from "
            "log-transformed pointwise intervals [@brookmeyer1982]"),
    "log-log": ("the {level}% CI of the median was obtained by the method of Brookmeyer and Crowley from "
                "log–log-transformed pointwise intervals [@brookmeyer1982]"),
}

#: How intervals that do not exist or leave the time scale are printed, by CI
#: method (the rules of analysis.present.style.fmt_median_ci), one sentence each.
CI_HANDLING = {
    "spss": ("A lower confidence limit below 0 was truncated at 0 and marked as such, and no interval is given "
             "for a median that was not reached (not estimable, NE)."),
    "log": ("A confidence limit not reached during follow-up is reported as not reached (NR), and an interval "
            "with neither limit reached as not estimable (NE)."),
    "log-log": ("A confidence limit not reached during follow-up is reported as not reached (NR), and an "
                "interval with neither limit reached as not estimable (NE)."),
}


def synthetic_callout(results: Results) -> Markdown:
    """A prominent notice at the top of the body when the data are synthetic.

    One paragraph without a callout title, so that no format can split a title
    from its text across a page break (REVIEW item 22: Word put the header at the
    foot of page 1 and the text on page 2). The abstract does not repeat it: the
    banner (HTML), page footer (PDF, Word) and figure stamps carry it too."""
    if not results.synthetic:
        return Markdown("")
    return Markdown(f'::: {{.callout-warning appearance="simple" icon="false"}}\n'
                    f"**Synthetic data:** {SYNTHETIC_NOTICE.split(': ', 1)[1]}\n:::\n")


def _complete_case(results: Results) -> str:
    """The sentence on who the multivariable model leaves out, or '' when it keeps every patient."""
    multi = results.cox.multivariable
    if not estimable(multi) or not multi.n_excluded:
        return ""
    no_salvage, missing = left_out_counts(results, results.cox.covariates)
    out = []
    if no_salvage:
        out.append("Patients without salvage therapy, to whom the salvage group does not apply, were not part of "
                   "the Cox models. ")
    if missing or not no_salvage:
        out.append("The multivariable model was a complete-case analysis: patients with a missing value of any "
                   "of its covariates were left out (their number is given with the model). ")
    return "".join(out)


def statistical_methods(results: Results) -> Markdown:
    """The statistical-methods paragraph, from the configuration in force."""
    s = results.settings
    d = results.derived.definitions
    rule = s.tests.two_by_two
    method = s.survival.median_ci
    cov = [covariate_text(c, adult_age_years=d.adult_age_years) for c in results.cox.covariates]
    refs = results.cox.reference
    alpha = s.tests.alpha
    level = ci_level(alpha)
    ci_text = CI_TEXT.get(method, method).format(level=level, z=spss_z_text(results))
    v = results.versions
    pop = "patients who received salvage therapy" if s.survival.population == "salvage" \
        else "all patients who relapsed"
    targeted = join_words([lower_first(SALVMOD_LABELS[c]) for c in TARGETED_CLASSES])
    min_epv = st.fmt_g(s.cox.min_events_per_variable)
    paragraphs = [
        (f"Categorical variables are summarised as counts and percentages of patients with known values, "
         f"and continuous variables as medians and ranges; missing values are reported separately. "
         f"{st.percent_convention_text()} "
         f"Targeted therapy comprised {targeted}. {RULE_TEXT.get(rule, rule)}; continuous variables were "
         f"compared with the Mann–Whitney U test (normal approximation with continuity correction). Rates of CR/CRi are given with exact (Clopper–Pearson) {level}% "
         f"confidence intervals [@clopper1934], and univariable odds ratios were estimated by logistic "
         f"regression with Wald confidence intervals. The age groups were below and at or above "
         f"{st.fmt_g(d.adult_age_years)} years, and high marrow tumour burden was "
         f"{st.fmt_g(d.high_marrow_burden_pct)}% blasts "
         f"or more."),
        (f"Overall survival was measured from the date of relapse after CAR-T therapy to death from any cause, "
         f"with surviving patients censored at last contact, in {pop}. Relapse-free survival was measured, "
         f"in patients who achieved CR/CRi after salvage, from the date of remission to relapse or death, "
         f"whichever came first. Survival was estimated by the Kaplan–Meier method [@kaplan1958] with "
         f"Greenwood's variance [@greenwood1926]; {ci_text}. Survival at fixed times was given with "
         f"pointwise {level}% confidence intervals computed on the log scale (log transformation, as R's survfit), "
         f"with the number of patients still at risk where it was below {FEW_AT_RISK}. "
         f"{CI_HANDLING.get(method, '')} Survival curves were compared "
         f"with the log-rank test [@mantel1966], and median follow-up was estimated by the reverse "
         f"Kaplan–Meier method [@schemper1996]. Months are days divided by {st.fmt_g(d.days_per_month)}."),
        (f"Hazard ratios for overall survival were estimated with Cox proportional-hazards models [@cox1972] "
         f"with Efron's method for tied event times [@efron1977]; the multivariable model included "
         f"{join_words(cov)}"
         + (f" (reference categories: {'; '.join(f'{covariate_name(k)}, {level_text(val)}' for k, val in refs.items())})"
            if refs else "")
         + f". {_complete_case(results)}Models with fewer than {min_epv} events per parameter are flagged "
         f"[@peduzzi1995]. The "
         f"proportional-hazards assumption was checked with scaled Schoenfeld residuals [@grambsch1994]. "
         f"Two-sided {st.p_header('P')} values below {fmt_alpha(alpha)} were considered statistically significant; no "
         f"adjustment was made for multiple comparisons."),
        (f"Analyses used Python {v.get('Python')} with pandas {v.get('pandas')}, SciPy {v.get('scipy')}, "
         f"statsmodels {v.get('statsmodels')}, lifelines {v.get('lifelines')} [@davidsonpilon2019] and "
         f"tableone {v.get('tableone')} [@pollard2018]; Kaplan–Meier estimates, log-rank tests and Cox models "
         f"were verified against R's survival package [@therneau2000]. The complete analysis is reproduced "
         f"from the patient-level data by a single command."),
    ]
    return Markdown("\n\n".join(paragraphs) + "\n")
