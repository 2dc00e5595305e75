"""From configuration to the derived cohort: load -> validate -> derive.

Raises :class:`DataError` (carrying the full validation report) when the data
do not pass validation; nothing downstream ever sees unvalidated data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .config import Config, load_config
from .derive import Definitions, Derived, derive
from .dictionary import Dictionary, load_dictionary
from .validate import ValidationReport


class DataError(Exception):
    """The input data failed validation; ``report`` holds every problem."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.format())
        self.report = report


@dataclass(frozen=True)
class Cohort:
    """The validated, derived cohort and where it came from."""

    config: Config
    dictionary: Dictionary
    derived: Derived
    report: ValidationReport
    data_hash: str


def data_hash(config: Config) -> str:
    """SHA-256 over the bytes of every input file (in configured order) and the dictionary."""
    h = hashlib.sha256()
    for src in config.sources:
        h.update(src.path.name.encode())
        h.update(src.path.read_bytes())
        if src.mapping:
            h.update(src.mapping.read_bytes())
    h.update(config.dictionary_path.read_bytes())
    return h.hexdigest()[:16]


def load_cohort(config: Config | None = None) -> Cohort:
    from .load import load_sources, to_typed
    from .validate import validate

    config = config or load_config()
    dictionary = load_dictionary(config.dictionary_path)
    loaded = load_sources(config.sources, dictionary)
    report = validate(loaded, dictionary)
    if not report.ok:
        raise DataError(report)
    typed = to_typed(loaded.raw, dictionary, origin=loaded.origin)
    derived = derive(
        typed,
        study_id=config.study_id,
        definitions=Definitions.from_config(config.section("definitions")),
    )
    return Cohort(config=config, dictionary=dictionary, derived=derived, report=report,
                  data_hash=data_hash(config))
