"""Collect a registered model's run into a ``ReportData``, section by section.

Everything comes from the tracked run (``RunArtifacts``: metrics, evaluation artifacts, records,
the model); nothing is retrained, and only what the run does not store (curves, SHAP, Table 1,
eDISH) is computed from its artifacts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from hepatorisk import __version__
from hepatorisk.exceptions import DataSourceError
from hepatorisk.reports import card, cohort, explain, fairness, liver, performance
from hepatorisk.reports.artifacts import RunArtifacts, load_run
from hepatorisk.reports.data import ReportData

__all__ = ["gather_report"]

log = logging.getLogger(__name__)


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
