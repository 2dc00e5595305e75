"""The post-render step: numbers ledger, ADaM exports and submission figures
of one render, written as one set (``python -m analysis export --out DIR``).

* No second analysis: the results the pre-render step stored
  (``_generated/results.pkl``, :mod:`analysis.store`) are loaded when they
  were made from this render's data, configuration and code; otherwise (the
  command run on its own, or after the inputs changed) they are computed here.
* Figures drawn only when their inputs changed: the PDF, SVG and 600-dpi TIFF
  files are keyed by :func:`figure_key` (hashes of data, configuration and
  code, which includes the figure code, plus the matplotlib and Pillow
  versions). Drawn files are kept in a cache folder (``.cache/figures/KEY``
  at the project root, the latest key only: Quarto may empty its output
  folder before a render); when the cache holds the key, its files are
  reused (hard links, else copies) instead of redrawn.
* One set: everything is written into a fresh folder and swapped in only when
  complete (:func:`analysis.outputs.output_set`), so ``DIR`` shows either the
  earlier complete run or the new one, never a mixture, even if the process
  is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from .config import PROJECT_ROOT, Config, load_config
from .outputs import output_set, write_text_atomic
from .present import style

ENTRIES = ["numbers.json", "adam", "figures", "tables"]
MANIFEST = "manifest.json"      # in the run's folder, beside the entries: what the set was made from


def figure_key(stamp: dict[str, str]) -> str:
    from importlib.metadata import version

    parts = {k: stamp[k] for k in ("data_hash", "config_hash", "code_version")}
    parts.update(matplotlib=version("matplotlib"), pillow=version("pillow"))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def read_manifest(run: Path | None) -> dict:
    try:
        return json.loads((run / MANIFEST).read_text(encoding="utf-8")) if run else {}
    except (OSError, ValueError):
        return {}


CACHE_ENV_VAR = "CART_FIGURE_CACHE"     # another cache folder (tests)


def figure_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV_VAR) or PROJECT_ROOT / ".cache" / "figures")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _reuse_figures(cache: Path, key: str, names: list[str], into: Path) -> bool:
    """Link (or copy) the cached figures of ``key`` into ``into``; False if
    they must be drawn."""
    source = cache / key
    if not all((source / n).is_file() and (source / n).stat().st_size > 0 for n in names):
        return False
    into.mkdir()
    for n in names:
        _link_or_copy(source / n, into / n)
    return True


def _cache_figures(cache: Path, key: str, drawn: Path, names: list[str]) -> None:
    """Keep the figures just drawn as the cache of ``key`` (written under a
    temporary name, renamed when complete; other keys are removed)."""
    import tempfile

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache))
    for n in names:
        _link_or_copy(drawn / n, tmp / n)
    shutil.rmtree(cache / key, ignore_errors=True)
    os.rename(tmp, cache / key)
    for old in cache.iterdir():
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)


def export(out: str | Path, cfg: Config | None = None, *, xpt: bool = True,
           cache: Path | None = None) -> list[Path]:
    """Write ``numbers.json``, ``adam/``, ``figures/`` and ``tables/`` into ``out`` as one set;
    returns the paths as seen in ``out``."""
    from .adam import write_adam
    from .ledger import build_ledger, write_ledger
    from .present import figures
    from .present.table_files import write_table_files
    from .present.document import compute, input_stamp, results_path
    from .store import StaleResultsError, load_results

    cfg = cfg or load_config()
    want = input_stamp(cfg)
    try:
        doc = load_results(results_path(), want)
    except StaleResultsError:
        doc = None                   # stored for other inputs: this step computes its own
    if doc is None:
        doc = compute(cfg=cfg)
    style.use_journal(doc.results.settings.style.journal)
    style.use_alpha(doc.results.settings.tests.alpha)
    out = Path(out)
    key = figure_key(want)
    cache = figure_cache() if cache is None else cache
    figure_files = [f"{stem}.{ext}" for stem in figures.FIGURE_STEMS for ext in ("pdf", "svg", "tiff")]
    with output_set(out, ENTRIES) as run:
        write_ledger(run / "numbers.json", build_ledger(doc.registry, PROJECT_ROOT, results=doc.results))
        adam = [p.name for p in write_adam(doc.results.derived, run / "adam", xpt=xpt)]
        reused = _reuse_figures(cache, key, figure_files, run / "figures")
        if not reused:
            figure_files = [p.name for p in figures.export_all(doc.results, run / "figures")]
            _cache_figures(cache, key, run / "figures", figure_files)
        tables = [p.relative_to(run / "tables") for p in write_table_files(doc.results, run / "tables")]
        write_text_atomic(run / MANIFEST, json.dumps(
            {"stamp": doc.registry.stamp, "figure_key": key, "figures_reused": reused,
             "entries": ENTRIES}, indent=2) + "\n")
    return ([out / "numbers.json"] + [out / "adam" / n for n in adam]
            + [out / "figures" / n for n in figure_files] + [out / "tables" / n for n in tables])
