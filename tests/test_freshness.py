"""The witness of a render's stamp (analysis/freshness.py): a later process trusts
the recorded stamp only when every file, path, folder listing, variable and the
code it was computed from are unchanged; anything else takes the full path (the
configuration read, the stamp computed, today's messages). And a nothing-changed
document execution (a light kernel) shows what the full path shows, without
importing pydantic or the package's results and display modules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT, load_config
from analysis.freshness import fresh_stamp, record
from analysis.present.document import input_stamp, prepare


def _copy_data(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("site_a.csv", "site_b.csv", "site_c.csv"):
        shutil.copy(PROJECT_ROOT / "data" / "synthetic" / name, folder / name)
    return folder


def _witness(**kw):
    cfg = load_config(kw.get("config"), data=kw.get("data"))
    return record(cfg, input_stamp(cfg), **kw)


def test_the_witness_vouches_for_the_stamp_computed_the_full_way(monkeypatch):
    monkeypatch.delenv("CART_DATA", raising=False)
    monkeypatch.delenv("CART_CONFIG", raising=False)
    witness = _witness()
    assert witness is not None
    assert fresh_stamp(witness) == input_stamp(load_config())
    assert fresh_stamp(json.loads(json.dumps(witness))) == input_stamp(load_config())   # as stored


def test_a_changed_data_file_or_other_code_is_never_trusted(tmp_path, monkeypatch):
    data = _copy_data(tmp_path / "data")
    monkeypatch.setenv("CART_DATA", str(data))
    witness = _witness()
    assert fresh_stamp(witness) == input_stamp(load_config())
    with open(data / "site_b.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")                                   # one byte: same size class, other content
    assert fresh_stamp(witness) is None
    assert input_stamp(load_config())["data_hash"] != witness["stamp"]["data_hash"]
    witness = _witness()
    monkeypatch.setattr("analysis.code_version", lambda: "0.1.0+other")
    assert fresh_stamp(witness) is None


def test_a_file_added_to_the_data_folder_or_another_variable_is_never_trusted(tmp_path, monkeypatch):
    data = _copy_data(tmp_path / "data")
    monkeypatch.setenv("CART_DATA", str(data))
    witness = _witness()
    shutil.copy(data / "site_a.csv", data / "site_d.csv")
    assert fresh_stamp(witness) is None
    (data / "site_d.csv").unlink()
    assert fresh_stamp(witness) is not None
    monkeypatch.setenv("CART_CONFIG", str(PROJECT_ROOT / "analysis.yml"))
    assert fresh_stamp(witness) is None                  # other inputs: the full path decides
    monkeypatch.delenv("CART_CONFIG")
    assert fresh_stamp(witness, data=str(data)) is None  # a document parameter


def test_a_link_pointed_at_another_freeze_is_never_trusted(tmp_path, monkeypatch):
    """``path: current/site_a.csv`` with current -> freeze1, then -> freeze2 (other data):
    every file of freeze1 is unchanged, but the render reads freeze2."""
    freeze1 = _copy_data(tmp_path / "freeze1")
    freeze2 = _copy_data(tmp_path / "freeze2")
    with open(freeze2 / "site_a.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    (tmp_path / "current").symlink_to(freeze1)
    config = tmp_path / "analysis.yml"
    text = (PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8").replace("data/synthetic/", "current/")
    text = text.replace("dictionary: data/dictionary.yml", f"dictionary: {PROJECT_ROOT / 'data' / 'dictionary.yml'}")
    config.write_text(text, encoding="utf-8")
    monkeypatch.delenv("CART_DATA", raising=False)
    monkeypatch.setenv("CART_CONFIG", str(config))
    witness = _witness()
    assert witness is not None and fresh_stamp(witness) == input_stamp(load_config())
    (tmp_path / "current").unlink()
    (tmp_path / "current").symlink_to(freeze2)
    assert fresh_stamp(witness) is None
    assert input_stamp(load_config())["data_hash"] != witness["stamp"]["data_hash"]


def test_a_sources_list_is_part_of_the_witness(tmp_path, monkeypatch):
    data = _copy_data(tmp_path / "data")
    (data / "sources.yml").write_text("sources:\n  - path: site_a.csv\n  - path: site_b.csv\n", encoding="utf-8")
    monkeypatch.setenv("CART_DATA", str(data))
    witness = _witness()
    assert witness is not None and fresh_stamp(witness) == input_stamp(load_config())
    (data / "sources.yml").write_text("sources:\n  - path: site_a.csv\n  - path: site_c.csv\n", encoding="utf-8")
    assert fresh_stamp(witness) is None


def test_a_sources_list_that_is_a_link_is_followed(tmp_path, monkeypatch):
    data = _copy_data(tmp_path / "data")
    for name in ("one.yml", "two.yml"):
        (data / name).write_text(f"sources:\n  - path: site_a.csv\n  - path: site_{'b' if name == 'one.yml' else 'c'}.csv\n",
                                 encoding="utf-8")
    (data / "sources.yml").symlink_to(data / "one.yml")
    monkeypatch.setenv("CART_DATA", str(data))
    witness = _witness()
    assert witness is not None and fresh_stamp(witness) == input_stamp(load_config())
    (data / "sources.yml").unlink()
    (data / "sources.yml").symlink_to(data / "two.yml")
    assert fresh_stamp(witness) is None
    assert input_stamp(load_config())["data_hash"] != witness["stamp"]["data_hash"]


# ------------------------------------------------------------------ the pre-render step and a light kernel

@pytest.fixture
def prepared(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("CART_DATA", raising=False)
    monkeypatch.delenv("CART_CONFIG", raising=False)
    root = tmp_path / "render"
    root.mkdir()
    prepare(variables=root / "_variables.yml", root=root)
    return root


def _python(code: str, root: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CART_", "QUARTO_"))}
    environ.update(CART_VARIABLES=str(root / "_variables.yml"), CART_FIGURE_CACHE=str(root / ".cache" / "figures"),
                   CART_BACKGROUND_EXPORT="0", **env)
    out = subprocess.run([sys.executable, "-c", code], cwd=os.getcwd(), env=environ, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out


def test_the_pre_render_step_keeps_its_set_without_reading_the_configuration(prepared):
    before = (prepared / "_generated" / "prepared.json").read_text(encoding="utf-8")
    out = _python("import sys\nfrom analysis.render_steps import pre\npre()\n"
                  "print(sorted(m for m in ('pydantic', 'pandas', 'analysis.config') if m in sys.modules))",
                  prepared)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (prepared / "_generated" / "prepared.json").read_text(encoding="utf-8") == before


_KERNEL = """
import json, sys
import matplotlib
matplotlib.use("agg")                      # a backend chosen, as in a kernel after Quarto's setup cell,
import matplotlib.pyplot                   # which imports pyplot and pandas
import pandas
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
from analysis.present import document, figures, sensitivity, tables, text
results, t = document.setup(data=None, config=None)
shown = [tables.table1(results), figures.km_overall_figure(results), text.synthetic_callout(results),
         sensitivity.guardrail_text(results)]
print(json.dumps({"shown": [shell.display_formatter.format(s)[0] for s in shown], "t": vars(t),
                  "modules": sorted(m for m in ("pydantic", "analysis.config", "analysis.results",
                                                "analysis.present.tables") if m in sys.modules)},
                 default=lambda b: b.hex()))
"""


def test_a_light_kernel_shows_what_the_full_path_shows(prepared):
    env = {"QUARTO_FIG_FORMAT": "png"}
    full = json.loads(_python(_KERNEL, prepared, **env).stdout.splitlines()[-1])   # keeps the displays
    assert "analysis.results" in full["modules"]
    light = json.loads(_python(_KERNEL, prepared, **env).stdout.splitlines()[-1])
    assert light["modules"] == []                   # nothing changed: no pydantic, no results, no tables
    assert light["shown"] == full["shown"] and light["t"] == full["t"]
    # a changed input: the full path, and its message
    config = prepared / "analysis.yml"
    config.write_text((PROJECT_ROOT / "analysis.yml").read_text(encoding="utf-8").replace(
        "data/", f"{PROJECT_ROOT}/data/").replace("median_ci: spss", "median_ci: log"), encoding="utf-8")
    stale = subprocess.run([sys.executable, "-c", _KERNEL], cwd=os.getcwd(), capture_output=True, text=True,
                           env={**{k: v for k, v in os.environ.items() if not k.startswith(("CART_", "QUARTO_"))},
                                "CART_VARIABLES": str(prepared / "_variables.yml"), "CART_CONFIG": str(config),
                                **env})
    assert stale.returncode != 0 and "was made from other configuration than this render" in stale.stderr
