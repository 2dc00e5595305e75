"""Journal styles end to end (configuration `style: journal:`): the same
analysis printed for Blood, JAMA, NEJM and The Lancet. Expected strings are the
journals' conventions written out (analysis/present/style.py JOURNALS cites
them): Blood/JAMA "P = .004", NEJM "P=0.004" with "to" between limits, Lancet
"p=0·004" with a mid-line decimal point."""

from __future__ import annotations

import dataclasses
import re

import pytest

from analysis.present import figures as F
from analysis.present import style as st
from analysis.present import tables as T
from analysis.present.numbers import build_registry

EXPECTED = {  # journal: (P statement of the same P value, CI of the OS median)
    "blood": ("P = .004", "–"),
    "jama": ("P = .004", "–"),
    "nejm": ("P=0.004", " to "),
    "lancet": ("p=0·004", " to "),
}


@pytest.fixture
def styled(results):
    def make(journal: str):
        settings = results.settings.model_copy(
            update={"style": results.settings.style.model_copy(update={"journal": journal})})
        return dataclasses.replace(results, settings=settings)
    yield make
    st.use_journal(st.DEFAULT_JOURNAL)


@pytest.mark.parametrize("journal", list(EXPECTED))
def test_text_tables_and_figures_follow_the_journal(styled, journal):
    r = styled(journal)
    texts = {f"{s}.{k}": n.text for s, k, n in build_registry(r).items()}
    p_text, sep = EXPECTED[journal]
    p = r.os_by_group.logrank.p
    assert texts["text.p_os_group"] == st.fmt_p_text(p)
    assert texts["text.p_os_group"].startswith(p_text[:2])
    assert sep in texts["text.os_median"]
    # tables: P cells and numbers with the journal's decimal mark
    frame = T.table2_frame(r)
    printed = " ".join(frame["pct"].astype(str)) + " " + " ".join(frame["P"].astype(str))
    if journal == "lancet":
        assert "·" in printed and not re.search(r"\d\.\d", printed)
    else:
        assert "·" not in printed
    if journal in ("nejm", "lancet"):
        assert re.search(r"\b0[.·]\d", " ".join(frame["P"].astype(str)))   # leading zero
    else:
        assert not re.search(r"(?<![\d])0\.\d", " ".join(frame["P"].astype(str)))
    # figures: the log-rank P printed on Figure 3
    fig = F.km_group_figure(r, "salvage_group")
    shown = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert st.fmt_p_text(p).split()[0] in shown or st.fmt_p(p) in shown


def test_the_p_statement_of_each_journal_written_out():
    for journal, (p_text, _) in EXPECTED.items():
        st.use_journal(journal)
        assert st.fmt_p_text(0.0036) == p_text
    st.use_journal(st.DEFAULT_JOURNAL)
    assert st.fmt_p_text(0.0004) == "P < .001"
