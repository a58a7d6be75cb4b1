"""Fixtures: one 20,000-patient cohort per test session, written and read back through contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepatorisk.cohorts.synthetic import (
    GeneratorConfig,
    SyntheticCohort,
    generate_cohort,
    load_cohort,
    load_generator_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
LARGE = 20_000  # the README's main command uses this size; targets' tolerances assume it


@pytest.fixture(scope="session")
def config() -> GeneratorConfig:
    return load_generator_config()


@pytest.fixture(scope="session")
def cohort_dir(tmp_path_factory: pytest.TempPathFactory, config: GeneratorConfig) -> Path:
    directory = tmp_path_factory.mktemp("cohort")
    generate_cohort(LARGE, seed=2026, config=config).write(directory)
    return directory


@pytest.fixture(scope="session")
def cohort(cohort_dir: Path) -> SyntheticCohort:
    return load_cohort(cohort_dir)
