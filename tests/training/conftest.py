"""Fixtures: a throw-away project root holding the committed sample and its own MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from training_support import SAMPLE


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root with work/cohort = the committed 2,000-patient sample; MLflow lives inside it."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    shutil.copytree(SAMPLE, tmp_path / "work" / "cohort")
    monkeypatch.chdir(tmp_path)
    return tmp_path
