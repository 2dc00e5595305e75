"""The shipped synthetic cohort reproduces the published aggregates.

References: data/published_targets.yml (the published article's numbers, with
the article's tolerances for estimates). Counts must be exact.
"""

from __future__ import annotations

from analysis.simulate import SYNTHETIC_DIR, synthetic_files

COUNT_SECTIONS = ("cohort", "response", "transplant")


def _published_items(published, sections):
    for section in sections:
        for key, value in published[section].items():
            yield section, key, value


def test_regeneration_is_byte_identical():
    """`python -m analysis simulate` rewrites exactly the shipped files."""
    for name, content in synthetic_files().items():
        assert (SYNTHETIC_DIR / name).read_bytes() == content, name


def test_every_record_is_marked_synthetic(results):
    assert results.synthetic
    assert (results.derived.adsl["SYNTHFL"] == "Y").all()


def test_published_counts_exact(registry, published):
    """Every count (and every rounded percentage) of the cohort, response and
    transplant sections equals the published value."""
    raw = registry.raw()
    tol = published["tolerance"]
    mismatches = []
    for section, key, target in _published_items(published, COUNT_SECTIONS):
        got = raw[section][key]
        if key.startswith("p_"):
            ok = abs(got - target) / target <= tol["p_value_relative"] and (got < 0.05) == (target < 0.05)
        elif key.startswith("pct_"):
            ok = abs(got - target) <= tol["proportion_pct"]
        elif key.startswith("n_"):
            ok = isinstance(got, int) and got == target   # counts are integers
        else:
            ok = got == target
        if not ok:
            mismatches.append(f"{section}.{key}: got {got!r}, published {target!r}")
    assert not mismatches, "\n".join(mismatches)


def test_published_survival_estimates_within_tolerance(registry, published):
    """Every survival estimate lies within the published tolerance, with the
    published conventions (SPSS-style median CI, log-rank, multivariable Cox)."""
    from analysis.calibrate import deviations

    raw = registry.raw()["survival"]
    dev = deviations({k: raw[k] for k in published["survival"]}, published)
    outside = {k: round(d, 2) for k, d in dev.items() if abs(d) > 1}
    assert not outside, f"outside tolerance (in tolerance units): {outside}"


def test_non_significant_factors_as_published(results):
    """Published: no factor other than salvage group and CNS vs non-CNS EMD was
    associated with CR (P >= 0.05)."""
    f = results.response.factors
    others = f[~f["factor"].isin(["salvage_group", "cns_vs_non_cns_emd"])]
    assert (others["p"] >= 0.05).all(), others[["factor", "p"]]
    assert len(others) == 7
