"""Locations as the reader sees them.

The ledger's scan (:func:`analysis.ledger.find_uses`) names a place by the
Quarto label of a float (``tbl-response``, ``supptbl-medians``), by file and
heading path (``sections/results.qmd: Results › Survival``) or by front-matter
field (``report.qmd: Abstract``). A reader knows none of these: this module
turns them into "Table 2", "Table S5", "Results › Survival", "Abstract ›
Results", "Supplement › Sensitivity analyses". Float numbers come from
:func:`analysis.present.strobe.document_labels`, which numbers the floats of
each document in order as Quarto does (the STROBE checklist prints the same
names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from ..ledger import HEADING_SEPARATOR

_LEAD_RE = re.compile(r"^\s*\*\*([^*]+?)\.?\*\*")
_SUPP_PREFIX = "Supplementary "


@lru_cache(maxsize=8)
def _float_names(root: str) -> Mapping[str, str]:
    from ..present.strobe import document_labels

    try:
        labels = document_labels(Path(root))
    except ValueError:
        return {}
    out = {}
    for label, lab in labels.items():
        if lab.kind == "float":
            text = lab.text
            out[label] = text[len(_SUPP_PREFIX):] if text.startswith(_SUPP_PREFIX) else text
    return out


def float_name(label: str, root: str | Path) -> str:
    """"Table 2" for ``tbl-response``, "Table S5" for ``supptbl-medians``; the label itself if unknown."""
    return _float_names(str(Path(root).resolve())).get(label, label)


@lru_cache(maxsize=64)
def _abstract_lead(path: str, line: int) -> str | None:
    """The bold lead ("Results") of the abstract paragraph holding ``line`` (1-based)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").split("\n")
    except OSError:
        return None
    for i in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[i]
        m = _LEAD_RE.match(text)
        if m:
            return m.group(1).strip()
        if re.match(r"^[A-Za-z_][\w-]*\s*:", text):  # the field's own line: no lead above
            return None
    return None


def human_place(where: str, *, document: str = "", file: str = "", line: int = 0,
                root: str | Path = ".") -> str:
    """The reader's name for one place of :func:`analysis.ledger.find_uses`.

    ``where``: the scan's place; ``document``: main document (relative path);
    ``file`` and ``line``: the file and line of the use (for the abstract's
    bold paragraph leads)."""
    root = Path(root)
    if ":" not in where and "/" not in where and not where.endswith(".qmd"):
        return float_name(where, root)
    fname, _, rest = where.partition(": ")
    rest = rest.strip()
    supplement = Path(document or fname).stem == "supplement"
    if not rest:
        return "Supplement" if supplement else "Front matter"
    if rest == "Abstract" and file and line:
        lead = _abstract_lead(str(root / file), int(line))
        if lead:
            return f"Abstract{HEADING_SEPARATOR}{lead}"
    if supplement and not rest.startswith("Supplement"):
        return f"Supplement{HEADING_SEPARATOR}{rest}"
    return rest
