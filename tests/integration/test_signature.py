"""The logged signature is honest and shares its one list of required inputs with the API:
``modeling.signature.REQUIRED_RECORD_COLUMNS`` marks the signature's required columns, and the
API's request requires exactly those record columns (each field of the minimal request is
needed; what it yields is that list). A model logged the way training logs it accepts records
without any optional input, and carries its code and pinned requirements."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from compose_support import REPO
from mlflow.models import Model
from pydantic import ValidationError
from service_support import SAMPLE, bundles

from hepatorisk import tracking
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.signature import REQUIRED_RECORD_COLUMNS
from hepatorisk.training.steps.registration import signature_frame

__all__ = ["bundles"]

MINIMAL: dict[str, Any] = {
    "demographics": {"age": 41, "sex": "male"},
    "treatment": {"moud": "buprenorphine"},
    "kratom": {"product": "none", "dose_g_day": 0},
    "labs": {
        "alt": {"value": 48, "unit": "U/L", "uln": 33},
        "alp": {"value": 90, "unit": "U/L", "uln": 115},
        "bilirubin": {"value": 14, "unit": "umol/L", "uln": 17.1},
    },
}


def _leaves(tree: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for key, value in tree.items():
        out += _leaves(value, (*path, key)) if isinstance(value, dict) else [(*path, key)]
    return out


def test_the_api_requires_exactly_the_signatures_required_columns() -> None:
    record = AssessRequest.model_validate(MINIMAL).to_input().record
    assert {k for k, v in record.items() if v is not None} == REQUIRED_RECORD_COLUMNS
    for leaf in _leaves(MINIMAL):  # nothing in the minimal request is optional
        body = copy.deepcopy(MINIMAL)
        parent = body
        for key in leaf[:-1]:
            parent = parent[key]
        del parent[leaf[-1]]
        with pytest.raises(ValidationError):
            AssessRequest.model_validate(body)


@pytest.fixture(scope="module")
def logged(
    bundles: dict[str, ModelBundle], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ModelBundle, pd.DataFrame]:
    """The liver test bundle logged as training logs it (RunLogger.model), in a local store."""
    folder = tmp_path_factory.mktemp("logged")
    bundle = bundles["liver"]
    records = pd.read_parquet(SAMPLE / "patients.parquet")
    columns = [c for c in bundle.input_columns if c in records.columns]
    records = records.reindex(columns=bundle.input_columns).head(40)
    example = signature_frame(records.head(5))
    output = pd.DataFrame({"probability": bundle.predict_proba(example)})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        tracking.configure(f"sqlite:///{folder / 'mlflow.db'}")
        with tracking.start_run("signature-test", "signature", {}) as run:
            uri = run.model(bundle.save(folder / "bundle"), example, output)
        local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(folder / "model")))
    assert columns, "the sample holds none of the model's inputs"
    return local, bundle, records


def test_signature_requires_only_the_required_columns(logged) -> None:  # type: ignore[no-untyped-def]
    local, bundle, _ = logged
    inputs = Model.load(str(local)).signature.inputs.inputs
    assert [c.name for c in inputs] == list(bundle.input_columns)
    required = {c.name for c in inputs if c.required}
    assert required == REQUIRED_RECORD_COLUMNS & set(bundle.input_columns)
    assert {"inr", "platelets"} & {c.name for c in inputs if not c.required} or not (
        {"inr", "platelets"} & set(bundle.input_columns)
    )


def test_the_model_carries_its_code_and_pinned_requirements(logged) -> None:  # type: ignore[no-untyped-def]
    local, _, _ = logged
    assert (local / "code" / "hepatorisk" / "modeling" / "bundle.py").is_file()
    requirements = (local / "requirements.txt").read_text().split()
    assert not any(r.startswith("hepatorisk") for r in requirements)
    assert any(r.startswith("lightgbm==") for r in requirements)
    assert all("==" in r for r in requirements if not r.startswith("-")), requirements


def test_records_without_optional_inputs_are_scored_through_the_signature(logged) -> None:  # type: ignore[no-untyped-def]
    local, bundle, records = logged
    model = mlflow.pyfunc.load_model(str(local))
    required = [c for c in bundle.input_columns if c in REQUIRED_RECORD_COLUMNS]
    only_required = signature_frame(records[required])  # every optional column absent
    served = model.predict(only_required)["probability"].to_numpy()
    expected = bundle.predict_proba(records[required].reindex(columns=bundle.input_columns))
    assert np.allclose(served, expected, rtol=0, atol=1e-12)
    with_nulls = json.loads(signature_frame(records).to_json(orient="split", index=False))
    frame = pd.DataFrame(with_nulls["data"], columns=with_nulls["columns"])
    assert model.predict(frame)["probability"].notna().all()


def test_build_docker_context_needs_nothing_of_this_checkout(logged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``mlflow models generate-dockerfile`` (what ``build-docker`` builds, made without a
    daemon): the image context holds the model with its code, and installs its requirements;
    nothing refers to this repository."""
    local, _, _ = logged
    out = tmp_path / "docker"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mlflow"), "models", "generate-dockerfile",
         "-m", str(local), "-d", str(out), "--env-manager", "virtualenv"],
        capture_output=True, text=True, timeout=600, check=False,
        env=os.environ | {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    dockerfile = (out / "Dockerfile").read_text()
    assert f"COPY model_dir/{local.name} /opt/ml/model" in dockerfile
    assert "hepatorisk" not in dockerfile and str(REPO) not in dockerfile
    model = out / "model_dir" / local.name
    assert (model / "code" / "hepatorisk" / "modeling" / "pyfunc.py").is_file()
    assert "hepatorisk" not in (model / "requirements.txt").read_text()
