"""One small liver model (the committed sample, fast settings) and its report, per module."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from reports_support import FAST, PIPELINES, SAMPLE


@dataclass(frozen=True)
class Built:
    root: Path
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    out: Path
    tracking_uri: str  # the run's store: tests pass it to tracking.configure


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Train on the 2,000-patient sample, then build the report (logged to the run).

    The working directory and MLflow variables are restored before the tests run (MLflow
    exports the URI it is given: setting each variable before deleting it makes the context
    restore it); tests that read the run call ``tracking.configure(built.tracking_uri)``."""
    from hepatorisk import tracking
    from hepatorisk.reports import build_report
    from hepatorisk.training.runner import run_pipeline

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(SAMPLE, root / "work" / "cohort")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            mp.setenv(name, "")
            mp.delenv(name)
        mp.chdir(root)
        result = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=root)
        uri = f"models:/{result.registered_model}/{result.version}"
        out = root / "report"
        build_report(uri, out)
        tracking_uri = tracking.configure(root=root)
    return Built(root, result.run_id, uri, dict(result.metrics), out, tracking_uri)


@pytest.fixture()
def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is required (apt-get install -y chromium poppler-utils)")
    return found
