"""Collect a registered model's run into a ``ReportData``: the only place that reads MLflow.

Everything comes from the tracked run (metrics, evaluation artifacts, records, the model);
nothing is retrained, and only what the run does not store (curves, SHAP, Table 1, eDISH) is
computed from its artifacts.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk import __version__
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.reports import card, cohort, explain, fairness, liver, performance
from hepatorisk.reports.data import ReportData

__all__ = ["RunArtifacts", "gather_report", "load_run"]

log = logging.getLogger(__name__)

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
    """The model and its run's evaluation artifacts; a clear error when any is missing."""
    import mlflow

    from hepatorisk.modeling.loading import load_model
    from hepatorisk.training import tracking

    tracking.configure()
    with warnings.catch_warnings():
        # MLflow warns that the pyfunc's predict has no type hints: deliberate (see pyfunc.py)
        warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
        loaded = load_model(model_uri)
    if loaded.run_id is None:
        raise DataSourceError(
            f"{model_uri}: the model names no MLflow run, so its evaluation artifacts cannot be "
            "found; report on a registered model (models:/NAME@ALIAS) or a runs:/ URI"
        )
    run = mlflow.MlflowClient().get_run(loaded.run_id)
    listed = _listed(loaded.run_id)
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
        metrics=dict(run.data.metrics),
        params=dict(run.data.params),
        run_started=datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat(
            timespec="seconds"
        ),
        predictions=frames["evaluation/test_predictions.parquet"],
        decision_curve=frames["evaluation/decision_curve.csv"],
        calibration_curve=frames["evaluation/calibration_curve.csv"],
        subgroups=frames["evaluation/subgroups.csv"],
        records=frames["evaluation/records.parquet"],
        internal_external=frames.get("evaluation/internal_external.csv"),
    )


def _listed(run_id: str) -> set[str]:
    import mlflow

    client = mlflow.MlflowClient()
    return {a.path for a in client.list_artifacts(run_id, "evaluation")}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def gather_report(
    model_uri: str, *, shap_sample: int = 3000, seed: int = 7, run: RunArtifacts | None = None
) -> ReportData:
    """Every section of the report for ``model_uri`` (``models:/hepatorisk-liver@champion``)."""
    run = run or load_run(model_uri)
    bundle = run.bundle
    outcome = str(bundle.metadata.get("outcome", run.params.get("outcome", "")))
    test = run.records[run.records["split"] == "test"].reset_index(drop=True)
    _check_alignment(run, test)
    meta: dict[str, Any] = {
        "title": f"Review-board report: {run.name}",
        "model_uri": model_uri,
        "registered_model": run.name,
        "version": run.version,
        "alias": run.alias,
        "run_id": run.run_id,
        "run_started": run.run_started,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "hepatorisk_version": __version__,
        "outcome": outcome,
        "outcome_label": bundle.label(outcome),
        "horizon_weeks": bundle.metadata.get("horizon_weeks"),
        "description": bundle.metadata.get("description", ""),
        "cohort_kind": bundle.metadata.get("cohort_kind", run.params.get("cohort.kind")),
        "pipeline": bundle.metadata.get("pipeline", run.params.get("name")),
        "dataset_digest": bundle.metadata.get("dataset_digest"),
        "n_test": len(test),
        "n_development": int((run.records["split"] != "test").sum()),
        "tripod_source": card.tripod_source(),
    }
    return ReportData(
        meta=meta,
        model_card=card.model_card(run, meta),
        table_one=cohort.table_one_section(run, outcome),
        performance=performance.performance_section(run),
        curves=performance.curve_section(run),
        shap=explain.shap_section(
            bundle,
            test,
            sample=shap_sample,
            seed=seed,
            p_model=run.predictions["p_model"].to_numpy(dtype=float),
        ),
        subgroups=fairness.subgroup_section(run, test),
        liver=liver.liver_section(run.records) if outcome.startswith("liver") else None,
        tripod=card.tripod_section(run, meta),
    )


def _check_alignment(run: RunArtifacts, test: pd.DataFrame) -> None:
    """The records' test rows and the logged test predictions must be the same patients."""
    if len(test) != len(run.predictions):
        raise DataSourceError(
            f"run {run.run_id}: records.parquet has {len(test)} test rows but "
            f"test_predictions.parquet has {len(run.predictions)}; the artifacts do not belong "
            "together"
        )
    id_col = str(run.predictions.columns[0])
    if (
        id_col in test
        and not (
            test[id_col].astype(str).to_numpy() == run.predictions[id_col].astype(str).to_numpy()
        ).all()
    ):
        raise DataSourceError(
            f"run {run.run_id}: the test rows of records.parquet and test_predictions.parquet "
            f"list different patients ({id_col}); the artifacts do not belong together"
        )
