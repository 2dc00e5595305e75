"""Per-patient fingerprints of the analysis dataset, and the data-freeze log.

The ledger carries, for every ADSL row, its ``USUBJID``, its site and one
keyed hash per field (HMAC-SHA-256 of USUBJID, field name and value,
truncated to 80 bits, in base32). No value is stored: a plain hash of a field with
few possible values (sex, a flag) could be reversed by hashing every
candidate, so the hashes are keyed with a secret kept beside the private data
(:func:`key_path`: ``data/private/ledger.key``, created on first use; or the
file named by the environment variable ``CART_LEDGER_KEY``). Two ledgers can
be compared only when made with the same key (the ledger stores the key's own
fingerprint, ``key_id``). Source pseudonyms never enter ADSL, so they cannot
enter the ledger or the log (USUBJID is study–site–sequence).

:func:`freeze_log` compares two fingerprints: patients added and removed (by
USUBJID, counted per site) and, for patients in both, the fields whose hash
changed, named by their ADaM labels ("Date of Death").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

KEY_ENV_VAR = "CART_LEDGER_KEY"
#: identifiers, not patient data: kept in clear (USUBJID) or left out (the rest say nothing new)
_SKIP = ("STUDYID", "USUBJID", "SUBJID", "SITEID")


def key_path() -> Path:
    """Where the fingerprint key lives: ``$CART_LEDGER_KEY``, else ``data/private/ledger.key``."""
    from ..config import PROJECT_ROOT

    override = os.environ.get(KEY_ENV_VAR)
    return Path(override) if override else PROJECT_ROOT / "data" / "private" / "ledger.key"


def _key() -> bytes:
    path = key_path()
    try:
        text = path.read_text(encoding="ascii").strip()
        if text:
            return bytes.fromhex(text)
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(key + "\n", encoding="ascii")
    os.replace(tmp, path)
    return bytes.fromhex(key)


def _digest(key: bytes, *parts: str) -> str:
    """HMAC-SHA-256, first 80 bits in lower-case base32 (16 characters: letters and digits 2-7,
    so that no hash looks like a telephone or record number to a privacy scan)."""
    raw = hmac.new(key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()[:10]
    return base64.b32encode(raw).decode("ascii").lower()


def _value(v: Any) -> str:
    if v is None or v is pd.NA or v is pd.NaT:
        return "\x00"
    try:
        if pd.isna(v):
            return "\x00"
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def fingerprint(adsl: pd.DataFrame, *, key: bytes | None = None) -> dict[str, Any]:
    """``{"key_id", "fields", "patients": {USUBJID: {"site", "fields": {FIELD: hash}}}}`` of ADSL."""
    key = _key() if key is None else key
    fields = [c for c in adsl.columns if c not in _SKIP]
    patients: dict[str, Any] = {}
    for rec in adsl.to_dict("records"):
        uid = str(rec["USUBJID"])
        patients[uid] = {"site": _value(rec.get("SITEID")),
                         "fields": {f: _digest(key, uid, f, _value(rec.get(f))) for f in fields}}
    return {"key_id": _digest(key, "ledger key"), "fields": fields, "patients": patients}


@dataclass(frozen=True)
class FreezeLog:
    """Patients ``added`` and ``removed`` ((USUBJID, site)), ``changed`` ((USUBJID, site, fields)),
    ``comparable`` (False when the fingerprints were made with different keys or are missing) and
    ``reason``."""

    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    comparable: bool = True
    reason: str = ""

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def freeze_log(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> FreezeLog:
    """Compare two :func:`fingerprint` records."""
    if not old or not new:
        return FreezeLog(comparable=False, reason="a ledger has no patient fingerprint (made by an older version)")
    if old.get("key_id") != new.get("key_id"):
        return FreezeLog(comparable=False, reason="the fingerprints were made with different keys "
                                                  f"(keep {key_path().name} with the private data)")
    o, n = old.get("patients") or {}, new.get("patients") or {}
    added = tuple((u, str(n[u].get("site", ""))) for u in n if u not in o)
    removed = tuple((u, str(o[u].get("site", ""))) for u in o if u not in n)
    changed = []
    for u in n:
        if u in o:
            fo, fn = o[u].get("fields") or {}, n[u].get("fields") or {}
            diff = tuple(f for f in list(fn) + [f for f in fo if f not in fn] if fo.get(f) != fn.get(f))
            if diff:
                changed.append((u, str(n[u].get("site", "")), diff))
    return FreezeLog(added, removed, tuple(changed))


def _label(field: str) -> str:
    from ..adam import LABELS

    return LABELS.get(field, field)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _by_site(rows: tuple[tuple[str, str], ...]) -> str:
    sites = Counter(site for _, site in rows)
    return ", ".join(f"{n} at {s}" if s else str(n) for s, n in sites.items())


def summary(log: FreezeLog) -> str:
    """"3 patients added (3 at SITE-B); 1 patient with changed data: Date of Death (1), …"."""
    if not log.comparable:
        return f"Patient-level changes cannot be listed: {log.reason}."
    if not log.any:
        return "No patient was added or removed and no patient's data changed."
    parts = []
    if log.added:
        parts.append(f"{_plural(len(log.added), 'patient')} added ({_by_site(log.added)})")
    if log.removed:
        parts.append(f"{_plural(len(log.removed), 'patient')} removed ({_by_site(log.removed)})")
    if log.changed:
        fields = Counter(f for _, _, fs in log.changed for f in fs)
        parts.append(f"{_plural(len(log.changed), 'patient')} with changed data: "
                     + ", ".join(f"{_label(f)} ({n})" for f, n in fields.items()))
    return "; ".join(parts) + "."


def rows(log: FreezeLog) -> list[tuple[str, str, str, str]]:
    """(USUBJID, site, change, fields) per patient, for the log's table."""
    out = [(u, s, "added", "") for u, s in log.added]
    out += [(u, s, "removed", "") for u, s in log.removed]
    out += [(u, s, "data changed", "; ".join(_label(f) for f in fs)) for u, s, fs in log.changed]
    return out
