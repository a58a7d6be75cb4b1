"""Each pipeline step run alone on small in-memory inputs (no cohort folder, no MLflow)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from hepatorisk.cohorts.manifest import CohortManifest
from hepatorisk.modeling.scores import MODEL
from hepatorisk.training import steps
from hepatorisk.training.spec import PipelineSpec

FEATURES = ["age", "bmi", "alt_u_l"]


def _spec(**changes: Any) -> PipelineSpec:
    values: dict[str, Any] = {
        "name": "in_memory",
        "description": "a step test",
        "registered_model": "in-memory",
        "cohort": {"kind": "synthetic", "path": "unused"},
        "outcome": "event",
        "horizon_weeks": 12,
        "features": {"feature_set": "basic"},
        "split": {"test_size": 0.25, "calibration_size": 0.25, "seed": 3},
        "model": {"lightgbm": {"n_estimators": 30, "num_leaves": 3, "min_child_samples": 20}},
        "evaluation": {"bootstrap": 100, "thresholds": [0.05, 0.5, 0.05]},
    }
    return PipelineSpec.model_validate(values | changes)


def _dataset(n: int = 800, seed: int = 0) -> steps.Dataset:
    """Patients whose event risk rises with ALT; the booster's raw log-odds are deliberately
    mis-scaled by few trees and a low learning rate, so calibration has work to do."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "age": rng.integers(18, 70, n),
            "bmi": rng.normal(28, 5, n),
            "alt_u_l": rng.lognormal(3.3, 0.5, n),
        }
    )
    risk = expit(-2.0 + 0.04 * (frame["alt_u_l"].to_numpy() - 30))
    y = (rng.random(n) < risk).astype(int)
    frame["event"] = y
    manifest = CohortManifest(
        kind="synthetic",
        tables=["patients", "outcomes"],
        feature_sets={"basic": FEATURES},
        outcomes=["event"],
    )
    return steps.Dataset(
        manifest, frame, "patient_id", y, None, Path("in-memory"), "0" * 16, frozenset({"event"})
    )


def test_split_keeps_test_rows_apart_and_stratified() -> None:
    dataset, spec = _dataset(), _spec()
    parts = steps.split(dataset, spec)
    rows = np.concatenate([parts.train, parts.calibration, parts.test])
    assert sorted(rows.tolist()) == list(range(len(dataset.y)))  # each patient exactly once
    assert len(parts.test) == 200 and len(parts.calibration) == 200
    rates = [dataset.y[r].mean() for r in (parts.train, parts.calibration, parts.test)]
    assert max(rates) - min(rates) < 0.02  # stratified on the outcome
    again = steps.split(dataset, spec)  # same spec, same seed: the same patients
    for mine, theirs in zip(parts.__dict__.values(), again.__dict__.values(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_split_of_landmark_rows_keeps_each_patient_in_one_part() -> None:
    """Landmark datasets hold several rows per patient (string identifiers): every row of a
    patient lands in the part its patient was drawn into, and every row in exactly one part."""
    base = _dataset(n=300)
    frame = pd.concat([base.frame.assign(week=w) for w in (0, 4, 8)], ignore_index=True)
    frame["patient_id"] = "P" + frame["patient_id"].astype(str)
    y = frame["event"].to_numpy()
    dataset = replace(base, frame=frame, y=y, landmark=frame["week"].to_numpy())
    parts = steps.split(dataset, _spec())
    rows = np.concatenate([parts.train, parts.calibration, parts.test])
    assert sorted(rows.tolist()) == list(range(len(frame)))
    ids = frame["patient_id"].to_numpy()
    owners = [set(ids[part]) for part in (parts.train, parts.calibration, parts.test)]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :])
    assert sum(len(o) for o in owners) == 300
    for part, patients in zip((parts.train, parts.calibration, parts.test), owners, strict=True):
        assert len(part) == 3 * len(patients)  # all three landmark rows of each patient


def test_train_leaves_the_booster_uncalibrated() -> None:
    dataset, spec = _dataset(), _spec()
    trained = steps.train(dataset, steps.split(dataset, spec), spec)
    assert trained.bundle.model.calibration_ == (0.0, 1.0)
    assert trained.bundle.input_columns == FEATURES


def test_calibrate_returns_a_new_calibrated_model_and_leaves_its_input_unchanged() -> None:
    dataset = _dataset()
    spec = _spec(model={"lightgbm": {"n_estimators": 5, "learning_rate": 0.02, "num_leaves": 3}})
    parts = steps.split(dataset, spec)
    trained = steps.train(dataset, parts, spec)
    test = dataset.frame.iloc[parts.test]
    before = trained.bundle.predict_proba(test)

    calibrated = steps.calibrate(dataset, parts, trained)

    assert calibrated is not trained and calibrated.bundle is not trained.bundle
    assert calibrated.bundle.model is not trained.bundle.model
    # the input is untouched: identity calibration, the same predictions as before
    assert trained.bundle.model.calibration_ == (0.0, 1.0)
    np.testing.assert_array_equal(trained.bundle.predict_proba(test), before)
    # the output is calibrated on the calibration rows: an affine map of the same log-odds
    intercept, slope = calibrated.bundle.model.calibration_
    assert (intercept, slope) != (0.0, 1.0)
    after = calibrated.bundle.predict_proba(test)
    np.testing.assert_allclose(logit(after), intercept + slope * logit(before), rtol=1e-9)
    rows = dataset.frame.iloc[parts.calibration]
    mean_p = calibrated.bundle.predict_proba(rows).mean()
    assert mean_p == pytest.approx(dataset.y[parts.calibration].mean(), abs=1e-3)
    # five slow trees barely spread the raw risks; calibration stretches them (slope >> 1)
    assert slope > 5 and after.std() > 5 * before.std()
    # nothing else changed: features, baseline and metadata are the same objects
    assert calibrated.bundle.features is trained.bundle.features
    assert calibrated.baseline is trained.baseline


def test_evaluate_scores_only_the_test_rows() -> None:
    dataset, spec = _dataset(), _spec()
    parts = steps.split(dataset, spec)
    calibrated = steps.calibrate(dataset, parts, steps.train(dataset, parts, spec))
    evaluation = steps.evaluate(dataset, parts, calibrated, spec)
    ids = evaluation.predictions["patient_id"].to_numpy()
    np.testing.assert_array_equal(ids, dataset.frame["patient_id"].to_numpy()[parts.test])
    assert evaluation.metrics["test_n"] == len(parts.test)
    assert 0.5 < evaluation.metrics["test_auroc"] <= 1.0
    assert list(evaluation.predictions.columns[:4]) == [
        "patient_id",
        "y",
        MODEL.column,
        "p_baseline",
    ]


class _Recorder:
    """Stands in for the tracking adapter's run logger: keeps what the step writes."""

    run_id = "in-memory-run"

    def __init__(self) -> None:
        self.written: dict[str, Any] = {}
        self.params_: dict[str, Any] = {}
        self.metrics_: dict[str, float] = {}
        self.registered: list[tuple[str, str, dict[str, str]]] = []

    def params(self, values: dict[str, Any]) -> None:
        self.params_ |= values

    def metrics(self, values: dict[str, float]) -> None:
        self.metrics_ |= values

    def json(self, name: str, value: object) -> None:
        self.written[name] = value

    def frame(self, name: str, frame: pd.DataFrame) -> None:
        self.written[name] = frame

    def file(self, path: Path, folder: str | None = None) -> None:
        self.written[f"{folder}/{path.name}"] = path

    def image(self, name: str, png: bytes) -> None:
        self.written[name] = png

    def dataset(
        self, frame: pd.DataFrame, source: Path, name: str, target: str, digest: str
    ) -> None:
        self.written["dataset"] = (name, target, digest)

    def model(self, bundle_dir: Path, example: pd.DataFrame, output: pd.DataFrame) -> str:
        assert (bundle_dir / "bundle.json").is_file()
        self.written["model"] = list(example.columns)
        return "runs:/in-memory-run/model"

    def register(self, model_uri: str, name: str, tags: dict[str, str]) -> str:
        self.registered.append((model_uri, name, tags))
        return "1"


def test_register_logs_the_run_and_registers_its_model(tmp_path: Path) -> None:
    dataset, spec = _dataset(), _spec()
    parts = steps.split(dataset, spec)
    calibrated = steps.calibrate(dataset, parts, steps.train(dataset, parts, spec))
    evaluation = steps.evaluate(dataset, parts, calibrated, spec)
    pipeline_file = tmp_path / "in_memory.yaml"
    pipeline_file.write_text("name: in_memory\n")
    run = _Recorder()

    registered = steps.register(
        run, spec, pipeline_file, dataset, parts, calibrated, evaluation, {"train": 0.5}
    )

    assert registered == steps.Registered("runs:/in-memory-run/model", "1")
    assert run.registered == [("runs:/in-memory-run/model", "in-memory", steps.run_tags(spec))]
    intercept, slope = calibrated.bundle.model.calibration_
    assert run.params_["calibration_intercept"] == intercept
    assert run.params_["calibration_slope"] == slope
    assert run.metrics_["test_auroc"] == evaluation.metrics["test_auroc"]
    assert run.metrics_["step_train_seconds"] == 0.5
    for name in ("roc", "calibration", "decision_curve"):
        assert run.written[f"plots/{name}.png"].startswith(b"\x89PNG")
    records = run.written["evaluation/records.parquet"]
    assert (records["split"] == "test").sum() == len(parts.test)
    assert run.written["model"] == FEATURES
