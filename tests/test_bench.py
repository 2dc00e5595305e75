"""The registry-scale benchmark (analysis/bench.py) and the fast paths it called for.

Nothing here asserts anything about speed: the benchmark is run once on a tiny
registry to show that it works end to end. The other tests check that the
performance changes left the results as they were:

* the synthetic registry is in the input format and passes validation;
* loading, validation and ``to_typed`` evaluate their per-value rules once per
  distinct value: checked against the rules applied cell by cell;
* Kaplan-Meier counts from ``np.unique`` equal lifelines' event table, and
  Harrell's C counted with numpy equals lifelines' ``concordance_index``
  (both to the bit);
* the Cox fit (Newton-Raphson on the vectorised Efron likelihood, written
  for speed at this scale and for R's precision) equals lifelines'
  CoxPHFitter; its likelihood equals statsmodels PHReg, and with risk sets
  ``entry < t <= time`` (the time-dependent HSCT model) lifelines'
  CoxTimeVaryingFitter. Both models are compared with R in tests/compute.

Tolerance against the libraries the vectorised code stands in for:
relative 1e-10 for likelihood, score and information; relative 1e-6 for
estimates, because lifelines' fit stops short of the maximum (its Newton
decrement below 1e-12). The tiny benchmark round runs R only where Rscript is
installed.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import bench
from analysis.compute import cox as cox_mod
from analysis.config import PROJECT_ROOT, sources_from_override
from analysis.dictionary import load_dictionary
from analysis.load import is_missing, load_sources, map_distinct, parse_value, show_value, to_typed
from analysis.validate import validate

from tests.conventions import r_conventions

cox_mod = r_conventions(cox_mod)

REF_DIR = Path(__file__).resolve().parent / "reference"
REL_LIB = 1e-10


@pytest.fixture(scope="module")
def dic():
    return load_dictionary()


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("registry")
    bench.generate_registry(1500, out, seed=5)
    return out


# --------------------------------------------------------------------------- the generator


def test_registry_has_the_input_format_of_the_shipped_cohort(registry):
    """Same columns in the same order as data/synthetic/*.csv, one file per site,
    ISO dates, every pseudonym unique."""
    files = sorted(registry.glob("*.csv"))
    assert len(files) == bench.N_SITES
    with open(PROJECT_ROOT / "data" / "synthetic" / "site_a.csv", newline="") as fh:
        shipped_header = next(csv.reader(fh))
    frames = []
    for f in files:
        with open(f, newline="") as fh:
            assert next(csv.reader(fh)) == shipped_header
        frames.append(pd.read_csv(f, dtype=str, keep_default_na=False))
        assert frames[-1]["site"].nunique() == 1
    data = pd.concat(frames)
    assert len(data) == 1500
    assert data["patient_id"].is_unique
    dates = data["relapse_date"]
    assert dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(data["salvage"]) == {"yes", "no"}
    assert set(data["synthetic"]) == {"yes"}


def test_registry_passes_validation(registry, dic):
    loaded = load_sources(sources_from_override(registry), dic)
    report = validate(loaded, dic)
    assert report.ok, report.format()[:2000]
    # the one warning the generator meets on purpose: a few transplants without CR/CRi (5% of non-responders)
    assert {(p.rule, p.level) for p in report.problems} <= {("hsct_without_remission", "warning")}
    assert (report.n_patients, report.n_files) == (1500, bench.N_SITES)


def test_registry_is_seeded():
    """Regression: the same seed gives the same registry, another seed another one."""
    a = bench.registry_frame(200, seed=1)
    pd.testing.assert_frame_equal(a, bench.registry_frame(200, seed=1))
    assert not a.equals(bench.registry_frame(200, seed=2))


def test_registry_is_never_written_into_the_project():
    with pytest.raises(ValueError, match="never written into the project"):
        bench.generate_registry(10, PROJECT_ROOT / "data" / "bench")
    with pytest.raises(ValueError, match="at least one patient"):
        bench.registry_frame(0)


# --------------------------------------------------------------------------- one tiny round


def test_one_tiny_benchmark_round(tmp_path):
    """Every stage is measured (R where Rscript is installed); the table prints.
    Nothing is asserted about speed."""
    has_r = shutil.which("Rscript") is not None
    figures = bench.run_benchmark([300], workdir=tmp_path, r=has_r, documents=False, whole=False,
                                  log=lambda *_: None)
    stages = [f.stage for f in figures]
    assert stages == ["generate", *bench.STAGES, "fits"]
    for f in figures:
        assert f.size == 300 and f.seconds > 0
    for f in figures[1:-1]:
        assert f.peak_mib > 0 and f.rise_mib >= 0 and f.memory_method == "psutil sampling"
    timed_in_r = {f.stage: f.r_seconds for f in figures if f.r_seconds is not None}
    if has_r:
        assert set(timed_in_r) == {"km_logrank", "cox", "fits"}
        assert timed_in_r["fits"] == pytest.approx(timed_in_r["km_logrank"] + timed_in_r["cox"])
        assert all(f.ratio > 0 for f in figures if f.stage in timed_in_r)
    else:
        assert timed_in_r == {}
    table = bench.format_table(figures)
    for stage in ["generate", *bench.STAGES, "fits"]:
        assert bench.STAGE_LABELS[stage] in table
    assert not (tmp_path / "registry-300").exists()  # the registry is removed after its round


def test_main_refuses_bad_sizes(capsys):
    assert bench.main(["--sizes", "ten"]) == 2
    assert "--sizes must be positive whole numbers" in capsys.readouterr().err
    assert bench.main(["--sizes", "0"]) == 2
    assert bench.main(["--", "--sizes", "ten"]) == 2  # options after a "--" separator are read too


def test_targets_are_reported():
    """Issue 14 item 6: 100,000 in <= 5 s; 1,000,000 in <= 60 s within 2 GiB; fits <= 0.8x R CPU time."""
    figures = [
        bench.StageFigure(100_000, "whole", 4.5, 900.0, None, "ru_maxrss", cpu_seconds=4.2),
        bench.StageFigure(100_000, "fits", 6.0, None, None, "-", 3.0, cpu_seconds=1.5, r_cpu_seconds=2.0),
        bench.StageFigure(1_000_000, "whole", 90.0, 1900.0, None, "ru_maxrss", cpu_seconds=80.0),
        bench.StageFigure(1_000_000, "fits", 9.0, None, None, "-", 10.0, cpu_seconds=9.0, r_cpu_seconds=10.0),
    ]
    notes = bench.check_targets(figures)
    assert len(notes) == 5
    assert "100,000 patients in <= 5 s: 4.5 s wall, CPU 4.2 s (met)" in notes[0]
    assert "1,000,000 patients in <= 60 s: 90.0 s wall, CPU 80.0 s (MISSED)" in notes[1]
    assert "1,000,000 patients within 2 GiB: peak 1.86 GiB (met)" in notes[2]
    assert "fits of 100,000 patients in <= 0.8x R's CPU time: 0.75x (wall 2.00x) (met)" in notes[3]
    assert "fits of 1,000,000 patients in <= 0.8x R's CPU time: 0.90x (wall 0.90x) (MISSED)" in notes[4]


# --------------------------------------------------------------------------- per-value rules, once per distinct value


MESSY = [
    "2021-03-04", " 2021-03-04 ", "2021-02-30", "04.03.2021", "٢٠٢١-03-04", "", "  ", None, float("nan"),
    "male", "Male", " female", "x", "12,5", "12.5", "150", "-3", "+4.", ".5", "1e3", "34", "2021-03-04",
    "male", None, "",
]
OBJECTS = MESSY + [34.0, 12, True, pd.Timestamp("2021-03-04"), pd.NaT, np.float64(7.5)]


@pytest.mark.parametrize("values", [MESSY, OBJECTS], ids=["text", "mixed_objects"])
@pytest.mark.parametrize("kind", ["string", "category", "number", "integer", "date"])
@pytest.mark.parametrize("options", [{}, {"date_format": "DD.MM.YYYY", "decimal": ","}], ids=["iso", "european"])
def test_map_distinct_equals_cell_by_cell(values, kind, options):
    """map_distinct (once per distinct value for text) gives what a cell-by-cell
    application of parse_value / is_missing / show_value gives."""

    def rule(v):
        try:
            return ("ok", parse_value(v, kind, **options))
        except ValueError as err:
            return ("refused", str(err))

    arr = np.array(values, dtype=object)
    for fn in (rule, is_missing, show_value):
        expected = [fn(v) for v in values]
        got = list(map_distinct(arr, fn))
        assert got == expected


def _typed_cell_by_cell(raw: pd.DataFrame, dictionary, origin: pd.DataFrame) -> pd.DataFrame:
    """to_typed as it was written before the fast path: parse_value on every cell."""
    out = {}
    for var in dictionary.variables:
        values = [parse_value(v, var.type, date_format=f, decimal=d)
                  for v, f, d in zip(raw[var.name], origin["date_format"], origin["decimal"])]
        if var.type == "date":
            out[var.name] = pd.Series(pd.to_datetime(values), index=raw.index).astype("datetime64[ns]")
        elif var.type == "number":
            out[var.name] = pd.Series([np.nan if v is None else v for v in values], index=raw.index, dtype="float64")
        elif var.type == "integer":
            out[var.name] = pd.Series(pd.array(values, dtype="Int64"), index=raw.index)
        else:
            out[var.name] = pd.Series(pd.array(values, dtype="string"), index=raw.index)
    return pd.DataFrame(out, index=raw.index)


def test_to_typed_equals_parse_value_cell_by_cell(tmp_path, dic):
    """Two sites writing dates and decimals differently (a mapping file), spaces
    around values, labels for codes: the typed cohort is identical, to the bit,
    to parse_value applied cell by cell with each row's own format."""
    frame = bench.registry_frame(400, seed=9, n_sites=2)
    frame.loc[::7, "age_at_relapse"] = " " + frame.loc[::7, "age_at_relapse"] + " "
    frame.loc[::5, "sex"] = frame.loc[::5, "sex"].str.capitalize()
    a = frame[frame["site"] == "SITE-01"]
    b = frame[frame["site"] == "SITE-02"].copy()
    for col in [c for c in b.columns if c.endswith("_date")]:
        given = b[col] != ""
        b.loc[given, col] = b.loc[given, col].str[8:10] + "." + b.loc[given, col].str[5:7] + "." + b.loc[given, col].str[:4]
    b.loc[b.index[:20], "marrow_blasts_pct"] = "34,5"  # a decimal comma (age is whole years)
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False, sep=";")
    (tmp_path / "b.yml").write_text('date_format: DD.MM.YYYY\ndecimal: ","\ndelimiter: ";"\n', encoding="utf-8")
    (tmp_path / "sources.yml").write_text(
        "sources:\n  - path: a.csv\n  - path: b.csv\n    mapping: b.yml\n", encoding="utf-8")
    loaded = load_sources(sources_from_override(tmp_path / "sources.yml"), dic)
    assert validate(loaded, dic).ok
    typed = to_typed(loaded.raw, dic, origin=loaded.origin)
    pd.testing.assert_frame_equal(typed, _typed_cell_by_cell(loaded.raw, dic, loaded.origin), check_exact=True)
    assert (typed["marrow_blasts_pct"] == 34.5).sum() == 20


def test_to_typed_names_the_first_refused_cell(dic):
    """The error names the first refused row in row order, also when the refused
    value occurs many times (it is read once)."""
    raw = bench.registry_frame(50, seed=3).replace("", None)
    raw.loc[[10, 30, 40], "relapse_date"] = "2021-02-30"
    raw.loc[20, "relapse_date"] = "someday"
    with pytest.raises(ValueError, match=r"row 10, column relapse_date: 2021-02-30 is not a date"):
        to_typed(raw, dic)


# --------------------------------------------------------------------------- Kaplan-Meier counts


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_km_counts_equal_lifelines_event_table(seed):
    """Regression against the library the counts used to come from: at risk,
    events and censored at each distinct time (ties, zero times, all-censored
    times), exactly."""
    from lifelines import KaplanMeierFitter

    from analysis.compute.survival import _counts

    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(5, 500), 0)
    t[:7] = 0.0
    e = (rng.random(500) < 0.6).astype(int)
    table = KaplanMeierFitter().fit(t, event_observed=e).event_table
    table = table.loc[table["removed"] > 0]
    times, n_risk, n_event, n_censor = _counts(t.astype(float), e)
    assert np.array_equal(times, table.index.to_numpy(dtype=float))
    assert np.array_equal(n_risk, table["at_risk"].to_numpy())
    assert np.array_equal(n_event, table["observed"].to_numpy())
    assert np.array_equal(n_censor, table["censored"].to_numpy())


# --------------------------------------------------------------------------- the registry-scale Cox path


COX_CASES = {
    "rossi": ("rossi.csv", "week", "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"], None),
    "synth_multi": ("cox_synthetic.csv", "time", "event", ["age", "salvage", "sex"],
                    {"salvage": "inotuzumab", "sex": "female"}),
    "synth_missing": ("cox_synthetic.csv", "time", "event", ["age", "blasts", "salvage"],
                      {"salvage": "inotuzumab"}),
}


@pytest.mark.parametrize("case", list(COX_CASES), ids=list(COX_CASES))
def test_cox_fit_equals_lifelines_coxphfitter(case):
    """The Newton-Raphson fit on the vectorised Efron likelihood against the
    library fitter it replaces (lifelines CoxPHFitter, Efron ties, its own
    tightest stop): coefficients and variances rel 1e-6, log-likelihood
    rel 1e-10. lifelines stops on its Newton decrement, so it is the less
    converged of the two; both are compared with R in tests/compute/test_cox.py."""
    from lifelines import CoxPHFitter

    file, time, event, covs, reference = COX_CASES[case]
    data = pd.read_csv(REF_DIR / file)
    res = cox_mod.cox_model(data, time=time, event=event, covariates=covs, reference=reference)
    design = cox_mod._build_design(data, time=time, event=event, covariates=covs, reference=reference)
    frame = pd.DataFrame(design.x, columns=[f"x{j}" for j in range(design.x.shape[1])])
    frame["t"], frame["e"] = design.time, design.event
    cph = CoxPHFitter().fit(frame, duration_col="t", event_col="e",
                            fit_options={"precision": 1e-12, "r_precision": 1e-14, "max_steps": 200})
    assert res.table["coef"].to_numpy() == pytest.approx(cph.params_.to_numpy(), rel=1e-6)
    assert res.table["se"].to_numpy() == pytest.approx(cph.standard_errors_.to_numpy(), rel=1e-6)
    assert res.loglik[1] == pytest.approx(cph.log_likelihood_, rel=REL_LIB)


@pytest.mark.parametrize("beta", [(0.0, 0.0, 0.0), (0.3, -0.2, 0.5)], ids=["null", "beta"])
def test_efron_likelihood_equals_statsmodels_phreg(beta):
    """The vectorised Efron partial likelihood against the library it stands in
    for at registry scale (statsmodels PHReg, ties='efron'): loglike, score and
    Hessian, rel 1e-10 (many ties, censored before the first event)."""
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(11)
    n = 3000
    t = np.round(rng.exponential(10, n), 0)
    e = (rng.random(n) < 0.7).astype(int)
    x = np.column_stack([rng.random(n) < 0.4, rng.normal(size=n), rng.random(n) < 0.2]).astype(float)
    ours, lib = cox_mod._EfronLikelihood(t, e, x), PHReg(t, x, status=e, ties="efron")
    b = np.asarray(beta)
    assert ours.loglike(b) == pytest.approx(lib.loglike(b), rel=REL_LIB)
    assert ours.score(b) == pytest.approx(lib.score(b), rel=REL_LIB, abs=1e-9 * np.abs(lib.score(b)).max())
    assert ours.hessian(b).ravel() == pytest.approx(lib.hessian(b).ravel(), rel=REL_LIB)


def test_efron_likelihood_without_collapsing_rows_equals_statsmodels_phreg():
    """Rows alike are collapsed only while their codes fit in 63 bits; with six
    continuous covariates they do not, and every row is kept (sorted): the same
    likelihood as statsmodels PHReg, rel 1e-10; and with two binary covariates
    (rows collapsed with frequency weights) too."""
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(13)
    n = 2500
    t = np.round(rng.exponential(10, n), 0)
    e = (rng.random(n) < 0.7).astype(int)
    x = rng.normal(size=(n, 6))
    rows, counts = cox_mod._distinct_rows([t, e.astype(float)] + list(x.T))
    assert len(rows) == n and (counts == 1).all()  # nothing collapsed
    b = np.linspace(-0.2, 0.3, 6)
    ours, lib = cox_mod._EfronLikelihood(t, e, x), PHReg(t, x, status=e, ties="efron")
    assert ours.loglike(b) == pytest.approx(lib.loglike(b), rel=REL_LIB)
    assert ours.score(b) == pytest.approx(lib.score(b), rel=REL_LIB, abs=1e-9 * np.abs(lib.score(b)).max())
    assert ours.hessian(b).ravel() == pytest.approx(lib.hessian(b).ravel(), rel=REL_LIB)
    # categorical covariates: rows collapsed, the same likelihood as every row (PHReg)
    xc = (x[:, :2] > 0).astype(float)
    collapsed = cox_mod._EfronLikelihood(t, e, xc)
    assert len(collapsed.w) < n / 4
    lib = PHReg(t, xc, status=e, ties="efron")
    for bc in (np.zeros(2), np.array([0.4, -0.3])):
        assert collapsed.loglike(bc) == pytest.approx(lib.loglike(bc), rel=REL_LIB)
        assert collapsed.score(bc) == pytest.approx(lib.score(bc), rel=REL_LIB, abs=1e-9 * np.abs(lib.score(bc)).max())
        assert collapsed.hessian(bc).ravel() == pytest.approx(lib.hessian(bc).ravel(), rel=REL_LIB)


@pytest.mark.parametrize("beta", [(0.0, 0.0, 0.0), (0.3, -0.2, 0.5)], ids=["null", "beta"])
def test_efron_likelihood_with_entry_equals_lifelines_time_varying(beta):
    """Counting-process data ``(entry, time]``: the vectorised Efron likelihood
    against lifelines ``CoxTimeVaryingFitter._get_gradients`` (the routine it
    stands in for at registry scale): loglike, score and Hessian, rel 1e-10.
    Many ties, entries on event times (not at risk then), split patients."""
    from lifelines import CoxTimeVaryingFitter

    rng = np.random.default_rng(12)
    n = 2000
    stop = np.round(rng.exponential(10, n), 0) + 1
    entry = np.where(rng.random(n) < 0.4, np.floor(stop * rng.random(n)), 0.0)
    e = (rng.random(n) < 0.7).astype(int)
    x = np.column_stack([entry > 0, rng.normal(size=n), rng.random(n) < 0.2]).astype(float)
    b = np.asarray(beta)
    ours = cox_mod._EfronLikelihood(stop, e, x, entry=entry)
    hess, grad, ll = CoxTimeVaryingFitter._get_gradients(x, e.astype(bool), entry, stop, np.ones(n), b)
    assert (entry[e == 1][:, None] == np.unique(stop[e == 1])[None, :]).any()  # entries on event times occur
    assert ours.loglike(b) == pytest.approx(ll, rel=REL_LIB)
    assert ours.score(b) == pytest.approx(grad, rel=REL_LIB, abs=1e-9 * np.abs(grad).max())
    assert ours.hessian(b).ravel() == pytest.approx(np.asarray(hess).ravel(), rel=REL_LIB)


def test_collinear_covariates_refused():
    """Impossible input: a singular information matrix is a ValueError naming collinearity."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"t": rng.exponential(5, 300).round(1), "e": (rng.random(300) < 0.7).astype(int),
                       "a": rng.normal(size=300)})
    df["b"] = 2 * df["a"]
    with pytest.raises(ValueError, match="covariates are collinear"):
        cox_mod.cox_model(df, time="t", event="e", covariates=["a", "b"])


def test_concordance_equals_lifelines_exactly():
    """Harrell's C counted with numpy equals lifelines' concordance_index to the
    bit (tied times, tied scores, censored at death times, continuous scores)."""
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(4)
    for trial in range(60):
        n = int(rng.integers(2, 300))
        t = np.round(rng.exponential(5, n), int(rng.integers(0, 2)))
        e = (rng.random(n) < rng.random()).astype(int)
        s = rng.integers(0, int(rng.integers(1, 6)), n) * 0.5 + (rng.normal(size=n) if trial % 3 == 0 else 0)
        try:
            expected = concordance_index(t, s, e)
        except ZeroDivisionError:
            with pytest.raises(ZeroDivisionError):
                cox_mod._concordance(t, s, e)
            continue
        assert cox_mod._concordance(t, s, e) == expected
