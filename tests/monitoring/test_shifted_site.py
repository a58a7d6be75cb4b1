"""A shifted synthetic site (``data/synthetic/shifted_site.yaml``: case mix and the ALT assay and
reference interval changed) through the commands: the monitor flags the drift and estimates the
AUROC before outcomes; outcomes come back through the store; the estimate is checked against
the realised AUROC; recalibration on the site's labelled rows restores calibration, gated on
held-out rows; promotion writes the change record."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from monitoring_support import REPO, at_risk, isolated_tracking, register_version

from hepatorisk import tracking
from hepatorisk.cli import main
from hepatorisk.clinical.monitoring import load_policy, risk_band
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring.change_record import CHANGE_RECORD
from hepatorisk.monitoring.store import MonitoringRecord, MonitoringStore

PIPELINE = REPO / "pipelines" / "relapse_synthetic.yaml"
NAME = "hepatorisk-relapse-monitoring-test"


@pytest.fixture(scope="module")
def site(shifted_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    records, y = at_risk(shifted_site, "relapse_12w")
    path = tmp_path_factory.mktemp("site") / "site.parquet"
    records.assign(relapse_12w=y).to_parquet(path, index=False)
    return path


def _export(bundle: ModelBundle, folder: Path) -> Path:
    bundle.save(folder)
    facts = {"name": NAME, "version": "1", "alias": "champion"}
    (folder / "registration.json").write_text(json.dumps(facts))
    return folder


def test_drift_estimate_feedback_and_recalibration(
    relapse_model: ModelBundle, site: Path, tmp_path: Path
) -> None:
    model = _export(relapse_model, tmp_path / "model")
    pipeline = ["--pipeline", str(PIPELINE)]
    # 1. before any outcome: the monitor on what the site sends
    assert main(["monitor", str(model), "--records", str(site), *pipeline,
                 "--out", str(tmp_path / "before")]) == 0  # fmt: skip
    before = json.loads((tmp_path / "before" / "monitor.json").read_text())
    flagged = {f["column"] for f in before["input_drift"] if f["status"] == "flag"}
    assert before["drift_flagged"] and {"alt_uln_u_l", "primary_opioid"} <= flagged
    assert before["realised"] is None
    page = (tmp_path / "before" / "monitor.html").read_text()
    assert "alt_uln_u_l" in page and "src=" not in page and "http" not in page
    # 2. the site's assessments in the store (as the service writes them), outcomes imported
    records = pd.read_parquet(site)
    p = relapse_model.predict_proba(records)
    cuts = load_policy().bands["relapse"]
    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    store = MonitoringStore(url)
    store.add(
        [
            MonitoringRecord(f"{i:032x}", 0, None, "relapse", NAME, "1",
                             records.iloc[i][relapse_model.input_columns].to_dict(),
                             float(p[i]), risk_band(float(p[i]), cuts))
            for i in range(len(records))
        ]
    )  # fmt: skip
    outcomes = pd.DataFrame(
        {"request_id": [f"{i:032x}" for i in range(len(records))], "item": 0,
         "outcome": "relapse", "value": records["relapse_12w"]}
    )  # fmt: skip
    outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    assert main(["outcomes", "import", str(tmp_path / "outcomes.csv"), "--db", url]) == 0
    assert main(["monitor", str(model), "--records", url, *pipeline,
                 "--out", str(tmp_path / "after")]) == 0  # fmt: skip
    after = json.loads((tmp_path / "after" / "monitor.json").read_text())
    realised = after["realised"]
    assert realised["n"] == len(records)
    # the estimate made before any outcome, against the AUROC the outcomes showed
    gap = before["estimated"]["auroc"] - realised["auroc"]["estimate"]
    assert abs(gap) <= 0.03
    assert any(f.startswith("miscalibrated") for f in after["flags"])
    # 3. recalibration on the site's labelled rows, gated on the held-out half
    out = tmp_path / "recalibrated"
    assert main(["recalibrate", str(model), "--data", str(site), "--outcome", "relapse_12w",
                 *pipeline, "--out", str(out)]) == 0  # fmt: skip
    doc = json.loads((out / "recalibration.json").read_text())
    gate = doc["local_gate"]
    before_i, after_i = gate["champion"], gate["challenger"]
    assert before_i["cal_intercept_lo"] > 0  # the site has more relapses than predicted
    assert after_i["cal_intercept_lo"] < 0 < after_i["cal_intercept_hi"]
    assert abs(after_i["cal_intercept"]) < 0.1 and gate["passed"]
    assert (
        doc["lineage"]["parent"] == f"{NAME}:1" and len(doc["lineage"]["local_data_digest"]) == 16
    )
    loaded = tracking.load_versioned_model(str(out))
    assert loaded.alias == "challenger" and loaded.bundle.metadata["recalibrations"]


def test_promotion_of_a_recalibration_writes_the_change_record(
    relapse_model: ModelBundle, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_tracking(monkeypatch, tmp_path, "dr-test")
    subgroups = pd.DataFrame({"variable": ["sex"], "level": ["male"], "auroc": [0.66],
                              "reported": [True]})  # fmt: skip
    register_version(relapse_model, pd.read_parquet(site), NAME, tmp_path,
                     {"evaluation/subgroups.csv": subgroups})  # fmt: skip
    assert main(["promote", NAME]) == 0
    assert main(["recalibrate", f"models:/{NAME}@champion", "--data", str(site),
                 "--outcome", "relapse_12w"]) == 0  # fmt: skip
    challenger = tracking.alias_version(NAME, "challenger")
    assert str(challenger.version) == "2" and challenger.tags["hepatorisk.recalibrated_from"] == "1"
    assert main(["promote", NAME]) == 0
    assert str(tracking.alias_version(NAME, "champion").version) == "2"
    record = json.loads(
        tracking.download_run_artifact(challenger.run_id, CHANGE_RECORD, tmp_path).read_text()
    )
    assert record["from_version"] == "1" and record["to_version"] == "2"
    assert record["promoted_by"] == "dr-test" and record["promoted_at"]
    assert record["changed"]["kind"] == "recalibration"
    assert record["changed"]["recalibration"]["local_data_digest"]
    assert any("local gate" in r for r in record["acceptance"]["criteria_and_results"])
    moves = record["band_movement"]
    assert moves["reference"].startswith("held-out local rows") and moves["moved"] > 0
    assert moves["patients"] == sum(moves["bands_before"].values())


def test_liver_estimates_before_and_while_outcomes_come_in(shifted_site: Path) -> None:
    """The liver entry model on the shifted site: the label-free estimate against the realised
    AUROC (the range it implied, checked and reported), and with half the outcomes known, the
    recalibrated estimate of the other half against their realised AUROC."""
    import numpy as np
    from monitoring_support import entry_model

    from hepatorisk.modeling.metrics.headline import auroc
    from hepatorisk.monitoring.report import monitor, window_from_records
    from hepatorisk.monitoring.thresholds import load_thresholds

    model = entry_model("liver_event_12w")
    records, y = at_risk(shifted_site, "liver_event_12w")
    known = np.random.default_rng(0).random(len(y)) < 0.5
    table = records.assign(liver_event_12w=np.where(known, y, np.nan))
    spec = load_thresholds(REPO / "pipelines" / "liver_synthetic.yaml")
    window = window_from_records(model, table, load_policy(), "liver_event_12w", "shifted site")
    result = monitor(model, window, spec)
    awaiting = result["estimated_awaiting"]
    assert awaiting["n"] == (~known).sum()
    rest = auroc(y[~known], window.probability[~known])
    assert awaiting["auroc_lo"] <= rest <= awaiting["auroc_hi"], (awaiting, rest)
    real = result["realised"]
    in_range = real["estimated_auroc_same_rows_lo"] <= real["auroc"]["estimate"]
    in_range &= real["auroc"]["estimate"] <= real["estimated_auroc_same_rows_hi"]
    assert real["estimate_in_range"] == in_range
    assert in_range != any(
        f.startswith("the AUROC estimated before outcomes") for f in result["flags"]
    )
