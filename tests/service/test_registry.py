"""Loading the champions from an MLflow registry (SQLite tracking store, no server)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from service_support import AUTH, TestClient, patient, wait_ready

from hepatorisk.app import create_app

MODEL_CODE = Path(__file__).resolve().parents[2] / "src/hepatorisk/modeling/mlflow_model.py"


@pytest.fixture
def registry(model_dirs, tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # an earlier test may have pointed the registry elsewhere
    mlflow.set_experiment("registry-test")
    client = mlflow.MlflowClient()
    for outcome, name in (("liver", "hepatorisk-liver"), ("relapse", "hepatorisk-relapse")):
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(MODEL_CODE),
                artifacts={"bundle": str(model_dirs[outcome])},
                pip_requirements=["hepatorisk"],
            )
        version = mlflow.register_model(info.model_uri, name)
        client.set_registered_model_alias(name, "champion", version.version)
    yield uri
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def test_champions_load_from_the_registry(settings, registry):
    from_registry = type(settings).model_validate(
        settings.model_dump()
        | {
            "liver_model": "models:/hepatorisk-liver@champion",
            "relapse_model": "models:/hepatorisk-relapse@champion",
            "tracking_uri": registry,
        }
    )
    with TestClient(create_app(from_registry)) as c:
        wait_ready(c)
        models = c.get("/v1/models", headers=AUTH).json()["models"]
        assert {
            (m["model"]["name"], m["model"]["version"], m["model"]["alias"]) for m in models
        } == {
            ("hepatorisk-liver", "1", "champion"),
            ("hepatorisk-relapse", "1", "champion"),
        }
        assert all(m["model"]["run_id"] for m in models)
        assert c.post("/v1/assess", json=patient(), headers=AUTH).status_code == 200
