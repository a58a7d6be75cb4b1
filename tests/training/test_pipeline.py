"""Training pipelines end to end on the committed sample: tracked, registered, reproducible."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from training_support import FAST, PIPELINES

from hepatorisk.cli import main
from hepatorisk.cohorts.history import at_entry
from hepatorisk.exceptions import ConfigError
from hepatorisk.tracking import load_versioned_model
from hepatorisk.training.runner import run_pipeline
from hepatorisk.training.steps import signature_frame

REQUIRED_METRICS = (
    "test_auroc",
    "test_auroc_lo",
    "test_auroc_hi",
    "test_auprc",
    "test_brier",
    "test_cal_slope",
    "test_cal_intercept",
    "test_ece",
    "oracle_auroc",
    "oracle_brier",
    "auroc_vs_oracle",
    # landmark models: every landmark's metrics, the week-0 truth, the other design
    *(f"test_{m}_w{w}" for m in ("auroc", "cal_slope", "n") for w in (0, 2, 4, 8, 12)),
    *(f"test_auroc_w{w}_lo" for w in (0, 2, 4, 8, 12)),
    "auroc_vs_oracle_w0",
    "perlm_test_auroc",
    *(
        f"whatif_{change}_{part}"
        for change in ("stop", "half", "1p5x")
        for part in ("n", "model_mean", "true_mean", "naive", "mae", "bias")
    ),
)


def test_liver_pipeline_runs_end_to_end_and_registers_a_challenger(project: Path) -> None:
    result = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    assert set(result.step_seconds) == {
        "ingest",
        "split",
        "train",
        "calibrate",
        "evaluate",
        "register",
    }
    client = mlflow.MlflowClient()
    logged = client.get_run(result.run_id).data.metrics
    for name in REQUIRED_METRICS:
        assert name in logged, name
    assert logged["test_auroc_lo"] <= logged["test_auroc"] <= logged["test_auroc_hi"]
    version = client.get_model_version_by_alias("hepatorisk-liver", "challenger")
    assert str(version.version) == result.version
    artifacts = {a.path for a in client.list_artifacts(result.run_id, "evaluation")}
    for name in (
        "metrics.json",
        "test_predictions.parquet",
        "decision_curve.csv",
        "subgroups.csv",
        "calibration_curve.csv",
        "records.parquet",
        "what_if.csv",
    ):
        assert f"evaluation/{name}" in artifacts
    run = client.get_run(result.run_id)
    assert run.inputs.dataset_inputs, "dataset lineage (mlflow.log_input) is missing"
    what_if = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{result.run_id}/evaluation/what_if.csv")
    )
    assert list(what_if["dose_change"]) == ["stop", "half", "1p5x"]
    for row in what_if.to_dict("records"):
        assert logged[f"whatif_{row['dose_change']}_mae"] == pytest.approx(row["mae"])
    # the served model carries its test metrics, what-if errors included (the service words
    # its what-if note by them)
    bundle = load_versioned_model("models:/hepatorisk-liver@challenger").bundle
    carried = bundle.metadata["test_metrics"]
    assert carried["whatif_1p5x_mae"] == pytest.approx(logged["whatif_1p5x_mae"])
    assert carried["test_auroc"] == pytest.approx(logged["test_auroc"])


def test_registered_model_is_the_complete_pyfunc(project: Path) -> None:
    result = run_pipeline(PIPELINES / "relapse_synthetic.yaml", FAST, root=project)
    records = pd.read_parquet(project / "work" / "cohort" / "patients.parquet").head(25)
    # a week-0 record: the baseline and the entry history (what the service builds for one)
    records = pd.concat([records, pd.DataFrame(at_entry(len(records)))], axis=1)
    # what a JSON client sends: categories as text (MLflow refuses pandas categoricals)
    as_json = signature_frame(records.drop(columns=["patient_id"]))
    pyfunc = mlflow.pyfunc.load_model("models:/hepatorisk-relapse@challenger")
    served = pyfunc.predict(as_json)["probability"].to_numpy()
    bundle = load_versioned_model("models:/hepatorisk-relapse@challenger").bundle
    np.testing.assert_allclose(served, bundle.predict_proba(records), rtol=0, atol=1e-12)
    explained = pyfunc.predict(as_json, params={"explain": True})
    shap_cols = [c for c in explained.columns if c.startswith("shap_")]
    log_odds = explained["base_log_odds"] + explained[shap_cols].sum(axis=1)
    np.testing.assert_allclose(1 / (1 + np.exp(-log_odds)), served, atol=1e-10)
    assert result.registered_model == "hepatorisk-relapse"


def test_same_seed_gives_identical_metrics(project: Path) -> None:
    first = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    second = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    assert first.metrics == second.metrics
    assert second.version == str(int(first.version) + 1)


def test_malformed_pipeline_names_the_key_and_line(project: Path) -> None:
    bad = project / "bad.yaml"
    text = (
        (PIPELINES / "liver_synthetic.yaml")
        .read_text()
        .replace("horizon_weeks: 12", "horizon_weeks: 12\nsplt: {seed: 3}")
    )
    bad.write_text(text)
    (project / "_synthetic_base.yaml").write_text((PIPELINES / "_synthetic_base.yaml").read_text())
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("splt"))
    with pytest.raises(ConfigError, match=rf"{bad}:{line}: splt: Extra inputs are not permitted"):
        run_pipeline(bad, root=project)
    with pytest.raises(ConfigError, match=r"--set split.test_size=1.5.*split.test_size"):
        run_pipeline(PIPELINES / "liver_synthetic.yaml", ["split.test_size=1.5"], root=project)


def test_cli_train_reports_and_bad_override_exits_2(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["train", str(PIPELINES / "liver_synthetic.yaml")]
    for item in FAST:
        args += ["--set", item]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "hepatorisk-liver version 1 registered as challenger" in out
    assert "model / oracle" in out
    assert main(["train", str(PIPELINES / "liver_synthetic.yaml"), "--set", "nonsense"]) == 2
    assert "expected key=value" in capsys.readouterr().err
