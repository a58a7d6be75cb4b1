"""Batch scoring and export use the registered model itself, and bad input names the line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from training_support import FAST, PIPELINES

from hepatorisk.cli import main
from hepatorisk.cohorts.history import at_entry
from hepatorisk.tracking import load_versioned_model
from hepatorisk.training.runner import run_pipeline


@pytest.fixture()
def trained(project: Path) -> Path:
    run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    return project


def test_predict_writes_calibrated_probabilities_and_exact_shap(trained: Path) -> None:
    source = trained / "work" / "cohort" / "patients.parquet"
    out = trained / "scores.parquet"
    assert (
        main(
            [
                "predict",
                "models:/hepatorisk-liver@challenger",
                "--input",
                str(source),
                "--out",
                str(out),
                "--explain",
            ]
        )
        == 0
    )
    scores = pd.read_parquet(out)
    assert len(scores) == 2000 and scores["patient_id"].is_unique
    shap = scores[[c for c in scores.columns if c.startswith("shap_")]].sum(axis=1)
    np.testing.assert_allclose(
        1 / (1 + np.exp(-(scores["base_log_odds"] + shap))), scores["probability"], atol=1e-10
    )
    assert (scores["model"] == "hepatorisk-liver:1").all()


def test_export_gives_a_folder_that_loads_without_the_registry(trained: Path) -> None:
    folder = trained / "models" / "hepatorisk-liver"
    assert main(["export", "models:/hepatorisk-liver@challenger", "--out", str(folder)]) == 0
    loaded = load_versioned_model(str(folder))
    assert (loaded.name, loaded.version, loaded.alias) == ("hepatorisk-liver", "1", "challenger")
    records = pd.read_parquet(trained / "work" / "cohort" / "patients.parquet").head(10)
    records = pd.concat([records, pd.DataFrame(at_entry(len(records)))], axis=1)  # week 0
    registry = load_versioned_model("models:/hepatorisk-liver/1").bundle.predict_proba(records)
    np.testing.assert_allclose(loaded.bundle.predict_proba(records), registry, atol=0)


def test_bad_csv_value_is_reported_with_its_line(
    trained: Path, capsys: pytest.CaptureFixture
) -> None:
    records = pd.read_parquet(trained / "work" / "cohort" / "patients.parquet").head(5)
    records["bmi"] = records["bmi"].astype(object)
    records.loc[3, "bmi"] = "tall"
    path = trained / "bad.csv"
    records.to_csv(path, index=False)
    code = main(
        [
            "predict",
            "models:/hepatorisk-liver@challenger",
            "--input",
            str(path),
            "--out",
            str(trained / "x.csv"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "'bmi'" in err and "rows 3" in err and "row + 2" in err
