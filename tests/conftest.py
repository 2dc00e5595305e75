"""Session fixtures: the shipped synthetic cohort analysed once."""

from __future__ import annotations

import pytest
import yaml

from analysis.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def published() -> dict:
    """The published aggregates (data/published_targets.yml, copied from the study's report)."""
    return yaml.safe_load((PROJECT_ROOT / "data" / "published_targets.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def results():
    from analysis.results import run_analysis

    return run_analysis()


@pytest.fixture(scope="session")
def registry(results):
    from analysis.present.numbers import build_registry

    return build_registry(results)
