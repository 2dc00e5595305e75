"""The analysis configuration: where the data are and how they are analysed.

One file, ``analysis.yml`` at the project root, holds every choice. The data
location can be overridden without editing anything, in this order of
precedence: an explicit ``data=`` argument (the Quarto parameter ``data``),
then the environment variable ``CART_DATA``, then ``analysis.yml``. Another
configuration file can be named by ``CART_CONFIG`` (or ``--config``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "analysis.yml"
DATA_ENV_VAR = "CART_DATA"
CONFIG_ENV_VAR = "CART_CONFIG"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".xls", ".sav")


class ConfigError(Exception):
    """The configuration (or a data override) cannot be used as written."""


@dataclass(frozen=True)
class Source:
    """One input file: a site's export."""

    path: Path
    site: str | None = None
    sheet: str | int | None = None
    mapping: Path | None = None


@dataclass(frozen=True)
class Config:
    """The parsed configuration. ``settings`` keeps every section as written."""

    path: Path
    sources: tuple[Source, ...]
    dictionary_path: Path
    settings: dict[str, Any] = field(hash=False, compare=False)

    @property
    def study_id(self) -> str:
        return str(self.settings.get("study_id", "STUDY"))

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.settings.get(name) or {})

    def analysis_hash(self) -> str:
        """Hash of the analysis choices (everything but the data location)."""
        choices = {k: v for k, v in self.settings.items() if k != "data"}
        text = json.dumps(choices, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _source_from_entry(entry: Any, base: Path) -> Source:
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, dict) or "path" not in entry:
        raise ConfigError(f"each data source needs a 'path'; got {entry!r}")
    mapping = entry.get("mapping")
    return Source(
        path=(base / entry["path"]).resolve(),
        site=entry.get("site"),
        sheet=entry.get("sheet"),
        mapping=(base / mapping).resolve() if mapping else None,
    )


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
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise ConfigError(
                f"folder {value} holds no data file ({', '.join(SUPPORTED_SUFFIXES)})"
            )
        return tuple(Source(path=p) for p in files)
    if path.suffix.lower() in (".yml", ".yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = spec.get("sources") if isinstance(spec, dict) else None
        if not entries:
            raise ConfigError(f"{value} has no 'sources:' list")
        return tuple(_source_from_entry(e, path.parent) for e in entries)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ConfigError(
            f"{value} is not a supported data file (expected {', '.join(SUPPORTED_SUFFIXES)})"
        )
    return (Source(path=path),)


def load_config(path: str | os.PathLike | None = None, *, data: str | os.PathLike | None = None) -> Config:
    """Read the configuration and apply a data override, if any.

    The configuration file is ``path``, else the environment variable
    CART_CONFIG, else ``analysis.yml``; the data are ``data``, else CART_DATA,
    else the configuration's ``data: sources``.
    """
    path = path or os.environ.get(CONFIG_ENV_VAR) or None
    cfg_path = Path(path).resolve() if path else DEFAULT_CONFIG
    if not cfg_path.exists():
        raise ConfigError(f"configuration file {cfg_path} does not exist")
    settings = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    base = cfg_path.parent
    data_section = settings.get("data") or {}
    override = data if data not in (None, "") else os.environ.get(DATA_ENV_VAR) or None
    if override:
        sources = sources_from_override(override)
    else:
        entries = data_section.get("sources") or []
        if not entries:
            raise ConfigError(f"{cfg_path.name} lists no data sources under data: sources:")
        sources = tuple(_source_from_entry(e, base) for e in entries)
    dictionary = base / data_section.get("dictionary", "data/dictionary.yml")
    return Config(path=cfg_path, sources=sources, dictionary_path=dictionary.resolve(), settings=settings)
