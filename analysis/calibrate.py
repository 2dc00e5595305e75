"""Calibration of the synthetic cohort's survival times to the published estimates.

Counts come out exactly by construction (analysis.simulate). Survival estimates
depend on the random times, so this module searches, deterministically, for
per-patient time factors (and, optionally, a seed) that make this project's own
engine, with the published conventions (SPSS-style median CI, log-rank,
multivariable Cox), land every estimate of ``data/published_targets.yml``
inside its tolerance, with margin. The result is pasted into
``analysis.simulate.CALIBRATED``; ``python -m analysis simulate`` then
regenerates the data without searching.

The search is a coordinate descent: for each salvage patient in turn, try a
short list of multipliers of its event time, follow-up time and survival after
a later relapse, and keep the value that lowers the loss
sum((estimate - target) / tolerance)^2. It is written here (not taken from a
library) because the objective is a step function of discrete event orders,
for which gradient-based optimisers in scipy do not apply.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from .config import PROJECT_ROOT
from .simulate import CALIBRATED, TimeModel, simulate_cohort

TARGETS_PATH = PROJECT_ROOT / "data" / "published_targets.yml"
MULTIPLIERS = (0.55, 0.7, 0.85, 1.0, 1.15, 1.35, 1.6)


def load_targets(path: Path = TARGETS_PATH) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


_CACHE: dict = {}


def survival_estimates(model: TimeModel) -> dict[str, float]:
    """The survival section's estimates for the cohort a model generates."""
    from .config import load_config
    from .dictionary import load_dictionary
    from .results import survival_targets_from_raw

    if not _CACHE:
        _CACHE["config"] = load_config()
        _CACHE["dictionary"] = load_dictionary(_CACHE["config"].dictionary_path)
    return survival_targets_from_raw(simulate_cohort(model), _CACHE["config"], _CACHE["dictionary"])


# estimate key -> (tolerance key, kind)
CHECKS = {
    "median_followup_months": ("median_months", "abs"),
    "os_median_months": ("median_months", "abs"),
    "os_ci_lower": ("ci_bound_months", "abs"),
    "os_ci_upper": ("ci_bound_months", "abs"),
    "rfs_median_months": ("median_months", "abs"),
    "rfs_ci_lower": ("ci_bound_months", "abs"),
    "rfs_ci_upper": ("ci_bound_months", "abs"),
    "p_os_targeted_vs_chemotherapy": ("p_value_relative", "rel"),
    "p_os_cns_vs_non_cns_emd": ("p_value_relative", "rel"),
    "cox_hr_chemotherapy_vs_targeted": ("hazard_ratio", "abs"),
    "cox_hr_ci_lower": ("hr_ci_bound", "abs"),
    "cox_hr_ci_upper": ("hr_ci_bound", "abs"),
    "cox_p": ("p_value_relative", "rel"),
}


def deviations(estimates: dict[str, float], targets: dict) -> dict[str, float]:
    """Each estimate's distance from its target in units of its tolerance
    (|d| <= 1 is within tolerance); a p-value on the wrong side of 0.05 counts 10."""
    tol = targets["tolerance"]
    surv = targets["survival"]
    out = {}
    for key, (tkey, kind) in CHECKS.items():
        est, target = estimates.get(key), surv[key]
        if est is None:
            out[key] = 10.0
            continue
        if kind == "abs":
            out[key] = (est - target) / tol[tkey]
        else:
            d = (est - target) / target / tol[tkey]
            if (est < 0.05) != (target < 0.05):
                d = 10.0
            out[key] = d
    return out


def loss(estimates: dict[str, float], targets: dict, margin: float = 0.5) -> float:
    """Sum of squared deviations beyond ``margin`` tolerances, plus a small pull to the centre."""
    dev = deviations(estimates, targets)
    return sum(max(0.0, abs(d) - margin) ** 2 * 100 + 0.01 * d * d for d in dev.values())


def calibrate(seed: int | None = None, *, sweeps: int = 4, verbose: bool = False,
              start: TimeModel = CALIBRATED) -> TimeModel:
    """Search per-patient factors (deterministic for a given start model and seed)."""
    targets = load_targets()
    model = start if seed is None else replace(start, seed=seed, factors=())
    n_salvage = targets["cohort"]["n_salvage"]
    factors = {i: list(model.factor(i)) for i in range(n_salvage)}

    def build(fs):
        items = tuple((i, *v) for i, v in sorted(fs.items()) if tuple(v) != (1.0, 1.0, 1.0))
        return replace(model, factors=items)

    best = loss(survival_estimates(build(factors)), targets)
    if verbose:
        print(f"start loss {best:.3f}")
    for sweep in range(sweeps):
        improved = False
        for i in range(n_salvage):
            for dim in range(3):
                current = factors[i][dim]
                for m in MULTIPLIERS:
                    if m == current:
                        continue
                    factors[i][dim] = m
                    trial = loss(survival_estimates(build(factors)), targets)
                    if trial < best - 1e-9:
                        best, current, improved = trial, m, True
                    factors[i][dim] = current
            if best < 0.05:
                break
        if verbose:
            print(f"sweep {sweep + 1}: loss {best:.4f}")
        if not improved or best < 0.05:
            break
    result = build(factors)
    if verbose:
        dev = deviations(survival_estimates(result), targets)
        for k, d in dev.items():
            print(f"  {k:36s} {d:+.2f} tolerance")
    return result
