"""The analysis runs once per render: the pre-render step stores the results
(analysis/store.py) and every document execution loads them. These tests prove
that a document can never show numbers from other data, configuration or code
than the render's: a stale, damaged, edited or other-version store is refused
with a message, and only an absent store is recomputed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT
from analysis.present import document
from analysis.present.document import StaleVariablesError, input_stamp, prepare, setup
from analysis.store import MAGIC, StaleResultsError, load_results, read_header


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """A pre-render step on the shipped data, into its own folder."""
    root = tmp_path_factory.mktemp("render")
    prepare(variables=root / "_variables.yml", root=root)
    return root


@pytest.fixture
def render_dir(rendered, tmp_path, monkeypatch) -> Path:
    """A private copy of the pre-rendered folder, used by setup() through CART_VARIABLES."""
    root = tmp_path / "render"
    shutil.copytree(rendered, root, symlinks=True)   # the set's links stay links
    monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
    monkeypatch.delenv("CART_DATA", raising=False)
    return root


def _no_computing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the document recomputed the analysis")
    monkeypatch.setattr("analysis.results.run_analysis", refuse)
    monkeypatch.setattr(document, "compute", refuse)


def test_documents_load_the_stored_results_without_computing(render_dir, registry, monkeypatch):
    _no_computing(monkeypatch)
    results, t = setup()
    assert results.cohort.data_hash == input_stamp(results.config)["data_hash"]
    # the stored results round-trip: the same numbers as computed in this process
    assert document.load_document(results.config, input_stamp(results.config),
                                  render_dir / "_generated" / "results.pkl").registry.raw() == registry.raw()
    assert vars(t) == vars(registry.t)


def test_absent_store_is_computed(render_dir, registry):
    (render_dir / "_generated" / "results.pkl").unlink()
    results, t = setup()                     # an interactive run: no pre-render step
    assert vars(t) == vars(registry.t)


def test_store_from_two_sites_is_refused(render_dir, two_sites, tmp_path, monkeypatch):
    """The variables match the render (other data, both steps), the stored
    results do not (left from the shipped data): refused, never shown."""
    other = tmp_path / "other"
    prepare(data=str(two_sites), variables=other / "_variables.yml", root=other)
    shutil.copy(render_dir / "_generated" / "results.pkl", other / "_generated" / "results.pkl")
    monkeypatch.setenv("CART_VARIABLES", str(other / "_variables.yml"))
    monkeypatch.setenv("CART_DATA", str(two_sites))
    with pytest.raises(StaleResultsError, match=r"results computed from other data than this render"):
        setup()


def test_variables_from_two_sites_are_refused(render_dir, two_sites, monkeypatch):
    monkeypatch.setenv("CART_DATA", str(two_sites))
    with pytest.raises(StaleVariablesError, match=r"_variables.yml was made from other data than this render"):
        setup()
    with pytest.raises(StaleVariablesError, match=r"made from other data"):
        setup(data=str(two_sites))          # quarto render -P data:... alone


def test_other_configuration_is_refused(render_dir, tmp_path):
    changed = tmp_path / "revision.yml"
    (tmp_path / "data").symlink_to(PROJECT_ROOT / "data")       # the same data, found from the copy
    changed.write_text(re.sub(r"monte_carlo_seed: *\d+", "monte_carlo_seed: 7",
                              (PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8")), encoding="utf-8")
    assert changed.read_text() != (PROJECT_ROOT / "analysis.yml").read_text()
    with pytest.raises(StaleVariablesError, match="other configuration"):
        setup(config=str(changed))


def test_missing_variables_are_refused(render_dir):
    (render_dir / "_variables.yml").unlink()
    with pytest.raises(StaleVariablesError, match="_variables.yml is missing"):
        setup()


def _rewrite_header(store: Path, **changes) -> None:
    raw = store.read_bytes()
    lines = raw.split(b"\n", 2)
    header = json.loads(lines[1])
    for key, value in changes.items():
        section, _, field = key.partition("__")
        header[section][field] = value
    store.write_bytes(lines[0] + b"\n" + json.dumps(header).encode() + b"\n" + lines[2])


def test_store_of_other_code_version_is_refused(render_dir):
    store = render_dir / "_generated" / "results.pkl"
    _rewrite_header(store, stamp__code_version="0.0.9+000000000000")
    with pytest.raises(StaleResultsError, match="other code than this render"):
        setup()


def test_store_of_other_library_versions_is_refused(render_dir):
    store = render_dir / "_generated" / "results.pkl"
    _rewrite_header(store, runtime__pandas="1.0.0")
    with pytest.raises(StaleResultsError, match="other library versions"):
        setup()


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "header"])
def test_damaged_or_edited_store_is_refused(render_dir, damage):
    store = render_dir / "_generated" / "results.pkl"
    raw = bytearray(store.read_bytes())
    if damage == "flip":
        raw[-100] ^= 0x01
    elif damage == "truncate":
        raw = raw[:-10]
    elif damage == "magic":
        raw = b"CART-RESULTS 0\n" + raw[len(MAGIC):]
    else:
        raw = MAGIC + b"{not json\n" + raw.split(b"\n", 2)[2]
    store.write_bytes(bytes(raw))
    with pytest.raises(StaleResultsError, match="damaged|not a stored-results file"):
        setup()


def test_store_header_names_what_it_was_computed_from(render_dir):
    header = read_header(render_dir / "_generated" / "results.pkl")
    variables_stamp = __import__("yaml").safe_load((render_dir / "_variables.yml").read_text())["stamp"]
    for key in ("data_hash", "config_hash", "code_version"):
        assert header["stamp"][key] == variables_stamp[key]
    assert load_results(render_dir / "_generated" / "absent.pkl", header["stamp"]) is None


def test_document_kernel_imports_no_statistics_library(render_dir):
    """Loading the stored results needs pandas (and drawing matplotlib and
    great_tables), not scipy.stats, statsmodels, lifelines, tableone or pandera."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom analysis.present import document, figures, sensitivity, tables, text\n"
            "results, t = document.setup()\n"
            "heavy = {'scipy', 'statsmodels', 'lifelines', 'tableone', 'pandera', 'formulaic'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env=dict(os.environ, CART_VARIABLES=str(render_dir / "_variables.yml")), check=True)
    assert out.stdout.strip() == "[]", out.stdout


# --------------------------------------------------------------------------- an unchanged pre-render step


def _refuse_computing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the pre-render step recomputed the analysis")
    monkeypatch.setattr(document, "compute", refuse)


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    files = [root / "_variables.yml", *sorted((root / "_generated").iterdir())]
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}


def test_unchanged_pre_render_keeps_the_set_without_computing(render_dir, monkeypatch):
    before = _snapshot(render_dir)
    _refuse_computing(monkeypatch)
    kept = prepare(variables=render_dir / "_variables.yml", root=render_dir)
    assert _snapshot(render_dir) == before                     # not even rewritten
    assert {p.name for p in kept} == {"_variables.yml", "results.pkl", "texts.json", "banner.html", "banner.typ",
                                      "reference.docx", "reference-review.docx"}
    setup()                                                   # and the documents accept it


@pytest.mark.parametrize("change", ["data", "configuration", "code", "environment", "edited variables",
                                    "edited store", "removed banner", "removed manifest"])
def test_pre_render_recomputes_when_anything_changed(render_dir, two_sites, tmp_path, monkeypatch, change):
    from analysis import store

    target = render_dir / "_variables.yml"
    kwargs = {}
    if change == "data":
        kwargs["data"] = str(two_sites)
    elif change == "configuration":
        (tmp_path / "data").symlink_to(PROJECT_ROOT / "data")
        kwargs["config"] = str(tmp_path / "revision.yml")
        (tmp_path / "revision.yml").write_text(re.sub(
            r"monte_carlo_seed: *\d+", "monte_carlo_seed: 7",
            (PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8")), encoding="utf-8")
    elif change == "code":
        monkeypatch.setattr("analysis.code_version", lambda: "0.0.9+000000000000")
    elif change == "environment":
        monkeypatch.setattr(store, "environment", lambda: "another")          # another library version:
        monkeypatch.setattr(store, "environment_signature", lambda: "another")  # other metadata files too
    elif change == "edited variables":
        target.write_text(target.read_text().replace("n_salvage: '67'", "n_salvage: '68'"))
    elif change == "edited store":
        _rewrite_header(render_dir / "_generated" / "results.pkl", stamp__code_version="edited")
    elif change == "removed banner":
        (render_dir / "_generated" / "banner.html").unlink()
    else:
        (render_dir / "_generated" / document.PREPARED_FILE).unlink()
    calls = []
    real = document.compute
    monkeypatch.setattr(document, "compute", lambda **kw: calls.append(kw) or real(**kw))
    prepare(variables=target, root=render_dir, **kwargs)
    assert len(calls) == 1, f"{change}: the set was kept"
    if "data" in kwargs:
        monkeypatch.setenv("CART_DATA", kwargs["data"])
    if change not in ("code", "configuration"):
        setup(**({"config": kwargs["config"]} if "config" in kwargs else {}))   # the new set is this render's


# --------------------------------------------------------------------------- the pre-render step's two cores


def test_the_pre_render_steps_analysis_is_the_plain_one(registry):
    """The pre-render step loads the cohort in a forked process while it imports the
    statistics libraries (document.compute(overlapped=True)): the same numbers, texts and
    stamp as the plain analysis (regression values: our own code on both sides)."""
    from analysis.config import load_config

    import gc

    frozen = gc.get_freeze_count()
    doc = document.compute(cfg=load_config(), overlapped=True)
    assert doc.registry.raw() == registry.raw()
    assert vars(doc.t) == vars(registry.t)
    assert doc.results.cohort.data_hash == input_stamp(load_config())["data_hash"]
    assert gc.get_freeze_count() <= frozen        # the imports' freeze ended with the analysis


def test_the_pre_render_step_forks_before_importing_pandas():
    """Everything the step does before the cohort's loading is forked off (the
    configuration, the stamp, the command line's DataError) imports no pandas: the two
    processes import what each needs at once (document._load_overlapped)."""
    import os
    import subprocess
    import sys

    code = ("import sys\nimport analysis.__main__\nfrom analysis.pipeline import DataError\n"
            "from analysis.config import load_config\nfrom analysis.present.document import input_stamp\n"
            "input_stamp(load_config())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pandas', 'numpy', 'pandera'}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("CART_")}, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_pre_render_steps_bad_data_say_what_a_plain_load_says(tmp_path):
    """Invalid data: the forked load fails, the cohort is loaded again in the step's own
    process, which raises what a plain load raises (the full report)."""
    from analysis.config import load_config
    from analysis.pipeline import DataError, load_cohort

    source = (PROJECT_ROOT / "data" / "synthetic" / "site_a.csv").read_text(encoding="utf-8").splitlines()
    source[2] = re.sub(r",\d{4}-\d\d-\d\d,", ",2021-02-30,", source[2], count=1)
    (tmp_path / "site_a.csv").write_text("\n".join(source) + "\n", encoding="utf-8")
    cfg = load_config(data=str(tmp_path / "site_a.csv"))
    with pytest.raises(DataError) as plain:
        load_cohort(cfg)
    with pytest.raises(DataError) as overlapped:
        document.compute(cfg=cfg, overlapped=True)
    assert overlapped.value.report.format() == plain.value.report.format()
    assert "2021-02-30 is not a date" in overlapped.value.report.format()


# --------------------------------------------------------------------------- the environment's hash


def _distribution(folder: Path, metadata: str):
    from importlib.metadata import PathDistribution

    info = folder / "example-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_bytes(metadata.encode())
    return PathDistribution(info)


@pytest.mark.parametrize("metadata", [
    "Metadata-Version: 2.1\nName: example\nVersion: 1.0\nSummary: s\n\nName: not-this\nVersion: 9\n\nbody\n",
    "Metadata-Version: 2.1\nName: example\nVersion: 1.0\n",                       # no description
    "Name: example\nVersion:\n  1.0\nnot a header\nVersion: 2\n\nVersion: 3\n",   # folded; a defect ends them
    "Name: example\r\nVersion: 1.0\r\n\r\nName: not-this\r\n",                   # carriage returns: read whole
    "Description-Content-Type: text/markdown\n\n\n# Name: x\nVersion: 4\n",
])
def test_environment_reads_each_distributions_headers_as_importlib_metadata_does(tmp_path, metadata):
    """store.environment parses each metadata file's header block only: every header the
    same as importlib.metadata's own parse of the whole file (the long description after it,
    which the parse reads as a header, is not used)."""
    from analysis.store import _headers_only_class

    def headers(meta) -> list:
        return [item for item in meta.items() if item[0] != "Description"]    # the body, as a header

    dist = _distribution(tmp_path, metadata)
    assert headers(_headers_only_class()(dist).metadata) == headers(dist.metadata)
    assert _headers_only_class()(dist).version == dist.version


def test_environment_hashes_every_installed_distributions_name_and_version():
    """The environment's hash is the one of the names and versions importlib.metadata gives."""
    import hashlib
    import shutil
    import sys
    from importlib.metadata import distributions

    from analysis.store import environment

    h = hashlib.sha256(sys.version.encode())
    h.update("\n".join(sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in distributions())).encode())
    for cmd in ("quarto", "pandoc"):
        found = shutil.which(cmd)
        if found:
            st = Path(found).resolve().stat()
            h.update(f"{cmd}:{Path(found).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    assert environment() == h.hexdigest()[:16]
