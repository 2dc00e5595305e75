"""From configuration to the derived cohort: load -> validate -> derive.

Raises :class:`DataError` (carrying the full validation report) when the data
do not pass validation; nothing downstream ever sees unvalidated data.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Config, ConfigError, load_config

if TYPE_CHECKING:   # imported where used: the stamp (data_hash) and DataError need no pandas
    from .derive import Derived
    from .dictionary import Dictionary
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
    """SHA-256 over every input file's bytes and how it is read (site, sheet,
    mapping file), in configured order, and the dictionary."""
    h = hashlib.sha256()
    for src in config.sources:
        h.update(repr((src.path.name, src.site, src.sheet, src.mapping.name if src.mapping else None,
                       src.header_row)).encode())
        h.update(src.path.read_bytes())
        if src.mapping:
            h.update(src.mapping.read_bytes())
    h.update(config.dictionary_path.read_bytes())
    return h.hexdigest()[:16]


def subject_id_key(config: Config, typed) -> bytes | None:
    """The secret key for USUBJIDs of real data: read from ``data.id_key``,
    created (random, 256 bits, readable by the owner only) on first use. The
    synthetic cohort needs none (its pseudonyms are made up) and keeps
    sequence numbers."""
    if "synthetic" in typed and bool(typed["synthetic"].astype("string").eq("yes").fillna(False).all()):
        return None
    path = config.id_key_path
    if path is None:
        return None
    if not path.exists():  # a configuration copied into another folder keeps the relative default:
        from .config import _relative_hint  # a new key there would give every patient new identifiers

        hint = _relative_hint(path, config.path.parent)
        if hint:
            raise ConfigError(f"data.id_key: there is no subject-identifier key at {path}{hint}; a new key "
                              "would give every patient a new USUBJID")
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
            path.chmod(0o600)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"data.id_key: the subject-identifier key {path} cannot be read or created "
                          f"({getattr(exc, 'strerror', None) or exc}); name a readable file") from None
    if len(key) < 32:
        raise ConfigError(f"data.id_key: {path} holds no key (expected at least 32 characters)")
    return key.encode()


def release_freed_memory() -> None:
    """Give the heap memory freed so far back to the operating system (glibc's
    ``malloc_trim``; elsewhere nothing): the C library keeps freed blocks for
    reuse, so after the raw text and the typed frame of a registry are freed the
    process would stay ~0.3 GB larger at 1,000,000 patients for the rest of the
    analysis. Changes no value."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def load_cohort(config: Config | None = None) -> Cohort:
    from .aside import aside, worth
    from .derive import Definitions, derive
    from .dictionary import load_dictionary
    from .load import load_sources, to_typed
    from .validate import validate

    config = config or load_config()
    dictionary = load_dictionary(config.dictionary_path)
    loaded = load_sources(config.sources, dictionary)

    def typed_and_derived(held: list) -> Derived:
        loaded = held.pop()  # the only reference left: freed once typed
        typed = to_typed(loaded.raw, dictionary, origin=loaded.origin, splits=loaded.splits)
        del loaded  # the raw text, the largest frame at registry scale, is not needed once typed
        release_freed_memory()
        derived = derive(
            typed,
            study_id=config.study_id,
            definitions=Definitions.from_settings(config.settings.definitions),
            id_key=subject_id_key(config, typed),
        )
        del typed
        release_freed_memory()
        return derived

    if not worth(len(loaded.raw)):
        report = validate(loaded, dictionary)
        if not report.ok:
            raise DataError(report)
        held, loaded = [loaded], None
        derived = typed_and_derived(held)
    else:
        # a registry: validation runs aside, in a forked process (analysis/aside.py), while this one
        # types and derives; the outcome is that of validating first: invalid data raise DataError
        # (whatever typing them did), valid data give the derived cohort or typing's own error
        checking = aside(validate, loaded, dictionary, keep=False)
        held, loaded = [loaded], None
        try:
            derived, failed = typed_and_derived(held), None
        except Exception as exc:  # noqa: BLE001 - judged once the report is known
            derived, failed = None, exc
        except BaseException:
            checking.cancel()
            raise
        report = checking.result()
        if not report.ok:
            raise DataError(report)
        if failed is not None:
            raise failed
    return Cohort(config=config, dictionary=dictionary, derived=derived, report=report,
                  data_hash=data_hash(config))
