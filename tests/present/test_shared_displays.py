"""An export builds each table and figure once (analysis/present/shared_displays.py): the
ledger, the table files and the figure files read the very same objects."""

from __future__ import annotations

from analysis.present import figures, table_files
from analysis.present.shared_displays import SharedDisplays, function_of


def test_the_ledger_and_the_table_files_share_each_table(results):
    shared = SharedDisplays(results)
    files = {tf.label: tf.table for tf in table_files.all_tables(results, displays=shared)}
    assert shared.call("tables.table1") is files["tbl-baseline"]
    assert shared.call("tables.table3") is files["tbl-cox"]
    assert shared.call("tables.zph_table") is files["supptbl-zph"]
    assert shared.call("tables.table1") is shared.call("tables.table1")


def test_the_ledger_and_the_figure_files_share_each_figure(results):
    built = []

    def build(make):                      # the export's figure builder (kept Figure, else drawn)
        built.append(make)
        return make()

    shared = SharedDisplays(results, build)
    makers = figures.figure_makers(results)
    kept = {stem: shared.figure(make) for stem, make in makers.items()}
    assert len(built) == len(makers)
    assert shared.call("figures.km_group_figure:salvage_group") is kept["fig3_km_salvage_group"]
    assert shared.call("figures.flow_figure") is kept["fig1_flow"]
    assert shared.figure(makers["fig5_forest"]) is kept["fig5_forest"]
    assert len(built) == len(makers)      # nothing built twice


def test_a_call_names_the_function_and_its_argument():
    fn, args = function_of("figures.km_group_figure:relapse_site")
    assert fn is figures.km_group_figure and args == ("relapse_site",)
    fn, args = function_of("tables.table2")
    assert fn.__name__ == "table2" and args == ()
