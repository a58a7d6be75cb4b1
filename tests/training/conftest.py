"""Fixtures: a throw-away project root holding the committed sample and its own MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from training_support import SAMPLE


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root with work/cohort = the committed 2,000-patient sample; MLflow lives inside it.

    MLflow exports the URI it is given as an environment variable: setting each variable before
    deleting it makes monkeypatch restore it afterwards, so this store does not outlive the test."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    shutil.copytree(SAMPLE, tmp_path / "work" / "cohort")
    monkeypatch.chdir(tmp_path)
    return tmp_path
