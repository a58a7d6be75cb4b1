"""Fixtures: a throw-away project root holding the committed sample and its own MLflow store."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from training_support import SAMPLE

MLFLOW_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@pytest.fixture(autouse=True)
def _mlflow_variables_restored() -> Iterator[None]:
    """MLflow exports every URI it is given as an environment variable; a test's store must not
    outlive the test (a later ``tracking.configure`` would take it for the user's choice)."""
    saved = {name: os.environ.get(name) for name in MLFLOW_VARIABLES}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root with work/cohort = the committed 2,000-patient sample; MLflow lives inside it."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    shutil.copytree(SAMPLE, tmp_path / "work" / "cohort")
    monkeypatch.chdir(tmp_path)
    return tmp_path
