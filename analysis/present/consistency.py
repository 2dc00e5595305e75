"""Consistency checks between the numbers the manuscript shows in different places.

Run on every render (document.setup) and in the tests. Each check compares two
routes to the same number (the patient flow and Table 1, the Kaplan–Meier
numbers at risk and the analysis population, Cox and Kaplan–Meier event
counts, a percentage and its numerator and denominator, the abstract's
variables and the registry). A failure stops the render with a message that
names both sides.
"""

from __future__ import annotations

import math
from typing import Any

from ..results import Results, estimable
from .numbers import Registry


class InconsistencyError(RuntimeError):
    """Two places in the manuscript would show different values for one number."""


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def check(results: Results, registry: Registry, variables: dict[str, Any] | None = None) -> list[str]:
    """All inconsistencies found, as sentences (empty when everything agrees)."""
    problems: list[str] = []

    def need(ok: bool, text: str) -> None:
        if not ok:
            problems.append(text)

    raw = registry.raw()
    flow = results.derived.flow
    n_salvage = flow.n("salvage")
    if estimable(results.baseline):
        sizes = results.baseline.group_sizes.set_index("group")["n"]
        need(int(sizes.get("Overall", -1)) == n_salvage,
             f"Table 1 has {sizes.get('Overall')} patients but the patient flow has {n_salvage} with salvage therapy")
    need(raw["cohort"]["n_salvage"] == n_salvage,
         f"the text says {raw['cohort']['n_salvage']} patients had salvage, the patient flow {n_salvage}")
    need(raw["cohort"]["n_relapsed_after_cart"] == flow.n("relapsed"),
         "the number of relapsed patients differs between the text and the patient flow")

    for name, ep in (("OS", results.os), ("RFS", results.rfs)):
        if not estimable(ep):
            continue
        at0 = ep.risk.loc[ep.risk["time"] == 0, "n_at_risk"]
        need(len(at0) == 0 or int(at0.iloc[0]) == ep.n,
             f"{name}: {int(at0.iloc[0]) if len(at0) else '?'} at risk at time 0 but {ep.n} patients analysed")
        need(int(ep.km["n_event"].sum()) == ep.events,
             f"{name}: the Kaplan–Meier table counts {int(ep.km['n_event'].sum())} events, the data {ep.events}")
    need(results.os.n == n_salvage or results.os.population != "salvage",
         f"OS analyses {results.os.n} patients but {n_salvage} received salvage therapy")
    n_rfs = results.rfs.n if estimable(results.rfs) else 0
    need(n_rfs == flow.n("cr"), f"RFS analyses {n_rfs} patients but {flow.n('cr')} achieved CR/CRi")

    cox = results.cox.multivariable
    if estimable(cox):
        need(cox.n + cox.n_excluded == results.os.n,
             f"the Cox model uses {cox.n} patients and excludes {cox.n_excluded}, but OS has {results.os.n}")
        need(cox.n_excluded == results.cox.n_excluded,
             f"the Cox model excludes {cox.n_excluded} patients, the complete-case count is "
             f"{results.cox.n_excluded}")
    need(raw["survival"]["cox_n_excluded"] == results.cox.n_excluded,  # also when the model was not fitted
         f"the text says {raw['survival']['cox_n_excluded']} patients were left out of the Cox model, the "
         f"complete-case count is {results.cox.n_excluded}")
    if estimable(cox) and cox.n_excluded == 0:
        need(cox.n_events == results.os.events,
             f"the Cox model counts {cox.n_events} deaths, the Kaplan–Meier analysis {results.os.events}")
    need(raw["survival"]["os_events"] == results.os.events, "OS deaths differ between the text and the analysis")

    r = raw["response"]
    for pct, x, n in (("pct_cr", r["n_cr"], raw["cohort"]["n_salvage"]),
                      ("pct_cr_targeted", r["n_cr_targeted"], r["n_targeted"]),
                      ("pct_cr_chemotherapy", r["n_cr_chemotherapy"], r["n_chemotherapy"]),
                      ("pct_cr_cns", r["n_cr_cns"], r["n_cns"]),
                      ("pct_cr_non_cns_emd", r["n_cr_non_cns_emd"], r["n_non_cns_emd"])):
        if n:
            need(_close(r[pct], 100 * x / n), f"{pct} is {r[pct]} but {x} of {n} is {100 * x / n}")
    need(r["n_targeted"] + r["n_chemotherapy"] == raw["cohort"]["n_salvage"],
         "targeted and chemotherapy patients do not add up to the salvage set")
    t = raw["transplant"]
    need(t["n_hsct_first"] + t["n_hsct_second"] == t["n_hsct_after_salvage"],
         "first and second transplants do not add up to all consolidative transplants")
    need(t["n_hsct_transplant_related_death"] + t["n_hsct_relapsed"] + t["n_hsct_in_cr_at_last_followup"]
         + t["n_hsct_other_death"] + t["n_hsct_without_cr"] == t["n_hsct_after_salvage"],
         "transplant outcomes do not add up to the transplanted patients")

    if variables is not None:
        texts = registry.texts()
        for section, values in variables.items():
            if section == "stamp" or not isinstance(values, dict):
                continue
            for key, value in values.items():
                want = texts.get(section, {}).get(key)
                need(want == value, f"the abstract's {section}.{key} is {value!r} but the results say {want!r}")
    return problems


def assert_consistent(results: Results, registry: Registry, variables: dict[str, Any] | None = None) -> None:
    problems = check(results, registry, variables)
    if problems:
        raise InconsistencyError(
            "The manuscript would contradict itself:\n- " + "\n- ".join(problems)
            + "\nHint: this is a bug in the analysis code or a stale _variables.yml; re-run the pre-render step.")
