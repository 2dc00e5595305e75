"""The analysis results stored once per render, for every document execution to load.

Quarto executes each document once per output format: six executions per
render. Instead of running the analysis in each, the pre-render step
(``python -m analysis prepare``) stores what it computed in
``_generated/results.pkl`` and the documents load it.

Why pickle: the results object (pandas frames, frozen dataclasses, the numbers
registry) round-trips through pickle exactly, with no schema to keep in step
with the code, and loading it is a few milliseconds. Pickle can run code
while loading, so a file is only unpickled after its header has matched:

* a first line ``CART-RESULTS 1`` and a JSON header holding the *stamp* the
  results were computed from (hashes of the data, the analysis configuration
  and the code, see :func:`analysis.present.document.input_stamp`), the
  Python, pandas and numpy versions, and the SHA-256 of the pickled bytes;
* a stamp that differs from the stamp of the data, configuration and code of
  this render raises :class:`StaleResultsError` (never shows other numbers);
* other library versions, a damaged or edited file (hash mismatch, short
  file, unknown format) raise :class:`StaleResultsError` too;
* no file: :func:`load_results` returns None and the caller computes.

The file is written atomically (temporary name, then rename).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from pathlib import Path
from typing import Any

from .outputs import write_bytes_atomic

MAGIC = b"CART-RESULTS 1\n"
STAMP_KEYS = ("data_hash", "config_hash", "code_version")
_WHAT = {"data_hash": "data", "config_hash": "configuration", "code_version": "code"}
REPREPARE = "re-run the pre-render step (`python -m analysis prepare`, which `quarto render` runs first)"


class StaleResultsError(RuntimeError):
    """The stored results cannot be used for this render."""


def runtime() -> dict[str, str]:
    """Versions that decide whether a pickle made elsewhere loads identically."""
    from importlib.metadata import version

    return {"python": platform.python_version(), "pandas": version("pandas"), "numpy": version("numpy")}


def loaded_runtime() -> dict[str, str] | None:
    """:func:`runtime` as the already imported pandas and numpy say (``__version__``, no
    metadata parsed), None when either is not imported. Only ever used to *accept*
    (a light kernel's check); any difference sends the caller to :func:`runtime`."""
    import sys

    modules = [sys.modules.get(name) for name in ("pandas", "numpy")]
    if any(m is None or not isinstance(getattr(m, "__version__", None), str) for m in modules):
        return None
    return {"python": platform.python_version(), "pandas": modules[0].__version__, "numpy": modules[1].__version__}


def environment() -> str:
    """Hash of everything outside the project that can change a generated file
    though data, configuration and code did not: the Python version, every
    installed distribution's name and version (pandas, matplotlib, great_tables,
    python-docx, pypandoc-binary's Pandoc ...), and the ``quarto`` and
    ``pandoc`` executables on PATH (path, size and modification time: a Pandoc
    upgrade changes the Word reference document). Used to decide that files a
    step wrote earlier may be kept instead of written again."""
    import shutil
    import sys
    from importlib.metadata import distributions

    headers_only = _headers_only_class()
    h = hashlib.sha256(sys.version.encode())
    # each metadata parsed once: Distribution.version is its metadata's "Version"
    metadata = [d.metadata for d in map(headers_only, distributions())]
    names = sorted(f"{m['Name']}=={m['Version']}".lower() for m in metadata)
    h.update("\n".join(names).encode())
    for cmd in ("quarto", "pandoc"):
        found = shutil.which(cmd)
        if found:
            st = Path(found).resolve().stat()
            h.update(f"{cmd}:{Path(found).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _headers_only_class() -> type:
    """A :class:`importlib.metadata.Distribution` (the documented way to give it one) that
    is another distribution whose metadata file (``METADATA``, ``PKG-INFO``) reads as its
    header block only: the text up to the first empty line, where the email parser that
    ``Distribution.metadata`` uses ends the headers, so every header (``Name``,
    ``Version`` ...) is parsed exactly as from the whole file, without parsing the long
    description after it (two thirds of :func:`environment`'s time). Text with carriage
    returns is read whole."""
    from importlib.metadata import Distribution

    class HeadersOnly(Distribution):
        def __init__(self, dist: Distribution) -> None:
            self._dist = dist

        def read_text(self, filename: str) -> str | None:
            text = self._dist.read_text(filename)
            if text and filename in ("METADATA", "PKG-INFO", "") and "\r" not in text:
                end = text.find("\n\n")
                if end >= 0:
                    return text[:end + 2]
            return text

        def locate_file(self, path):
            return self._dist.locate_file(path)

    return HeadersOnly


def environment_signature() -> str | None:
    """What :func:`environment` is computed from, read without parsing any package's
    metadata (a fifth of the time): the Python version, each folder on ``sys.path`` with
    the names of its ``*.dist-info``/``*.egg-info`` entries and the SHA-256 of their
    metadata files, and the ``quarto`` and ``pandoc`` executables as there. Equal
    signatures mean an equal :func:`environment`; None where distributions could come
    from elsewhere (a zipped or egg entry on ``sys.path``)."""
    import os
    import shutil
    import sys

    h = hashlib.sha256(sys.version.encode())
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_file() or entry.endswith(".egg"):
            return None
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        h.update(f"\0{entry}\0".encode())
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                path = folder / name
                meta = path / "METADATA" if name.endswith(".dist-info") else (
                    path / "PKG-INFO" if path.is_dir() else path)
                try:
                    data = meta.read_bytes()
                except OSError:
                    data = b"?"
                h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    for cmd in ("quarto", "pandoc"):
        found = shutil.which(cmd)
        if found:
            st = Path(found).resolve().stat()
            h.update(f"{cmd}:{Path(found).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def current_environment(known: dict | None = None) -> str:
    """:func:`environment`; taken from ``known`` (a manifest holding ``environment`` and
    ``environment_signature`` recorded together) when the signature is unchanged."""
    if known and known.get("environment_signature"):
        if environment_signature() == known["environment_signature"]:
            return known["environment"]
    return environment()


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_results(path: Path, obj: Any, stamp: dict[str, str]) -> Path:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = {"stamp": {k: stamp[k] for k in STAMP_KEYS}, "runtime": runtime(),
              "sha256": hashlib.sha256(payload).hexdigest(), "length": len(payload)}
    return write_bytes_atomic(Path(path), MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload)


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        if fh.readline() != MAGIC:
            raise StaleResultsError(f"{path} is not a stored-results file of this version.\nHint: {REPREPARE}.")
        try:
            return json.loads(fh.readline())
        except ValueError:
            raise StaleResultsError(f"{path} is damaged (unreadable header).\nHint: {REPREPARE}.") from None


def load_results(path: Path, stamp: dict[str, str]) -> Any | None:
    """The stored object if ``path`` was made from exactly ``stamp``; None if
    there is no file; :class:`StaleResultsError` otherwise."""
    path = Path(path)
    if not path.exists():
        return None
    header = read_header(path)
    written = header.get("stamp") or {}
    diff = [k for k in STAMP_KEYS if written.get(k) != stamp.get(k)]
    if diff:
        what = " and ".join(_WHAT[k] for k in diff)
        raise StaleResultsError(
            f"{path} holds results computed from other {what} than this render.\nHint: {REPREPARE}.")
    if header.get("runtime") != runtime():
        raise StaleResultsError(
            f"{path} was written by other library versions ({header.get('runtime')}; now {runtime()}).\n"
            f"Hint: {REPREPARE}.")
    with open(path, "rb") as fh:
        fh.readline()
        fh.readline()
        payload = fh.read()
    if len(payload) != header.get("length") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise StaleResultsError(f"{path} is damaged or was edited (its content does not match its hash).\n"
                                f"Hint: {REPREPARE}.")
    return pickle.loads(payload)
