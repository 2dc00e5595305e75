"""The synthetic cohort shipped in data/synthetic/ (seeded, byte-identical).

Patient data of the study are private. This module generates 74 synthetic
patients from three sites whose aggregates reproduce the published ones: every
count of ``tests/reference/published_targets.yml`` exactly (by construction:
attributes are drawn as shuffles of fixed multisets), and the survival
estimates within the published tolerances (by calibration: the survival-time
parameters and seed below were found by :func:`analysis.calibrate.calibrate`,
which searches seeds until the engine's own statistics land in tolerance).

Every record carries ``synthetic = yes``, so every output says the data are
synthetic. Dates are realistic but shifted: no record describes a real person.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .config import PROJECT_ROOT

SYNTHETIC_DIR = PROJECT_ROOT / "data" / "synthetic"
SITES = ("SITE-A", "SITE-B", "SITE-C")
COLUMNS = (
    "patient_id", "site", "sex", "age_at_relapse", "diagnosis_date", "cytogenetic_risk",
    "bcr_abl1", "marrow_blasts_pct", "cart_product", "cart_date", "prior_transplant",
    "relapse_date", "cd19_status", "relapse_site", "emd_preexisting", "salvage",
    "no_salvage_reason", "salvage_class", "salvage_agent", "salvage_date", "best_response",
    "cr_date", "hsct_after_salvage", "hsct_date", "post_salvage_relapse",
    "post_salvage_relapse_date", "death_date", "death_cause", "last_contact_date", "synthetic",
)

# --- the published structure, as counts (salvage set, n = 67) -----------------
# regimen class -> (patients, CR/CRi); relapse sites within the class
# (cns, non_cns_emd, not_documented, bone_marrow) and CR/CRi within each site.
CLASSES = {
    #                     n   cr   sites (cns, ncns, nd, bm)   CR by site
    "cart_reinfusion":     (18, 11, (3, 2, 1, 12),              (3, 1, 1, 6)),
    "monoclonal_antibody": (14, 10, (2, 1, 2, 9),               (2, 0, 1, 7)),
    "chemo_tki":           (14, 7,  (2, 1, 1, 10),              (2, 0, 0, 5)),
    "chemotherapy":        (21, 4,  (1, 2, 1, 17),              (1, 0, 0, 3)),
}
SITE_CODES = ("cns", "non_cns_emd", "not_documented", "bone_marrow")
# CD19 status by class: (negative_dim, unknown); the rest are positive
CD19_BY_CLASS = {"cart_reinfusion": (0, 2), "monoclonal_antibody": (4, 1), "chemo_tki": (4, 1), "chemotherapy": (7, 2)}
AGENTS = {
    "cart_reinfusion": ["CD19 CAR-T reinfusion"],
    "monoclonal_antibody": ["blinatumomab", "inotuzumab ozogamicin"],
    "chemo_tki": ["dasatinib + hyper-CVAD", "ponatinib + hyper-CVAD", "dasatinib + VP"],
    "chemotherapy": ["FLAG-IDA", "hyper-CVAD", "clofarabine-based"],
}
N_MALE, N_FEMALE = 31, 36
N_HIGH_RISK = 16
N_BCR_ABL1_OTHER = 7            # BCR::ABL1-positive outside chemo + TKI (all 14 of those are positive)
N_PRIOR_BEFORE_CART, N_PRIOR_AFTER_CART = 13, 9
N_EMD_PREEXISTING = 7
AGE_MIN, AGE_MAX = 6, 67
NO_SALVAGE = ("early_death", "early_death", "early_death", "supportive_care", "supportive_care",
              "declined", "lost_to_follow_up")
# consolidative HSCT after salvage: (sequence, outcome)
HSCT = (("first", "trd"), ("first", "relapse"), ("second", "relapse"), ("first", "ccr"),
        ("first", "ccr"), ("first", "ccr"), ("first", "ccr"))


@dataclass(frozen=True)
class TimeModel:
    """Survival-time parameters (months) and per-patient calibration factors.

    Each salvage patient ``i`` draws its own random numbers from a generator
    seeded by ``(seed, i)``, so changing one patient's factors changes no other
    patient. ``factors`` maps a salvage patient's index to multipliers of its
    (main event time, follow-up time, survival after a later relapse); they
    were found by :func:`analysis.calibrate.calibrate` and are part of the
    generator, like the seed.
    """

    seed: int = 0
    os_median_nonresponder_targeted: float = 4.5
    os_median_nonresponder_chemo: float = 4.0
    rfs_median: float = 6.5
    nrm_share: float = 0.12
    post_relapse_median: float = 4.0
    followup_min: float = 2.0
    followup_max: float = 13.0
    cns_benefit: float = 1.5
    non_cns_penalty: float = 0.7
    high_burden_penalty: float = 0.5     # survival-time multiplier for marrow blasts >= 50%
    chemo_burden_enriched: bool = True   # chemotherapy-alone patients relapse with higher marrow burden
    factors: tuple[tuple[int, float, float, float], ...] = ()

    def factor(self, i: int) -> tuple[float, float, float]:
        for k, a, b, c in self.factors:
            if k == i:
                return a, b, c
        return 1.0, 1.0, 1.0


CALIBRATED = TimeModel(
    seed=34, os_median_nonresponder_targeted=4.5, os_median_nonresponder_chemo=4.0, rfs_median=6.5,
    nrm_share=0.12, post_relapse_median=4.0, followup_min=2.0, followup_max=13.0,
    cns_benefit=1.5, non_cns_penalty=0.7, high_burden_penalty=0.5, chemo_burden_enriched=True,
    # (salvage patient index, event-time, follow-up and post-relapse multipliers),
    # found by `python -m analysis calibrate` (search_seed 9, from seed 34)
    factors=(
        (0, 1.0163, 0.6895, 0.9271), (1, 1.0399, 1.0, 1.0), (2, 0.643, 1.0, 1.0),
        (3, 1.0, 0.313, 1.0), (6, 0.7613, 1.0, 1.0), (7, 1.1163, 0.801, 1.0),
        (8, 1.0, 1.8965, 1.0), (9, 1.1294, 1.0, 1.0), (10, 1.4767, 1.0, 2.346),
        (11, 1.1354, 1.0, 1.0), (12, 0.9527, 1.0, 1.0), (14, 2.4049, 1.0, 1.0),
        (15, 0.5553, 1.0, 1.0), (16, 0.46, 1.0, 1.0), (17, 1.0, 0.9836, 1.0),
        (18, 1.1973, 1.0, 1.6044), (19, 1.0, 0.8937, 1.0), (20, 1.0, 0.5537, 1.0),
        (22, 1.0, 2.6254, 1.0), (23, 1.0, 1.069, 1.0), (25, 1.0, 0.8745, 1.0),
        (26, 1.0, 0.7946, 1.0), (27, 1.0, 1.1547, 1.0), (28, 1.0, 0.3153, 1.0),
        (30, 1.0, 1.19, 1.0), (31, 1.0, 1.275, 1.0), (32, 1.0, 1.1089, 1.0),
        (34, 1.121, 1.0, 1.0), (35, 0.8237, 1.0, 1.0), (36, 0.509, 1.0, 0.9819),
        (37, 0.7556, 1.0, 1.0), (38, 1.0, 1.0468, 1.0), (39, 1.0, 1.6376, 1.0),
        (41, 1.3736, 1.0, 1.0), (42, 1.0, 1.5806, 1.0), (43, 0.2, 1.0, 1.0),
        (44, 0.9158, 1.0, 1.0), (45, 1.1768, 1.0, 1.0), (47, 1.0, 0.8955, 1.0),
        (48, 0.3029, 1.0, 1.0), (49, 1.097, 1.0, 1.0), (51, 1.0, 1.1811, 1.0),
        (52, 0.2, 1.0, 0.8546), (54, 1.3882, 1.0, 1.0), (56, 1.0, 0.7312, 1.0),
        (57, 3.9032, 1.0, 1.0), (58, 0.5017, 1.0, 1.0), (59, 0.6275, 1.0, 1.0),
        (60, 0.5856, 1.0, 1.0), (61, 1.7878, 1.0, 1.0), (62, 1.0, 0.6818, 1.0),
        (63, 2.2045, 1.0, 1.0), (64, 2.6443, 1.0, 1.0), (65, 1.0712, 1.0, 1.0),
        (66, 0.4596, 1.0, 1.0),
    ),
)


def _shuffled(rng: np.random.Generator, items: list) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


def _p_value_2x2(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p for attribute balance while drawing (not a reported statistic)."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a, b], [c, d]])[1])


def _attributes(rng: np.random.Generator, chemo_burden_enriched: bool = True) -> pd.DataFrame:
    """Baseline attributes and response of the 67 salvage patients (exact counts)."""
    rows = []
    for cls, (n, n_cr, sites, cr_by_site) in CLASSES.items():
        neg, unk = CD19_BY_CLASS[cls]
        cd19 = _shuffled(rng, ["negative_dim"] * neg + ["unknown"] * unk + ["positive"] * (n - neg - unk))
        k = 0
        for site_code, n_site, n_cr_site in zip(SITE_CODES, sites, cr_by_site):
            for j in range(n_site):
                rows.append({"salvage_class": cls, "relapse_site": site_code, "cr": j < n_cr_site,
                             "cd19_status": cd19[k]})
                k += 1
        assert k == n and sum(cr_by_site) == n_cr
    df = pd.DataFrame(rows)
    m = len(df)
    df["sex"] = _shuffled(rng, ["male"] * N_MALE + ["female"] * N_FEMALE)
    df["cytogenetic_risk"] = _shuffled(rng, ["high"] * N_HIGH_RISK + ["standard"] * (m - N_HIGH_RISK))
    other = df.index[df["salvage_class"] != "chemo_tki"]
    pos_other = set(rng.choice(other, size=N_BCR_ABL1_OTHER, replace=False))
    df["bcr_abl1"] = ["positive" if (c == "chemo_tki" or i in pos_other) else "negative"
                      for i, c in zip(df.index, df["salvage_class"])]
    df["prior_transplant"] = _shuffled(
        rng, ["before_cart"] * N_PRIOR_BEFORE_CART + ["after_cart"] * N_PRIOR_AFTER_CART
        + ["none"] * (m - N_PRIOR_BEFORE_CART - N_PRIOR_AFTER_CART))
    emd = df.index[df["relapse_site"].isin(["cns", "non_cns_emd"])]
    pre = set(rng.choice(emd, size=N_EMD_PREEXISTING, replace=False))
    df["emd_preexisting"] = [("yes" if i in pre else "no") if i in set(emd) else None for i in df.index]
    ages = np.concatenate([rng.integers(7, 18, 22), rng.integers(18, 67, m - 24)]).astype(float)
    df["age_at_relapse"] = _shuffled(rng, list(ages) + [AGE_MIN, AGE_MAX])
    blasts = []
    for s, cls in zip(df["relapse_site"], df["salvage_class"]):
        if s in ("cns", "non_cns_emd"):
            blasts.append(float(rng.integers(0, 5)))
        elif s == "not_documented":
            blasts.append(float(rng.integers(5, 61)))
        elif cls == "chemotherapy" and chemo_burden_enriched:
            # patients given chemotherapy alone more often relapsed with a high
            # marrow burden (a confounder the multivariable model adjusts for)
            blasts.append(float(rng.integers(30, 96)))
        else:
            blasts.append(float(rng.integers(6, 96)))
    df["marrow_blasts_pct"] = blasts
    return df


def _balanced(df: pd.DataFrame, alpha_margin: float = 0.15) -> bool:
    """True when no baseline factor is associated with CR (Fisher p above a margin).

    The published analysis found no factor other than the salvage group and
    CNS vs non-CNS EMD associated with response; the synthetic draw keeps that.
    """
    cr = df["cr"]
    factors = {
        "age": df["age_at_relapse"] >= 18,
        "burden": df["marrow_blasts_pct"] >= 50,
        "cyto": df["cytogenetic_risk"] == "high",
        "bcr": df["bcr_abl1"] == "positive",
        "prior": df["prior_transplant"] != "none",
    }
    cd19 = df["cd19_status"] != "unknown"
    factors_masked = {"cd19": (df["cd19_status"] == "negative_dim", cd19)}
    for f in factors.values():
        a, b = int((f & cr).sum()), int((f & ~cr).sum())
        c, d = int((~f & cr).sum()), int((~f & ~cr).sum())
        if _p_value_2x2(a, b, c, d) < alpha_margin:
            return False
    for f, keep in factors_masked.values():
        f, crk = f[keep], cr[keep]
        a, b = int((f & crk).sum()), int((f & ~crk).sum())
        c, d = int((~f & crk).sum()), int((~f & ~crk).sum())
        if _p_value_2x2(a, b, c, d) < alpha_margin:
            return False
    return True


@functools.lru_cache(maxsize=8)
def _balanced_draw(seed: int, chemo_burden_enriched: bool) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        df = _attributes(rng, chemo_burden_enriched)
        if _balanced(df):
            return df, rng.bit_generator.state
    raise RuntimeError("no balanced attribute draw in 1000 tries")  # pragma: no cover


def _draw_attributes(seed: int, chemo_burden_enriched: bool = True) -> tuple[pd.DataFrame, np.random.Generator]:
    """The first attribute draw of ``seed`` that passes the balance check, and the
    generator where that draw left it (cached: calibration calls this thousands of times)."""
    df, state = _balanced_draw(seed, chemo_burden_enriched)
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    return df.copy(), rng


def _fmt(d: date | None) -> str:
    return d.isoformat() if d else ""


def simulate_cohort(model: TimeModel = CALIBRATED, *, with_index: bool = False) -> pd.DataFrame:
    """The synthetic cohort as the strings a site export would hold (dictionary columns).

    ``with_index`` adds a column ``calibration_index``: the salvage patient's
    index in ``TimeModel.factors`` (-1 for patients without salvage), for the
    calibration search only; it is never written to the shipped files."""
    attrs, rng = _draw_attributes(model.seed, model.chemo_burden_enriched)
    # consolidative HSCT: among responders; the second transplant goes to a patient
    # with an earlier transplant
    responders = attrs.index[attrs["cr"]]
    prior = [i for i in responders if attrs.at[i, "prior_transplant"] != "none"]
    second = int(rng.choice(prior))
    naive = [i for i in responders if i != second and attrs.at[i, "prior_transplant"] == "none"]
    firsts = iter(int(i) for i in rng.choice(naive, size=6, replace=False))
    hsct = {(second if seq == "second" else next(firsts)): (seq, outcome) for seq, outcome in HSCT}

    records = [
        _salvage_record(row, hsct.get(i), model, _Draws(model.seed, 1, i), model.factor(i))
        for i, row in attrs.iterrows()
    ]
    records += [_no_salvage_record(reason, _Draws(model.seed, 2, j)) for j, reason in enumerate(NO_SALVAGE)]
    # spread patients over three sites and give synthetic pseudonyms
    order = rng.permutation(len(records))
    sites = np.array(SITES)[rng.integers(0, 3, len(records))]
    counters = dict.fromkeys(SITES, 0)
    out = []
    for k, idx in enumerate(order):
        rec = dict(records[idx])
        site = str(sites[k])
        counters[site] += 1
        rec["site"] = site
        rec["patient_id"] = f"SYN-{site[-1]}{counters[site]:03d}"
        rec["calibration_index"] = int(idx) if idx < len(attrs) else -1
        out.append(rec)
    frame = pd.DataFrame(out)[list(COLUMNS) + (["calibration_index"] if with_index else [])]
    return frame.sort_values(["site", "patient_id"], kind="stable").reset_index(drop=True)


class _Draws:
    """Every random number one synthetic patient needs, drawn up front in a fixed
    order from a generator of its own, so that no branch taken for this patient
    (or any calibration factor) shifts the draws of another."""

    def __init__(self, seed: int, stream: int, index: int):
        g = np.random.default_rng([seed, stream, index])
        self.relapse_day = int(g.integers(0, 5 * 365))
        self.cart_gap = int(g.integers(45, 540))
        self.diagnosis_gap = int(g.integers(300, 2500))
        self.salvage_gap = int(g.integers(3, 28))
        self.followup = float(g.uniform(0.0, 1.0))
        self.response = int(g.integers(0, 4))
        self.cr_gap = int(g.integers(21, 60))
        self.event = float(g.exponential(1.0))
        self.nrm = float(g.uniform())
        self.hsct_gap = int(g.integers(30, 90))
        self.trd_gap = int(g.integers(60, 200))
        self.ccr_extra = int(g.integers(60, 500))
        self.post_relapse = float(g.exponential(1.0))
        self.cause = float(g.uniform())
        self.product = int(g.integers(0, 2))
        self.agent = int(g.integers(0, 3))
        self.misc = g.uniform(size=6)


def _months_to_days(m: float) -> int:
    return max(0, int(round(m * 30.4375)))


def _salvage_record(row, hsct, model: TimeModel, dr: _Draws, factor: tuple[float, float, float]) -> dict:
    cls = row["salvage_class"]
    f_event, f_follow, f_post = factor
    base = date(2017, 3, 1)
    relapse = base + timedelta(days=dr.relapse_day)
    cart = relapse - timedelta(days=dr.cart_gap)
    salvage = relapse + timedelta(days=dr.salvage_gap)
    follow = (model.followup_min + dr.followup * (model.followup_max - model.followup_min)) * f_follow
    agents = AGENTS[cls]
    rec = {
        "sex": row["sex"], "age_at_relapse": f"{row['age_at_relapse']:.0f}",
        "diagnosis_date": _fmt(cart - timedelta(days=dr.diagnosis_gap)),
        "cytogenetic_risk": row["cytogenetic_risk"], "bcr_abl1": row["bcr_abl1"],
        "marrow_blasts_pct": f"{row['marrow_blasts_pct']:.0f}",
        "cart_product": ("Investigational CD19 CAR-T", "tisagenlecleucel")[dr.product],
        "cart_date": _fmt(cart), "prior_transplant": row["prior_transplant"], "relapse_date": _fmt(relapse),
        "cd19_status": row["cd19_status"], "relapse_site": row["relapse_site"],
        "emd_preexisting": row["emd_preexisting"] or "", "salvage": "yes", "no_salvage_reason": "",
        "salvage_class": cls, "salvage_agent": agents[dr.agent % len(agents)], "salvage_date": _fmt(salvage),
        "best_response": "", "cr_date": "", "hsct_after_salvage": "none", "hsct_date": "",
        "post_salvage_relapse": "", "post_salvage_relapse_date": "", "death_date": "", "death_cause": "",
        "last_contact_date": "", "synthetic": "yes",
    }
    end_fu = relapse + timedelta(days=_months_to_days(follow))
    site_factor = {"cns": model.cns_benefit, "non_cns_emd": model.non_cns_penalty}.get(row["relapse_site"], 1.0)
    if row["marrow_blasts_pct"] >= 50:
        site_factor *= model.high_burden_penalty
    if not row["cr"]:
        rec["best_response"] = ("PR", "NR", "NR", "NE")[dr.response]
        med = model.os_median_nonresponder_chemo if cls == "chemotherapy" else model.os_median_nonresponder_targeted
        t_death = dr.event * f_event * med * site_factor / np.log(2)
        _close(rec, salvage + timedelta(days=_months_to_days(t_death)), end_fu,
               "disease" if dr.cause < 0.85 else "infection")
        return rec
    rec["best_response"] = ("CR", "CR", "CRi", "CR")[dr.response]
    cr = salvage + timedelta(days=dr.cr_gap)
    rec["cr_date"] = _fmt(cr)
    end_fu = max(end_fu, cr + timedelta(days=14))
    rfs_med = model.rfs_median * (site_factor if row["relapse_site"] == "cns" else 1.0)
    if cls == "chemotherapy":
        rfs_med *= 0.6
    t_rfs = dr.event * f_event * rfs_med / np.log(2)
    outcome = None
    if hsct is not None:
        seq, outcome = hsct
        hsct_date = cr + timedelta(days=dr.hsct_gap)
        rec["hsct_after_salvage"] = seq
        rec["hsct_date"] = _fmt(hsct_date)
        end_fu = max(end_fu, hsct_date + timedelta(days=200))
        if outcome == "trd":
            rec["post_salvage_relapse"] = "no"
            _close(rec, hsct_date + timedelta(days=dr.trd_gap), end_fu + timedelta(days=400), "transplant_related")
            return rec
        if outcome == "ccr":
            rec["post_salvage_relapse"] = "no"
            rec["last_contact_date"] = _fmt(end_fu + timedelta(days=dr.ccr_extra))
            return rec
        t_rfs = max(t_rfs, (hsct_date - cr).days / 30.4375 + 2)
    rel = cr + timedelta(days=_months_to_days(t_rfs))
    if rel > end_fu and outcome != "relapse":
        rec["post_salvage_relapse"] = "no"
        rec["last_contact_date"] = _fmt(end_fu)
        return rec
    if outcome is None and dr.nrm < model.nrm_share:
        rec["post_salvage_relapse"] = "no"
        _close(rec, rel, end_fu + timedelta(days=1000), "infection")
        return rec
    rec["post_salvage_relapse"] = "yes"
    rec["post_salvage_relapse_date"] = _fmt(rel)
    t_post = dr.post_relapse * f_post * model.post_relapse_median / np.log(2)
    death = rel + timedelta(days=_months_to_days(t_post) + 7)
    _close(rec, death, max(end_fu, rel + timedelta(days=7)), "disease")
    return rec


def _close(rec: dict, death: date, end_fu: date, cause: str) -> None:
    """Death if it happens before the end of follow-up, else alive at last contact."""
    if death <= end_fu:
        rec["death_date"] = _fmt(death)
        rec["death_cause"] = cause
        rec["last_contact_date"] = _fmt(death)
    else:
        rec["last_contact_date"] = _fmt(end_fu)


def _no_salvage_record(reason: str, dr: _Draws) -> dict:
    base = date(2017, 3, 1)
    relapse = base + timedelta(days=dr.relapse_day)
    cart = relapse - timedelta(days=dr.cart_gap)
    u = dr.misc
    site = "non_cns_emd" if u[0] < 0.25 else "bone_marrow"
    rec = {
        "sex": "male" if u[1] < 0.5 else "female", "age_at_relapse": f"{8 + int(u[2] * 57)}",
        "diagnosis_date": _fmt(cart - timedelta(days=dr.diagnosis_gap)),
        "cytogenetic_risk": "high" if u[3] < 0.3 else "standard",
        "bcr_abl1": "positive" if u[4] < 0.3 else "negative",
        "marrow_blasts_pct": f"{20 + int(u[5] * 75) if site == 'bone_marrow' else dr.agent}",
        "cart_product": "Investigational CD19 CAR-T", "cart_date": _fmt(cart),
        "prior_transplant": ("none", "before_cart")[dr.product], "relapse_date": _fmt(relapse),
        "cd19_status": ("positive", "negative_dim", "unknown", "positive")[dr.response], "relapse_site": site,
        "emd_preexisting": "no" if site == "non_cns_emd" else "", "salvage": "no", "no_salvage_reason": reason,
        "salvage_class": "", "salvage_agent": "", "salvage_date": "", "best_response": "", "cr_date": "",
        "hsct_after_salvage": "", "hsct_date": "", "post_salvage_relapse": "", "post_salvage_relapse_date": "",
        "death_date": "", "death_cause": "", "last_contact_date": "", "synthetic": "yes",
    }
    lo, hi = {"early_death": (0, 20), "supportive_care": (20, 90), "declined": (40, 150),
              "lost_to_follow_up": (15, 45)}[reason]
    t = relapse + timedelta(days=lo + int(dr.followup * (hi - lo)))
    rec["last_contact_date"] = _fmt(t)
    if reason != "lost_to_follow_up":
        rec["death_date"] = _fmt(t)
        rec["death_cause"] = "disease"
    return rec


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV text with fixed quoting and line endings, so regeneration is byte-identical."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def synthetic_files(model: TimeModel = CALIBRATED) -> dict[str, bytes]:
    """File name -> content: one CSV per site."""
    cohort = simulate_cohort(model)
    return {
        f"site_{site[-1].lower()}.csv": to_csv_bytes(cohort[cohort["site"] == site])
        for site in SITES
    }


def write_synthetic(out_dir: Path = SYNTHETIC_DIR, model: TimeModel = CALIBRATED) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in synthetic_files(model).items():
        path = out_dir / name
        tmp = path.with_suffix(".csv.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
        written.append(path)
    return written


def with_seed(model: TimeModel, seed: int) -> TimeModel:
    return replace(model, seed=seed)
