"""Small entry models for the monitoring tests, trained on the committed 2,000-patient sample.

The service tests' ``build_bundle`` now trains landmark models (records plus history); these
tests need the entry record only and a training reference, so they train their own (same
settings: 40 trees of 7 leaves, the synthetic pipelines' derived features)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hepatorisk import tracking
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.cohorts.synthetic.tables import PATIENTS
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.features import FeatureBuilder
from hepatorisk.modeling.reference import with_reference
from hepatorisk.training.spec import GateSpec
from hepatorisk.training.steps.registration import signature_frame

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "synthetic" / "sample"
SHIFTED_CONFIG = REPO / "data" / "synthetic" / "shifted_site.yaml"
DERIVED: dict[str, str] = yaml.safe_load((REPO / "pipelines" / "_synthetic_base.yaml").read_text())[
    "features"
]["derived"]
COLUMNS = [c.name for c in PATIENTS.columns if c.name != "patient_id"]


def at_risk(folder: Path, outcome: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A cohort's records (no identifier) of patients at risk of ``outcome``, and outcomes."""
    cohort = load_cohort(folder)
    known = cohort.outcomes[outcome].notna().to_numpy()
    records = cohort.patients[known].drop(columns="patient_id").reset_index(drop=True)
    return records, cohort.outcomes[outcome][known].to_numpy(dtype=int)


@cache
def entry_model(outcome: str, registered: str = "test-model") -> ModelBundle:
    """An entry model of ``outcome`` with its training reference (the calibration rows)."""
    records, y = at_risk(SAMPLE, outcome)
    features = FeatureBuilder(columns=COLUMNS, derived=DERIVED).fit(records[:1500])
    X = features.transform(records)
    model = CalibratedBooster(n_estimators=40, num_leaves=7, random_state=0)
    model.fit(X[:1500], y[:1500], X[1500:], y[1500:])
    metadata = {"registered_model": registered, "outcome": outcome, "horizon_weeks": 12}
    return with_reference(ModelBundle(features, model, metadata), records[1500:])


def isolated_tracking(monkeypatch: pytest.MonkeyPatch, root: Path, promoted_by: str) -> None:
    """A fresh MLflow store under ``root`` for one test, promotions signed ``promoted_by``.

    MLflow exports the URI it is given: setting each variable before deleting it makes the
    monkeypatch restore it."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(root)
    monkeypatch.setenv("HEPATORISK_PROMOTED_BY", promoted_by)
    tracking.configure(root=root)


def register_version(
    bundle: ModelBundle,
    records: pd.DataFrame,
    name: str,
    folder: Path,
    artifacts: dict[str, pd.DataFrame],
) -> None:
    """Register ``bundle`` as a new version of ``name`` with what the training gate reads
    (``gate.json``, test AUROC with its lower bound, calibration slope) and ``artifacts``."""
    example = signature_frame(records[bundle.input_columns].head(5))
    with tracking.start_run("monitoring-test", "v1", {}) as run:
        run.json("gate.json", GateSpec().model_dump(mode="json"))
        for artifact, frame in artifacts.items():
            run.frame(artifact, frame)
        run.metrics({"test_auroc": 0.66, "test_auroc_lo": 0.63, "test_cal_slope": 1.0})
        output = pd.DataFrame({"probability": bundle.predict_proba(example)})
        run.register(run.model(bundle.save(folder / "bundle"), example, output), name, {})
