"""The ADaM define-style metadata (:func:`analysis.adam_define.define_frame`) as a
supplementary table: one row per variable of ADSL and ADTTE, grouped by dataset."""

from __future__ import annotations

import pandas as pd

from ..adam_define import define_frame
from ..results import Results
from .tables import DisplayTable
from .tables.common import _source_notes

COLUMNS = ("Variable", "Label", "Type", "Codelist", "Derivation")


def define_table_frame(results: Results) -> pd.DataFrame:
    """The define metadata with a ``section`` column naming each dataset, its label and sort keys."""
    define = define_frame(results.derived)
    section = define["Dataset"] + " (" + define["Dataset label"] + "; sorted by " + define["Sort keys"] + ")"
    out = define.assign(section=section)
    out["Type"] = out["Type"].where(out["Format"] == "", out["Type"] + " (" + out["Format"] + ")")
    return out[["section", *COLUMNS]]


def define_table(results: Results, *, title: str | None = None) -> DisplayTable:
    """The ADaM variable metadata (supplementary table)."""
    return DisplayTable(
        frame=define_table_frame(results),
        columns=COLUMNS,
        labels={c: c for c in COLUMNS},
        id="gt-define",
        group="section",
        source_notes=_source_notes(results.derived.synthetic),
        align={c: "left" for c in COLUMNS},
        title=title,
    )
