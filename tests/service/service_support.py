"""Shared by the service tests: two small models trained on the committed sample, exported.

A module of its own (not conftest) so that tests can import its helpers by a unique name;
``conftest.py`` re-exports the fixtures.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; the lock has httpx (known, harmless).
    warnings.filterwarnings("ignore", "Using `httpx` with", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hepatorisk.app import create_app
from hepatorisk.cohorts.history import HISTORY_COLUMNS, history_features
from hepatorisk.cohorts.landmarks import DEFAULT_LANDMARKS, landmark_labels
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.cohorts.synthetic.tables import PATIENTS
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.features import FeatureBuilder
from hepatorisk.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
# the synthetic pipelines' own derived features (with the landmark models' history ones), so
# the test models read records as they do
_PIPELINE = yaml.safe_load((SAMPLE.parents[2] / "pipelines" / "_synthetic_base.yaml").read_text())
DERIVED: dict[str, str] = _PIPELINE["features"]["derived"] | _PIPELINE["landmarks"]["derived"]
GROUPS = {
    "ALT": ["alt_u_l", "alt_uln_u_l", "alt_xuln"],
    "ALP": ["alp_u_l", "alp_uln_u_l", "alp_xuln"],
    "kratom exposure": [
        "kratom_product", "kratom_dose_g_day", "mitragynine_mg_per_g", "mitragynine_mg_day",
    ],
}  # fmt: skip
LABELS = {"alt_xuln": "ALT as a multiple of its upper limit of normal"}
API_TOKEN = "test-api-token-0123456789"
ADMIN_TOKEN = "test-admin-token-0123456789"
# a valid identifier salt (>= 32 characters, not a placeholder): the rule is not weakened for tests
SALT = "test-identifier-salt-4f1c9a7e2b6d8035"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def build_bundle(
    outcome: str, registered: str, n_estimators: int = 40, seed: int = 0, num_leaves: int = 7
) -> ModelBundle:
    records, y, train = landmark_records(outcome)
    columns = [c.name for c in PATIENTS.columns if c.name != "patient_id"]
    features = FeatureBuilder(columns=[*columns, *HISTORY_COLUMNS], derived=DERIVED)
    features.fit(records[train])
    X = features.transform(records)
    model = CalibratedBooster(n_estimators=n_estimators, num_leaves=num_leaves, random_state=seed)
    model.fit(X[train], y[train], X[~train], y[~train])
    metadata = {"registered_model": registered, "outcome": outcome, "horizon_weeks": 12,
                "pipeline": "test", "test_metrics": {"auroc": None}}  # fmt: skip
    return ModelBundle(features, model, metadata, LABELS, GROUPS)


def landmark_records(outcome: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The landmark models' rows of the sample (one per patient per landmark at risk: the
    record and the history by then), the next-12-week outcome, and the training rows (the
    first 1,500 patients; the others calibrate)."""
    cohort = load_cohort(SAMPLE)
    kind = "liver" if outcome.startswith("liver") else "relapse"
    labels = landmark_labels(cohort.patients, cohort.visits)
    history = history_features(cohort.patients, cohort.visits, DEFAULT_LANDMARKS)
    history["landmark_week"] = history["landmark_week"].astype(int)
    rows = labels[labels[f"{kind}_at_risk"]].merge(history, on=["patient_id", "landmark_week"])
    rows = rows.merge(cohort.patients, on="patient_id").sort_values(["patient_id", "landmark_week"])
    rows["landmark_week"] = rows["landmark_week"].astype(float)
    y = rows[f"{kind}_event_next"].to_numpy(dtype=int)
    first = set(cohort.patients["patient_id"].iloc[:1500])
    train = rows["patient_id"].isin(first).to_numpy()
    return rows.drop(columns="patient_id").reset_index(drop=True), y, train


def export(bundle: ModelBundle, folder: Path, version: str) -> Path:
    bundle.save(folder)
    name = bundle.metadata["registered_model"]
    facts = {"name": name, "version": version, "alias": "champion", "run_id": f"run-{version}"}
    (folder / "registration.json").write_text(json.dumps(facts))
    return folder


@pytest.fixture(scope="session")
def bundles() -> dict[str, ModelBundle]:
    return {
        "liver": build_bundle("liver_event_12w", "hepatorisk-liver"),
        "relapse": build_bundle("relapse_12w", "hepatorisk-relapse"),
    }


@pytest.fixture(scope="session")
def model_dirs(
    bundles: dict[str, ModelBundle], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {k: export(b, root / k, "1") for k, b in bundles.items()}


def make_settings(model_dirs: dict[str, Path], folder: Path) -> Settings:
    """The test service's settings: the exported models, the test tokens, an audit DB in folder."""
    return Settings(
        liver_model=str(model_dirs["liver"]),
        relapse_model=str(model_dirs["relapse"]),
        api_tokens=[{"caller": "ehr-test", "token": API_TOKEN}],
        admin_tokens=[{"caller": "ops", "token": ADMIN_TOKEN}],
        audit_db_url=f"sqlite:///{folder / 'audit.db'}",
        identifier_salt=SALT,
    )


@pytest.fixture
def settings(model_dirs: dict[str, Path], tmp_path: Path) -> Settings:
    return make_settings(model_dirs, tmp_path)


def wait_ready(client: TestClient, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.02)
    raise AssertionError(f"service not ready: {client.get('/readyz').json()}")


@contextlib.contextmanager
def running(settings: Settings) -> Iterator[TestClient]:
    """A test client of the app, its lifespan entered and its models loaded."""
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        yield c


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with running(settings) as c:
        yield c


def patient(**overrides: Any) -> dict[str, Any]:
    """A valid request body; keyword overrides replace top-level sections."""
    body: dict[str, Any] = {
        "patient_ref": "MRN-0042-SECRET",
        "demographics": {"age": 41, "sex": "male", "race_ethnicity": "hispanic", "bmi": 27.5},
        "treatment": {"moud": "buprenorphine", "cows": 6, "craving": 40},
        "kratom": {"product": "leaf_powder", "dose_g_day": 8.0, "mitragynine_mg_per_g": 1.5},
        "labs": {
            "alt": {"value": 48, "unit": "U/L", "uln": 33},
            "ast": {"value": 40, "unit": "U/L", "uln": 48},
            "alp": {"value": 90, "unit": "U/L", "uln": 115},
            "bilirubin": {"value": 0.8, "unit": "mg/dL", "uln": 1.0},
            "inr": {"value": 1.0, "uln": 1.1},
        },
        "hepatitis": {"hcv_antibody": True, "hbv_surface_antigen": False},
        "alcohol_audit_c": 3,
        "opioid_use": {
            "primary_opioid": "fentanyl",
            "heroin_days_30": 20,
            "recent_opioid_urine_screen": "positive",
        },
        "medications": {"acetaminophen": True},
    }
    body.update(overrides)
    return body
