"""ADaM exports for a statistical reviewer: ADSL, ADTTE and their metadata.

* CSV: dates as ISO 8601 text, empty cells for missing;
* SAS transport **version 5** (.xpt, the format FDA and PMDA require): header
  ``LIBRARY``, dataset names and variable names of at most 8 characters,
  dataset and variable labels of at most 40, ASCII text, dates as SAS dates
  with the DATE9. format (pyreadstat ``write_xport(file_format_version=5)``);
* ``define.csv``: the define-style variable metadata
  (:func:`analysis.adam_define.define_frame`).

Rows are sorted by the datasets' keys: ADSL by STUDYID, USUBJID; ADTTE by
STUDYID, USUBJID, PARAMCD. Files are written as one unit (analysis.outputs):
either all appear or none changes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from .adam_define import DATASET_LABELS, LABELS, SORT_KEYS, define_frame
from .derive import Derived
from .outputs import write_group

__all__ = ["LABELS", "sorted_dataset", "write_adam"]

XPT_VERSION = 5
MAX_CHAR_LENGTH = 200   # transport version 5 character variables


def sorted_dataset(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` sorted by the dataset's keys (stable), index reset."""
    return frame.sort_values(list(SORT_KEYS[name]), kind="stable").reset_index(drop=True)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _csv_frame(frame).to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def _xpt_frame(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    out = frame.copy()
    formats = {}
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            formats[col] = "DATE9"
            out[col] = out[col].dt.date.astype(object).where(out[col].notna(), None)
        elif pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            text = out[col].astype(object).where(out[col].notna(), "")
            bad = [v for v in text if not str(v).isascii() or len(str(v)) > MAX_CHAR_LENGTH]
            if bad:
                raise ValueError(f"{name.upper()}.{col}: value {bad[0]!r} is not ASCII or longer than "
                                 f"{MAX_CHAR_LENGTH} characters (SAS transport version 5)")
            out[col] = text
    return out, formats


def _write_xpt(frame: pd.DataFrame, path: Path, name: str) -> None:
    out, formats = _xpt_frame(frame, name)
    pyreadstat.write_xport(
        out, str(path), file_label=DATASET_LABELS[name.upper()], table_name=name.upper(),
        column_labels=[LABELS[c] for c in out.columns], variable_format=formats,
        file_format_version=XPT_VERSION,
    )


def write_adam(derived: Derived, out_dir: str | Path, *, xpt: bool = True) -> list[Path]:
    """Write adsl.csv, adtte.csv, define.csv (and adsl.xpt, adtte.xpt) into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    define = define_frame(derived)    # checks names and labels before anything is written
    adsl = sorted_dataset(derived.adsl, "ADSL")
    adtte = sorted_dataset(derived.adtte, "ADTTE")
    writers = {
        out / "adsl.csv": lambda p: _write_csv(adsl, p),
        out / "adtte.csv": lambda p: _write_csv(adtte, p),
        out / "define.csv": lambda p: define.to_csv(p, index=False, lineterminator="\n"),
    }
    if xpt:
        writers[out / "adsl.xpt"] = lambda p: _write_xpt(adsl, p, "adsl")
        writers[out / "adtte.xpt"] = lambda p: _write_xpt(adtte, p, "adtte")
    return write_group(writers)
