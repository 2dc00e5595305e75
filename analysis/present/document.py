"""What the documents call: one setup call, then one call per chunk.

``setup(data=...)`` returns the results and the ready-made texts
(``t.os_median`` ...) that inline expressions print. The analysis runs once
per render, in the pre-render step (:func:`prepare`), which stores the results
beside ``_variables.yml`` (``_generated/results.pkl``, see
:mod:`analysis.store`); each document execution loads them. Only when no
stored results exist (a chunk run interactively) does ``setup`` compute them.

Nothing can show numbers from other data, configuration or code: ``setup``
first computes the stamp of what this render would use (hashes of the data
files, the analysis configuration and the package code) and stops when
``_variables.yml`` (which feeds the YAML front matter, i.e. the abstract,
through ``{{< var >}}``) or the stored results were made from anything else.

Nothing changed since the pre-render step (a re-render): the stamp is the one
the pre-render step's witness vouches for (:mod:`analysis.freshness`, files
re-hashed, the configuration not read), ``_variables.yml`` and the stored
results are the very files that step wrote for it (SHA-256), and the kernel
shows the displays kept by the render's first execution
(:mod:`.displays`): ``setup`` then loads neither the configuration nor the
results (no pydantic, no pandas of its own, none of the package's display
modules) unless a display that is not kept needs them. Anything else takes
the full path above, with its messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .. import PROJECT_ROOT
from .submission import print_unfilled_placeholders

if TYPE_CHECKING:          # imported where used: a nothing-changed render never needs them (see setup)
    from ..config import Config
    from ..results import Results
    from .numbers import Registry

VARIABLES_FILE = "_variables.yml"
VARIABLES_ENV_VAR = "CART_VARIABLES"   # another variables file (tests render other data side by side)
GENERATED_DIR = "_generated"
RESULTS_FILE = "results.pkl"
GENERATED_RUNS = ".generated"          # the sets written by prepare (see analysis.outputs.output_set)


def variables_path() -> Path:
    override = os.environ.get(VARIABLES_ENV_VAR)
    return Path(override) if override else PROJECT_ROOT / VARIABLES_FILE


def results_path(variables: Path | None = None) -> Path:
    """Where the stored results live: ``_generated/results.pkl`` beside the variables file."""
    return (variables or variables_path()).parent / GENERATED_DIR / RESULTS_FILE


class StaleVariablesError(RuntimeError):
    """_variables.yml does not match the data and configuration being rendered."""


@dataclass(frozen=True)
class Document:
    results: Results
    registry: Registry

    @property
    def t(self) -> SimpleNamespace:
        return self.registry.t


def input_stamp(cfg: Config) -> dict[str, str]:
    """Identity of what a render would compute from, without computing:
    hashes of the data files, the analysis configuration and the code."""
    from .. import code_version
    from ..pipeline import data_hash

    return {"data_hash": data_hash(cfg), "config_hash": cfg.analysis_hash(), "code_version": code_version()}


def stamp(results: Results) -> dict[str, str]:
    """Identity of what the numbers were computed from."""
    from .. import code_version

    return {
        "data_hash": results.cohort.data_hash,
        "config_hash": results.config.analysis_hash(),
        "code_version": code_version(),
        "synthetic": "yes" if results.synthetic else "no",
    }


def compute(*, data: str | None = None, config: str | None = None, cfg: Config | None = None,
            overlapped: bool = False) -> Document:
    """The analysis and its numbers registry. ``overlapped`` (the pre-render step): the
    cohort is loaded while the statistics libraries are imported (:func:`_load_overlapped`)."""
    from ..config import load_config

    cfg = cfg or load_config(config, data=data)
    if not overlapped:
        from ..results import run_analysis
        from .numbers import build_registry

        results = run_analysis(cfg)
        return Document(results, build_registry(results, stamp=stamp(results)))
    import gc

    try:
        cohort = _load_overlapped(cfg)       # first: it imports what follows while the cohort loads
        from ..results import analyse
        from .numbers import build_registry

        results = analyse(cohort, split=True)   # its second core is idle: the loading is done
        return Document(results, build_registry(results, stamp=stamp(results)))
    finally:
        gc.unfreeze()                        # frozen by _load_overlapped: the analysis is done


def check_variables(want: dict[str, str], path: Path) -> dict:
    """Stop when _variables.yml was generated from other data, configuration
    or code than ``want`` (an :func:`input_stamp`); returns its contents."""
    if not path.exists():
        raise StaleVariablesError(
            f"{path.name} is missing: the abstract's numbers come from it.\n"
            "Hint: render the project (`quarto render`, whose pre-render step writes it) "
            "or run `python -m analysis prepare`.")
    import yaml

    variables = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    written = variables.get("stamp", {})
    diff = [k for k in ("data_hash", "config_hash", "code_version") if written.get(k) != want.get(k)]
    if diff:
        what = " and ".join({"data_hash": "data", "config_hash": "configuration", "code_version": "code"}[k]
                            for k in diff)
        hint = ("re-run the pre-render step (`python -m analysis prepare`, which `quarto render` runs first)"
                if diff == ["code_version"] else
                "choose data and configuration with the environment variables CART_DATA and CART_CONFIG, "
                "which reach both the pre-render step and the documents (not with -P alone)")
        raise StaleVariablesError(
            f"{path.name} was made from other {what} than this render: the abstract would not match the body.\n"
            f"Hint: {hint}.")
    return variables


def load_document(cfg: Config, want: dict[str, str], store: Path) -> Document:
    """The stored results of this render, else (no store: an interactive run) computed now."""
    from ..store import load_results

    doc = load_results(store, want)
    return doc if doc is not None else compute(cfg=cfg)


def setup(*, data: str | None = None, config: str | None = None, check: bool = True) -> tuple[Results, SimpleNamespace]:
    """The analysis for a document (stored by the pre-render step, else computed); returns (results, texts)."""
    if check:
        light = _light_setup(data=data, config=config)
        if light is not None:
            return light
    from ..config import load_config
    from .displays import leave_light_kernel

    leave_light_kernel()                                  # a second setup in one kernel: the full path

    cfg = load_config(config, data=data)
    want = input_stamp(cfg)
    variables = check_variables(want, variables_path()) if check else None
    store = results_path()
    doc = load_document(cfg, want, store)
    return _present(doc, variables, store, want), doc.t


def _present(doc: Document, variables: dict | None, store: Path, want: dict[str, str]) -> Results:
    """The checks and settings of a kernel that shows ``doc``: consistency, the journal style,
    kept displays."""
    from . import style as st
    from .consistency import assert_consistent

    assert_consistent(doc.results, doc.registry, variables)
    st.use_settings(doc.results.settings)                # tables and figures of this kernel follow it
    if store.exists():                                    # the stored results of this render were loaded
        from .displays import serve_figures

        serve_figures(doc.results, store, want)           # figures drawn once per render (Quarto kernels only)
    return doc.results


TEXTS_FILE = "texts.json"              # in _generated/: the texts inline expressions print (t.os_median ...)


def _light_setup(*, data: str | None, config: str | None) -> tuple[Any, SimpleNamespace] | None:
    """Nothing changed since the pre-render step (its witness holds, :mod:`analysis.freshness`)
    and its set is intact (every file's SHA-256 as it wrote it, so ``_variables.yml`` and the
    stored results are this stamp's): in a Quarto render's kernel, the texts come from
    ``_generated/texts.json`` and the results stay unloaded until a display that is not kept
    needs them (:func:`analysis.present.displays.light_kernel`): no pandas, no pydantic.
    None when any of this does not hold: :func:`setup` then takes the full path."""
    import json

    from ..freshness import digest, fresh_stamp

    target = variables_path()
    store = results_path(target)
    generated = store.parent
    try:
        manifest = json.loads((generated / PREPARED_FILE).read_text(encoding="utf-8"))
        want = fresh_stamp(manifest.get("witness"), data=data, config=config)
        files = manifest["files"]
        if (want is None or manifest["stamp"] != want or f"{GENERATED_DIR}/{TEXTS_FILE}" not in files
                or files.get(target.name) is None or f"{GENERATED_DIR}/{RESULTS_FILE}" not in files):
            return None
        if any(digest(target.parent / name) != sha for name, sha in files.items()):
            return None
        from ..store import loaded_runtime, read_header, runtime

        written = read_header(store).get("runtime")       # pandas and numpy: imported by Quarto's setup
        if written != loaded_runtime() and written != runtime():
            return None                                   # the full path says why
        texts = json.loads((generated / TEXTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError):
        return None

    def load() -> Results:                                # the rest of the full path, when needed
        from ..store import load_results

        return _present(load_results(store, want), check_variables(want, target), store, want)

    from .displays import light_kernel

    results = light_kernel(store, want, load)
    return None if results is None else (results, SimpleNamespace(**texts))


PREPARED_FILE = "prepared.json"        # in _generated/: what the set was made from, and its files' hashes


def _prepared_manifest(want: dict[str, str], target: Path, generated: Path, names: list[str]) -> dict:
    from ..store import environment, environment_signature, file_digest

    return {"stamp": {k: want[k] for k in ("data_hash", "config_hash", "code_version")},
            "environment_signature": environment_signature(), "environment": environment(),
            "files": {target.name: file_digest(target), **{f"{GENERATED_DIR}/{n}": file_digest(generated / n)
                                                          for n in names}}}


def prepared_set(want: dict[str, str], target: Path) -> list[Path] | None:
    """The files of the set at ``target`` if an earlier pre-render step wrote
    them from exactly ``want`` (data, configuration, code) in this environment
    (:func:`analysis.store.environment`) and none was changed or removed since
    (SHA-256 of each); else None."""
    import json

    from ..store import current_environment, file_digest

    generated = target.parent / GENERATED_DIR
    try:
        manifest = json.loads((generated / PREPARED_FILE).read_text(encoding="utf-8"))
        files = manifest["files"]
        if (manifest["stamp"] != {k: want[k] for k in ("data_hash", "config_hash", "code_version")}
                or target.name not in files or f"{GENERATED_DIR}/{RESULTS_FILE}" not in files
                or manifest["environment"] != current_environment(manifest)):
            return None
        if any(file_digest(target.parent / name) != digest for name, digest in files.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [target.parent / name for name in files]


def prepare(*, data: str | None = None, config: str | None = None, root: Path = PROJECT_ROOT,
            variables: Path | None = None, background: bool = False) -> list[Path]:
    """Pre-render step: run the analysis once; write _variables.yml (or
    ``variables``, else CART_VARIABLES) and beside it ``_generated/`` (the
    stored results, the texts of the inline expressions and the synthetic-data banners).

    The two are written as one set (:func:`analysis.outputs.output_set`):
    into a fresh folder (``.generated/run-*``), swapped in when complete, so
    a killed run leaves the earlier complete set.

    Nothing changed, nothing written: when the set in place was made from the
    same data, configuration and code in the same environment and is intact
    (:func:`prepared_set`, from ``_generated/prepared.json``), it is kept as it
    is, so a re-render does not recompute the analysis. Whether data,
    configuration and code are the same is first asked of the witness the
    set recorded (:mod:`analysis.freshness`: the files the stamp was computed
    from, re-hashed, without reading the configuration); when it does not
    hold, the stamp is computed the full way.

    With ``background`` (the pre-render step of a render: ``python -m analysis
    prepare``), a set it writes starts the post-render step's work in a
    background worker (:mod:`analysis.background_export`)."""
    target = Path(variables or (variables_path() if root == PROJECT_ROOT else root / VARIABLES_FILE))
    kept = _kept_by_witness(target, data=data, config=config)
    if kept is not None:
        print_unfilled_placeholders(root)     # what the authors must still fill in (stderr)
        return kept

    from ..config import load_config

    cfg = load_config(config, data=data)
    want = input_stamp(cfg)
    kept = prepared_set(want, target)
    if kept is not None:
        _record_witness(target, cfg, want, data=data, config=config)
        print_unfilled_placeholders(root)     # what the authors must still fill in (stderr)
        return kept

    if background:                            # an earlier render's worker must not write from now on
        from .. import background_export
        from ..export import figure_cache

        background = background_export.stop(figure_cache().parent)
    doc = compute(cfg=cfg, overlapped=True)   # imports what follows too (ANALYSIS_IMPORTS), while it loads

    from ..outputs import output_set
    from ..store import write_results
    from .banner import write_banners
    from .consistency import assert_consistent

    assert_consistent(doc.results, doc.registry)
    from .exclusions import say_model_warnings

    say_model_warnings(doc.results)           # what the data checks cannot see (stderr)
    with output_set(target.parent, [target.name, GENERATED_DIR], runs=GENERATED_RUNS,
                    replaces=_earlier_output) as run:
        write_results(results_path(run / target.name), doc, doc.registry.stamp)
        banners = [p.name for p in write_banners(doc.results.synthetic, run / GENERATED_DIR)]
        doc.registry.write_variables(run / target.name)
        # the abstract's numbers as a document execution reads them back: a light kernel
        # (nothing changed) trusts this file by its hash instead of checking it again
        assert_consistent(doc.results, doc.registry, check_variables(want, run / target.name))
        texts = _write_texts(doc, run / GENERATED_DIR)
        manifest = _prepared_manifest(want, run / target.name, run / GENERATED_DIR,
                                      [RESULTS_FILE, *texts, *banners])
        witness = _witness(cfg, want, data=data, config=config)
        if witness is not None:
            manifest["witness"] = witness
        (run / GENERATED_DIR / PREPARED_FILE).write_text(_json(manifest), encoding="utf-8")
    generated = target.parent / GENERATED_DIR
    if background:                            # the post-render step's work, while Quarto runs the documents
        # forked with the results in memory (no interpreter start, imports or store read), but for a
        # registry: the forked worker would keep this process's whole heap for the render's length
        in_memory = doc if _source_bytes(cfg) <= LOAD_ASIDE_UNTIL_BYTES else None
        import gc

        gc.freeze()                           # what the forked worker inherits, its collections leave alone
        try:                                  # (as the gc module's documentation advises before a fork)
            background_export.start(want, target, figure_cache(), data=data, config=config, doc=in_memory)
        finally:
            gc.unfreeze()
    print_unfilled_placeholders(root)         # what the authors must still fill in (stderr)
    return [target, generated / RESULTS_FILE, *(generated / n for n in banners)]


def _earlier_output(path: Path) -> bool:
    """Whether a real file or folder where :func:`prepare` links its set is an earlier output
    of this project (a ``_variables.yml`` the ``variables`` command wrote, a ``_generated/``
    an older layout wrote): replaced, where anything else is kept aside (:func:`analysis.outputs.output_set`)."""
    if path.is_dir():
        return path.name == GENERATED_DIR and ((path / RESULTS_FILE).exists() or (path / PREPARED_FILE).exists())
    from .numbers import is_generated_variables

    return is_generated_variables(path)


#: What a fresh analysis imports on first use (``analysis/_lazy.py`` and the computations' own
#: local imports), the package's modules that run it and those :func:`prepare` writes its set
#: with: imported by :func:`_load_overlapped` while the cohort is loaded aside. A name missing
#: here costs time, never a value.
ANALYSIS_IMPORTS = ("analysis.results", "analysis.present.numbers", "scipy.stats", "scipy.special",
                    "lifelines", "lifelines.statistics", "lifelines.utils", "statsmodels.genmod.families",
                    "statsmodels.genmod.generalized_linear_model", "tableone.statistics",
                    # and what prepare() writes the set with
                    "analysis.present.consistency", "analysis.present.banner", "analysis.store", "analysis.outputs")
#: What loading the cohort imports (:func:`analysis.pipeline.load_cohort` and validation's
#: pandera), imported first by the process that loads it, as :data:`ANALYSIS_IMPORTS` are.
LOAD_IMPORTS = ("analysis.pipeline", "analysis.dictionary", "analysis.load", "analysis.validate",
                "analysis.derive", "pandera.pandas")
#: Data files up to this size (all sources together) are loaded aside: the derived cohort is sent
#: back pickled, which for a registry would cost more memory than the overlap saves time.
LOAD_ASIDE_UNTIL_BYTES = 32 * 2**20


def _load_overlapped(cfg: Config):
    """:func:`analysis.pipeline.load_cohort`, on two cores: the cohort is loaded (read,
    validated, derived) in a forked process (:mod:`analysis.aside`) while this one imports
    what the analysis needs next (:data:`ANALYSIS_IMPORTS`, about a second: scipy.stats,
    lifelines ...). The fork comes first, before pandas is imported here: each process
    imports what it needs itself, at once. The cohort is the one ``load_cohort`` returns
    (pickled on the way, as the stored results are); when the child fails (invalid data
    ...) it is loaded again here, with the messages and exit status of a plain call.

    The imported modules are left to the cyclic garbage collector's permanent generation
    (``gc.freeze``, in both processes): they are no garbage, and each collection would
    otherwise walk all of them (a fifth of a second). The caller ends that
    (:func:`compute`: ``gc.unfreeze``)."""
    from ..aside import aside

    loading = aside(_load_cohort, cfg, enabled=_source_bytes(cfg) <= LOAD_ASIDE_UNTIL_BYTES)
    try:
        _import_frozen(ANALYSIS_IMPORTS)
        return loading.result()
    except BaseException:
        loading.cancel()
        raise


def _load_cohort(cfg: Config):
    """:func:`analysis.pipeline.load_cohort`, its modules imported first (:data:`LOAD_IMPORTS`)."""
    _import_frozen(LOAD_IMPORTS)
    from ..pipeline import load_cohort

    return load_cohort(cfg)


def _import_frozen(names: tuple[str, ...]) -> None:
    """Import ``names`` without collections (imports make many objects and no garbage), then
    move every object there is to the collector's permanent generation (``gc.freeze``)."""
    import gc
    import importlib

    collecting = gc.isenabled()
    gc.disable()
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:              # a library the computations no longer import: their own error
                pass
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _source_bytes(cfg: Config) -> float:
    try:
        return sum(Path(p).stat().st_size for s in cfg.sources for p in (s.path, s.mapping) if p)
    except OSError:
        return float("inf")                  # the plain call says what is wrong


def _write_texts(doc: Document, folder: Path) -> list[str]:
    """The texts inline expressions print (``t``), as JSON, for a light kernel; none
    written unless every one is a plain string."""
    texts = vars(doc.t)
    if not all(isinstance(k, str) and type(v) is str for k, v in texts.items()):
        return []
    import json

    (folder / TEXTS_FILE).write_text(json.dumps(texts, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return [TEXTS_FILE]


def _witness(cfg: Config, want: dict[str, str], *, data: str | None, config: str | None) -> dict | None:
    from ..freshness import record

    witness = record(cfg, want, data=data, config=config)
    if witness is not None:      # settings the stamp leaves out, read with it (post-render step)
        witness["submitted_ledger"] = cfg.settings.revisions.submitted_ledger
    return witness


def _kept_by_witness(target: Path, *, data: str | None, config: str | None) -> list[Path] | None:
    """:func:`prepared_set` of the stamp the set's witness vouches for, if it does."""
    import json

    from ..freshness import fresh_stamp

    try:
        manifest = json.loads((target.parent / GENERATED_DIR / PREPARED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    want = fresh_stamp(manifest.get("witness") if isinstance(manifest, dict) else None, data=data, config=config)
    return None if want is None else prepared_set(want, target)


def _record_witness(target: Path, cfg: Config, want: dict[str, str], *, data: str | None,
                    config: str | None) -> None:
    """A kept set whose witness is missing or was recorded for other inputs (e.g. another
    working folder) gets this one, so the next render finds it fresh."""
    import json

    from ..outputs import write_text_atomic

    path = target.parent / GENERATED_DIR / PREPARED_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        witness = _witness(cfg, want, data=data, config=config)
        if witness is None or manifest.get("witness") == witness:
            return
        if not manifest.get("environment_signature"):   # prepared_set found the environment unchanged
            from ..store import environment_signature

            manifest["environment_signature"] = environment_signature()
        write_text_atomic(path.resolve(), _json({**manifest, "witness": witness}))
    except (OSError, ValueError):
        pass


def _json(obj: dict) -> str:
    import json

    return json.dumps(obj, indent=2) + "\n"
