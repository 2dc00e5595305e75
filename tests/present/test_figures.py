"""Tests for analysis/present/figures.py.

The figures compute nothing, so the references are the Results object's own
numbers (from the computation layer, itself checked against R elsewhere): the
tests read the drawn artists' data (curve vertices, marker positions, text
contents and positions) and compare them with the KM tables, risk tables,
log-rank, Cox and cox.zph results, exactly (counts, texts) or to 1e-12
(coordinates). No pixel comparisons. Values the tests cannot take from
Results (the least-squares line of the residual panels) are labelled
"regression value": produced by our own code (numpy.polyfit).

The cohort is the shipped synthetic one and is being recalibrated, so no test
hard-codes a number from it.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

from matplotlib.text import Text
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from analysis.present import figures as F
from analysis.present import style
from analysis.results import run_analysis

TOL = 1e-12


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def results():
    return run_analysis()


@pytest.fixture(scope="module")
def figs(results):
    return {
        "flow": F.flow_figure(results),
        "km_overall": F.km_overall_figure(results),
        "salvage_group": F.km_group_figure(results, "salvage_group"),
        "relapse_site": F.km_group_figure(results, "relapse_site"),
        "forest": F.forest_figure(results),
        "zph": F.zph_figure(results),
    }


def _axes(fig: Figure, gid: str):
    found = [ax for ax in fig.axes if ax.get_gid() == gid]
    assert len(found) == 1, f"expected one axes with gid {gid!r}"
    return found[0]


def _by_gid(container, gid: str):
    found = [a for a in container if a.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def _all_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def _method(results) -> str:
    return results.settings.survival.median_ci


def _bound(x, reached):
    if not reached:
        return style.NOT_REACHED
    return style.fmt_months(x)


# --------------------------------------------------------------------------- general


def test_every_figure_is_a_figure_outside_pyplot(figs):
    import matplotlib.pyplot as plt

    for name, fig in figs.items():
        assert isinstance(fig, Figure), name
    assert plt.get_fignums() == []  # nothing left open in pyplot's state


@pytest.mark.parametrize("name", ["flow", "km_overall", "salvage_group", "relapse_site", "forest", "zph"])
def test_synthetic_footer_present(figs, name):
    footer = _by_gid(figs[name].texts, "synthetic-footer")
    assert footer.get_text() == "SYNTHETIC DATA \u2014 not patient data"


def test_no_footer_for_real_data(results):
    derived = dataclasses.replace(results.derived, synthetic=False)
    real = dataclasses.replace(results, cohort=dataclasses.replace(results.cohort, derived=derived))
    assert not real.synthetic
    fig = F.km_overall_figure(real)
    assert not [t for t in fig.texts if t.get_gid() == "synthetic-footer"]
    assert not any("SYNTHETIC" in t for t in _all_texts(fig))


# Blood's figure widths (default journal), from its style guide "Figures": 8.0 cm (1 column),
# 17 cm (2 columns); the other journals' widths are checked in test_journal_styles.py
_ONE, _TWO = 80 / 25.4, 170 / 25.4


@pytest.mark.parametrize("name,width", [("flow", _TWO), ("km_overall", _TWO), ("salvage_group", _ONE),
                                        ("relapse_site", _ONE), ("forest", _TWO), ("zph", _TWO)])
def test_journal_widths(figs, name, width):
    assert figs[name].get_size_inches()[0] == pytest.approx(width)


@pytest.mark.parametrize("name", ["km_overall", "forest", "zph"])
def test_journal_font_and_spines(figs, name):
    fig = figs[name]
    for t in fig.findobj(Text):
        if t.get_text():
            assert t.get_fontname() == "DejaVu Sans"
            assert 7 <= t.get_fontsize() <= 9
    for ax in fig.axes:
        assert not ax.spines["top"].get_visible()
        assert not ax.spines["right"].get_visible()


def test_displays_in_a_plain_kernel(figs):
    """IPython's formatter (no matplotlib formatter registered) gets a PNG."""
    from IPython.core.formatters import PNGFormatter

    png = PNGFormatter()(figs["forest"])
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("formats, shown", [
    ([], {"image/png"}),                          # a plain kernel: the figure's own PNG
    (["png"], {"image/png"}),                     # Quarto's HTML and Word setup
    (["svg"], {"image/svg+xml"}),                 # Quarto's Typst setup: the SVG only
    (["svg", "png"], {"image/svg+xml", "image/png"}),
    # Quarto shows a PNG before a JPEG: with fig-format jpeg, the JPEG only (as a plain
    # matplotlib Figure); a PDF only in LaTeX: the PNG stays
    (["jpeg"], {"image/jpeg"}),
    (["png", "jpeg"], {"image/png", "image/jpeg"}),
    (["pdf"], {"application/pdf", "image/png"}),
], ids=["plain", "png", "svg", "svg+png", "jpeg", "png+jpeg", "pdf"])
def test_a_figure_shows_a_png_only_where_it_is_not_shown_as_svg_or_jpeg(figs, formats, shown):
    """Reference: IPython's own formatters (``select_figure_formats``, as Quarto's setup
    step calls them). Quarto shows an SVG before a PNG in every format, so where the SVG
    formatter shows a Figure, its PNG would be drawn and never shown."""
    from types import SimpleNamespace

    from IPython.core.formatters import DisplayFormatter
    from IPython.core.pylabtools import select_figure_formats

    from analysis.present.displays import format_display

    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    if formats:
        select_figure_formats(shell, formats)
    data, _ = format_display(shell.display_formatter, figs["forest"])
    assert set(data) - {"text/plain"} == shown
    # that formatter's image format switched off: the PNG again
    if formats == ["svg"]:
        shell.display_formatter.active_types = ["text/plain", "image/png"]
        data, _ = format_display(shell.display_formatter, figs["forest"])
        assert set(data) - {"text/plain"} == {"image/png"}


# --------------------------------------------------------------------------- KM overall


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_curve_steps_equal_km_table(results, figs, attr):
    ax = _axes(figs["km_overall"], f"{attr}-curves")
    km = getattr(results, attr).km
    curve = _by_gid(ax.lines, "curve-0")
    assert curve.get_drawstyle() == "steps-post"
    x, y = curve.get_xdata(), curve.get_ydata()
    assert (x[0], y[0]) == (0.0, 1.0)
    np.testing.assert_allclose(x[1:], km["time"], rtol=0, atol=TOL)
    np.testing.assert_allclose(y[1:], km["surv"], rtol=0, atol=TOL)


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_censor_marks_at_censored_times(results, figs, attr):
    ax = _axes(figs["km_overall"], f"{attr}-curves")
    km = getattr(results, attr).km
    cens = km[km["n_censor"] > 0]
    marks = _by_gid(ax.lines, "censor-0")
    assert marks.get_marker() == "+"
    assert marks.get_linestyle() == "None"
    np.testing.assert_allclose(marks.get_xdata(), cens["time"], rtol=0, atol=TOL)
    np.testing.assert_allclose(marks.get_ydata(), cens["surv"], rtol=0, atol=TOL)


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_ticks_are_configured_risk_times(results, figs, attr):
    """Only configured times (acceptance review 2026-12-06 item 17: the risk table
    ran on to 42 and 48 months past the configured 36), up to the first one past
    the data; the axis itself covers the last observation (REVIEW 2026-12-06
    item 9: the curves ran past the axis end at 36 months)."""
    ax = _axes(figs["km_overall"], f"{attr}-curves")
    configured = sorted(float(t) for t in results.settings.survival.risk_table_months)
    ticks = list(ax.get_xticks())
    last = float(getattr(results, attr).km["time"].max())
    assert ticks == [t for i, t in enumerate(configured) if i == 0 or configured[i - 1] < last]
    assert ax.get_xlim()[1] >= last
    assert ax.get_ylim() == (0.0, 1.0)


def _covers(ax, last: float) -> None:
    """The drawn x axis (limits and spine) reaches ``last``, and no curve vertex lies beyond it."""
    lo, hi = ax.get_xlim()
    spine_lo, spine_hi = ax.spines["bottom"].get_bounds()
    assert hi >= last and spine_hi >= last, (hi, spine_hi, last)
    for line in ax.lines:
        x = np.asarray(line.get_xdata(), dtype=float)
        if x.size:
            assert x.max() <= spine_hi and x.min() >= spine_lo, line.get_gid()


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_axis_and_events_row_cover_the_data(results, figs, attr):
    """REVIEW item 9: Figure 2B said '15 events' while its Events row ended at
    14, the 15th drawn beyond the axis end. The axis covers every curve vertex
    (all the panel's events are drawn); the last Events cell is the count to
    the last configured risk-table time (acceptance review item 17)."""
    ep = getattr(results, attr)
    fig = figs["km_overall"]
    ax, rax = _axes(fig, f"{attr}-curves"), _axes(fig, f"{attr}-risk")
    _covers(ax, float(ep.km["time"].max()))
    drawn_events = int(ep.km.loc[ep.km["time"] <= ax.spines["bottom"].get_bounds()[1], "n_event"].sum())
    rows = {lab.get_text(): int(round(t)) for t, lab in zip(rax.get_yticks(), rax.get_yticklabels())}
    last_tick = max(ax.get_xticks())
    events_cells = [t for t in rax.texts if int(t.get_position()[1]) == rows["Events"]
                    and t.get_position()[0] == last_tick]
    # the Events row counts to its last (configured) time (acceptance review item 17), every event drawn
    assert [t.get_text() for t in events_cells] == [str(int(ep.km.loc[ep.km["time"] <= last_tick, "n_event"].sum()))]
    assert drawn_events == ep.events


@pytest.mark.parametrize("which,attr", [("salvage_group", "os_by_group"), ("relapse_site", "os_by_emd")],
                         ids=["salvage_group", "relapse_site"])
def test_km_group_axis_covers_the_data(results, figs, which, attr):
    comp = getattr(results, attr)
    _covers(_axes(figs[which], f"{which}-curves"), float(comp.km["time"].max()))


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_risk_table_equals_risk_at_each_tick(results, figs, attr):
    fig = figs["km_overall"]
    ax, rax = _axes(fig, f"{attr}-curves"), _axes(fig, f"{attr}-risk")
    risk = getattr(results, attr).risk
    ticks = list(ax.get_xticks())
    assert rax.get_xlim() == ax.get_xlim()  # same time scale: numbers sit under the ticks
    rows = {int(round(t)): lab.get_text() for t, lab in zip(rax.get_yticks(), rax.get_yticklabels())}
    assert sorted(rows.values()) == sorted(["At risk", "Censored", "Events"])
    column = {"At risk": "n_at_risk", "Censored": "n_censored", "Events": "n_events"}
    seen = set()
    for t in rax.texts:
        x, y = t.get_position()
        assert x in ticks
        label = rows[int(y)]
        expected = int(risk.loc[risk["time"] == x, column[label]].iloc[0])
        assert t.get_text() == str(expected), (label, x)
        seen.add((label, x))
    assert len(seen) == 3 * len(ticks)


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_km_overall_median_uses_configured_method(results, figs, attr):
    ax = _axes(figs["km_overall"], f"{attr}-curves")
    m = getattr(results, attr).medians[_method(results)]
    text = _by_gid(ax.texts, "median-0").get_text()
    med = style.median_ci_of(m)  # the rules themselves are tested in test_style.py
    unit = " mo" if med.reached and med.estimate != style.NOT_ESTIMABLE else ""
    assert text.startswith(f"Median {med.estimate}{unit} (95% CI, {med.ci_text(style.TRUNCATED_MARK)})")
    assert f"n = {getattr(results, attr).n}" in text


def test_km_overall_axis_labels(figs):
    fig = figs["km_overall"]
    os_ax, rfs_ax = _axes(fig, "os-curves"), _axes(fig, "rfs-curves")
    assert os_ax.get_ylabel() == "Probability of overall survival"
    assert rfs_ax.get_ylabel() == "Probability of relapse-free survival"
    assert os_ax.get_xlabel() == "Months from relapse"
    assert rfs_ax.get_xlabel() == "Months from CR/CRi"


# --------------------------------------------------------------------------- KM by group


@pytest.mark.parametrize("which,attr", [("salvage_group", "os_by_group"), ("relapse_site", "os_by_emd")],
                         ids=["salvage_group", "relapse_site"])
def test_km_group_curves_and_censor_marks_per_level(results, figs, which, attr):
    comp = getattr(results, attr)
    ax = _axes(figs[which], f"{which}-curves")
    for i, level in enumerate(comp.levels):
        km = comp.km[comp.km["group"] == level]
        curve = _by_gid(ax.lines, f"curve-{i}")
        np.testing.assert_allclose(curve.get_xdata()[1:], km["time"], rtol=0, atol=TOL)
        np.testing.assert_allclose(curve.get_ydata()[1:], km["surv"], rtol=0, atol=TOL)
        marks = _by_gid(ax.lines, f"censor-{i}")
        cens = km[km["n_censor"] > 0]
        np.testing.assert_allclose(marks.get_xdata(), cens["time"], rtol=0, atol=TOL)
        np.testing.assert_allclose(marks.get_ydata(), cens["surv"], rtol=0, atol=TOL)


@pytest.mark.parametrize("which,attr", [("salvage_group", "os_by_group"), ("relapse_site", "os_by_emd")],
                         ids=["salvage_group", "relapse_site"])
def test_km_group_logrank_p_text(results, figs, which, attr):
    comp = getattr(results, attr)
    ax = _axes(figs[which], f"{which}-curves")
    assert _by_gid(ax.texts, "logrank-p").get_text() == f"Log-rank {style.fmt_p_text(comp.logrank.p)}"


@pytest.mark.parametrize("which,attr", [("salvage_group", "os_by_group"), ("relapse_site", "os_by_emd")],
                         ids=["salvage_group", "relapse_site"])
def test_km_group_legend_n_and_median(results, figs, which, attr):
    comp = getattr(results, attr)
    legend = figs[which].legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == len(comp.levels)
    for text, level in zip(texts, comp.levels):
        m = comp.medians[_method(results)][level]
        assert text.startswith(f"{level} (n = {m.n})\nMedian {_bound(m.estimate, m.reached)}")


@pytest.mark.parametrize("which,attr", [("salvage_group", "os_by_group"), ("relapse_site", "os_by_emd")],
                         ids=["salvage_group", "relapse_site"])
def test_km_group_risk_table_equals_risk_at_each_tick(results, figs, which, attr):
    comp = getattr(results, attr)
    fig = figs[which]
    ax, rax = _axes(fig, f"{which}-curves"), _axes(fig, f"{which}-risk")
    ticks = list(ax.get_xticks())
    assert rax.get_xlim() == ax.get_xlim()
    rows = {int(round(t)): lab.get_text() for t, lab in zip(rax.get_yticks(), rax.get_yticklabels())}
    assert sorted(rows.values()) == sorted(comp.levels)
    for t in rax.texts:
        x, y = t.get_position()
        assert x in ticks
        level = rows[int(y)]
        r = comp.risk[(comp.risk["group"] == level) & (comp.risk["time"] == x)]
        assert t.get_text() == str(int(r["n_at_risk"].iloc[0]))
    assert len(rax.texts) == len(comp.levels) * len(ticks)


def test_km_group_unknown_grouping(results):
    with pytest.raises(ValueError, match="which must be one of"):
        F.km_group_figure(results, "sex")


# --------------------------------------------------------------------------- forest


def test_forest_rows_match_cox_table(results, figs):
    fig = figs["forest"]
    ax = _axes(fig, "forest")
    tab = results.cox.multivariable.table
    assert ax.get_xscale() == "log"
    ref = [ln for ln in ax.lines if list(ln.get_xdata()) == [1, 1]]
    assert ref, "no reference line at HR = 1"
    for i, r in tab.iterrows():
        comparison = _by_gid(ax.texts, f"forest-comparison-{i}").get_text()
        assert comparison == f"{style.fmt_relation({'Y': 'Yes', 'N': 'No'}.get(r['level'], r['level']))} vs " \
                             f"{style.fmt_relation({'Y': 'Yes', 'N': 'No'}.get(r['reference'], r['reference']))}"
        hr_text = _by_gid(ax.texts, f"forest-hr-{i}").get_text()
        assert hr_text == f"{style.fmt_ratio(r['hr'])} ({style.fmt_ci(r['lower'], r['upper'], digits=2)})"
        assert _by_gid(ax.texts, f"forest-p-{i}").get_text() == style.fmt_p(r["p"])
        point = _by_gid(ax.lines, f"forest-point-{i}")
        assert point.get_xdata()[0] == pytest.approx(r["hr"], rel=0, abs=TOL)
        assert point.get_ydata()[0] == i
        ci = _by_gid(ax.lines, f"forest-ci-{i}")
        np.testing.assert_allclose(ci.get_xdata(), [r["lower"], r["upper"]], rtol=0, atol=TOL)
    salv = tab.index[tab["variable"] == "SALVGRP"][0]
    assert _by_gid(ax.texts, f"forest-comparison-{salv}").get_text() == "Chemotherapy vs Targeted"


def test_forest_monotone_row_prints_NE_and_no_point(results):
    cox = results.cox.multivariable
    table = cox.table.copy()
    table.loc[0, "monotone"] = True
    table.loc[0, "hr"] = math.inf
    patched = dataclasses.replace(results, cox=dataclasses.replace(
        results.cox, multivariable=dataclasses.replace(cox, table=table)))
    ax = _axes(F.forest_figure(patched), "forest")
    assert _by_gid(ax.texts, "forest-hr-0").get_text() == "NE"
    assert _by_gid(ax.texts, "forest-p-0").get_text() == "NE"
    gids = {ln.get_gid() for ln in ax.lines}
    assert "forest-point-0" not in gids and "forest-ci-0" not in gids
    assert "forest-point-1" in gids


# --------------------------------------------------------------------------- zph


def test_zph_one_panel_per_term_with_residuals_and_p(results, figs):
    zph = results.cox.zph
    fig = figs["zph"]
    terms = [t for t in zph.table["term"] if t != "GLOBAL"]
    assert len([ax for ax in fig.axes if (ax.get_gid() or "").startswith("zph-")]) == len(terms)
    for term in terms:
        ax = _axes(fig, f"zph-{term}")
        part = zph.residuals[zph.residuals["term"] == term]
        pts = _by_gid(ax.collections, f"zph-points-{term}").get_offsets()
        np.testing.assert_allclose(pts[:, 0], part["transformed_time"], rtol=0, atol=TOL)
        np.testing.assert_allclose(pts[:, 1], part["residual"], rtol=0, atol=TOL)
        p = float(zph.table.loc[zph.table["term"] == term, "p"].iloc[0])
        assert ax.get_title(loc="left").endswith("\n" + style.fmt_p_text(p))
        # regression value: the least-squares line is numpy.polyfit's
        slope, intercept = np.polyfit(part["transformed_time"], part["residual"], 1)
        line = _by_gid(ax.lines, f"zph-line-{term}")
        xs = line.get_xdata()
        np.testing.assert_allclose(line.get_ydata(), intercept + slope * xs, rtol=1e-12, atol=1e-12)
        coef = results.cox.multivariable.table.loc[
            results.cox.multivariable.table["variable"] == term, "coef"]
        assert _by_gid(ax.lines, f"zph-coef-{term}").get_ydata()[0] == pytest.approx(float(coef.iloc[0]))
    glob = float(zph.table.loc[zph.table["term"] == "GLOBAL", "p"].iloc[0])
    assert _by_gid(fig.texts, "zph-global").get_text().endswith(f"Global test {style.fmt_p_text(glob)}")


def test_zph_draws_a_dense_panel_as_an_image(results, figs):
    """A registry's thousands of residuals a panel are one image each in the vector files
    (at 600 dpi in the submission PDF and SVG), not a circle each; the synthetic cohort's
    few stay vector circles."""
    import io

    import pandas as pd

    from analysis.present.figures.files import _SVG_METADATA, _write_vector
    from analysis.present.figures.zph import DENSE_POINTS

    zph = results.cox.zph
    terms = [t for t in zph.table["term"] if t != "GLOBAL"]
    assert not any(_by_gid(_axes(figs["zph"], f"zph-{t}").collections, f"zph-points-{t}").get_rasterized()
                   for t in terms)
    copies = DENSE_POINTS // (len(zph.residuals) // len(terms)) + 1
    dense = dataclasses.replace(zph, residuals=pd.concat([zph.residuals] * copies, ignore_index=True))
    fig = F.zph_figure(dataclasses.replace(results, cox=dataclasses.replace(results.cox, zph=dense)))
    for t in terms:
        points = _by_gid(_axes(fig, f"zph-{t}").collections, f"zph-points-{t}")
        assert len(points.get_offsets()) > DENSE_POINTS and points.get_rasterized()
    path = Path(tempfile.mkdtemp()) / "zph.svg"
    _write_vector(fig, "svg", _SVG_METADATA, path)
    svg = path.read_text(encoding="utf-8")
    assert svg.count("<image") == len(terms)
    small = io.StringIO()
    figs["zph"].savefig(small, format="svg")
    assert "<image" not in small.getvalue()


def test_zph_empty_state(results):
    patched = dataclasses.replace(results, cox=dataclasses.replace(results.cox, zph=None))
    fig = F.zph_figure(patched)
    assert isinstance(fig, Figure)
    assert not fig.axes
    assert "not available" in _by_gid(fig.texts, "zph-empty").get_text()


# --------------------------------------------------------------------------- flow


def _box_text(fig: Figure, step: str) -> str:
    ax = _axes(fig, "flow")
    parts = [t.get_text() for t in ax.texts
             if t.get_gid() == f"text-{step}" or (t.get_gid() or "").startswith(f"text-{step}-")]
    return "\n".join(parts)


def test_flow_boxes_contain_flow_counts(results, figs):
    fig = figs["flow"]
    ax = _axes(fig, "flow")
    flow = results.derived.flow
    boxes = {p.get_gid() for p in ax.patches}
    for _, s in flow.steps.iterrows():
        assert f"box-{s['step']}" in boxes, s["step"]
        text = _box_text(fig, s["step"])
        assert f"n = {int(s['n'])}" in text, (s["step"], text)
    excl = _box_text(fig, "no_salvage")
    for _, r in flow.exclusions.iterrows():
        assert f"{r['reason']} (n = {int(r['n'])})" in excl
    assert f"n = {flow.n('relapsed')}" in _box_text(fig, "relapsed")
    for _, s in flow.steps[flow.steps["step"].str.startswith("class_")].iterrows():
        assert _box_text(fig, s["step"]).startswith(s["label"])


def test_flow_shows_no_identifier_or_date(results, figs):
    adsl = results.derived.adsl
    texts = " ".join(t for f in figs.values() for t in _all_texts(f))
    for uid in adsl["USUBJID"]:
        assert uid not in texts
    for col in ("RELDT", "CARTDT", "DTHDT", "LSTALVDT"):
        for d in adsl[col].dropna().head(10):
            assert d.strftime("%Y-%m-%d") not in texts


# --------------------------------------------------------------------------- saving


def test_save_figure_writes_reproducible_files_without_metadata(figs, tmp_path):
    fig = figs["forest"]
    a = F.save_figure(fig, "forest", tmp_path / "a")
    b = F.save_figure(fig, "forest", tmp_path / "b")
    assert [p.name for p in a] == ["forest.pdf", "forest.svg", "forest.tiff"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in a)
    assert a[1].read_bytes() == b[1].read_bytes()  # SVG byte-reproducible
    assert a[0].read_bytes() == b[0].read_bytes()  # so is the PDF (no dates)
    pdf = a[0].read_bytes()
    assert pdf.startswith(b"%PDF")
    for key in (b"/Creator", b"/Producer", b"/CreationDate", b"/ModDate", b"Matplotlib"):
        assert key not in pdf
    svg = a[1].read_text(encoding="utf-8")
    for key in ("<dc:date>", "<dc:creator>", "Matplotlib v"):
        assert key not in svg
    assert "SYNTHETIC DATA" in svg  # text kept as text
    with Image.open(a[2]) as im:
        assert im.format == "TIFF"
        assert im.mode == "RGB"
        assert im.info["dpi"] == pytest.approx((600, 600))
        w, h = fig.get_size_inches()
        assert abs(im.size[0] - w * 600) < 1 and abs(im.size[1] - h * 600) < 1   # whole pixels of a mm width
        assert 305 not in im.tag_v2 and 306 not in im.tag_v2  # no Software, no DateTime


def test_pdf_fonts_are_embedded_without_layout_tables(figs, tmp_path):
    """The PDF embeds each font as a TrueType subset with its outlines, metrics and character
    map, but without the OpenType layout tables no PDF reader uses (files.LAYOUT_TABLES):
    fontTools' subsetting is wrapped only while the PDF is written."""
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    load_font = subset.load_font
    pdf = F.save_figure(figs["km_overall"], "km", tmp_path)[0]
    assert subset.load_font is load_font
    fonts = []
    for page in PdfReader(str(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                fonts.append(TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data())))
    assert fonts
    for font in fonts:
        assert {"glyf", "loca", "cmap", "hmtx", "head"} <= set(font.keys())
        assert not set(F.files.LAYOUT_TABLES) & set(font.keys())
    assert "Months" in PdfReader(str(pdf)).pages[0].extract_text()


@pytest.mark.parametrize("name", ["flow", "km_overall", "salvage_group", "relapse_site", "forest", "zph"])
def test_tiff_pixels_are_those_of_the_600_dpi_png(figs, name):
    """The TIFF's pixels come from Agg's raw buffer, not from a PNG encoded and
    decoded again: the same pixels (also for a height of 2846.9999... pixels)."""
    import io

    import matplotlib as mpl
    from analysis.present.figures.theme import figure_rc

    fig = figs[name]
    with mpl.rc_context(figure_rc()):
        raw = F.files._rgb_pixels(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=F.files.TIFF_DPI, metadata={"Software": None})
    buf.seek(0)
    with Image.open(buf) as png:
        rgb = png.convert("RGB")
    assert raw.size == rgb.size and raw.mode == rgb.mode == "RGB"
    assert raw.tobytes() == rgb.tobytes()


def test_failed_save_leaves_no_partial_files(figs, tmp_path, monkeypatch):
    old = tmp_path / "forest.pdf"
    old.write_bytes(b"old")

    def broken(fig, path):
        raise OSError("disk full")

    monkeypatch.setattr(F.files, "_write_tiff", broken)
    with pytest.raises(OSError, match="disk full"):
        F.save_figure(figs["forest"], "forest", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forest.pdf"]
    assert old.read_bytes() == b"old"


@pytest.mark.parametrize("stem", ["../x", "a/b", "", ".hidden"])
def test_save_figure_rejects_bad_stem(figs, tmp_path, stem):
    with pytest.raises(ValueError, match="invalid file stem"):
        F.save_figure(figs["forest"], stem, tmp_path)


def test_export_all_writes_every_figure(results, tmp_path, monkeypatch):
    monkeypatch.setattr(F.files, "TIFF_DPI", 40)  # keep the test fast; 600 dpi is checked above
    paths = F.export_all(results, tmp_path)
    expected = [f"{stem}.{ext}" for stem in F.FIGURE_STEMS for ext in ("pdf", "svg", "tiff")]
    assert [p.name for p in paths] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)
    assert F.FIGURE_STEMS == ("fig1_flow", "fig2_km_overall", "fig3_km_salvage_group", "fig4_km_relapse_site",
                              "fig5_forest", "figS1_simon_makuch", "figS2_cif", "figS3_zph")


# --------------------------------------------------------------------------- notes


def _note(fig) -> str:
    found = [t.get_text().replace("\n", " ") for t in fig.texts if t.get_gid() == "figure-note"]
    return found[0] if found else ""


@pytest.mark.parametrize("attr", ["os", "rfs"], ids=["OS", "RFS"])
def test_steps_on_few_patients_are_named_in_the_note(results, figs, attr):
    """REVIEW 2026-12-06 item 9: a drop to 0 on one patient at risk was drawn without comment.
    Reference: the KM table's event times with fewer than F.SPARSE_AT_RISK at risk."""
    km = getattr(results, attr).km
    few = km[(km["n_event"] > 0) & (km["n_risk"] < F.SPARSE_AT_RISK)]
    note = _note(figs["km_overall"])
    for t, n in zip(few["time"], few["n_risk"]):
        assert f"at {style.fmt_num(float(t))} months ({int(n)} at risk)" in note


@pytest.mark.parametrize("name", ["km_overall", "salvage_group", "relapse_site", "forest", "flow"])
def test_every_abbreviation_printed_is_defined_in_the_figure(figs, name):
    """REVIEW item 14 (abbreviations): each figure stands alone."""
    fig = figs[name]
    note = _note(fig)
    body = "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_gid() != "figure-note")
    for abbr, pattern, meaning in F.ABBREVIATIONS:
        import re
        if re.search(pattern, body):
            assert f"{abbr}, {meaning}" in note, (name, abbr)


def _wrap_word_by_word(text: str, inches: float, size: float | None = None) -> str:
    """The specification of canvas._wrap: each line takes words one at a time while the line
    still fits (its first word always), as the figures' notes were wrapped before bisection."""
    from analysis.present.figures.canvas import text_width

    out = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, size) > inches:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return "\n".join(out)


def test_wrapping_by_bisection_breaks_where_filling_word_by_word_breaks():
    """canvas._wrap finds each line's end by bisection: the same lines as filling word by
    word, for notes of every length, odd spacing, words wider than the line, several
    paragraphs, font sizes and widths (and in each journal's font)."""
    import random

    from analysis.present.figures.canvas import _wrap

    rng = random.Random(20261207)
    vocabulary = ("CI", "confidence", "interval;", "HR,", "hazard", "ratio;", "CR/CRi,", "complete", "remission",
                  "with", "incomplete", "count", "recovery;", "RFS,", "relapse-free", "survival;", "NR,", "not",
                  "reached.", "Allogeneic", "haematopoietic", "stem-cell", "transplantation", "(HSCT)", "0·95",
                  "W" * 40, "ĳ", "–", "")
    texts = ["", " ", "one", "  two  spaces  ", "a\n\nb", "W" * 60 + " tail", "lead " + "W" * 60]
    for _ in range(24):
        paragraphs = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40)))
                      for _ in range(rng.randint(1, 2))]
        texts.append("\n".join(paragraphs))
    try:
        for journal in style.JOURNALS:
            style.use_journal(journal)
            for text in texts[: 8 if journal != style.DEFAULT_JOURNAL else None]:
                inches, size = rng.choice((0.6, 1.5, 3.3, 6.9)), rng.choice((None, 6.0, 8.0))
                assert _wrap(text, inches, size) == _wrap_word_by_word(text, inches, size), (journal, text)
    finally:
        style.use_journal(style.DEFAULT_JOURNAL)


def _risk_texts(fig: Figure, gid: str):
    """The numbers-at-risk axes' row labels and numbers, with their extents, by row."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = _axes(fig, gid)
    rows: dict[float, list] = {}
    for t in ax.texts:
        rows.setdefault(float(t.get_position()[1]), []).append(t)
    labels = [lab.get_window_extent(renderer) for lab in ax.get_yticklabels()]
    return ax, {y: sorted(((t.get_window_extent(renderer), t) for t in ts), key=lambda e: e[0].x0)
                for y, ts in rows.items()}, labels, renderer


@pytest.mark.parametrize("factor", [1, 1_000, 100_000])
def test_numbers_at_risk_do_not_run_into_each_other(results, factor):
    """A registry's counts (here the cohort's times ``factor``: up to five and seven digits) under
    6-month ticks: the numbers at risk shrink, not below RISK_MIN_FONT_SIZE, and where that is not
    enough are given at every k-th time from the first; no two numbers of a row overlap and the
    row labels stay clear of the first ones. The synthetic cohort's own counts stay at the
    journal's size at every time (its figures unchanged)."""
    from analysis.present.figures.km_axes import RISK_MIN_FONT_SIZE

    comp = results.os_by_group
    risk = comp.risk.assign(n_at_risk=comp.risk["n_at_risk"] * factor)
    fig = F.km_group_figure(dataclasses.replace(results, os_by_group=dataclasses.replace(comp, risk=risk)),
                            "salvage_group")
    ax, rows, labels, renderer = _risk_texts(fig, "salvage_group-risk")
    sizes = {t.get_fontsize() for row in rows.values() for _, t in row}
    assert len(sizes) == 1 and min(sizes) >= RISK_MIN_FONT_SIZE
    for (y, row), label in zip(sorted(rows.items()), labels):
        for (a, _), (b, _) in zip(row, row[1:]):
            assert a.x1 < b.x0, (factor, y)
        assert label.x1 < row[0][0].x0, (factor, y)
    if factor == 1:
        assert sizes == {style.journal().figure.font_size}
        curves = _axes(fig, "salvage_group-curves")
        assert all(len(row) == len(curves.get_xticks()) for row in rows.values())
    else:
        assert factor < 100_000 or all(len(row) < len(_axes(fig, "salvage_group-curves").get_xticks())
                                       for row in rows.values())
