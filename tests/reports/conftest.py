"""One small liver model (the committed sample, fast settings) and its report, per module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from reports_support import FAST, PIPELINES, SAMPLE

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


@dataclass(frozen=True)
class Built:
    root: Path
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    out: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Train on the 2,000-patient sample, then build the report (logged to the run).

    The working directory and MLflow variables are restored before the tests run; tests that
    read the run call ``tracking.configure(root=built.root)``."""
    from hepatorisk.reports import build_report
    from hepatorisk.training.runner import run_pipeline

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(SAMPLE, root / "work" / "cohort")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        mp.chdir(root)
        result = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=root)
        uri = f"models:/{result.registered_model}/{result.version}"
        out = root / "report"
        build_report(uri, out)
    return Built(root, result.run_id, uri, dict(result.metrics), out)


@pytest.fixture()
def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is required (apt-get install -y chromium poppler-utils)")
    return found
