"""The data dictionary (data/dictionary.yml), parsed into plain objects.

Conditional requirements are written in the YAML as small expressions:
``salvage == yes``, ``best_response in [CR, CRi]``, ``death_date is present``.
They are parsed here once into :class:`Condition` objects that validation
evaluates on the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .config import PROJECT_ROOT

DEFAULT_DICTIONARY = PROJECT_ROOT / "data" / "dictionary.yml"
TYPES = ("string", "category", "number", "integer", "date")


@dataclass(frozen=True)
class Condition:
    """``column`` takes one of ``values``; or, with ``present``, is not missing."""

    column: str
    values: tuple[str, ...] = ()
    present: bool = False

    def text(self, labels: dict[str, str] | None = None) -> str:
        """The condition in words, e.g. 'salvage is yes'."""
        if self.present:
            return f"{self.column} is given"
        vals = [labels.get(v, v) if labels else v for v in self.values]
        if len(vals) == 1:
            return f"{self.column} is {vals[0]}"
        return f"{self.column} is {' or '.join(vals)}"

    def holds(self, frame: pd.DataFrame) -> pd.Series:
        """Row-wise truth of the condition on raw (string-coded) data."""
        col = frame[self.column]
        if self.present:
            return col.notna() & (col.astype(str).str.strip() != "")
        return col.astype("string").str.strip().isin(self.values).fillna(False).astype(bool)


_EQ = re.compile(r"^\s*(\w+)\s*==\s*([\w-]+)\s*$")
_IN = re.compile(r"^\s*(\w+)\s+in\s+\[([^\]]*)\]\s*$")
_PRESENT = re.compile(r"^\s*(\w+)\s+is\s+present\s*$")


def parse_condition(text: str) -> Condition:
    if m := _EQ.match(text):
        return Condition(m.group(1), (m.group(2),))
    if m := _IN.match(text):
        return Condition(m.group(1), tuple(v.strip() for v in m.group(2).split(",") if v.strip()))
    if m := _PRESENT.match(text):
        return Condition(m.group(1), present=True)
    raise ValueError(f"cannot read the requirement {text!r} in the data dictionary")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str
    definition: str
    required: bool = False
    required_if: Condition | None = None
    codes: tuple[tuple[str, str], ...] = ()
    unit: str | None = None
    range: tuple[float, float] | None = None

    @property
    def code_labels(self) -> dict[str, str]:
        return dict(self.codes)


@dataclass(frozen=True)
class Dictionary:
    variables: tuple[Variable, ...]
    identifier_patterns: tuple[tuple[str, str], ...]
    date_format: str = "YYYY-MM-DD"

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def __getitem__(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    def __contains__(self, name: str) -> bool:
        return any(v.name == name for v in self.variables)

    def to_frame(self) -> pd.DataFrame:
        """One row per variable, for the supplementary table (raw fields, no formatting)."""
        rows = []
        for v in self.variables:
            if v.required:
                req = "Yes"
            elif v.required_if is not None:
                req = f"When {v.required_if.text()}"
            else:
                req = "No"
            rows.append(
                {
                    "name": v.name,
                    "label": v.label,
                    "type": v.type,
                    "unit": v.unit or "",
                    "codes": "; ".join(f"{c} = {lab}" for c, lab in v.codes),
                    "range": f"{v.range[0]:g}–{v.range[1]:g}" if v.range else "",
                    "required": req,
                    "definition": v.definition,
                }
            )
        return pd.DataFrame(rows)


def load_dictionary(path: str | Path | None = None) -> Dictionary:
    spec = yaml.safe_load(Path(path or DEFAULT_DICTIONARY).read_text(encoding="utf-8"))
    variables = []
    for item in spec["variables"]:
        if item["type"] not in TYPES:
            raise ValueError(f"variable {item['name']}: unknown type {item['type']!r}")
        req = item.get("required", False)
        required = req is True
        required_if = parse_condition(req) if isinstance(req, str) else None
        codes = tuple((str(k), str(v)) for k, v in (item.get("codes") or {}).items())
        rng = item.get("range")
        variables.append(
            Variable(
                name=item["name"],
                label=item["label"],
                type=item["type"],
                definition=item.get("definition", ""),
                required=required,
                required_if=required_if,
                codes=codes,
                unit=item.get("unit"),
                range=(float(rng[0]), float(rng[1])) if rng else None,
            )
        )
    patterns = tuple((k, v) for k, v in (spec.get("identifier_patterns") or {}).items())
    return Dictionary(tuple(variables), patterns, spec.get("date_format", "YYYY-MM-DD"))
