"""Collect a registered model's run into a ``ReportData``, section by section.

Everything comes from the tracked run (``RunArtifacts``: metrics, evaluation artifacts, records,
the model); nothing is retrained, and only what the run does not store (curves, SHAP, Table 1,
eDISH) is computed from its artifacts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pandas as pd

from hepatorisk import __version__
from hepatorisk.exceptions import DataSourceError
from hepatorisk.monitoring import change_record
from hepatorisk.reports import (
    bands,
    calibration,
    card,
    cohort,
    equity,
    explain,
    fairness,
    liver,
    performance,
    scenarios,
)
from hepatorisk.reports.artifacts import RunArtifacts, load_run
from hepatorisk.reports.data import ReportData
from hepatorisk.reports.labels import level_name, outcome_words, variable_name
from hepatorisk.reports.resample import Resamples

__all__ = ["REPORT_LIBRARIES", "RESAMPLES", "gather_report"]

RESAMPLES = 400  # the report's own bootstrap (bands, fairness contrasts)
REPORT_LIBRARIES = ("matplotlib", "shap", "jinja2", "numpy", "pandas", "mlflow")

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
    horizon = bundle.metadata.get("horizon_weeks")
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
        "outcome_label": outcome_words(outcome, horizon),
        "horizon_weeks": bundle.metadata.get("horizon_weeks"),
        "description": bundle.metadata.get("description", ""),
        "cohort_kind": bundle.metadata.get("cohort_kind", run.params.get("cohort.kind")),
        "pipeline": bundle.metadata.get("pipeline", run.params.get("name")),
        "dataset_digest": bundle.metadata.get("dataset_digest"),
        "n_test": len(test),
        "n_development": int((run.records["split"] != "test").sum()),
        # a landmark model's rows are assessments: one per patient at each landmark week at risk
        "unit": "assessments (patient x landmark week)"
        if "landmark_week" in run.records.columns
        else "patients",
        "tripod_source": card.tripod_source(),
        "synthetic": bundle.metadata.get("cohort_kind", run.params.get("cohort.kind"))
        == "synthetic",
        "code_commit": run.params.get("code.git_commit", "not recorded by this run"),
        "code_dirty": run.params.get("code.git_dirty", "not recorded"),
        "training_libraries": run.params.get("code.libraries", "not recorded by this run"),
        "report_libraries": "; ".join(_versions(REPORT_LIBRARIES)),
        "scenario": run.params.get("cohort.scenario", "not recorded"),
        # what this version's promotion changed, and its acceptance (issue 18)
        "change_record": change_record.read(run.run_id),
        # a recalibrated version: evaluated on its held-out local rows, not a test split
        "local_evaluation": run.local_evaluation,
    }
    y = run.predictions["y"].to_numpy(dtype=bool)
    p = run.predictions["p_model"].to_numpy(dtype=float)
    resamples = Resamples.draw(len(test), RESAMPLES, seed)
    variables = [str(v) for v in dict.fromkeys(run.subgroups["variable"])]
    masks, skipped = equity.subgroup_masks(variables, test, y)
    flat = {
        f"{variable_name(v)}: {level_name(v, level)}": mask
        for v, levels in masks.items()
        for level, mask in levels.items()
    }
    band_data = bands.band_section(run, outcome, flat)
    band_data["scenarios"] = scenarios.scenario_section(bundle, test, p)  # issue 13 item 4
    curves = performance.curve_section(run)
    curves["calibration_bins"] = calibration.calibration_bins(y, p)
    curves["calibration_smooth"] = calibration.smoothed_calibration(y.astype(float), p)
    liver_data = liver.liver_section(run.records, outcome) if outcome.startswith("liver") else None
    if liver_data is not None:
        liver_data["horizon_weeks"] = horizon
    return ReportData(
        meta=meta,
        model_card=card.model_card(run, meta),
        table_one=cohort.table_one_section(run, outcome),
        performance=performance.performance_section(run),
        curves=curves,
        shap=explain.shap_section(
            bundle,
            test,
            sample=shap_sample,
            seed=seed,
            p_model=run.predictions["p_model"].to_numpy(dtype=float),
        ),
        subgroups=fairness.subgroup_section(run, test),
        liver=liver_data,
        tripod=card.tripod_section(run, meta),
        bands=band_data,
        equity=equity.equity_section(
            run,
            test,
            masks,
            skipped,
            [c["cutoff"] for c in band_data["cutoffs"]],
            resamples,
            card.protected_reasons(),
        ),
    )


def _versions(names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return out


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
