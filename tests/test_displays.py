"""Figures drawn once per render (analysis/present/displays.py): a document
execution shows a kept figure display only when it is the same figure of the
same stored results with the same display settings, and shows exactly what
drawing it would show."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from analysis.config import PROJECT_ROOT
from analysis.present.displays import DISPLAYS_DIR
from analysis.present.document import prepare
from tests.conftest import project_kernel_argv
from tests.qmd.harness import execute_qmd

FIGURES = ("fig-flow", "fig-km-overall", "fig-km-group", "fig-forest")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("displays")
    prepare(variables=root / "_variables.yml", root=root)
    return root


def _execute(root: Path, monkeypatch, fmt: str = "html", doc: str = "report.qmd"):
    monkeypatch.setenv("CART_VARIABLES", str(root / "_variables.yml"))
    variables = yaml.safe_load((root / "_variables.yml").read_text(encoding="utf-8"))
    return execute_qmd(PROJECT_ROOT / doc, target_format=fmt, variables=variables,
                       kernel_argv=project_kernel_argv())


def _outputs(run) -> dict[str, list]:
    """Every chunk's outputs as Quarto receives them."""
    return {f"{c.chunk.location}": [(o.output_type, dict(o.data), dict(o.metadata), o.text) for o in c.outputs]
            for c in run.chunks}


def _figures(run) -> dict[str, list]:
    return {label: [(o.output_type, dict(o.data), dict(o.metadata)) for o in run.chunk(label).outputs]
            for label in FIGURES}


@pytest.mark.parametrize("doc", ["report.qmd", "supplement.qmd"])
def test_kept_displays_show_what_drawing_shows(prepared, tmp_path, monkeypatch, doc):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    displays = root / "_generated" / DISPLAYS_DIR
    first = _execute(root, monkeypatch, doc=doc)            # draws and keeps
    kept = sorted(displays.iterdir())
    assert len(kept) >= 5
    second = _execute(root, monkeypatch, doc=doc)           # shows the kept displays
    assert sorted(displays.iterdir()) == kept
    assert _outputs(second) == _outputs(first)
    if doc == "report.qmd":
        assert all(o[1].get("image/png") for outs in _figures(first).values() for o in outs)
    # the same document with no stored results (computed in the kernel): nothing kept, drawn as ever
    (root / "_generated" / "results.pkl").unlink()
    shutil.rmtree(displays)
    drawn = _execute(root, monkeypatch, doc=doc)
    assert not displays.exists()
    assert _outputs(drawn) == _outputs(first)


def test_displays_are_kept_per_format_and_a_damaged_one_is_drawn_again(prepared, tmp_path, monkeypatch):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    displays = root / "_generated" / DISPLAYS_DIR
    html = _figures(_execute(root, monkeypatch, "html"))
    n_html = len(list(displays.iterdir()))
    docx = _figures(_execute(root, monkeypatch, "docx"))     # other figure settings: other keys
    assert len(list(displays.iterdir())) == 2 * n_html
    assert html != docx
    for path in displays.iterdir():
        path.write_bytes(b"damaged")
    assert _figures(_execute(root, monkeypatch, "html")) == html


def test_a_new_pre_render_set_starts_without_kept_displays(prepared, tmp_path, monkeypatch, other_data):
    root = tmp_path / "render"
    shutil.copytree(prepared, root, symlinks=True)
    _execute(root, monkeypatch)
    assert (root / "_generated" / DISPLAYS_DIR).is_dir()
    prepare(data=str(other_data), variables=root / "_variables.yml", root=root)
    assert not (root / "_generated" / DISPLAYS_DIR).exists()


@pytest.fixture(scope="module")
def other_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("two_sites")
    for name in ("site_a.csv", "site_b.csv"):
        shutil.copy(PROJECT_ROOT / "data" / "synthetic" / name, folder / name)
    return folder
