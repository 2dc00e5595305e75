"""Benchmark at registry scale: ``python -m analysis bench`` (a developer tool).

What it does
------------
1. **Synthetic registries** of N patients (:func:`generate_registry`) in the
   input format of ``data/synthetic/*.csv``: the dictionary's columns and
   codes, ISO dates, one CSV file per site (:data:`N_SITES` sites), every
   record valid under :func:`analysis.validate.validate`. Drawn with
   vectorised numpy (no per-patient Python code), so 1,000,000 patients are
   written in seconds. Written to a temporary folder, never into the project.
   The clinical course is plausible but not calibrated to anything: the
   registry exists to be timed, not analysed.
2. **Stages**, timed on each registry: load and validate; derive (typed
   values, ADSL, ADTTE); Table 1 (:func:`analysis.results.baseline_results`);
   Kaplan-Meier with log-rank (OS overall and by salvage group, as
   :func:`analysis.results.survival_endpoint` and
   :func:`analysis.results.group_comparison`); Cox (the configured model:
   :func:`analysis.results.cox_results`, i.e. multivariable, univariable and
   cox.zph); and the whole analysis (:func:`analysis.results.run_analysis`),
   also with the configuration's ``sensitivity`` section switched off (to show
   what the supplementary analyses cost).
3. **Memory**. Each registry size runs in a fresh child process. The stages
   run one after another in one child; a psutil thread samples the child's
   resident set size (RSS) every :data:`SAMPLE_SECONDS` and each stage
   reports its peak RSS and the rise of that peak over the RSS when the stage
   started. The whole analysis runs alone in another fresh child, whose peak
   is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (exact, kernel-kept); the
   stage figures are sampled (a spike shorter than the sampling interval can
   be missed). tracemalloc is not used: it slows allocation-heavy code
   several-fold at this scale.
   Wall time and CPU time (user + system) are both reported: on a shared
   machine the CPU time is the steadier figure.
4. **R**. Where ``Rscript`` is on PATH, the same Kaplan-Meier/log-rank and
   Cox fits in R's survival package on the same derived data (written to CSV;
   reading it is not timed), timed in the same run (:data:`R_SCRIPT`: survfit
   with summary, quantiles, restricted mean, landmarks and risk times, overall
   and by salvage group; survdiff; coxph multivariable and univariable;
   cox.zph), and the ratio Python / R printed.
5. **Documents**. All chunks and inline expressions of ``report.qmd`` and
   ``supplement.qmd`` on the shipped cohort, executed in a Jupyter kernel by
   ``tests/qmd/harness.execute_qmd`` (HTML target), as the document tests do,
   after the pre-render step (:func:`analysis.present.document.prepare`, which
   writes ``_variables.yml`` and ``_generated/`` as ``quarto render`` does).

Each measurement process may be given a time limit (``--timeout``); a whole
analysis stopped by it is reported as "more than" the limit. A process that
seems stuck can be asked for its Python stack: ``kill -USR1 PID`` writes it
to the ``.stderr`` file next to its result in the benchmark's folder.

Targets (issue 14, item 6; :data:`TARGETS`, each printed as met or MISSED
under the table): the whole analysis of 100,000 patients in 5 s or less;
1,000,000 patients in 60 s or less within 2 GiB peak memory; the KM/log-rank
and Cox fits clearly faster than R's survival package on the same models, at
most 0.8x R's CPU time (at each size where R ran). Times are judged on wall
time, as a user waits for them, with the CPU time printed beside (on a shared
machine the wall time also holds other sessions' work).
"""

from __future__ import annotations

import argparse
import dataclasses
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import PROJECT_ROOT

__all__ = [
    "DEFAULT_SIZES",
    "QUICK_SIZES",
    "StageFigure",
    "generate_registry",
    "main",
    "registry_frame",
    "check_targets",
    "format_table",
    "run_benchmark",
]

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000,)
N_SITES = 5
SAMPLE_SECONDS = 0.005
STAGES = ("load_validate", "derive", "keyed_ids", "table1", "km_logrank", "cox")
STAGE_LABELS = {
    "generate": "generate registry (CSV)",
    "load_validate": "load + validate",
    "derive": "derive (typed, ADSL, ADTTE)",
    "keyed_ids": "keyed IDs (real data only)",
    "table1": "Table 1 (baseline_table)",
    "km_logrank": "KM + log-rank (OS, by group)",
    "cox": "Cox (multi, uni, zph)",
    "fits": "KM/log-rank + Cox (the R fits)",
    "whole": "whole analysis (run_analysis)",
    "whole_no_sensitivity": "  ... sensitivity analyses off",
    "documents": "documents (report + supplement)",
}
_EPOCH = np.datetime64("1970-01-01", "D")
_BASE_DAY = int((np.datetime64("2010-01-01", "D") - _EPOCH).astype(int))  # every date before 2024
_DAYS_PER_MONTH = 30.4375


# --------------------------------------------------------------------------- the generator


def _choice(rng: np.random.Generator, codes: Sequence[str], p: Sequence[float], n: int) -> np.ndarray:
    return np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=np.asarray(p) / np.sum(p))]


def _text(values: np.ndarray, convert) -> np.ndarray:
    """``convert`` applied to each distinct value only (a registry holds a few
    thousand distinct dates), as an object array of text."""
    uniques, inverse = np.unique(values, return_inverse=True)
    return np.asarray(convert(uniques), dtype=object)[inverse.reshape(-1)]


def _iso(days: np.ndarray, given: np.ndarray | None = None) -> np.ndarray:
    """Days since 1970-01-01 as ISO text; '' where not ``given``."""
    text = _text(days, lambda u: np.datetime_as_string(u.astype("datetime64[D]"), unit="D"))
    if given is not None:
        text[~given] = ""
    return text


def _numbers(values: np.ndarray) -> np.ndarray:
    return _text(values, lambda u: u.astype(str))


def _blank(values: np.ndarray, given: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[~given] = ""
    return out


def registry_frame(n: int, *, seed: int = 2024, n_sites: int = N_SITES) -> pd.DataFrame:
    """A synthetic registry of ``n`` patients as a site export holds it: text
    values (codes, ISO dates, '' for missing) in the dictionary's columns, in
    the column order of ``data/synthetic/*.csv``, sorted by site.

    Every rule of ``data/dictionary.yml`` holds by construction: the
    conditional requirements in both directions, the clinical order of dates,
    no date after the end of follow-up, the transplant after the start of
    salvage, last contact not after death, unique pseudonyms, and the clinical
    consistency rules (transplant history, transplant-related death, early
    death, age at diagnosis). Times: overall
    survival exponential with a median depending on salvage, response and
    salvage class; relapse-free survival exponential; follow-up uniform.
    """
    from .simulate import AGENTS, COLUMNS

    if n < 1:
        raise ValueError("a registry needs at least one patient")
    rng = np.random.default_rng(seed)
    site_no = np.sort(rng.integers(0, n_sites, n))
    sites = np.array([f"SITE-{k + 1:02d}" for k in range(n_sites)], dtype=object)[site_no]
    ids = np.array([f"REG-{i:07d}" for i in range(1, n + 1)], dtype=object)

    relsite = _choice(rng, ["bone_marrow", "cns", "non_cns_emd", "not_documented"], [70, 10, 12, 8], n)
    emd = (relsite == "cns") | (relsite == "non_cns_emd")
    salvage = rng.random(n) < 0.9
    cls = _choice(rng, list(AGENTS), [27, 21, 21, 31], n)
    cls[~salvage] = ""
    chemo = cls == "chemotherapy"
    p_cr = np.where(chemo, 0.2, np.where(cls == "cart_reinfusion", 0.6, 0.55))
    cr = salvage & (rng.random(n) < p_cr)
    resp = np.where(cr, _choice(rng, ["CR", "CRi"], [3, 1], n), _choice(rng, ["PR", "NR", "NE"], [2, 5, 1], n))
    resp[~salvage] = ""
    agent = np.empty(n, dtype=object)
    for c, names in AGENTS.items():
        k = cls == c
        agent[k] = np.asarray(names, dtype=object)[rng.integers(0, len(names), int(k.sum()))]
    agent[~salvage] = ""
    agent[salvage & (rng.random(n) < 0.05)] = ""  # optional variable, sometimes not recorded

    # dates, as days since 1970-01-01, built forward so the clinical order holds
    relapse = _BASE_DAY + rng.integers(0, 8 * 365, n)
    cart = relapse - rng.integers(30, 600, n)
    diagnosis = cart - rng.integers(200, 3000, n)
    salv_d = relapse + rng.integers(3, 28, n)
    cr_d = salv_d + rng.integers(21, 60, n)
    hsct = np.where(cr, _choice(rng, ["none", "first", "second"], [60, 32, 8], n),
                    _choice(rng, ["none", "first"], [95, 5], n))
    has_hsct = salvage & (hsct != "none")
    hsct_d = np.where(cr, cr_d, salv_d) + rng.integers(30, 120, n)

    med = np.where(~salvage, 1.5, np.where(cr, 18.0, np.where(chemo, 3.5, 5.0)))
    os_days = np.maximum(1, np.round(rng.exponential(med / np.log(2)) * _DAYS_PER_MONTH)).astype(np.int64)
    follow_days = np.round(rng.uniform(2.0, 72.0, n) * _DAYS_PER_MONTH).astype(np.int64)
    rfs_days = np.maximum(7, np.round(rng.exponential(9.0 / np.log(2), n) * _DAYS_PER_MONTH)).astype(np.int64)
    rel2 = cr & (rfs_days < follow_days)
    rel2_d = cr_d + rfs_days
    # the last dated milestone before the end of follow-up
    milestone = np.where(salvage, salv_d, relapse)
    milestone = np.where(cr, np.maximum(milestone, cr_d), milestone)
    milestone = np.where(has_hsct, np.maximum(milestone, hsct_d), milestone)
    milestone = np.where(rel2, np.maximum(milestone, rel2_d), milestone)
    dead = os_days <= follow_days
    end = np.maximum(relapse + np.minimum(os_days, follow_days), milestone + rng.integers(1, 30, n))
    cause = np.where(rel2 | ~cr, _choice(rng, ["disease", "infection", "other", "unknown"], [85, 8, 4, 3], n),
                     _choice(rng, ["transplant_related", "infection", "other"], [5, 3, 2], n))

    # the dictionary's clinical rules (rules: in data/dictionary.yml) hold too
    prior = _choice(rng, ["none", "before_cart", "after_cart"], [67, 20, 13], n)
    hsct = np.where((prior != "none") & (hsct == "first"), "second",
                    np.where((prior == "none") & (hsct == "second"), "first", hsct)).astype(object)
    cause = np.where((cause == "transplant_related") & (prior == "none") & ~has_hsct, "other", cause).astype(object)
    reason = _choice(rng, ["early_death", "supportive_care", "declined", "lost_to_follow_up", "other"],
                     [40, 30, 10, 15, 5], n)
    reason = np.where((reason == "early_death") & ~(dead & (end - relapse <= 90)), "supportive_care", reason)
    age = np.maximum(rng.integers(1, 81, n), np.ceil((relapse - diagnosis) / 365.25).astype(np.int64))

    frame = pd.DataFrame(
        {
            "patient_id": ids,
            "site": sites,
            "sex": _choice(rng, ["male", "female"], [1, 1], n),
            "age_at_relapse": _numbers(age),
            "diagnosis_date": _iso(diagnosis, rng.random(n) < 0.95),
            "cytogenetic_risk": _blank(_choice(rng, ["high", "standard"], [1, 3], n), rng.random(n) < 0.95),
            "bcr_abl1": _choice(rng, ["positive", "negative"], [1, 3], n),
            "marrow_blasts_pct": _blank(
                _numbers(np.where(emd, rng.integers(0, 5, n), rng.integers(5, 96, n))),
                rng.random(n) < 0.97),
            "cart_product": _blank(_choice(rng, ["tisagenlecleucel", "Investigational CD19 CAR-T"], [2, 1], n),
                                   rng.random(n) < 0.98),
            "cart_date": _iso(cart),
            "prior_transplant": prior,
            "relapse_date": _iso(relapse),
            "cd19_status": _choice(rng, ["positive", "negative_dim", "unknown"], [70, 22, 8], n),
            "relapse_site": relsite,
            "emd_preexisting": _blank(_choice(rng, ["yes", "no"], [1, 4], n), emd),
            "salvage": np.where(salvage, "yes", "no").astype(object),
            "no_salvage_reason": _blank(reason.astype(object), ~salvage),
            "salvage_class": cls,
            "salvage_agent": agent,
            "salvage_date": _iso(salv_d, salvage),
            "best_response": resp,
            "cr_date": _iso(cr_d, cr),
            "hsct_after_salvage": _blank(hsct, salvage),
            "hsct_date": _iso(hsct_d, has_hsct),
            "post_salvage_relapse": _blank(np.where(rel2, "yes", "no").astype(object), cr),
            "post_salvage_relapse_date": _iso(rel2_d, rel2),
            "death_date": _iso(end, dead),
            "death_cause": _blank(cause, dead),
            "last_contact_date": _iso(end),
            "synthetic": np.full(n, "yes", dtype=object),
        }
    )
    return frame[list(COLUMNS)]


def generate_registry(n: int, out_dir: str | os.PathLike, *, seed: int = 2024,
                      n_sites: int = N_SITES) -> list[Path]:
    """Write a registry of ``n`` patients (:func:`registry_frame`) as one CSV
    per site (``site_01.csv`` ...) into ``out_dir``, which must lie outside
    the project. Returns the files written, in site order."""
    out = Path(out_dir).resolve()
    if out == PROJECT_ROOT or PROJECT_ROOT in out.parents:
        raise ValueError("benchmark registries are never written into the project")
    out.mkdir(parents=True, exist_ok=True)
    frame = registry_frame(n, seed=seed, n_sites=n_sites)
    written = []
    site = frame["site"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, site[1:] != site[:-1], True])
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    for a, b in zip(bounds[:-1], bounds[1:]):
        path = out / f"site_{str(site[a])[-2:]}.csv"
        # csv.writer: the text pandas' to_csv writes (minimal quoting, "\n"), in half the time
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(list(frame.columns))
            writer.writerows(zip(*(col[a:b] for col in columns)))
        written.append(path)
    return written


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class StageFigure:
    """One measured stage.

    ``size``: patients in the registry (None for the documents, which use the
    shipped cohort); ``stage``: key of :data:`STAGE_LABELS`; ``seconds``: wall
    time; ``peak_mib``: peak resident memory of the process (tree) during the
    stage, MiB; ``rise_mib``: that peak minus the resident memory when the
    stage started (sampled stages only, else None); ``memory_method``:
    "ru_maxrss" or "psutil sampling"; ``r_seconds``: wall time of the same
    fits in R survival (KM/log-rank and Cox stages), or None; ``timed_out``:
    the child was stopped after ``seconds`` (the figure is a lower bound);
    ``cpu_seconds``, ``r_cpu_seconds``: CPU time (user + system) of the same.
    """

    size: int | None
    stage: str
    seconds: float
    peak_mib: float | None
    rise_mib: float | None
    memory_method: str
    r_seconds: float | None = None
    timed_out: bool = False
    cpu_seconds: float | None = None
    r_cpu_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        """Python / R, wall time."""
        return None if not self.r_seconds else self.seconds / self.r_seconds

    @property
    def cpu_ratio(self) -> float | None:
        """Python / R, CPU time (robust when other work shares the machine)."""
        if not self.r_cpu_seconds or self.cpu_seconds is None:
            return None
        return self.cpu_seconds / self.r_cpu_seconds


# --------------------------------------------------------------------------- child processes


class _Sampler:
    """Peak RSS of this process (with ``tree``: and its children), sampled by a
    daemon thread. Reading one process's RSS costs microseconds; listing the
    children scans every process of the machine, so it is done only where
    children matter (the Jupyter kernel of the documents). With ``pss``: the
    proportional set size instead (pages shared by a forked child and its parent
    counted once between them), for a process that forks."""

    def __init__(self, interval: float = SAMPLE_SECONDS, *, tree: bool = False, pss: bool = False) -> None:
        import threading

        import psutil

        self._proc = psutil.Process()
        self._tree = tree
        self._pss = pss
        self._interval = interval
        self._peak = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        import psutil

        def size(proc) -> int:
            return proc.memory_full_info().pss if self._pss else proc.memory_info().rss

        total = size(self._proc)
        for child in self._proc.children(recursive=True) if self._tree else ():
            try:
                total += size(child)
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self.rss())

    def reset(self) -> int:
        now = self.rss()
        self._peak = now
        return now

    def peak(self) -> int:
        self._peak = max(self._peak, self.rss())
        return self._peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _maxrss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _settings(cfg) -> dict:
    st = cfg.settings
    return {
        "alpha": st.tests.alpha,
        "tests": dict(rule=st.tests.two_by_two, alpha=st.tests.alpha, seed=st.tests.monte_carlo_seed,
                      n_resamples=st.tests.monte_carlo_samples),
        "population": st.survival.population,
        "landmarks": list(st.survival.landmarks_months),
        "risk_times": list(st.survival.risk_table_months),
        "cox": list(st.cox.covariates),
        "min_epv": st.cox.min_events_per_variable,
    }


def _preimport() -> None:
    """Import every library the analysis uses, so no stage is charged for imports
    (R's library(survival) is not timed either)."""
    import lifelines  # noqa: F401
    import statsmodels.duration.hazard_regression  # noqa: F401
    import tableone  # noqa: F401

    from . import results, validate  # noqa: F401


def _child_stages(data_dir: str, out: str) -> None:
    from .config import load_config
    from .derive import SALVGRP_LEVELS, Definitions, derive, subject_ids
    from .dictionary import load_dictionary
    from .load import load_sources, to_typed
    from .pipeline import Cohort, data_hash
    from .results import baseline_results, cox_results, group_comparison, survival_endpoint
    from .validate import validate

    _preimport()
    cfg = load_config(data=data_dir)
    st = _settings(cfg)
    sampler = _Sampler()
    figures: list[dict] = []
    state: dict = {}

    def stage(name: str, fn) -> None:
        start_rss = sampler.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = sampler.peak()
        figures.append({"stage": name, "seconds": seconds, "cpu": cpu, "peak": peak, "rise": peak - start_rss})

    def load_validate() -> None:
        dictionary = load_dictionary(cfg.dictionary_path)
        loaded = load_sources(cfg.sources, dictionary)
        report = validate(loaded, dictionary)
        if not report.ok:
            raise RuntimeError("the benchmark registry failed validation:\n" + report.format()[:4000])
        state.update(dictionary=dictionary, loaded=loaded, report=report, hash=data_hash(cfg))

    def derive_() -> None:
        loaded = state.pop("loaded")
        typed = to_typed(loaded.raw, state["dictionary"], origin=loaded.origin, splits=loaded.splits)
        del loaded
        state["ids"] = typed[["site", "patient_id"]]
        derived = derive(typed, study_id=cfg.study_id,
                         definitions=Definitions.from_settings(cfg.settings.definitions))
        state["cohort"] = Cohort(config=cfg, dictionary=state["dictionary"], derived=derived,
                                 report=state["report"], data_hash=state["hash"])

    def keyed_ids() -> None:
        # what derive adds for real data (a registry without the synthetic flag): USUBJIDs keyed by
        # the project's secret (pipeline.subject_id_key); the synthetic registry keeps sequence numbers
        ids = state.pop("ids")
        subject_ids(ids["site"], ids["patient_id"], bytes(32))

    def table1() -> None:
        baseline_results(state["cohort"].derived, **st["tests"])

    def km() -> None:
        os_ = survival_endpoint(state["cohort"].derived, "OS", population=st["population"], alpha=st["alpha"],
                                landmarks=st["landmarks"], risk_times=st["risk_times"])
        group_comparison(os_.data, "SALVGRP", SALVGRP_LEVELS, alpha=st["alpha"], risk_times=st["risk_times"])
        state["os"] = os_.data

    def cox() -> None:
        cox_results(state["os"], st["cox"], alpha=st["alpha"], min_epv=st["min_epv"])

    for name, fn in zip(STAGES, (load_validate, derive_, keyed_ids, table1, km, cox)):
        stage(name, fn)
    sampler.stop()
    columns = ["AVAL", "EVENT"] + [c.column for c in st["cox"]]
    state["os"][columns].to_csv(Path(out).with_suffix(".os.csv"), index=False, na_rep="NA")
    Path(out).write_text(json.dumps({"stages": figures, "maxrss": _maxrss_bytes()}), encoding="utf-8")


def _child_whole(data_dir: str, variant: str, out: str) -> None:
    from .config import SensitivitySettings, load_config
    from .results import run_analysis

    _preimport()
    cfg = load_config(data=data_dir)
    if variant == "no_sensitivity":  # every entry of the configuration's sensitivity section off
        cfg = dataclasses.replace(cfg, settings=cfg.settings.model_copy(update={"sensitivity": SensitivitySettings(
                         rfs_censor_at_hsct=False, time_dependent_hsct=False, landmark_months=[],
                         competing_risks=False, missing_covariates=[])}))
    import resource

    sampler = _Sampler(0.5, tree=True, pss=True)  # the analysis forks (analysis/aside.py); PSS reads cost CPU

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    before = _maxrss_bytes()
    t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
    run_analysis(cfg)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0 + children_cpu() - k0
    # the analysis forks children for part of its work (analysis/aside.py): their CPU time is counted, and
    # the peak is this process's, or that of it and its children together when higher (sampled PSS: the
    # pages a child shares with its parent counted once)
    tree_peak = sampler.peak()
    sampler.stop()
    Path(out).write_text(json.dumps({"seconds": seconds, "cpu": cpu, "maxrss": max(_maxrss_bytes(), tree_peak),
                                     "before": before}), encoding="utf-8")


def _child_documents(out: str) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.qmd.harness import execute_qmd

    from .present.document import prepare

    import yaml

    sampler = _Sampler(tree=True)
    start = sampler.reset()
    t0 = time.perf_counter()
    prepare()
    variables = yaml.safe_load((PROJECT_ROOT / "_variables.yml").read_text(encoding="utf-8"))
    for doc in ("report.qmd", "supplement.qmd"):
        execute_qmd(PROJECT_ROOT / doc, target_format="html", variables=variables)
    seconds = time.perf_counter() - t0
    peak = sampler.peak()
    sampler.stop()
    Path(out).write_text(json.dumps({"seconds": seconds, "peak": peak, "rise": peak - start}), encoding="utf-8")


_CHILDREN = {"stages": _child_stages, "whole": _child_whole, "documents": _child_documents}


class ChildTimeout(Exception):
    """A benchmark child process ran longer than allowed (it was stopped)."""


def _run_child(kind: str, *args: str, workdir: Path, timeout: float | None = None) -> dict:
    """Run one measurement in a fresh interpreter; its stderr goes to a file next
    to its result (send SIGUSR1 to a child that seems stuck: it writes the
    Python stack of every thread there)."""
    out = workdir / f"{kind}-{time.monotonic_ns()}.json"
    log = out.with_suffix(".stderr")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("CART_DATA", None)
    cmd = [sys.executable, "-c", "import sys; from analysis.bench import _child_main; _child_main(sys.argv[1:])",
           kind, *args, str(out)]
    with open(log, "w", encoding="utf-8") as err:
        try:
            proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ChildTimeout(f"benchmark child '{kind}' stopped after {timeout:g} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child '{kind}' failed:\n{log.read_text(encoding='utf-8')[-4000:]}")
    return json.loads(out.read_text(encoding="utf-8")) | {"_os_csv": str(out.with_suffix(".os.csv"))}


def _child_main(argv: list[str]) -> None:
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)
    _CHILDREN[argv[0]](*argv[1:])


# --------------------------------------------------------------------------- R


R_SCRIPT = r"""
# The KM / log-rank and Cox fits of the benchmark, in R survival, on the OS data
# the Python stages used (written by analysis.bench). Prints elapsed seconds.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
refs <- eval(parse(text = args[2]))
landmarks <- eval(parse(text = args[3]))
risk <- eval(parse(text = args[4]))
for (v in names(refs)) d[[v]] <- relevel(factor(d[[v]]), ref = refs[[v]])
d$SALVGRP <- factor(d$SALVGRP, levels = c("Targeted", "Chemotherapy"))
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]; c0 <- cpu()
km <- function(f) {
  fit <- survfit(f, data = d)
  s <- summary(fit, censored = TRUE)
  q <- quantile(fit, 0.5)
  q2 <- quantile(survfit(f, data = d, conf.type = "log-log"), 0.5)
  m <- summary(fit, rmean = "individual")$table
  l <- summary(fit, times = landmarks, extend = TRUE)
  r <- summary(fit, times = risk, extend = TRUE)
  invisible(list(s, q, q2, m, l, r))
}
km(Surv(AVAL, EVENT) ~ 1)
km(Surv(AVAL, EVENT) ~ SALVGRP)
lr <- survdiff(Surv(AVAL, EVENT) ~ SALVGRP, data = d)
t1 <- proc.time()[["elapsed"]]; c1 <- cpu()
covs <- names(refs)
dc <- d[complete.cases(d[, covs]), ]
multi <- coxph(as.formula(paste("Surv(AVAL, EVENT) ~", paste(covs, collapse = " + "))), data = dc)
sm <- summary(multi)
uni <- lapply(covs, function(v) summary(coxph(as.formula(paste("Surv(AVAL, EVENT) ~", v)), data = d)))
zph <- cox.zph(multi)
t2 <- proc.time()[["elapsed"]]; c2 <- cpu()
cat(sprintf(paste0("{\"km_logrank\": %.6f, \"cox\": %.6f, \"km_logrank_cpu\": %.6f, \"cox_cpu\": %.6f, ",
                   "\"n\": %d, \"version\": \"%s\", \"survival\": \"%s\"}\n"),
            t1 - t0, t2 - t1, c1 - c0, c2 - c1, nrow(d), R.version.string,
            as.character(packageVersion("survival"))))
"""


def _r_list(values: Sequence, *, quote: bool) -> str:
    items = [f'"{v}"' if quote else repr(float(v)) for v in values]
    return f"c({', '.join(items)})"


def _run_r(os_csv: str, settings: dict, workdir: Path) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    script = workdir / "bench_survival.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    refs = "list(" + ", ".join(f'{c.column} = "{c.reference}"' for c in settings["cox"]) + ")"
    proc = subprocess.run(
        [rscript, str(script), os_csv, refs, _r_list(settings["landmarks"], quote=False),
         _r_list(settings["risk_times"], quote=False)],
        capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the R benchmark failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the benchmark


def _mib(n_bytes: float | None) -> float | None:
    return None if n_bytes is None else n_bytes / 2**20


def run_benchmark(sizes: Sequence[int], *, workdir: str | os.PathLike | None = None, r: bool = True,
                  documents: bool = True, whole: bool = True, timeout: float | None = None,
                  log=print) -> list[StageFigure]:
    """Generate each registry, run the stages and the whole analysis in fresh
    child processes, R where available, and the documents once; return the
    figures. Registries go to ``workdir`` (default: a temporary folder, removed
    afterwards). ``timeout``: seconds allowed to each child; a whole analysis
    that takes longer is stopped and reported as such (a stage child that
    takes longer stops the benchmark)."""
    from .config import load_config

    settings = _settings(load_config())
    own = workdir is None
    base = Path(tempfile.mkdtemp(prefix="cart-bench-")) if own else Path(workdir)
    figures: list[StageFigure] = []
    try:
        for n in sizes:
            data = base / f"registry-{n}"
            t0 = time.perf_counter()
            generate_registry(n, data)
            figures.append(StageFigure(n, "generate", time.perf_counter() - t0, None, None, "-"))
            log(f"  {n:>9,} patients: registry written in {figures[-1].seconds:.1f} s; running the stages ...")
            res = _run_child("stages", str(data), workdir=base, timeout=timeout)
            r_res = _run_r(res["_os_csv"], settings, base) if r else None
            for s in res["stages"]:
                r_s = r_res.get(s["stage"]) if r_res else None
                r_c = r_res.get(s["stage"] + "_cpu") if r_res else None
                figures.append(StageFigure(n, s["stage"], s["seconds"], _mib(s["peak"]), _mib(s["rise"]),
                                           "psutil sampling", r_s, cpu_seconds=s["cpu"], r_cpu_seconds=r_c))
            fit_stages = [s for s in res["stages"] if s["stage"] in ("km_logrank", "cox")]
            figures.append(StageFigure(
                n, "fits", sum(s["seconds"] for s in fit_stages), None, None, "-",
                (r_res["km_logrank"] + r_res["cox"]) if r_res else None,
                cpu_seconds=sum(s["cpu"] for s in fit_stages),
                r_cpu_seconds=(r_res["km_logrank_cpu"] + r_res["cox_cpu"]) if r_res else None))
            if whole:
                log(f"  {n:>9,} patients: the whole analysis ...")
                for variant, stage in (("all", "whole"), ("no_sensitivity", "whole_no_sensitivity")):
                    try:
                        w = _run_child("whole", str(data), variant, workdir=base, timeout=timeout)
                        figures.append(StageFigure(n, stage, w["seconds"], _mib(w["maxrss"]), None, "ru_maxrss",
                                                   cpu_seconds=w["cpu"]))
                    except ChildTimeout:
                        figures.append(StageFigure(n, stage, float(timeout), None, None, "stopped", timed_out=True))
            shutil.rmtree(data, ignore_errors=True)
        if documents:
            log("  documents: executing every chunk of report.qmd and supplement.qmd ...")
            d = _run_child("documents", workdir=base, timeout=timeout)
            figures.append(StageFigure(None, "documents", d["seconds"], _mib(d["peak"]), _mib(d["rise"]),
                                       "psutil sampling (process tree)"))
    finally:
        if own:
            shutil.rmtree(base, ignore_errors=True)
    return figures


def format_table(figures: Sequence[StageFigure]) -> str:
    """The figures as a plain-text table (a developer tool's output: formatting here is fine)."""
    head = (f"{'patients':>10}  {'stage':<32} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'rise MiB':>9} "
            f"{'R wall':>7} {'R cpu':>7} {'x R':>5} {'x R cpu':>7}")
    lines = [head, "-" * len(head)]
    for f in figures:
        def num(v, fmt):
            return format(v, fmt) if v is not None else "-"
        lines.append(
            f"{num(f.size, ','):>10}  {STAGE_LABELS.get(f.stage, f.stage):<32} "
            f"{('>' if f.timed_out else '') + format(f.seconds, '.2f'):>8} {num(f.cpu_seconds, '.2f'):>8} "
            f"{num(f.peak_mib, '.0f'):>9} {num(f.rise_mib, '.0f'):>9} {num(f.r_seconds, '.2f'):>7} "
            f"{num(f.r_cpu_seconds, '.2f'):>7} {num(f.ratio, '.1f'):>5} {num(f.cpu_ratio, '.1f'):>7}"
        )
    lines.append("")
    lines.append("peak MiB: resident memory; stages: psutil sampling every "
                 f"{SAMPLE_SECONDS * 1000:g} ms in one child process per size (rise = peak - RSS at stage start); "
                 "whole analysis: ru_maxrss of a fresh child, or the sampled PSS of it and the processes it forks when higher (CPU: all of them); documents: the process tree incl. the Jupyter kernel.")
    lines.append("R: the same KM/log-rank and Cox fits in R survival, timed in the same run; x R = Python / R "
                 "(wall, and CPU time: user + system, robust when other work shares the machine).")
    return "\n".join(lines)


#: Issue 14 item 6: (patients, whole-analysis seconds, peak GiB or None); fits vs R: FITS_VS_R_CPU.
TARGETS = ((100_000, 5.0, None), (1_000_000, 60.0, 2.0))
FITS_VS_R_CPU = 0.8


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def check_targets(figures: Sequence[StageFigure]) -> list[str]:
    """One line per target of issue 14 item 6 that the figures cover, saying met or MISSED."""
    notes = []
    for n, seconds, gib in TARGETS:
        for f in figures:
            if f.size != n or f.stage != "whole":
                continue
            cpu = f", CPU {f.cpu_seconds:.1f} s" if f.cpu_seconds is not None else ""
            notes.append(f"target: whole analysis of {n:,} patients in <= {seconds:g} s: "
                         f"{'>' if f.timed_out else ''}{f.seconds:.1f} s wall{cpu} "
                         f"({_verdict(f.seconds <= seconds and not f.timed_out)})")
            if gib is not None and f.peak_mib is not None:
                notes.append(f"target: {n:,} patients within {gib:g} GiB: peak {f.peak_mib / 1024:.2f} GiB "
                             f"({_verdict(f.peak_mib <= gib * 1024)})")
    for f in figures:
        if f.stage == "fits" and f.cpu_ratio is not None:
            notes.append(f"target: KM/log-rank + Cox fits of {f.size:,} patients in <= {FITS_VS_R_CPU:g}x R's CPU "
                         f"time: {f.cpu_ratio:.2f}x (wall {f.ratio:.2f}x) ({_verdict(f.cpu_ratio <= FITS_VS_R_CPU)})")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis bench [--sizes 10000,100000] [--quick] [--no-r] [--no-documents] [--json FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m analysis bench",
                                     description=__doc__.split("\n")[0].replace("``", ""))
    parser.add_argument("--sizes", default=None,
                        help="registry sizes, comma-separated (default: 10000,100000,1000000)")
    parser.add_argument("--quick", action="store_true",
                        help=f"one tiny round ({QUICK_SIZES[0]:,} patients), no documents")
    parser.add_argument("--no-r", action="store_true", help="do not run R even if Rscript is installed")
    parser.add_argument("--no-documents", action="store_true", help="do not execute the documents")
    parser.add_argument("--json", default=None, help="also write the figures as JSON to this file")
    parser.add_argument("--render", action="store_true",
                        help="instead: the render-cost benchmark (see bench --render --help)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds allowed to each measurement process (default 1800)")
    argv = list(argv) if argv is not None else sys.argv[1:]
    if argv[:1] == ["--"]:  # "python -m analysis bench -- --sizes ..." (options after a separator)
        argv = argv[1:]
    if "--render" in argv:  # the render-cost benchmark (analysis/bench_render.py)
        from .bench_render import main as render_main

        return render_main([a for a in argv if a != "--render"])
    args = parser.parse_args(argv)
    try:
        if args.sizes:
            sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
        else:
            sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
        if not sizes or min(sizes) < 1:
            raise ValueError
    except ValueError:
        print(f"--sizes must be positive whole numbers separated by commas, not {args.sizes!r}", file=sys.stderr)
        return 2
    print(f"Benchmark: {', '.join(f'{n:,}' for n in sizes)} patients "
          f"(R: {'off' if args.no_r else (shutil.which('Rscript') or 'not installed')})")
    figures = run_benchmark(sizes, r=not args.no_r, documents=not (args.quick or args.no_documents),
                            timeout=args.timeout)
    print()
    print(format_table(figures))
    for note in check_targets(figures):
        print(note)
    if args.json:
        rows = [dict(vars(f), ratio=f.ratio) for f in figures]
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
