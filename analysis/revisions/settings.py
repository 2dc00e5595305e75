"""The analysis settings in the ledger, and changed settings described in words.

The ledger stores every analysis setting (the configuration without its
``data`` section: where the data are is not an analysis choice, and the data
are fingerprinted separately) flattened to dotted keys
(``survival.median_ci``). A changed setting is described generically: the
key's label from :data:`SETTING_LABELS` (else the key made readable), and its
values through :data:`VALUE_LABELS` (else as written). Lists of mappings (the
Cox covariates) are compared element by element, by their first field
("removed PRIORSCT (reference N); added CD19NEG (reference N)").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Readable names of setting keys (dotted). Keys not listed are described by their own name.
SETTING_LABELS: dict[str, str] = {
    "study_id": "Study identifier",
    "definitions.days_per_month": "Days per month",
    "definitions.adult_age_years": "Age group cut-off (years)",
    "definitions.high_marrow_burden_pct": "High marrow tumour burden cut-off (% blasts)",
    "tests.alpha": "Significance level",
    "tests.two_by_two": "Test for 2×2 tables",
    "tests.monte_carlo_seed": "Monte Carlo seed",
    "survival.median_ci": "Median CI method",
    "survival.population": "Survival analysis population",
    "survival.landmarks_months": "Landmark times (months)",
    "survival.risk_table_months": "Risk-table times (months)",
    "cox.covariates": "Cox model covariates",
    "cox.min_events_per_variable": "Minimum events per Cox parameter",
    "sensitivity.rfs_censor_at_hsct": "Sensitivity analysis: RFS censored at HSCT",
    "sensitivity.time_dependent_hsct": "Sensitivity analysis: HSCT as a time-dependent covariate",
    "sensitivity.landmark_months": "Sensitivity analysis: response landmarks (months)",
    "sensitivity.competing_risks": "Sensitivity analysis: competing risks",
    "sensitivity.missing_covariates": "Sensitivity analysis: covariates with missing values",
}

#: Readable values per setting key.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "survival.median_ci": {"spss": "SPSS ± 1.96 SE", "log": "Brookmeyer–Crowley (log)",
                           "log-log": "Brookmeyer–Crowley (log–log)"},
    "tests.two_by_two": {"fisher_if_expected_lt5_else_yates": "Fisher's exact if an expected count < 5, else χ² with Yates",
                         "fisher": "Fisher's exact", "chisq_yates": "χ² with Yates' correction",
                         "chisq": "χ² without correction"},
    "survival.population": {"salvage": "patients with salvage therapy", "all": "all relapsed patients"},
}

ARROW = " \u2192 "


#: Configuration sections that are no analysis choice: where the data are, and which submitted
#: version the render marks changes against.
NOT_ANALYSIS = ("data", "revisions")


def settings_of(results: Any) -> dict[str, Any]:
    """The analysis settings of a run as plain data, without the ``data`` and ``revisions``
    sections.

    Reads ``results.settings``: a mapping, or a pydantic model
    (``model_dump()``) once the configuration is typed."""
    settings = getattr(results, "settings", None)
    if hasattr(settings, "model_dump"):
        settings = settings.model_dump(mode="json")
    if not isinstance(settings, Mapping):
        return {}
    return {str(k): v for k, v in settings.items() if k not in NOT_ANALYSIS}


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"survival": {"median_ci": "log"}}`` -> ``{"survival.median_ci": "log"}`` (lists stay whole)."""
    out: dict[str, Any] = {}
    for k, v in settings.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def setting_label(key: str) -> str:
    if key in SETTING_LABELS:
        return SETTING_LABELS[key]
    words = key.replace(".", ": ").replace("_", " ")
    return words[:1].upper() + words[1:]


def _item(x: Any) -> str:
    if isinstance(x, Mapping):
        vals = list(x.values())
        if not vals:
            return "{}"
        rest = [f"{k} {v}" for k, v in list(x.items())[1:] if v is not None]
        return f"{vals[0]}" + (f" ({', '.join(rest)})" if rest else "")
    return str(x)


def value_text(key: str, value: Any) -> str:
    """A setting's value in words."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ", ".join(_item(v) for v in value) if value else "none"
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False)
    return VALUE_LABELS.get(key, {}).get(str(value), str(value))


def describe_change(key: str, old: Any, new: Any) -> str:
    """"Median CI method: SPSS ± 1.96 SE → Brookmeyer–Crowley (log)"; lists of mappings by element."""
    label = setting_label(key)
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, Mapping) for x in old + new) \
            and (old or new):
        def ident(x: Mapping) -> str:
            return str(next(iter(x.values()), ""))
        o = {ident(x): x for x in old}
        n = {ident(x): x for x in new}
        parts = [f"removed {_item(o[k])}" for k in o if k not in n]
        parts += [f"added {_item(n[k])}" for k in n if k not in o]
        parts += [f"{_item(o[k])}{ARROW}{_item(n[k])}" for k in n if k in o and o[k] != n[k]]
        if [ident(x) for x in old if ident(x) in n] != [ident(x) for x in new if ident(x) in o]:
            parts.append("order changed")
        return f"{label}: {'; '.join(parts)}"
    return f"{label}: {value_text(key, old)}{ARROW}{value_text(key, new)}"


def settings_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(key, description) of every setting that differs, in the new configuration's order."""
    if old is None or new is None:
        return []
    fo, fn = flatten(old), flatten(new)
    keys = list(fn) + [k for k in fo if k not in fn]
    return [(k, describe_change(k, fo.get(k), fn.get(k))) for k in keys if fo.get(k) != fn.get(k)]
