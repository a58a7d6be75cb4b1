"""The evaluation a recalibrated version is reviewed on: its held-out local rows.

The review-board report reads a version's run (``reports.artifacts``). A recalibrated version
has no training run of its own, so its registration logs the artifacts a training run logs,
computed by the training evaluation's own functions (``modeling.metrics``, the evaluation step's
helpers) on the rows the local gate judges, never on the rows the recalibration was fitted on,
with the parent's probability beside the recalibrated one. The run and the report state that
the evaluation is on N local held-out rows, not on the parent's original test set.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk import tracking
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.scores import MODEL, Score
from hepatorisk.training.spec import EvaluationSpec
from hepatorisk.training.steps.evaluation import Evaluation, flatten_intervals, subgroup_column

__all__ = [
    "LOCAL_EVALUATION_FILE",
    "PARENT",
    "EvaluationPlan",
    "LocalEvaluation",
    "evaluate_locally",
    "parent_plan",
]

#: the recalibrated version's probability is ``p_model``; its parent's, beside it, ``p_parent``
PARENT = Score("parent", "parent version (before recalibration)")
#: what was evaluated on which rows, in words and numbers (the report's statement reads it)
LOCAL_EVALUATION_FILE = "evaluation/local_evaluation.json"
_LANDMARK = "landmark_week"


@dataclass(frozen=True)
class EvaluationPlan:
    """The parent's evaluation settings the local evaluation repeats (else the defaults)."""

    thresholds: np.ndarray
    subgroups: list[str]
    subgroup_min_n: int


@dataclass(frozen=True)
class LocalEvaluation:
    evaluation: Evaluation
    records: pd.DataFrame  # the local rows as logged: split "calibration" (fitted) or "test"
    statement: dict[str, Any]


def parent_plan(run_id: str | None) -> EvaluationPlan:
    """Decision-curve thresholds and subgroup variables of the parent's run (the same curve and
    subgroups, parent and recalibrated side by side); the pipeline defaults where it has none."""
    default = EvaluationSpec()
    lo, hi, step = default.thresholds
    thresholds = np.round(np.arange(lo, hi + step / 2, step), 6)
    subgroups = list(default.subgroups)
    min_n = default.subgroup_min_n
    if run_id:
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("evaluation/decision_curve.csv", "evaluation/subgroups.csv"):
                try:
                    frame = pd.read_csv(tracking.download_run_artifact(run_id, name, Path(tmp)))
                except DataSourceError:
                    continue
                if "threshold" in frame:
                    thresholds = frame["threshold"].to_numpy(dtype=float)
                if "variable" in frame:
                    subgroups = [str(v) for v in dict.fromkeys(frame["variable"])]
        logged = tracking.run_record(run_id).params.get("evaluation.subgroup_min_n")
        min_n = int(float(logged)) if logged else min_n
    return EvaluationPlan(thresholds, subgroups, min_n)


def evaluate_locally(
    parent: ModelBundle,
    challenger: ModelBundle,
    records: pd.DataFrame,
    y: np.ndarray,
    fit_rows: np.ndarray,
    held: np.ndarray,
    outcome: str,
    plan: EvaluationPlan,
    n_boot: int,
    seed: int,
    lineage: dict[str, Any],
) -> LocalEvaluation:
    """Parent and recalibrated version on the held-out local rows ``held`` (the gate's rows)."""
    test = records.iloc[held].reset_index(drop=True)
    y_test = np.asarray(y)[held]
    p = challenger.predict_proba(test)
    p_parent = parent.predict_proba(test)
    ci = metrics.bootstrap_metrics(y_test, p, n_boot=n_boot, seed=seed)
    ci_parent = metrics.bootstrap_metrics(y_test, p_parent, n_boot=n_boot, seed=seed)
    diff = metrics.paired_auroc_difference(y_test, p, p_parent, n_boot=n_boot, seed=seed)
    flat = flatten_intervals("test_", ci) | flatten_intervals(f"{PARENT.key}_test_", ci_parent)
    flat |= flatten_intervals("", {f"auroc_minus_{PARENT.key}": diff})
    flat |= {"test_n": float(len(y_test)), "test_events": float(y_test.sum())}
    predictions = pd.DataFrame({"y": y_test, MODEL.column: p, PARENT.column: p_parent})
    if _LANDMARK in test:
        landmark = test[_LANDMARK].to_numpy()
        predictions[_LANDMARK] = landmark
        flat |= metrics.landmark_metrics(y_test, p, landmark, n_boot=n_boot, seed=seed)
    curve = metrics.net_benefit(y_test, p, plan.thresholds)
    curve[PARENT.key] = metrics.net_benefit(y_test, p_parent, plan.thresholds)["model"].to_numpy()
    usable = [v for v in plan.subgroups if v in test or (v == "age_band" and "age" in test)]
    frame = predictions.copy()
    for column in usable:
        frame[column] = subgroup_column(test, column)
    subgroups = metrics.subgroup_metrics(
        frame, "y", MODEL.column, usable, n_boot=min(n_boot, 500), seed=seed,
        min_n=plan.subgroup_min_n,
    )  # fmt: skip
    evaluation = Evaluation(
        metrics=flat,
        baseline_metrics={},
        predictions=predictions,
        decision_curve=curve,
        calibration_curve=metrics.calibration_curve(y_test, p),
        subgroups=subgroups,
    )
    statement = {
        "scope": "local held-out rows",
        "n": len(held),
        "events": int(y_test.sum()),
        "fit_rows": len(fit_rows),
        "parent": lineage.get("parent"),
        "local_data_digest": lineage.get("local_data_digest"),
        "bootstrap": n_boot,
        "seed": seed,
        "subgroups_not_in_local_data": [v for v in plan.subgroups if v not in usable],
        "text": (
            f"Evaluated on {len(held):,} held-out local rows ({int(y_test.sum()):,} events) of "
            f"the recalibration's local data (digest {lineage.get('local_data_digest')}): the "
            f"rows the local gate judged, not the {len(fit_rows):,} rows the recalibration was "
            f"fitted on, and not the original test set of {lineage.get('parent')}."
        ),
    }
    return LocalEvaluation(evaluation, _logged_records(records, y, fit_rows, held, outcome,
                                                       challenger, usable), statement)  # fmt: skip


def _logged_records(
    records: pd.DataFrame,
    y: np.ndarray,
    fit_rows: np.ndarray,
    held: np.ndarray,
    outcome: str,
    bundle: ModelBundle,
    subgroups: list[str],
) -> pd.DataFrame:
    """The local rows as the report reads them (Table 1, SHAP, subgroups), minimised: the
    model's inputs, the subgroup columns and the outcome; identifiers and any other column of
    the local file are not logged. Fitted rows are the ``calibration`` split, held-out ``test``
    (in the order of the logged predictions)."""
    keep = [
        c
        for c in dict.fromkeys([*bundle.input_columns, *subgroups, _LANDMARK])
        if c in records and c != outcome
    ]
    order = np.concatenate([fit_rows, held])
    out = records.iloc[order][keep].reset_index(drop=True)
    out[outcome] = np.asarray(y)[order]
    out["split"] = ["calibration"] * len(fit_rows) + ["test"] * len(held)
    return out
