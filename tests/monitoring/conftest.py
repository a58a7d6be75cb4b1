"""Fixtures of the monitoring tests: a small relapse entry model with its training reference, and
a shifted synthetic site (``data/synthetic/shifted_site.yaml``) generated once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitoring_support import SHIFTED_CONFIG, entry_model

from hepatorisk.modeling.bundle import ModelBundle


@pytest.fixture(scope="session")
def relapse_model() -> ModelBundle:
    return entry_model("relapse_12w")


@pytest.fixture(scope="session")
def shifted_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 patients of the shifted site (seed 11)."""
    from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config

    out = tmp_path_factory.mktemp("shifted")
    config = load_generator_config(SHIFTED_CONFIG)
    generate_cohort(3000, seed=11, config=config).write(out)
    return out
