"""Journal styles end to end (configuration `style: journal:`): the same
analysis printed for Blood, JAMA, NEJM and The Lancet — prose, table cells and
headers (documents and table files), figure texts and tick labels, figure size
and font, percentages.

Expected values are the journals' conventions written out here from their
instructions for authors (the sources are cited in analysis/present/style.py
JOURNALS), never strings produced by our code: the tests check that every
printed number follows the convention (e.g. no "." between digits anywhere under
The Lancet), not which number it is.
"""

from __future__ import annotations

import dataclasses
import re

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from analysis.present import figures as F
from analysis.present import style as st
from analysis.present import table_files
from analysis.present import tables as T
from analysis.present.numbers import build_registry

MM = 1 / 25.4


@dataclasses.dataclass(frozen=True)
class Convention:
    p_statement: str        # regex of a P statement in running text
    p_letter: str           # the statistic's letter in a column header
    mark: str               # decimal mark
    separator: str          # between interval limits
    count_pct: str          # regex of an "n (%)" cell with a denominator below 100
    widths_in: tuple[float, float]   # one and two columns
    serif: bool             # figure font


CONVENTIONS = {
    # AMA Manual of Style (Blood's instructions follow it); Blood style guide "Figures": 8.0 / 17 cm
    "blood": Convention(r"P (= \.\d{2,3}|< \.001|> \.99)", "P", ".", "\u2013", r"\d+ \(\d+%\)",
                        (80 * MM, 170 * MM), False),
    # AMA Manual of Style; JAMA Network instructions "Figures": 3.3 in / 7 in, Arial or Helvetica
    "jama": Convention(r"P (= \.\d{2,3}|< \.001|> \.99)", "P", ".", "\u2013", r"\d+ \(\d+%\)", (3.3, 7.0), False),
    # NEJM "New Manuscripts": P=0.004, "to" between limits, "no. (%)" to one decimal
    "nejm": Convention(r"P(=0\.\d{2,3}|<0\.001|>0\.99)", "P", ".", " to ", r"\d+ \(\d+\.\d%\)", (3.3, 7.0),
                       False),
    # The Lancet "Information for authors": p=0·004, mid-line decimal point, whole-number percentages;
    # figures 75 / 154 mm, Times New Roman
    "lancet": Convention(r"p(=0\u00b7\d{2,3}|<0\u00b7001|>0\u00b799)", "p", "\u00b7", " to ", r"\d+ \(\d+%\)",
                         (75 * MM, 154 * MM), True),
}
#: a number written with the other decimal mark: "0.5", ".004" (a full stop ending a sentence is not)
WRONG_MARK = {".": re.compile(r"\d\u00b7\d|(?<![\w\u00b7])\u00b7\d"), "\u00b7": re.compile(r"\d\.\d|(?<![\w.])\.\d")}


@pytest.fixture
def styled(results):
    def make(journal: str):
        settings = results.settings.model_copy(
            update={"style": results.settings.style.model_copy(update={"journal": journal})})
        r = dataclasses.replace(results, settings=settings)
        st.use_journal(journal)          # what every entry point does (numbers, document, export)
        return r
    yield make
    st.use_journal(st.DEFAULT_JOURNAL)


def _drawn_texts(fig) -> list[Text]:
    """The Text artists a reader sees: visible, non-empty, and (tick labels) inside the axis range."""
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    hidden = set()
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in axis.get_major_ticks():
                if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    hidden.update((id(tick.label1), id(tick.label2)))
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


@pytest.mark.parametrize("journal", list(CONVENTIONS))
def test_prose_follows_the_journal(styled, journal):
    c = CONVENTIONS[journal]
    texts = {f"{s}.{k}": n.text for s, k, n in build_registry(styled(journal)).items()}
    assert re.fullmatch(c.p_statement, texts["text.p_os_group"])
    assert c.separator in texts["text.os_median"]
    assert "%" in texts["text.cr_overall"] and c.separator in texts["text.cr_overall"]
    assert texts["text.alpha_text"].startswith(c.p_letter)
    for key, text in texts.items():
        assert not WRONG_MARK[c.mark].search(str(text)), (key, text)


@pytest.mark.parametrize("journal", list(CONVENTIONS))
def test_tables_follow_the_journal(styled, journal, tmp_path):
    c = CONVENTIONS[journal]
    r = styled(journal)
    t1, t2, t3 = T.table1(r), T.table2(r), T.table3(r)
    # a cell: every "n (%)" of Table 1 whose denominator is below 100 (the cohort's)
    counts = [v for col in t1.columns[1:] for v in t1.frame[col] if re.fullmatch(r"\d+ \(.*%\)", str(v))]
    assert counts and all(re.fullmatch(c.count_pct, v) for v in counts), counts
    # rates: one decimal in the journal's mark, the CI (where there is one) with its separator
    m, s = re.escape(c.mark), re.escape(c.separator)
    pct = [v for v in t2.frame["pct"] if v and v != st.NOT_ESTIMABLE]
    assert pct and all(re.fullmatch(rf"\d+{m}\d( \(\d+{m}\d{s}\d+{m}\d\))?", v) for v in pct), pct
    assert any("(" in v for v in pct)
    for table in (t1, t2, t3):
        for col in table.columns:
            for v in table.frame[col]:
                assert not WRONG_MARK[c.mark].search(str(v)), (table.id, col, v)
    # the headers: P (Lancet p), in the document (HTML and Markdown) and in the table files
    assert t2.labels["P"] == c.p_letter and t3.labels["uni_p"] == c.p_letter
    md_header = t2.to_markdown().split("\n")[1]
    assert re.search(rf"(\*{c.p_letter}\*|\b{c.p_letter}\b)\s*\|", md_header)
    g = table_files.grid(t2)
    assert [cell.text for cell in g.header][-1] == c.p_letter
    table_files.write_csv(g, tmp_path / "t2.csv")
    assert tmp_path.joinpath("t2.csv").read_text(encoding="utf-8").splitlines()[0].split(",")[-1].strip('"') \
        == c.p_letter
    table_files.write_docx(g, tmp_path / "t2.docx")
    from docx import Document

    word = Document(str(tmp_path / "t2.docx")).tables[0]
    assert word.rows[0].cells[-1].text.strip() == c.p_letter


@pytest.mark.parametrize("journal", list(CONVENTIONS))
def test_figures_follow_the_journal(styled, journal):
    c = CONVENTIONS[journal]
    r = styled(journal)
    single, double = c.widths_in
    drawn = 0
    for stem, make in F.figure_makers(r).items():
        fig = make()
        width = fig.get_size_inches()[0]
        assert width == pytest.approx(single) or width == pytest.approx(double), (stem, width)
        texts = _drawn_texts(fig)
        families = {t.get_fontname() for t in texts}
        assert all(("Serif" in f or "Times" in f) == c.serif for f in families), (stem, families)
        for t in texts:
            assert not WRONG_MARK[c.mark].search(t.get_text()), (stem, t.get_gid(), t.get_text())
        # tick labels in the journal's size; every drawn text inside the figure
        ticks = [t for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels() if t in texts]
        assert all(t.get_fontsize() == pytest.approx(st.JOURNALS[journal].figure.font_size) for t in ticks)
        box = fig.bbox
        renderer = fig.canvas.get_renderer()
        for t in texts:
            e = t.get_window_extent(renderer)
            assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1 and box.y0 - 1 <= e.y0 and e.y1 <= box.y1 + 1, \
                (stem, t.get_text()[:40])
        drawn += len(ticks)
    assert drawn
    # the numbers the figures print: the log-rank P statement, the forest plot's P header
    group = F.km_group_figure(r, "salvage_group")
    logrank = next(t.get_text() for t in _drawn_texts(group) if t.get_gid() == "logrank-p")
    assert re.search(c.p_statement, logrank)
    forest = [t.get_text() for t in _drawn_texts(F.forest_figure(r))]
    assert c.p_letter in forest
    risk = [t.get_text() for ax in group.axes if ax.get_gid().endswith("-risk") for t in ax.texts]
    assert risk and all(re.fullmatch(r"\d+", t) for t in risk)


def test_the_p_statement_of_each_journal_written_out():
    for journal, text in {"blood": "P = .004", "jama": "P = .004", "nejm": "P=0.004",
                          "lancet": "p=0\u00b7004"}.items():
        st.use_journal(journal)
        assert st.fmt_p_text(0.0036) == text
    st.use_journal(st.DEFAULT_JOURNAL)
    assert st.fmt_p_text(0.0004) == "P < .001"


def test_one_place_defines_the_journals():
    """analysis/config.py holds the allowed names and the default; style.JOURNALS defines each one."""
    import typing

    from analysis.config import StyleSettings

    field = StyleSettings.model_fields["journal"]
    assert set(typing.get_args(field.annotation)) == set(st.JOURNALS)
    assert st.DEFAULT_JOURNAL == field.default


def test_a_style_change_redraws_the_figures(results):
    """The export's figure cache key covers the journal (through the settings hash), so a
    change of style never reuses figures drawn in another style."""
    from analysis.config import load_config
    from analysis.export import figure_key

    cfg = load_config()
    keys = set()
    for journal in CONVENTIONS:
        settings = cfg.settings.model_copy(
            update={"style": cfg.settings.style.model_copy(update={"journal": journal})})
        other = dataclasses.replace(cfg, settings=settings)
        keys.add(figure_key({"data_hash": "d", "config_hash": other.analysis_hash(), "code_version": "c"}))
    assert len(keys) == len(CONVENTIONS)


def test_automatic_tick_labels_use_the_decimal_mark():
    """Axes whose ticks matplotlib labels itself (e.g. the residual panels) print the journal's mark."""
    from analysis.present.figures.canvas import JournalTickFormatter

    st.use_journal("lancet")
    try:
        fig = matplotlib.figure.Figure()
        ax = fig.add_subplot()
        ax.set_xlim(0, 0.5)
        ax.xaxis.set_major_formatter(JournalTickFormatter())
        FigureCanvasAgg(fig)
        fig.draw_without_rendering()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert labels and all("." not in s for s in labels) and any("\u00b7" in s for s in labels)
    finally:
        st.use_journal(st.DEFAULT_JOURNAL)


def test_every_table_of_the_documents_prints_the_lancet_mark(styled):
    """Every displayed cell, header and note of every manuscript and supplementary table (as the
    documents and the table files show them) writes its numbers with the mid-line decimal point.
    The data dictionary and the software versions print names and version strings, and the ADaM
    define table derivations written as code (shared with the define CSV), not numbers."""
    r = styled("lancet")
    bad = []
    for tf in table_files.all_tables(r):
        if tf.label in ("supptbl-dictionary", "supptbl-versions", "supptbl-define"):
            continue
        g = table_files.grid(tf.table)
        texts = [cell.text for cell in g.header] + [n for _, n in g.notes]
        texts += [cell.text for kind, cells in g.rows for cell in cells]
        bad += [(tf.label, t) for t in texts if WRONG_MARK["\u00b7"].search(t)]
        # the statistic is a lower-case p in every header and note ("p values", "p<0·05")
        words = [cell.text for cell in g.header] + [n for _, n in g.notes]
        bad += [(tf.label, t) for t in words if re.search(r"(?<![\w*/])P(?![\w*])", t)]
    assert not bad, bad[:10]


def test_captions_typed_in_the_documents_name_no_p_letter():
    """Captions are typed in the .qmd (``fig-cap``/``tbl-cap`` options), where the
    journal's letter for P ("P" or Lancet's "p") cannot follow the style
    (``{{< var >}}`` in chunk options is unreliable in Quarto): a typed caption
    names the test ("compared with the log-rank test"), and the figure prints
    the styled P. Acceptance review leftover: "with the log-rank P value" kept
    a capital P under The Lancet."""
    from analysis.config import PROJECT_ROOT

    documents = [PROJECT_ROOT / "report.qmd", PROJECT_ROOT / "supplement.qmd",
                 *sorted((PROJECT_ROOT / "sections").glob("*.qmd"))]
    option = re.compile(r"^#\|\s*(?:fig|tbl)-(?:cap|scap|subcap)\s*:(.*)$")
    letter = re.compile(r"(?<![\w-])[Pp](?=\s*(?:value|[=<>]|$|[\s.,;)]))")
    found = [f"{path.name}:{i}: {m.group(1).strip()}"
             for path in documents
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if (m := option.match(line.strip())) and letter.search(m.group(1))]
    assert not found, "captions with a typed P letter:\n" + "\n".join(found)


#: how each journal's percentages of patients are written, in words (the conventions above)
PERCENT_WORDS = {"blood": "as whole numbers below a denominator of 100 and to one decimal from 100",
                 "jama": "as whole numbers below a denominator of 100 and to one decimal from 100",
                 "nejm": "to one decimal", "lancet": "as whole numbers"}


@pytest.mark.parametrize("journal", list(CONVENTIONS))
def test_methods_state_the_decimals_of_percentages(styled, journal):
    """Table 1 prints "61%" where the text gives a rate "61.1% (95% CI ...)": Methods say
    why (acceptance review item 27)."""
    from analysis.present.text import statistical_methods

    methods = statistical_methods(styled(journal)).data
    assert (f"Percentages of patients are given {PERCENT_WORDS[journal]}, "
            "and rates with confidence intervals to one decimal.") in methods
