"""One colour and one order per group in every figure, one order in every table
(render review of 2026-12-06, item 10: Targeted was blue in Figure 3 and
orange in Figure S3; Figures 4 and S2 reused the same two colours for
unrelated groups; Table S13 listed Chemotherapy before Targeted).

Read from the drawn artists: each curve's legend label and colour, and the
rows of each risk table with their colours."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from matplotlib.colors import to_hex

from analysis.derive import SALVGRP_LEVELS
from analysis.present import figures as F
from analysis.present import sensitivity as S
from analysis.results import run_analysis


@pytest.fixture(scope="module")
def results():
    return run_analysis()


def _group(label: str) -> str:
    """'Targeted (n = 46)\\nMedian ...' -> 'Targeted'."""
    return re.sub(r"\s*\(n = \d+\)$", "", label.split("\n")[0]).strip()


@pytest.fixture(scope="module")
def colours(results) -> dict[str, dict[str, set[str]]]:
    """group label -> figure stem -> colours it is drawn in (curves and risk-table rows)."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for stem, make in F.figure_makers(results).items():
        fig = make()
        for leg in fig.legends:
            for handle, text in zip(leg.legend_handles, leg.get_texts()):
                out[_group(text.get_text())][stem].add(to_hex(handle.get_color()))
        for ax in fig.axes:
            if (ax.get_gid() or "").endswith("-risk"):
                for lab in ax.get_yticklabels():
                    if lab.get_text() not in ("At risk", "Censored", "Events", "All"):
                        out[lab.get_text()][stem].add(to_hex(lab.get_color()))
    return out


def test_each_group_has_one_colour_in_every_figure(colours):
    assert set(SALVGRP_LEVELS) <= set(colours), sorted(colours)
    for group, per_figure in colours.items():
        used = set().union(*per_figure.values())
        assert len(used) == 1, (group, dict(per_figure))


def test_salvage_groups_appear_in_several_figures_with_the_colours_of_figure_3(colours):
    """Figure 3 and Figure S3 (cumulative incidence) both show the salvage groups."""
    for group in SALVGRP_LEVELS:
        assert len(colours[group]) >= 2, dict(colours[group])
        assert set().union(*colours[group].values()) == {F.theme.GROUP_COLOR_BY_LABEL[group].lower()}


def test_no_two_groups_share_a_colour(colours):
    owner: dict[str, str] = {}
    for group, per_figure in colours.items():
        (colour,) = set().union(*per_figure.values())
        assert colour not in owner, f"{group} and {owner.get(colour)} are both drawn in {colour}"
        owner[colour] = group


def test_groups_in_one_order_in_figures_and_table_s13(results):
    targeted, chemo = SALVGRP_LEVELS
    for stem, make in F.figure_makers(results).items():
        fig = make()
        for leg in fig.legends:
            names = [_group(t.get_text()) for t in leg.get_texts()]
            if targeted in names and chemo in names:
                assert names.index(targeted) < names.index(chemo), (stem, names)
    frame = S.cumulative_incidence_table(results).frame
    groups = [g for g in frame["group"] if g in SALVGRP_LEVELS]
    assert groups and groups.index(targeted) < groups.index(chemo), groups
