"""Calibration of the synthetic cohort's survival times to the published estimates.

Counts come out exactly by construction (analysis.simulate). Survival estimates
depend on the random times, so this module searches, deterministically, for
per-patient time factors (and, optionally, a seed) that make this project's own
engine, with the published conventions (SPSS-style median CI, log-rank,
multivariable Cox), land every estimate of ``data/published_targets.yml``
inside its tolerance, with margin. The result is pasted into
``analysis.simulate.CALIBRATED``; ``python -m analysis simulate`` then
regenerates the data without searching.

The search is a random-perturbation hill climb: one salvage patient's event
time, follow-up time or survival after a later relapse is multiplied by a
random factor, and the change is kept when it lowers the loss (squared
distances from the targets beyond half a tolerance). It is written here (not
taken from a library) because the objective is a step function of discrete
event orders, for which scipy's gradient-based optimisers do not apply.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from .config import PROJECT_ROOT
from .simulate import CALIBRATED, TimeModel, simulate_cohort

TARGETS_PATH = PROJECT_ROOT / "data" / "published_targets.yml"


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
    raw = simulate_cohort(model, with_index=True)
    est = survival_targets_from_raw(raw, _CACHE["config"], _CACHE["dictionary"])
    est["_index"] = dict(zip(est.pop("_usubjid"), raw["calibration_index"]))
    return est


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


def _targeted_move(est: dict, targets: dict, rng) -> tuple[int, int, float] | None:
    """A move aimed at a median that is out of tolerance: scale the time of the
    patient whose event (or censoring, for follow-up) sets the median towards
    the target. Returns (patient index, factor dimension, ratio) or None."""
    tol = targets["tolerance"]["median_months"]
    surv = targets["survival"]
    options = []
    for key, frame, flip in (("os_median_months", "_os_times", False), ("rfs_median_months", "_rfs_times", False),
                             ("median_followup_months", "_os_times", True)):
        value, target = est.get(key), surv[key]
        if value is None or abs(value - target) <= 0.5 * tol:
            continue
        data = est[frame]
        events = data[(data["EVENT"] == (0 if flip else 1))]
        at = events[(events["AVAL"] - value).abs() < 1e-9]
        if at.empty:
            continue
        options.append((key, at["USUBJID"].iloc[0], value, target, flip))
    # the multivariable P of the salvage group: more (less) follow-up of
    # chemotherapy patients adds (removes) deaths and so narrows (widens) the CI
    p, p_target = est.get("cox_p"), surv["cox_p"]
    if p is not None and abs(p - p_target) / p_target > 0.5 * targets["tolerance"]["p_value_relative"]:
        data = est["_os_times"]
        chemo = data[data["SALVGRP"] == "Chemotherapy"]
        pool = chemo[chemo["EVENT"] == 1] if p < p_target else chemo[chemo["EVENT"] == 0]
        if len(pool):
            usubjid = pool["USUBJID"].iloc[int(rng.integers(len(pool)))]
            i = int(est["_index"].get(usubjid, -1))
            if i >= 0 and rng.uniform() < 0.5:
                return i, 1, 0.6 if p < p_target else 1.7
    if not options:
        return None
    key, usubjid, value, target, flip = options[int(rng.integers(len(options)))]
    i = int(est["_index"].get(usubjid, -1))
    if i < 0 or value <= 0:
        return None
    dim = 1 if flip else 0
    jitter = float(rng.uniform(0.9, 1.1))
    return i, dim, float(1 + (target / value - 1) * jitter)


def calibrate(seed: int | None = None, *, iterations: int = 3000, search_seed: int = 0, verbose: bool = False,
              start: TimeModel = CALIBRATED, target_loss: float = 0.0,
              stop_within: float | None = None) -> TimeModel:
    """Random-perturbation hill climbing over per-patient time factors.

    Deterministic for a given start model, seed and search_seed: each step
    multiplies one factor of one randomly chosen salvage patient by
    exp(N(0, 0.35)) (clipped to [0.2, 5]) and keeps the change if the loss falls.
    A grid-based coordinate descent stalled in local minima; random moves of
    continuous size do not. ``stop_within``: stop as soon as every estimate is
    within that many tolerances of its target.
    """
    import numpy as np

    targets = load_targets()
    model = start if seed is None else replace(start, seed=seed, factors=())
    n_salvage = targets["cohort"]["n_salvage"]
    factors = {i: list(model.factor(i)) for i in range(n_salvage)}
    rng = np.random.default_rng([search_seed, 7])

    def build(fs):
        items = tuple((i, *(round(x, 4) for x in v)) for i, v in sorted(fs.items())
                      if tuple(round(x, 4) for x in v) != (1.0, 1.0, 1.0))
        return replace(model, factors=items)

    best_est = survival_estimates(build(factors))
    best = loss(best_est, targets)
    if verbose:
        print(f"start loss {best:.3f}", flush=True)
    for it in range(iterations):
        move = _targeted_move(best_est, targets, rng) if rng.uniform() < 0.3 else None
        if move is None:
            i, dim = int(rng.integers(n_salvage)), int(rng.integers(3))
            ratio = float(np.exp(rng.normal(0, 0.35)))
        else:
            i, dim, ratio = move
        old = factors[i][dim]
        factors[i][dim] = float(np.clip(old * ratio, 0.2, 5.0))
        est = survival_estimates(build(factors))
        trial = loss(est, targets)
        if trial < best - 1e-12:
            best, best_est = trial, est
        else:
            factors[i][dim] = old
        if verbose and it % 100 == 0:
            dev = deviations(best_est, targets)
            worst = sorted(dev.items(), key=lambda kv: -abs(kv[1]))[:3]
            print(f"iteration {it}: loss {best:.4f}; worst {[(k, round(d, 2)) for k, d in worst]}", flush=True)
        if verbose and it % 500 == 499:
            print(f"checkpoint: {build(factors)!r}", flush=True)
        if best <= target_loss:
            break
        if stop_within is not None and max(abs(d) for d in deviations(best_est, targets).values()) <= stop_within:
            break
    result = build(factors)
    if verbose:
        dev = deviations(survival_estimates(result), targets)
        for k, d in dev.items():
            print(f"  {k:36s} {d:+.2f} tolerance")
    return result
