"""Spark scoring through MLflow's own ``spark_udf`` over the registered model (optional extra).

Runs when pyspark (``pip install 'hepatorisk[spark]'``) and a Java 17+ runtime are present;
otherwise it is skipped and ``pytest -ra`` prints why. Spark ``local[2]``, the same registered
model version that ``predict`` scores: the numbers must agree to 1e-9.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scale_support import SAMPLE, build_bundle

from hepatorisk import tracking
from hepatorisk.tracking import load_versioned_model
from hepatorisk.training.scoring import score_frame
from hepatorisk.training.steps.registration import signature_frame

pytestmark = [
    pytest.mark.spark,
    # pyspark and py4j warn about their own deprecations on import and at shutdown, and
    # pyspark 4 about pandas 3 in general (the agreement below is what counts)
    pytest.mark.filterwarnings(
        "ignore::DeprecationWarning",
        "ignore::ResourceWarning",
        "ignore:PySpark does not yet fully support pandas:FutureWarning",
    ),
]
ROWS = 400


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pyspark_sql = pytest.importorskip(
        "pyspark.sql", reason="pyspark is not installed (pip install 'hepatorisk[spark]')"
    )
    if shutil.which("java") is None:
        pytest.skip(
            "no Java runtime on PATH (Spark needs Java 17+: apt install openjdk-17-jre-headless)"
        )
    # Spark's Python workers must run this venv's interpreter (they import pandas, hepatorisk)
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ.update(dict.fromkeys(saved, sys.executable))
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("hepatorisk-spark-udf-test")
        .config("spark.ui.enabled", "false")
        .config("spark.pyspark.python", sys.executable)  # Spark's Python workers: this venv
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture()
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test model logged as the pyfunc and registered, in a store of the test's own."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    tracking.configure(root=tmp_path)
    bundle = build_bundle("liver_event_12w", "hepatorisk-liver")
    records = pd.read_parquet(SAMPLE / "patients.parquet")[bundle.input_columns]
    example = signature_frame(records.head(5))
    output = pd.DataFrame({"probability": bundle.predict_proba(example)})
    with tracking.start_run("spark-udf-test", "spark", {}) as run:
        uri = run.model(bundle.save(tmp_path / "bundle"), example, output)
        version = run.register(uri, "hepatorisk-liver", {})
    return f"models:/hepatorisk-liver/{version}"


@pytest.mark.parametrize("explain", [False, True])
def test_spark_udf_agrees_with_predict(spark: Any, registered: str, explain: bool) -> None:
    from mlflow.pyfunc import spark_udf
    from pyspark.sql.functions import col

    model = load_versioned_model(registered)
    patients = pd.read_parquet(SAMPLE / "patients.parquet").head(ROWS)
    expected = score_frame(model, patients, explain).set_index("patient_id")
    outputs = [c for c in expected.columns if c != "model"]
    records = signature_frame(patients[["patient_id", *model.bundle.input_columns]])
    frame = spark.createDataFrame(records)
    result_type = ", ".join(f"`{c}` double" for c in outputs) if explain else "double"
    udf = spark_udf(
        spark, registered, result_type=result_type, env_manager="local",
        params={"explain": True} if explain else None,
    )  # fmt: skip
    scored = frame.withColumn("out", udf(*[col(c) for c in model.bundle.input_columns]))
    got = scored.select("patient_id", "out").toPandas().set_index("patient_id")
    if explain:
        got = pd.DataFrame(got["out"].tolist(), index=got.index)[outputs]
    else:
        got = got.rename(columns={"out": "probability"})
    got = got.loc[expected.index]
    difference = np.abs(got[outputs].to_numpy(float) - expected[outputs].to_numpy(float)).max()
    print(  # noqa: T201 - the measured agreement, for the README and the issue
        f"spark_udf vs predict, {ROWS} rows, explain={explain}: max |difference| {difference:.3g}"
    )
    assert difference <= 1e-9
