"""The review-board report of a recalibrated version: built from the recalibration's run, it
states that its evaluation is on the held-out local rows (N of them, not the original test set),
shows the parent beside the recalibrated version, and shows the change record of the promotion;
its numbers are the ones the run logged."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from monitoring_support import at_risk, isolated_tracking, register_version

from hepatorisk import tracking
from hepatorisk.cli import main
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.reports import build_report
from hepatorisk.reports.render import _ci

NAME = "hepatorisk-relapse-report-test"
PLANTED = "PLANTED-IDENTIFIER-"


def test_the_report_of_a_recalibrated_version(
    relapse_model: ModelBundle, shifted_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_tracking(monkeypatch, tmp_path, "dr-report-test")
    records, y = at_risk(shifted_site, "relapse_12w")
    records = records.head(1600).assign(relapse_12w=y[:1600])
    # an identifier in the local file: the run must not keep it
    records.insert(0, "patient_id", [f"{PLANTED}{i}" for i in range(len(records))])
    site = tmp_path / "site.parquet"
    records.to_parquet(site, index=False)
    # version 1, with the evaluation settings a training run logs (subgroups, thresholds)
    subgroups = pd.DataFrame({"variable": ["sex", "age_band"], "level": ["male", "18-29"],
                              "auroc": [0.66, 0.6], "reported": [True, True]})  # fmt: skip
    thresholds = pd.DataFrame({"threshold": [0.1, 0.2, 0.3]})
    register_version(relapse_model, records, NAME, tmp_path,
                     {"evaluation/subgroups.csv": subgroups,
                      "evaluation/decision_curve.csv": thresholds})  # fmt: skip
    assert main(["promote", NAME]) == 0
    assert main(["recalibrate", f"models:/{NAME}@champion", "--data", str(site),
                 "--outcome", "relapse_12w"]) == 0  # fmt: skip
    assert main(["promote", NAME]) == 0
    version = tracking.alias_version(NAME, "champion")
    assert str(version.version) == "2"
    run = tracking.run_record(version.run_id)
    held = int(float(run.params["lineage.held_out_rows"]))
    logged = pd.read_parquet(
        tracking.download_run_artifact(version.run_id, "evaluation/records.parquet", tmp_path)
    )
    assert "patient_id" not in logged.columns and len(logged) == len(records)
    assert not logged.astype(str).apply(lambda c: c.str.contains(PLANTED)).to_numpy().any()
    assert (logged["split"] == "test").sum() == held
    gate_file = tracking.download_run_artifact(version.run_id, "local_gate.json", tmp_path)
    gate = json.loads(gate_file.read_text())
    # the gate's measures and the logged ones are one computation
    assert gate["challenger"]["auroc"] == run.metrics["test_auroc"]
    assert gate["champion"]["cal_intercept"] == run.metrics["parent_test_cal_intercept"]

    out = tmp_path / "report"
    assert main(["report", f"models:/{NAME}/2", "--out", str(out)]) == 0
    data = json.loads((out / "report.json").read_text())
    local = data["meta"]["local_evaluation"]
    assert local["n"] == held == data["performance"]["n"] == int(run.metrics["test_n"])
    assert data["meta"]["change_record"]["changed"]["kind"] == "recalibration"
    for row in data["performance"]["rows"]:
        for column, prefix in (("model", "test_"), ("parent", "parent_test_")):
            key = f"{prefix}{row['metric']}"
            assert row[column]["estimate"] == pytest.approx(run.metrics[key], abs=1e-12), key
            assert row[column]["lo"] == pytest.approx(run.metrics[f"{key}_lo"], abs=1e-12), key
            assert row[column]["hi"] == pytest.approx(run.metrics[f"{key}_hi"], abs=1e-12), key
    # the parent's evaluation settings are repeated: its thresholds, its subgroup variables
    assert data["curves"]["decision"]["threshold"] == [0.1, 0.2, 0.3]
    assert "parent" in data["curves"]["decision"]
    assert {"sex", "age_band"} <= {r["variable"] for r in data["subgroups"]["rows"]}

    html = (out / "report.html").read_text()
    assert f"EVALUATED ON LOCAL HELD-OUT DATA (N = {held:,})" in html
    assert "NOT THE ORIGINAL TEST SET" in html
    assert 'id="change-record"' in html and "dr-report-test" in html
    assert "version 1 &rarr; 2" in html and "held-out local rows of the recalibration" in html
    parts = (("estimate", ""), ("lo", "_lo"), ("hi", "_hi"))
    interval = {k: run.metrics[f"test_auroc{s}"] for k, s in parts}
    parent = {k: run.metrics[f"parent_test_auroc{s}"] for k, s in parts}
    assert f'<td class="n">{_ci(interval)}</td><td class="n">{_ci(parent)}</td>' in html
    pdf = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "LOCAL HELD-OUT DATA" in pdf and "Change record" in pdf

    # a recalibrated run that lacks an artifact: says what is missing, and does not say retrain
    uri = mlflow.MlflowClient().get_run(version.run_id).info.artifact_uri
    shutil.move(Path(uri.removeprefix("file://")) / "evaluation" / "subgroups.csv", tmp_path)
    with pytest.raises(DataSourceError, match=r"lacks the evaluation artifacts .*subgroups") as e:
        build_report(f"models:/{NAME}/2", tmp_path / "again", log_to_run=False)
    assert "recalibrate" in str(e.value) and "retrain" not in str(e.value)
