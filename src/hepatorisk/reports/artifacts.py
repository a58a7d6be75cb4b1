"""``RunArtifacts``: what the report reads from one version's run, and how it is fetched.

Everything comes from the tracked run (metrics, parameters, evaluation artifacts, records, the
model), through the tracking adapter; nothing is retrained. A training run evaluates on its test
split; a recalibration's run on its held-out local rows (``local_evaluation`` says so). The
section builders (card, cohort, fairness, performance) read this type; this module imports none
of them.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk import tracking
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring.local_evaluation import LOCAL_EVALUATION_FILE

__all__ = ["REQUIRED", "RunArtifacts", "load_run"]

REQUIRED = (
    "evaluation/test_predictions.parquet",
    "evaluation/decision_curve.csv",
    "evaluation/calibration_curve.csv",
    "evaluation/subgroups.csv",
    "evaluation/records.parquet",
)


@dataclass(frozen=True)
class RunArtifacts:
    """What the report reads from one training run."""

    model_uri: str
    name: str
    version: str | None
    alias: str | None
    run_id: str
    bundle: ModelBundle
    metrics: dict[str, float]
    params: dict[str, str]
    run_started: str
    predictions: pd.DataFrame
    decision_curve: pd.DataFrame
    calibration_curve: pd.DataFrame
    subgroups: pd.DataFrame
    records: pd.DataFrame
    internal_external: pd.DataFrame | None
    # a recalibrated version: what was evaluated on which local rows (None: a training run)
    local_evaluation: dict[str, Any] | None = None


def load_run(model_uri: str) -> RunArtifacts:
    """The model and its run's evaluation artifacts; a clear error when any is missing.

    Reads the tracking store ``tracking.configure`` chose (the CLI configures it first)."""
    with warnings.catch_warnings():
        # MLflow warns that the pyfunc's predict has no type hints: deliberate (see pyfunc.py)
        warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
        loaded = tracking.load_versioned_model(model_uri)
    if loaded.run_id is None:
        raise DataSourceError(
            f"{model_uri}: the model names no MLflow run, so its evaluation artifacts cannot be "
            "found; report on a registered model (models:/NAME@ALIAS) or a runs:/ URI"
        )
    run = tracking.run_record(loaded.run_id)
    listed = tracking.list_run_artifacts(loaded.run_id, "evaluation")
    missing = [name for name in REQUIRED if name not in listed]
    if missing:
        raise DataSourceError(_missing_message(model_uri, loaded.run_id, run.params, missing))
    with tempfile.TemporaryDirectory() as tmp:
        local = {
            name: tracking.download_run_artifact(loaded.run_id, name, Path(tmp))
            for name in [*REQUIRED, "evaluation/internal_external.csv", LOCAL_EVALUATION_FILE]
            if name in listed
        }
        statement = local.pop(LOCAL_EVALUATION_FILE, None)
        local_evaluation = json.loads(statement.read_text()) if statement else None
        frames = {name: _read(path) for name, path in local.items()}
    return RunArtifacts(
        model_uri=model_uri,
        name=loaded.name,
        version=loaded.version,
        alias=loaded.alias,
        run_id=loaded.run_id,
        bundle=loaded.bundle,
        metrics=run.metrics,
        params=run.params,
        run_started=run.started,
        predictions=frames["evaluation/test_predictions.parquet"],
        decision_curve=frames["evaluation/decision_curve.csv"],
        calibration_curve=frames["evaluation/calibration_curve.csv"],
        subgroups=frames["evaluation/subgroups.csv"],
        records=frames["evaluation/records.parquet"],
        internal_external=frames.get("evaluation/internal_external.csv"),
        local_evaluation=local_evaluation,
    )


def _missing_message(
    model_uri: str, run_id: str, params: dict[str, str], missing: list[str]
) -> str:
    """What the run lacks, and which command logs it for this kind of version."""
    head = f"{model_uri} (run {run_id}) lacks the evaluation artifacts {', '.join(missing)}"
    if "recalibration.method" in params:  # a recalibration from before it logged its evaluation
        parent = params.get("lineage.parent", "its parent")
        return (
            f"{head}: this recalibrated version was registered before recalibrations logged "
            f"their evaluation on the held-out local rows; recalibrate {parent} again with "
            "`hepatorisk recalibrate models:/NAME/PARENT_VERSION --data FILE` and report on "
            "the new version"
        )
    return (
        f"{head}, which the report reads from the run that made the version (`hepatorisk "
        "train` logs them for a trained version, `hepatorisk recalibrate` for a recalibrated "
        "one)"
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
