"""Step ``register``: log the run (parameters, lineage, evaluation, figures, the model) and
register the model as the ``challenger`` version of its name.

The step writes through a ``RunRecorder``: ``hepatorisk.tracking.RunLogger`` in a pipeline run,
any object with the same methods in a test. Nothing here imports MLflow.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from hepatorisk.figures import performance as performance_figures
from hepatorisk.figures.style import Drawn, png_bytes, styled
from hepatorisk.modeling import scores
from hepatorisk.modeling.estimators import saved_calibration
from hepatorisk.modeling.scores import BASELINE, MODEL, ORACLE
from hepatorisk.training.spec import PipelineSpec
from hepatorisk.training.steps.evaluation import Evaluation
from hepatorisk.training.steps.fitting import Trained
from hepatorisk.training.steps.ingestion import Dataset
from hepatorisk.training.steps.splitting import Split

__all__ = ["Registered", "RunRecorder", "register", "run_tags", "signature_frame"]


class RunRecorder(Protocol):
    """Where the register step writes: one tracked run and the model registry."""

    run_id: str

    def params(self, values: dict[str, Any]) -> None: ...
    def metrics(self, values: dict[str, float]) -> None: ...
    def json(self, name: str, value: object) -> None: ...
    def frame(self, name: str, frame: pd.DataFrame) -> None: ...
    def file(self, path: Path, folder: str | None = None) -> None: ...
    def image(self, name: str, png: bytes) -> None: ...
    def dataset(
        self, frame: pd.DataFrame, source: Path, name: str, target: str, digest: str
    ) -> None: ...
    def model(self, bundle_dir: Path, example: pd.DataFrame, output: pd.DataFrame) -> str: ...
    def register(self, model_uri: str, name: str, tags: dict[str, str]) -> str: ...


@dataclass(frozen=True)
class Registered:
    model_uri: str
    version: str


def run_tags(spec: PipelineSpec) -> dict[str, str]:
    """Tags of the run and of the registered version."""
    return {"pipeline": spec.name, "cohort_kind": spec.cohort.kind, "outcome": spec.outcome}


def register(
    run: RunRecorder,
    spec: PipelineSpec,
    pipeline_file: Path,
    dataset: Dataset,
    parts: Split,
    trained: Trained,
    evaluation: Evaluation,
    step_seconds: dict[str, float],
) -> Registered:
    """Log everything a reviewer needs into ``run``, then register its model (``challenger``).

    ``trained`` is the calibrated model; ``step_seconds`` the time of each earlier step."""
    intercept, slope = trained.bundle.model.calibration_
    run.params(
        _flat_params(spec.model_dump(mode="json"))
        | {
            "booster_params": trained.booster_params,
            "calibration_intercept": intercept,
            "calibration_slope": slope,
            "calibration_by_landmark": saved_calibration(trained.bundle.model)[
                "landmark_calibration"
            ],
            "train_rows": len(parts.train),
            "calibration_rows": len(parts.calibration),
            "test_rows": len(parts.test),
            "dataset_digest": dataset.digest,
        }
    )
    run.file(pipeline_file, "pipeline")
    run.json("gate.json", spec.gate.model_dump(mode="json"))
    run.dataset(dataset.frame, dataset.source, spec.cohort.kind, spec.outcome, dataset.digest)
    _log_evaluation(run, dataset, parts, evaluation, trained)
    model_uri = _log_model(run, trained, dataset, parts, evaluation.metrics)
    version = run.register(model_uri, spec.registered_model, run_tags(spec))
    run.metrics(
        evaluation.metrics
        | evaluation.baseline_metrics
        | {f"step_{k}_seconds": v for k, v in step_seconds.items()}
    )
    return Registered(model_uri, version)


def _flat_params(tree: dict[str, Any], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value and key not in ("labels", "groups", "derived"):
            out |= _flat_params(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _log_evaluation(
    run: RunRecorder,
    dataset: Dataset,
    parts: Split,
    evaluation: Evaluation,
    trained: Trained,
) -> None:
    run.json("evaluation/metrics.json", evaluation.metrics | evaluation.baseline_metrics)
    run.frame("evaluation/test_predictions.parquet", evaluation.predictions)
    run.frame("evaluation/decision_curve.csv", evaluation.decision_curve)
    run.frame("evaluation/calibration_curve.csv", evaluation.calibration_curve)
    run.frame("evaluation/subgroups.csv", evaluation.subgroups)
    if not evaluation.internal_external.empty:
        run.frame("evaluation/internal_external.csv", evaluation.internal_external)
        held = evaluation.internal_external
        for held_out, auroc in zip(held["held_out"], held["auroc"], strict=True):
            key = str(held_out).replace("=", "_").replace(" ", "_")
            run.metrics({f"loo_{key}_auroc": auroc})
    if not evaluation.what_if.empty:
        run.frame("evaluation/what_if.csv", evaluation.what_if)
    if not trained.search.empty:
        run.frame("evaluation/search.csv", trained.search)
    split_labels = pd.Series("train", index=range(len(dataset.y)))
    split_labels.iloc[parts.calibration] = "calibration"
    split_labels.iloc[parts.test] = "test"
    run.frame("evaluation/records.parquet", dataset.frame.assign(split=split_labels.to_numpy()))
    for name, png in plots(evaluation).items():
        run.image(f"plots/{name}.png", png)


def plots(evaluation: Evaluation) -> dict[str, bytes]:
    """The run's ROC, calibration and decision-curve figures (the report's, same data), as PNG."""
    m = evaluation.metrics | evaluation.baseline_metrics
    curves = performance_figures.curve_points(
        evaluation.predictions,
        evaluation.calibration_curve,
        evaluation.decision_curve,
        m,
        scores.column_labels(),
    )
    auroc = {
        MODEL.label: m.get("test_auroc"),
        BASELINE.label: m.get("baseline_test_auroc"),
        ORACLE.label: m.get("oracle_auroc"),
    }
    n, events = len(evaluation.predictions), int(evaluation.predictions["y"].sum())
    drawn: dict[str, Callable[[], Drawn]] = {
        "roc": lambda: performance_figures.roc_figure(curves, auroc, n, events),
        "calibration": lambda: performance_figures.calibration_figure(curves),
        "decision_curve": lambda: performance_figures.decision_figure(
            curves, scores.key_labels((MODEL, BASELINE))
        ),
    }
    out: dict[str, bytes] = {}
    for name, draw in drawn.items():
        with styled():  # the style applies to drawing and saving alike
            figure, _caption = draw()
            out[name] = png_bytes(figure)
    return out


def _log_model(
    run: RunRecorder,
    trained: Trained,
    dataset: Dataset,
    parts: Split,
    test_metrics: dict[str, float],
) -> str:
    """Log the bundle with its test metrics in its metadata (the service shows them, and words
    the dose what-if by the measured ``whatif_*`` errors)."""
    metadata = trained.bundle.metadata | {"test_metrics": dict(test_metrics)}
    ensemble = trained.bundle.ensemble
    if ensemble is not None:  # what the answers say about their ranges
        metadata["uncertainty"] = {
            "method": ensemble.describe(),
            "level": ensemble.level,
            "test_coverage": test_metrics.get("test_range_coverage"),
        }
    bundle = replace(trained.bundle, metadata=metadata)
    example = signature_frame(dataset.frame.iloc[parts.test[:5]][bundle.input_columns])
    output = pd.DataFrame({"probability": bundle.predict_proba(example)})
    with tempfile.TemporaryDirectory() as tmp:
        bundle_dir = bundle.save(Path(tmp) / "bundle")
        return run.model(bundle_dir, example, output)


def signature_frame(records: pd.DataFrame) -> pd.DataFrame:
    """Records typed as the signature should declare them: the cohort's own integer, float and
    true/false columns; nullable integers as floats (JSON null); categories as text."""
    out = records.reset_index(drop=True).copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        elif isinstance(dtype, (pd.BooleanDtype, pd.Int64Dtype, pd.Int32Dtype, pd.Float64Dtype)):
            out[col] = out[col].astype("float64")
    return out
