"""``RunArtifacts``: what the report reads from one training run, and how it is fetched.

Everything comes from the tracked run (metrics, parameters, evaluation artifacts, records, the
model), through the tracking adapter; nothing is retrained. The section builders (card, cohort,
fairness, performance) read this type; this module imports none of them.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatorisk import tracking
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle

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
        raise DataSourceError(
            f"{model_uri} (run {loaded.run_id}) lacks the evaluation artifacts "
            f"{', '.join(missing)}; retrain it with `hepatorisk train PIPELINE` (this version "
            "logs them) and report on the new version"
        )
    with tempfile.TemporaryDirectory() as tmp:
        local = {
            name: tracking.download_run_artifact(loaded.run_id, name, Path(tmp))
            for name in [*REQUIRED, "evaluation/internal_external.csv"]
            if name in listed
        }
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
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
