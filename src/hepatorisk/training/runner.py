"""Run a pipeline file: named steps in order, each timed and logged, the whole run in MLflow."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatorisk.training import steps, tracking
from hepatorisk.training.spec import load_pipeline

__all__ = ["RunResult", "run_pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    model_uri: str
    registered_model: str
    version: str
    metrics: dict[str, float]
    step_seconds: dict[str, float]


@contextmanager
def _step(name: str, seconds: dict[str, float]) -> Iterator[None]:
    log.info("step %s ...", name)
    started = time.perf_counter()
    yield
    seconds[name] = round(time.perf_counter() - started, 3)
    log.info("step %s done in %.1f s", name, seconds[name])


def run_pipeline(
    path: Path, overrides: list[str] | None = None, root: Path | None = None
) -> RunResult:
    spec = load_pipeline(path, overrides)
    root = (root or Path.cwd()).resolve()
    tracking.configure(root)
    seconds: dict[str, float] = {}
    with _step("ingest", seconds):
        dataset = steps.ingest(spec, root)
    with _step("split", seconds):
        parts = steps.split(dataset, spec)
    with _step("train", seconds):
        trained = steps.train(dataset, parts, spec)
    with _step("calibrate", seconds):
        intercept, slope = steps.calibrate(dataset, parts, trained)
    with _step("evaluate", seconds):
        evaluation = steps.evaluate(dataset, parts, trained, spec)
        evaluation.internal_external = steps.internal_external(dataset, spec)
    tags = {"pipeline": spec.name, "cohort_kind": spec.cohort.kind, "outcome": spec.outcome}
    with tracking.start_run(spec.name, f"{spec.name}", tags) as run, _step("register", seconds):
        run.params(
            _flat_params(spec.model_dump(mode="json"))
            | {
                "booster_params": trained.booster_params,
                "calibration_intercept": intercept,
                "calibration_slope": slope,
                "train_rows": len(parts.train),
                "calibration_rows": len(parts.calibration),
                "test_rows": len(parts.test),
                "dataset_digest": dataset.digest,
            }
        )
        run.file(path, "pipeline")
        run.json("gate.json", spec.gate.model_dump(mode="json"))
        run.dataset(dataset.frame, dataset.source, spec.cohort.kind, spec.outcome, dataset.digest)
        _log_evaluation(run, dataset, parts, evaluation, trained)
        model_uri = _log_model(run, trained, dataset, parts)
        version = tracking.register(model_uri, spec.registered_model, tags)
        run.metrics(
            evaluation.metrics
            | evaluation.baseline_metrics
            | {f"step_{k}_seconds": v for k, v in seconds.items()}
        )
    log.info(
        "registered %s version %s as challenger (run %s)",
        spec.registered_model,
        version,
        run.run_id,
    )
    return RunResult(
        run.run_id, model_uri, spec.registered_model, version, evaluation.metrics, seconds
    )


def _flat_params(tree: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value and key not in ("labels", "groups", "derived"):
            out |= _flat_params(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def _log_evaluation(
    run: tracking.RunLogger,
    dataset: steps.Dataset,
    parts: steps.Split,
    evaluation: steps.Evaluation,
    trained: steps.Trained,
) -> None:
    from hepatorisk.training import plots

    run.json("evaluation/metrics.json", evaluation.metrics | evaluation.baseline_metrics)
    run.frame("evaluation/test_predictions.parquet", evaluation.predictions)
    run.frame("evaluation/decision_curve.csv", evaluation.decision_curve)
    run.frame("evaluation/calibration_curve.csv", evaluation.calibration_curve)
    run.frame("evaluation/subgroups.csv", evaluation.subgroups)
    if not evaluation.internal_external.empty:
        run.frame("evaluation/internal_external.csv", evaluation.internal_external)
        for row in evaluation.internal_external.itertuples():
            key = str(row.held_out).replace("=", "_").replace(" ", "_")
            run.metrics({f"loo_{key}_auroc": row.auroc})
    if not trained.search.empty:
        run.frame("evaluation/search.csv", trained.search)
    split_labels = pd.Series("train", index=range(len(dataset.y)))
    split_labels.iloc[parts.calibration] = "calibration"
    split_labels.iloc[parts.test] = "test"
    run.frame("evaluation/records.parquet", dataset.frame.assign(split=split_labels.to_numpy()))
    y = evaluation.predictions["y"].to_numpy()
    scores = {
        "LightGBM (calibrated)": evaluation.predictions["p_model"].to_numpy(),
        "spline logistic": evaluation.predictions["p_baseline"].to_numpy(),
    }
    if "p_oracle" in evaluation.predictions:
        scores["oracle (true risk)"] = evaluation.predictions["p_oracle"].to_numpy()
    run.figure("plots/roc.png", plots.roc_figure(y, scores))
    run.figure("plots/calibration.png", plots.calibration_figure(evaluation.calibration_curve))
    run.figure("plots/decision_curve.png", plots.decision_curve_figure(evaluation.decision_curve))


def _log_model(
    run: tracking.RunLogger, trained: steps.Trained, dataset: steps.Dataset, parts: steps.Split
) -> str:
    bundle = trained.bundle
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
