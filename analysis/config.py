"""The analysis configuration: one typed, validated contract.

Every setting a user can change is declared here, once, with its type, allowed
values, default and a one-line description (the attribute docstring). The file
``analysis.yml`` at the project root (or the one named by ``CART_CONFIG`` /
``--config``) is read once by :func:`load_config`; nothing downstream supplies a
default of its own: :func:`analysis.results.analyse` unpacks these settings into
plain keyword arguments for each computation, and presentation reads them from
``results.settings``.

Why pydantic (v2, already installed as a dependency of pandera): it checks
types and allowed values, refuses unknown keys (``extra="forbid"``) and reports
every problem of a file at once with the location of each, which is what a
user editing YAML needs; frozen models make the settings immutable.

Problems are collected and raised together as :class:`ConfigError` (exit 2 in
the command line), each naming the file, line and key, with a "did you mean"
suggestion for a mistyped key or value. Settings that can only be checked
against the data (ADSL columns and levels, landmarks beyond follow-up) are
checked by :func:`check_against_data` before any computation.

Data location precedence: an explicit ``data=`` argument (the Quarto parameter
``data``), then the environment variable ``CART_DATA``, then the configuration's
``data: sources``. Relative paths in a configuration file are relative to that
file; the dictionary defaults to the shipped ``data/dictionary.yml``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import PROJECT_ROOT  # defined where importing it costs nothing (analysis/__init__.py)
from .yamlio import UserFileError, duplicate_keys, line_of, load_yaml, node_at

DEFAULT_CONFIG = PROJECT_ROOT / "analysis.yml"
DEFAULT_DICTIONARY = PROJECT_ROOT / "data" / "dictionary.yml"
DATA_ENV_VAR = "CART_DATA"
CONFIG_ENV_VAR = "CART_CONFIG"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".xls", ".sav")


class ConfigError(Exception):
    """The configuration (or a data override) cannot be used as written. The
    message lists every problem, one per line."""


# --------------------------------------------------------------------------- the typed settings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


Months = Annotated[float, Field(gt=0, le=600)]


class SourceEntry(_Section):
    """One site's export."""

    path: str
    """Data file (.csv, .xlsx, .sav), relative to the configuration file."""
    site: str | None = None
    """Site code, when the file has no site column (a number such as 2 is read as the code "2")."""
    sheet: str | int | None = None
    """Excel sheet: its name, or its position counted from 1 (sheet: 1 is the first)."""
    mapping: str | None = None
    """YAML file mapping the site's column names and codes onto the dictionary."""
    header_row: int | None = Field(None, ge=1)
    """Row holding the column names, when it is not the first (a mapping file's header_row wins)."""

    @field_validator("site", mode="before")
    @classmethod
    def _code_as_text(cls, v: Any) -> Any:
        # YAML reads `site: 2` as a number; a site code is text (its written form: _source_from_entry)
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class DataSettings(_Section):
    sources: list[Union[str, SourceEntry]] = Field(default_factory=list)
    """Files pooled into one cohort, one per site."""
    dictionary: str | None = None
    """Data dictionary (default: the shipped data/dictionary.yml)."""
    id_key: str = "data/private/usubjid.key"
    """Secret key file for stable subject identifiers (USUBJID) of real data; created on first use.
    Written in a configuration file: relative to that file; not written: the project's own key (this
    default, relative to the project), so a copied configuration keeps the project's identifiers.
    Keep it with the data, never in the repository."""


class DefinitionsSettings(_Section):
    days_per_month: float = Field(30.4375, gt=27, lt=32)
    """Months = days / this (30.4375 = 365.25 / 12)."""
    adult_age_years: float = Field(18, gt=0, lt=100)
    """Age group: adult (>= this) vs paediatric."""
    high_marrow_burden_pct: float = Field(50, gt=0, le=100)
    """High tumour burden: marrow blasts >= this percentage."""


TwoByTwoRule = Literal["fisher_if_expected_lt5_else_yates", "fisher", "chisq_yates", "chisq"]


class TestsSettings(_Section):
    alpha: float = Field(0.05, gt=0, lt=0.5)
    """Significance level (two-sided); CIs are 100 x (1 - alpha)%."""
    two_by_two: TwoByTwoRule = "fisher_if_expected_lt5_else_yates"
    """Test for contingency tables: Fisher when an expected count < 5 else chi-squared (Yates for 2x2),
    or always Fisher, always chi-squared with Yates' correction, always chi-squared."""
    monte_carlo_seed: int = Field(20240101, ge=0)
    """Seed of the Monte-Carlo Fisher-Freeman-Halton test used when exact enumeration is too large
    (a whole number, 0 or more: numpy's random generator takes no negative seed)."""
    monte_carlo_samples: int = Field(100_000, ge=1_000)
    """Tables drawn by that Monte-Carlo test."""


MedianCI = Literal["spss", "log", "log-log"]
Population = Literal["salvage", "all"]


class SurvivalSettings(_Section):
    median_ci: MedianCI = "spss"
    """Median survival CI: spss (estimate +/- 1.96 SE), log (Brookmeyer-Crowley, R's default), log-log."""
    population: Population = "salvage"
    """Population of the overall-survival analyses: salvage (received salvage therapy) or all relapsed."""
    landmarks_months: list[Months] = Field(default_factory=lambda: [6.0, 12.0])
    """Times at which survival probabilities are reported."""
    risk_table_months: list[Annotated[float, Field(ge=0, le=600)]] = Field(
        default_factory=lambda: [0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0])
    """Times of the numbers-at-risk tables under the Kaplan-Meier figures."""

    @field_validator("landmarks_months", "risk_table_months")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if not v:                    # every estimate and risk table needs one (was a traceback)
            raise ValueError("list at least one time (in months)")
        if len(set(v)) != len(v):
            raise ValueError("a time is listed twice")
        return sorted(v)


class Covariate(_Section):
    column: str
    """ADSL column (e.g. SALVGRP, AGEGR1, BMBURDEN, PRIORSCT, CD19NEG)."""
    reference: str | None = None
    """Reference level of a categorical covariate (default: the first level in the data)."""

    @field_validator("reference", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        return None if v is None else str(v)


class CoxSettings(_Section):
    covariates: list[Covariate] = Field(default_factory=lambda: [
        Covariate(column="SALVGRP", reference="Targeted"),
        Covariate(column="AGEGR1", reference="<18"),
        Covariate(column="BMBURDEN", reference="<50%"),
        Covariate(column="PRIORSCT", reference="N"),
    ])
    """Multivariable Cox model for overall survival (Efron ties): ADSL columns and reference levels."""
    min_events_per_variable: float = Field(10, gt=0)
    """Caution printed when events per model parameter fall below this (Peduzzi et al. 1995)."""

    @field_validator("covariates")
    @classmethod
    def _unique(cls, v: list[Covariate]) -> list[Covariate]:
        if not v:  # the model needs one; it was dropped from the manuscript without a word
            raise ValueError("list at least one covariate (an ADSL column, e.g. {column: SALVGRP, "
                             "reference: Targeted}): the multivariable model needs one")
        cols = [c.column for c in v]
        twice = sorted({c for c in cols if cols.count(c) > 1})
        if twice:
            raise ValueError(f"covariate listed twice: {', '.join(twice)}")
        return v


class SensitivitySettings(_Section):
    rfs_censor_at_hsct: bool = True
    """RFS with and without censoring at consolidative HSCT."""
    time_dependent_hsct: bool = True
    """HSCT as a time-dependent covariate in the OS Cox model; Simon-Makuch plot."""
    landmark_months: list[Months] = Field(default_factory=lambda: [3.0])
    """Landmark analyses of OS by CR/CRi achieved by each landmark."""
    competing_risks: bool = True
    """Cumulative incidence of relapse with non-relapse mortality competing; Gray's test."""
    missing_covariates: list[Covariate] = Field(default_factory=lambda: [Covariate(column="CD19NEG",
                                                                                   reference="N")])
    """Covariates added to the Cox model: complete case vs missing as a category."""

    @field_validator("missing_covariates", mode="before")
    @classmethod
    def _columns(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"column": x} if isinstance(x, str) else x for x in v]
        return v


class StyleSettings(_Section):
    journal: Literal["blood", "jama", "nejm", "lancet"] = "blood"
    """Journal whose style the text, tables and figures follow: P values, decimal mark, separator of
    interval limits, percentage decimals, figure widths and font (analysis/present/style.py JOURNALS,
    whose keys must be these names; this default is the only one)."""


class RevisionsSettings(_Section):
    submitted_ledger: str | None = None
    """Ledger (numbers.json) of the submitted version: a file, relative to the configuration file (it must
    exist when the configuration is read), or a git revision REV:PATH. When set, each render also writes
    <doc>-marked-up.html/.docx (every changed number with its previous value) and the change table;
    default none: no marked-up copy."""


class Settings(_Section):
    """Every analysis choice. Unknown keys are errors."""

    study_id: str = Field("CART-RELAPSE", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
    """Study identifier (STUDYID in ADaM): up to 20 letters, digits, - and _, starting with a letter or digit."""
    data: DataSettings = Field(default_factory=DataSettings)
    definitions: DefinitionsSettings = Field(default_factory=DefinitionsSettings)
    tests: TestsSettings = Field(default_factory=TestsSettings)
    survival: SurvivalSettings = Field(default_factory=SurvivalSettings)
    cox: CoxSettings = Field(default_factory=CoxSettings)
    sensitivity: SensitivitySettings = Field(default_factory=SensitivitySettings)
    style: StyleSettings = Field(default_factory=StyleSettings)
    revisions: RevisionsSettings = Field(default_factory=RevisionsSettings)

    @model_validator(mode="after")
    def _no_overlap(self) -> "Settings":
        model = {c.column for c in self.cox.covariates}
        both = sorted(model & {c.column for c in self.sensitivity.missing_covariates})
        if both:
            raise ValueError(
                f"sensitivity.missing_covariates lists {', '.join(both)}, already in cox.covariates: "
                "the sensitivity analysis adds covariates to the model; remove it from one of the lists")
        return self


def _type_text(ann: Any) -> str:
    """A setting's type as a user reads it: 'one of spss, log, log-log', 'list of number', ..."""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is Annotated:
        return _type_text(args[0])
    if origin is list:
        return "list of " + _type_text(args[0])
    if args and origin in (Union, getattr(__import__("types"), "UnionType", Union)):
        return " or ".join(_type_text(a) for a in args if a is not type(None)) + (
            " (optional)" if type(None) in args else "")
    names = {str: "text", int: "integer", float: "number", bool: "true/false"}
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "entry (" + ", ".join(ann.model_fields) + ")"
    return names.get(ann, getattr(ann, "__name__", str(ann)))


def describe_settings() -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of every setting, for documentation."""
    rows = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, f in model.model_fields.items():
            ann = f.annotation
            if isinstance(ann, type) and issubclass(ann, _Section) and ann is not SourceEntry:
                walk(ann, f"{prefix}{name}.")
                continue
            default = f.get_default(call_default_factory=True)
            if isinstance(default, list):
                default = [d.model_dump(exclude_none=True) if isinstance(d, BaseModel) else d for d in default]
            rows.append((prefix + name, _type_text(ann), json.dumps(default, default=str),
                         (f.description or "").replace("\n", " ")))

    walk(Settings, "")
    return rows


# --------------------------------------------------------------------------- sources and the Config


@dataclass(frozen=True)
class Source:
    """One input file: a site's export."""

    path: Path
    site: str | None = None
    sheet: str | int | None = None
    mapping: Path | None = None
    header_row: int | None = None
    #: where the entry's keys are written, for messages: "sheet" -> "sources.yml line 7" (empty: not from a list)
    written: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Config:
    """The parsed configuration: where the data are, and the typed settings."""

    path: Path
    sources: tuple[Source, ...]
    dictionary_path: Path
    settings: Settings
    id_key_path: Path | None = None

    @property
    def study_id(self) -> str:
        return self.settings.study_id

    def analysis_hash(self) -> str:
        """Hash of the analysis choices (every setting but the data location and the submitted
        version to compare with), defaults included."""
        choices = self.settings.model_dump(mode="json", exclude={"data", "revisions"})
        text = json.dumps(choices, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _model_in(ann: Any) -> type[BaseModel] | None:
    """The settings model inside an annotation (``list[Covariate]`` -> Covariate), if any."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    return next((m for m in map(_model_in, typing.get_args(ann)) if m is not None), None)


def _fields_at(loc: tuple) -> list[str]:
    """Names of the settings allowed at a location (for "did you mean")."""
    model: Any = Settings
    for part in (p for p in loc if not isinstance(p, int)):
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            return []
    return list(model.model_fields)


#: pydantic's messages as a user reads them (error type -> text, filled from the error's ``ctx``)
_PLAIN = {
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be {le} or less",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list: [a, b] or one '- item' per line",
}


def _plain(err: dict, loc: tuple) -> str | None:
    """The message of a pydantic error in plain words (what follows "key: "), or None to keep pydantic's."""
    kind, value = err["type"], err["input"]
    got = "" if isinstance(value, dict) else f" (got {value!r})"
    if kind in _PLAIN:
        return _PLAIN[kind].format(**{k: f"{v:g}" if isinstance(v, float) else v
                                      for k, v in (err.get("ctx") or {}).items()}) + got
    if kind in ("model_type", "dict_type"):  # a value where an entry or a section of settings belongs
        fields = _fields_at(loc)
        if loc and isinstance(loc[-1], int):
            return "must be an entry written as {" + ", ".join(f"{f}: ..." for f in fields) + "}" + got
        return f"must hold its settings ({', '.join(fields)}), one 'name: value' per line below it{got}"
    if kind == "string_pattern_mismatch":  # the setting's description says what is allowed
        model: Any = Settings
        for part in loc[:-1]:
            model = _model_in(model.model_fields[part].annotation) if isinstance(part, str) else model
        described = model.model_fields[loc[-1]].description if model and loc[-1] in model.model_fields else None
        return f"{value!r} is not allowed; {described[0].lower()}{described[1:]}" if described else None
    return None


def _format_errors(exc: ValidationError, path: Path, node) -> list[str]:
    out, seen = [], set()
    errors = exc.errors()
    # a source is a file name or an entry: only the errors of the form it was written in
    entry = {e["loc"][:-1]: isinstance(e["input"], dict) for e in errors if e["loc"][-1:] == ("str",)
             and e["loc"][-2:-1] and isinstance(e["loc"][-2], int)}
    for err in errors:
        raw = err["loc"]
        form = next((i for i, p in enumerate(raw) if p in ("str", "SourceEntry") and raw[:i] in entry), None)
        if form is not None and (raw[form] == "SourceEntry") != entry[raw[:form]]:
            continue
        loc = tuple(p for p in raw if not (isinstance(p, str) and p in ("str", "int", "SourceEntry",
                                                                         "function-after")))
        if loc and (loc, err["type"] in _PLAIN) in seen:  # one message for a value that fits no form
            continue
        seen.add((loc, err["type"] in _PLAIN))
        if not loc:  # a check across settings: point at the first setting its message names
            named = next((k for k in re.findall(r"\b[a-z_]+\.[a-z_.]+[a-z]", err["msg"])
                          if line_of(node, k.split(".")) is not None), None)
            loc = tuple(named.split(".")) if named else ()
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top level)"
        line = line_of(node, loc)
        where = f"{path.name} line {line}" if line else path.name
        kind = err["type"]
        if kind == "extra_forbidden":
            parent, name = loc[:-1], loc[-1]
            msg = f"unknown setting '{key}'{_suggest(name, _fields_at(parent))}"
        elif kind == "literal_error":
            allowed = [a.strip().strip("'") for a in err["ctx"]["expected"].replace(" or ", ", ").split(",")]
            same = [a for a in allowed if a.casefold() == str(err["input"]).casefold()]  # 'LOG': 'log'
            msg = (f"{key}: '{err['input']}' is not allowed; choose one of {', '.join(allowed)}"
                   f"{_suggest(same[0] if same else err['input'], allowed)}")
        elif kind == "missing":
            msg = f"{key}: required setting is missing"
        elif (plain := _plain(err, loc)) is not None:
            msg = f"{key}: {plain}"
        else:
            text = err["msg"].removeprefix("Value error, ")
            msg = f"{key}: {text} (got {err['input']!r})" if not isinstance(err["input"], dict) else f"{key}: {text}"
            msg = text if text.startswith(f"{key} ") else msg
        out.append(f"{where}: {msg}")
    return out


def parse_settings(raw: Any, *, path: Path, node=None) -> Settings:
    """Validate a parsed configuration; every problem at once as ConfigError."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: the configuration must be a set of 'key: value' settings")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(_format_errors(exc, path, node))) from None


def _number_as_written(node, keys: tuple) -> str | None:
    """The text of a value YAML reads as a number (``010``, ``2.50``), as written; None for anything else."""
    node = node_at(node, keys)
    if isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return node.value
    return None


def _source_from_entry(entry: str | SourceEntry | dict, base: Path, where: str,
                       node=None, keys: tuple = ()) -> Source:
    written = {}
    if node is not None and isinstance(entry, (dict, SourceEntry)):  # where each key is written, for messages
        for key in (entry if isinstance(entry, dict) else entry.model_fields_set):
            line = line_of(node, (*keys, str(key)))
            written[str(key)] = f"{where.split(' line ')[0]} line {line}" if line else where
    if isinstance(entry, str):
        entry = SourceEntry(path=entry)
    elif isinstance(entry, dict):
        try:
            entry = SourceEntry.model_validate(entry)
        except ValidationError as exc:
            keys = [".".join(map(str, e["loc"])) for e in exc.errors()]
            raise ConfigError(f"{where}: each source needs a 'path' and may have site, sheet, mapping "
                              f"(problem with: {', '.join(keys)})") from None
    site = entry.site
    written_site = _number_as_written(node, (*keys, "site")) if node is not None else None
    if written_site is not None:  # `site: 010` is the code "010", not the number YAML reads (8)
        site = written_site
    return Source(
        path=(base / entry.path).resolve(),
        site=site,
        sheet=entry.sheet,
        mapping=(base / entry.mapping).resolve() if entry.mapping else None,
        header_row=entry.header_row,
        written=written,
    )


def _relative_hint(path: Path, base: Path | None) -> str:
    """For a missing file named relative to a configuration in another folder: the same name
    from the current folder or the project exists? Then say paths are relative to the file."""
    if base is None:
        return ""
    try:
        rel = path.relative_to(base)
    except ValueError:
        return ""
    for root in (Path.cwd(), PROJECT_ROOT):
        meant = (root / rel).resolve()
        if meant.exists() and meant != path:
            return (f" (paths in a configuration file are relative to its folder, {base}: write "
                    f"{os.path.relpath(meant, base)})")
    return ""


def _check_sources(sources: tuple[Source, ...], where: str, base: Path | None = None) -> list[str]:
    problems = []
    for s in sources:
        if not s.path.exists():
            at = s.written.get("path", where)
            problems.append(f"{at}: data file {s.path} does not exist{_relative_hint(s.path, base)}")
        elif s.path.suffix.lower() not in SUPPORTED_SUFFIXES:
            problems.append(f"{where}: {s.path.name} is not a supported data file "
                            f"(expected {', '.join(SUPPORTED_SUFFIXES)})")
        if s.mapping is not None and not s.mapping.exists():
            problems.append(f"{s.written.get('mapping', where)}: mapping file {s.mapping} does not exist"
                            f"{_relative_hint(s.mapping, base)}")
    return problems


def sources_from_override(value: str | os.PathLike, *, cwd: Path | None = None) -> tuple[Source, ...]:
    """Data sources named by an override: a data file, a folder of data files,
    or a YAML file with a ``sources:`` list (paths relative to that file)."""
    path = Path(value)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    path = path.resolve()
    if not path.exists():
        raise ConfigError(f"data path {value} does not exist")
    if path.is_dir():
        listed = [path / name for name in ("sources.yml", "sources.yaml") if (path / name).is_file()]
        if listed:  # the folder's own list of site files with their mappings and sheets
            return sources_from_override(listed[0], cwd=cwd)
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise ConfigError(
                f"folder {value} holds no data file ({', '.join(SUPPORTED_SUFFIXES)})"
            )
        return tuple(Source(path=p) for p in files)
    if path.suffix.lower() in (".yml", ".yaml"):
        try:
            spec, node = load_yaml(path, what="sources file")
        except UserFileError as exc:
            raise ConfigError(str(exc)) from None
        entries = spec.get("sources") if isinstance(spec, dict) else None
        if not entries or not isinstance(entries, list):
            raise ConfigError(f"{path}: no 'sources:' list (one entry per site file: path, and optionally "
                              "site, sheet, mapping)")
        out, problems = [], [f"{path} line {line}: {message.rstrip('.')}" for line, message in duplicate_keys(node)]
        for i, e in enumerate(entries):
            line = line_of(node, ["sources", i])
            where = f"{path} line {line}" if line else str(path)
            try:
                out.append(_source_from_entry(e, path.parent, where, node, ("sources", i)))
            except ConfigError as exc:
                problems.append(str(exc))
        problems += _check_sources(tuple(out), str(path))
        if problems:
            raise ConfigError("\n".join(problems))
        return tuple(out)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ConfigError(
            f"{value} is not a supported data file (expected {', '.join(SUPPORTED_SUFFIXES)})"
        )
    return (Source(path=path),)


#: ``REV:PATH``, a ledger committed at a git revision (how analysis/ledger.py reads a ledger argument and
#: revisions.submitted_ledger, with this pattern)
GIT_REVISION = re.compile(r"^([^:\s]+):(.+\.json)$")


def _check_submitted_ledger(value: str | None, cfg_path: Path, node) -> list[str]:
    """A submitted ledger named as a file must exist when the configuration is read, not only when
    the post-render step reads it after the whole render (analysis/revisions/render.py). A git
    revision REV:PATH is left to that step: which repository ``git show`` reads depends on where
    it runs."""
    if not value:
        return []
    candidate = (cfg_path.parent / value).resolve()
    if candidate.is_file() or (not candidate.exists() and GIT_REVISION.match(value)):
        return []
    line = line_of(node, ["revisions", "submitted_ledger"])
    where = f"{cfg_path.name}{f' line {line}' if line else ''}: revisions.submitted_ledger"
    if candidate.is_dir():
        return [f"{where}: {value} is a folder; name the ledger file in it (its numbers.json)"]
    return [f"{where}: cannot read the submitted ledger {value}: there is no file {candidate}"
            f"{_relative_hint(candidate, cfg_path.parent)} (name the submitted version's numbers.json, or a git "
            f"revision REV:PATH; for no marked-up copy, delete the setting)"]


def load_config(path: str | os.PathLike | None = None, *, data: str | os.PathLike | None = None) -> Config:
    """Read and check the configuration and apply a data override, if any.

    The configuration file is ``path``, else the environment variable
    CART_CONFIG, else ``analysis.yml``; the data are ``data``, else CART_DATA,
    else the configuration's ``data: sources``. Every problem is reported at
    once as :class:`ConfigError`.
    """
    path = path or os.environ.get(CONFIG_ENV_VAR) or None
    cfg_path = Path(path).resolve() if path else DEFAULT_CONFIG
    if not cfg_path.exists():
        raise ConfigError(f"configuration file {cfg_path} does not exist")
    try:
        raw, node = load_yaml(cfg_path, what="configuration file")
    except UserFileError as exc:
        raise ConfigError(str(exc)) from None
    # a section or setting written twice: PyYAML keeps the last without a word (as in a mapping file)
    problems = [f"{cfg_path.name} line {line}: {message.rstrip('.')}" for line, message in duplicate_keys(node)]
    try:
        settings = parse_settings(raw, path=cfg_path, node=node)
    except ConfigError as exc:
        raise ConfigError("\n".join([*problems, str(exc)])) from None
    base = cfg_path.parent
    override = data if data not in (None, "") else os.environ.get(DATA_ENV_VAR) or None
    sources: tuple[Source, ...] = ()
    if override:
        try:
            sources = sources_from_override(override)
        except ConfigError as exc:
            problems.append(str(exc))
    else:
        if not settings.data.sources:
            problems.append(f"{cfg_path.name}: no data sources under data: sources: "
                            f"(or name the data with {DATA_ENV_VAR})")
        for i, e in enumerate(settings.data.sources):
            line = line_of(node, ["data", "sources", i])
            sources += (_source_from_entry(e, base, f"{cfg_path.name} line {line}", node, ("data", "sources", i)),)
        problems += _check_sources(sources, f"{cfg_path.name} (data: sources)", base)
    dictionary = (base / settings.data.dictionary).resolve() if settings.data.dictionary else DEFAULT_DICTIONARY
    if not dictionary.exists():
        line = line_of(node, ["data", "dictionary"])
        problems.append(f"{cfg_path.name}{f' line {line}' if line else ''}: data.dictionary: "
                        f"file {dictionary} does not exist{_relative_hint(dictionary, base)}")
    problems += _check_submitted_ledger(settings.revisions.submitted_ledger, cfg_path, node)
    if problems:
        raise ConfigError("\n".join(problems))
    # a key file named in the file is relative to it; the default is the project's key
    key_base = base if "id_key" in settings.data.model_fields_set else PROJECT_ROOT
    return Config(path=cfg_path, sources=sources, dictionary_path=dictionary, settings=settings,
                  id_key_path=(key_base / settings.data.id_key).resolve())


# --------------------------------------------------------------------------- checks against the data

#: ADSL groups made by a cut-off of ``definitions`` (analysis/derive.py): group column -> (setting,
#: the measured column it groups, its unit), for messages that name the setting behind a group
GROUPED_BY_DEFINITION = {
    "AGEGR1": ("adult_age_years", "AGE", " years"),
    "BMBURDEN": ("high_marrow_burden_pct", "BMBLAST", "%"),
}

#: ADSL columns made from an input column the data may leave out (data/dictionary.yml, required: false):
#: ADSL column -> that input column. Without it the ADSL column, and a group made from it by a cut-off
#: (GROUPED_BY_DEFINITION), is missing for every patient, and a Cox model with it cannot be fitted.
OPTIONAL_INPUTS = {
    "BMBLAST": "marrow_blasts_pct",
    "CYTORISK": "cytogenetic_risk",
}


def optional_input(column: str) -> str | None:
    """The optional input column ADSL ``column`` is made from, following a group to
    the measure it groups ("BMBURDEN" -> "BMBLAST" -> "marrow_blasts_pct"); None
    when it needs no optional column."""
    measured = GROUPED_BY_DEFINITION[column][1] if column in GROUPED_BY_DEFINITION else column
    return OPTIONAL_INPUTS.get(measured)


def check_against_data(settings: Settings, adsl, *, followup_months: float, where: str = "configuration",
                       path: Path | None = None) -> None:
    """Settings that name ADSL columns and levels, or times, checked against the
    derived data before any computation; every problem at once as ConfigError.
    With the configuration file's ``path``, each problem names its file and line
    (a setting left at its default: the file and "default")."""
    problems: list[str] = []
    columns = list(adsl.columns)
    node = None
    if path is not None:
        try:
            node = load_yaml(path, what="configuration file")[1]
        except UserFileError:
            node = None

    def at(*loc: str | int) -> str:
        if path is None:
            return where
        written = node_at(node, loc)  # is the setting written in the file, or left at its default?
        line = line_of(node, loc) if written is not None else None
        return f"{Path(path).name} line {line}" if line else f"{Path(path).name} (default of {loc[0]})"

    # the patients the Cox models are fitted to (analysis/derive.py Derived.tte: the salvage set is SALVFL "Y")
    analysed = adsl
    if settings.survival.population == "salvage" and "SALVFL" in adsl.columns:
        analysed = adsl[adsl["SALVFL"] == "Y"]

    def grouped_from(column: str) -> str:
        """", or use its groups, AGEGR1 (definitions.adult_age_years)" for a number that has groups."""
        groups = [(g, s) for g, (s, source, _) in GROUPED_BY_DEFINITION.items() if source == column]
        return "".join(f", or use its groups, {g} (cut-off definitions.{s})" for g, s in groups)

    def check_covariates(key: str, covs: list[Covariate], *, one_level: bool) -> None:
        for i, c in enumerate(covs):
            if c.column not in adsl.columns:
                problems.append(f"{at(*key.split('.'), i, 'column')}: {key}[{i}].column: '{c.column}' is not an "
                                f"analysis variable{_suggest(c.column, columns)}")
                continue
            values = analysed[c.column].dropna()
            numeric = values.dtype.kind in "biuf"  # as the Cox model reads it (compute/cox.py _is_categorical)
            if numeric and c.reference is not None:  # the model refused it, and left the manuscript
                problems.append(f"{at(*key.split('.'), i, 'reference')}: {key}[{i}].reference: {c.column} is a "
                                f"number, which enters the model as it is (a hazard ratio per unit) and has no "
                                f"reference level: delete reference: '{c.reference}'{grouped_from(c.column)}")
                continue
            levels = sorted(map(str, values.unique()))
            refused = single_level(key, i, c.column, levels) if one_level and len(levels) < 2 else None
            if refused is not None:        # nothing to compare, because of a setting: the model cannot be fitted
                problems.append(refused)
                continue
            if c.reference is not None and len(values) and not numeric:
                if c.reference not in levels:
                    problems.append(f"{at(*key.split('.'), i, 'reference')}: {key}[{i}].reference: '{c.reference}' "
                                    f"is not a level of {c.column} in these data; choose one of "
                                    f"{', '.join(levels)}{_suggest(c.reference, levels)}")

    def single_level(key: str, i: int, column: str, levels: list[str]) -> str | None:
        """A covariate with one value among the analysed patients because of a setting: a group
        made by a cut-off of ``definitions`` that puts every patient on one side although their
        values differ; the problem names that cut-off and the values that give two groups. None
        when the data themselves have one value (a salvage group nobody received, a covariate
        recorded for nobody): not a setting's fault, the analysis reports the model not
        estimable and says why (tests/test_degenerate.py)."""
        if not levels or column not in GROUPED_BY_DEFINITION:
            return None
        setting, source, unit = GROUPED_BY_DEFINITION[column]
        measured = analysed[source].dropna() if source in analysed.columns else []
        lowest, highest = (float(min(measured)), float(max(measured))) if len(measured) else (0.0, 0.0)
        if not lowest < highest:
            return None
        cut = getattr(settings.definitions, setting)
        covariate = f"{key}[{i}], {at(*key.split('.'), i, 'column')}"
        return (f"{at('definitions', setting)}: definitions.{setting}: {cut:g}{unit} puts every analysed "
                f"patient in the same group of {column} ('{levels[0]}'), a covariate of the Cox model "
                f"({covariate}) that then has nothing to compare: choose a cut-off above {lowest:g} and at "
                f"most {highest:g}{unit} (the lowest and highest {source} of the analysed patients) or remove "
                f"{column} from {key}")

    check_covariates("cox.covariates", settings.cox.covariates, one_level=True)
    # missing as a category can make a second level of a column with one value: the sensitivity code decides
    check_covariates("sensitivity.missing_covariates", settings.sensitivity.missing_covariates, one_level=False)
    for key, times in (("survival.landmarks_months", settings.survival.landmarks_months),
                       ("sensitivity.landmark_months", settings.sensitivity.landmark_months)):
        late = [t for t in times if t > followup_months]
        if late:
            problems.append(f"{at(*key.split('.'))}: {key}: {', '.join(f'{t:g}' for t in late)} months is beyond "
                            f"the last follow-up ({followup_months:.1f} months); no estimate exists there: choose "
                            f"landmarks up to {followup_months:.1f} months")
    if problems:
        raise ConfigError("\n".join(problems))
