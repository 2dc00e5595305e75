"""What the documents call: one setup call, then one call per chunk.

``setup(data=...)`` runs the whole analysis once and returns the results and
the ready-made texts (``t.os_median`` ...) that inline expressions print. It
also refuses to go on when ``_variables.yml`` (which feeds the YAML front
matter, i.e. the abstract, through ``{{< var >}}``) was made from other data or
another configuration: the abstract can never disagree with the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import os

import yaml

from ..config import PROJECT_ROOT, load_config
from ..results import Results, run_analysis
from .numbers import Registry, build_registry
from .submission import print_unfilled_placeholders

VARIABLES_FILE = "_variables.yml"
VARIABLES_ENV_VAR = "CART_VARIABLES"   # another variables file (tests render other data side by side)


def variables_path() -> Path:
    override = os.environ.get(VARIABLES_ENV_VAR)
    return Path(override) if override else PROJECT_ROOT / VARIABLES_FILE


class StaleVariablesError(RuntimeError):
    """_variables.yml does not match the data and configuration being rendered."""


@dataclass(frozen=True)
class Document:
    results: Results
    registry: Registry

    @property
    def t(self) -> SimpleNamespace:
        return self.registry.t


def stamp(results: Results) -> dict[str, str]:
    """Identity of what the numbers were computed from."""
    from .. import code_version

    return {
        "data_hash": results.cohort.data_hash,
        "config_hash": results.config.analysis_hash(),
        "code_version": code_version(),
        "synthetic": "yes" if results.synthetic else "no",
    }


def compute(*, data: str | None = None, config: str | None = None) -> Document:
    cfg = load_config(config, data=data)
    results = run_analysis(cfg)
    return Document(results, build_registry(results, stamp=stamp(results)))


def check_variables(doc: Document, path: Path) -> dict:
    """Stop when _variables.yml was generated from other data or configuration;
    returns its contents."""
    if not path.exists():
        raise StaleVariablesError(
            f"{path.name} is missing: the abstract's numbers come from it.\n"
            "Hint: render the project (`quarto render`, whose pre-render step writes it) "
            "or run `python -m analysis prepare`.")
    variables = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    written = variables.get("stamp", {})
    want = doc.registry.stamp
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


def setup(*, data: str | None = None, config: str | None = None, check: bool = True) -> tuple[Results, SimpleNamespace]:
    """Run the analysis for a document; returns (results, texts)."""
    from .consistency import assert_consistent

    doc = compute(data=data, config=config)
    variables = check_variables(doc, variables_path()) if check else None
    assert_consistent(doc.results, doc.registry, variables)
    return doc.results, doc.t


def prepare(*, data: str | None = None, config: str | None = None, root: Path = PROJECT_ROOT,
            variables: Path | None = None) -> list[Path]:
    """Pre-render step: write _variables.yml (or ``variables``, else CART_VARIABLES)
    and the synthetic-data banners."""
    from .banner import write_banners

    from .consistency import assert_consistent

    doc = compute(data=data, config=config)
    assert_consistent(doc.results, doc.registry)
    target = variables or (variables_path() if root == PROJECT_ROOT else root / VARIABLES_FILE)
    paths = [doc.registry.write_variables(target)]
    paths += write_banners(doc.results.synthetic, root / "_generated")
    print_unfilled_placeholders(root)         # what the authors must still fill in (stderr)
    return paths
