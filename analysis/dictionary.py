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
class Span:
    """The longest time allowed from date ``start`` to date ``end``: ``days``, or the
    number (years) in column ``years_of`` plus ``slack_years``."""

    start: str
    end: str
    days: float | None = None
    years_of: str | None = None
    slack_years: float = 0.0


@dataclass(frozen=True)
class Rule:
    """A clinical consistency rule across variables (``rules:`` in the dictionary).

    Triggered on rows where ``when`` holds (every row without it); broken when none
    of ``then`` holds, when the time of ``span`` is longer than allowed, or (with
    ``same_record``) when another row under another pseudonym has the same values.
    ``level``: error or warning; ``message``: what is wrong; ``why``: why this level.
    """

    id: str
    level: str
    message: str
    why: str = ""
    when: Condition | None = None
    then: tuple[Condition, ...] = ()
    span: Span | None = None
    same_record: bool = False


def parse_rule(item: dict, names: set[str]) -> Rule:
    rule_id = str(item.get("id") or "")
    if not re.fullmatch(r"\w+", rule_id):
        raise ValueError(f"every rule in the data dictionary needs an id (letters, digits, _), not {rule_id!r}")
    level = item.get("level")
    if level not in ("error", "warning"):
        raise ValueError(f"rule {rule_id}: level must be error or warning, not {level!r}")
    when = parse_condition(item["if"]) if item.get("if") else None
    then = tuple(parse_condition(t) for t in (item.get("then") or ()))
    span = None
    if item.get("span"):
        spec = item["span"]
        span = Span(
            start=spec["from"], end=spec["to"], days=spec.get("at_most_days"),
            years_of=spec.get("at_most_years_of"), slack_years=float(spec.get("slack_years", 0)),
        )
        if (span.days is None) == (span.years_of is None):
            raise ValueError(f"rule {rule_id}: span needs at_most_days or at_most_years_of")
    same = bool(item.get("same_record", False))
    if sum((bool(then), span is not None, same)) != 1:
        raise ValueError(f"rule {rule_id}: give exactly one of then:, span: or same_record:")
    used = [c.column for c in (when, *then) if c is not None]
    if span is not None:
        used += [span.start, span.end] + ([span.years_of] if span.years_of else [])
    unknown = [c for c in used if c not in names]
    if unknown:
        raise ValueError(f"rule {rule_id}: {', '.join(unknown)} not in the data dictionary")
    return Rule(rule_id, level, str(item.get("message", "")).strip(), str(item.get("why", "")).strip(),
                when, then, span, same)


@dataclass(frozen=True)
class Dictionary:
    variables: tuple[Variable, ...]
    identifier_patterns: tuple[tuple[str, str], ...]
    date_format: str = "YYYY-MM-DD"
    rules: tuple[Rule, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def label(self, name: str) -> str | None:
        """The variable's label, or None for a name that is not a variable."""
        for v in self.variables:
            if v.name == name:
                return v.label
        return None

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
    patterns = tuple(  # a kind's pattern is one regular expression or a list of alternatives
        (k, v if isinstance(v, str) else "|".join(f"(?:{p})" for p in v))
        for k, v in (spec.get("identifier_patterns") or {}).items()
    )
    names = {v.name for v in variables}
    rules = tuple(parse_rule(item, names) for item in (spec.get("rules") or ()))
    return Dictionary(tuple(variables), patterns, spec.get("date_format", "YYYY-MM-DD"), rules)
