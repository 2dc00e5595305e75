"""Is this render's stamp the one recorded earlier? A fast, sound check.

The stamp of a render (:func:`analysis.present.document.input_stamp`: hashes of
the data, the analysis configuration and the code) costs little to compute,
but computing it needs the configuration read and checked
(:func:`analysis.config.load_config`, i.e. pydantic) and, before that, the
imports: about 0.1-0.4 s in each of the eight processes of a render (the
pre-render step, six document executions, the post-render step), also when
nothing changed.

So when the pre-render step computes the stamp the full way, it also records
a **witness** (:func:`record`, kept in ``_generated/prepared.json``): exactly
what that computation read, by content, not by modification time:

* ``inputs``: the working folder, the environment variables CART_DATA and
  CART_CONFIG, and the ``data``/``config`` arguments (a document's
  parameters);
* ``files``: the SHA-256 of every file read: the configuration, each data file
  and mapping file, the dictionary and a sources list (``sources.yml``);
* ``routes``: every path as written (configuration, environment variable,
  sources list) with the file it resolved to, so a symbolic link pointed
  elsewhere (``data/current -> freeze2``) is seen;
* ``listings``: the data files of a folder named as the data (a new site file
  changes the sources);
* the code version (:func:`analysis.code_version`, recomputed every time: it
  hashes the package's source files) and the stamp itself.

A later process (:func:`fresh_stamp`) re-reads and re-hashes those, with the
standard library only, and trusts the recorded stamp when every one is equal;
anything else (a changed, added, removed or re-pointed file, another
variable, other code, no witness) returns None and the caller takes the full
path, with today's messages on stale or missing files.

The witness is only recorded when the paths it re-derives are exactly the
files the configuration resolved (:func:`record` checks that), so a
configuration this module does not understand always takes the full path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

ENV_VARS = ("CART_DATA", "CART_CONFIG")
_DATA_SUFFIXES = (".csv", ".xlsx", ".xls", ".sav")     # analysis.config.SUPPORTED_SUFFIXES (checked in record)


def inputs(*, data: Any = None, config: Any = None) -> dict[str, Any]:
    """What decides which files the configuration reads."""
    return {"cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in ENV_VARS},
            "data": None if data in (None, "") else os.fspath(data),
            "config": None if config in (None, "") else os.fspath(config)}


def digest(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in _DATA_SUFFIXES or
                  p.name in ("sources.yml", "sources.yaml"))


def _route(unresolved: Path, routes: dict[str, str]) -> str:
    resolved = os.path.realpath(unresolved)
    routes[str(unresolved)] = resolved
    return resolved


def _entry_routes(entries: list, base: Path, routes: dict[str, str]) -> set[str]:
    """Where each source entry's data and mapping files resolve (as the configuration resolves them)."""
    out = set()
    for e in entries:
        if isinstance(e, str):
            path, mapping = e, None
        else:
            path = e["path"] if isinstance(e, dict) else e.path
            mapping = e.get("mapping") if isinstance(e, dict) else e.mapping
        for written in (path, mapping):
            if written:
                out.add(_route(base / written, routes))
    return out


def record(cfg: Any, stamp: dict[str, str], *, data: Any = None, config: Any = None) -> dict[str, Any] | None:
    """The witness of ``stamp``, computed from ``cfg`` (read the full way from
    ``data``/``config`` in this process's environment); None when the
    configuration's files cannot be re-derived exactly (the full path is then
    always taken)."""
    import yaml

    from .config import DEFAULT_CONFIG, SUPPORTED_SUFFIXES

    if tuple(SUPPORTED_SUFFIXES) != _DATA_SUFFIXES:
        return None
    given = inputs(data=data, config=config)
    routes: dict[str, str] = {}
    listings: dict[str, list[str]] = {}
    read: list[Path] = [Path(cfg.path)]
    written_config = given["config"] or given["env"]["CART_CONFIG"]
    if written_config:
        if _route(Path.cwd() / written_config, routes) != str(cfg.path):
            return None
    elif Path(cfg.path) != DEFAULT_CONFIG:
        return None
    override = given["data"] or given["env"]["CART_DATA"]
    try:
        if override:
            target = Path(_route(Path.cwd() / override, routes))
            listed: Path | None = target
            if target.is_dir():
                listings[str(target)] = _listing(target)
                found = [target / n for n in ("sources.yml", "sources.yaml") if (target / n).is_file()]
                listed = Path(_route(found[0], routes)) if found else None    # the list may be a link
                if listed is None:
                    derived = {str(target / n) for n in listings[str(target)]}
            if listed is not None and listed.suffix.lower() in (".yml", ".yaml"):
                read.append(listed)
                spec = yaml.safe_load(listed.read_text(encoding="utf-8"))
                derived = _entry_routes(spec["sources"], listed.parent, routes)
            elif listed is not None:
                derived = {str(target)}
        else:
            derived = _entry_routes(list(cfg.settings.data.sources), Path(cfg.path).parent, routes)
        if cfg.settings.data.dictionary:
            if _route(Path(cfg.path).parent / cfg.settings.data.dictionary, routes) != str(cfg.dictionary_path):
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        return None
    wanted = {str(s.path) for s in cfg.sources} | {str(s.mapping) for s in cfg.sources if s.mapping}
    if derived != wanted:
        return None                  # not understood: never trusted
    files = {str(p): digest(p) for p in [*read, *(s.path for s in cfg.sources),
                                         *(s.mapping for s in cfg.sources if s.mapping), cfg.dictionary_path]}
    return {"inputs": given, "files": files, "routes": routes, "listings": listings,
            "stamp": {k: stamp[k] for k in ("data_hash", "config_hash", "code_version")}}


def fresh_stamp(witness: Any, *, data: Any = None, config: Any = None) -> dict[str, str] | None:
    """The recorded stamp if nothing it was computed from changed (see the module docstring), else None."""
    from . import code_version

    try:
        if witness["inputs"] != inputs(data=data, config=config):
            return None
        if witness["stamp"]["code_version"] != code_version():
            return None
        for unresolved, resolved in witness["routes"].items():
            if os.path.realpath(unresolved) != resolved:
                return None
        for folder, names in witness["listings"].items():
            if _listing(Path(folder)) != names:
                return None
        for path, want in witness["files"].items():
            if digest(path) != want:
                return None
        return dict(witness["stamp"])
    except (OSError, KeyError, TypeError, AttributeError):
        return None
