"""The service keeps de-identified monitoring records, takes outcome feedback, shows gauges.

Identifiers and free text are planted into every string field of assessment requests (valid and
invalid ones, single and batch) and into outcome feedback; afterwards the monitoring database's
bytes must hold none of them (the patient reference only as its keyed hash)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitoring_support import entry_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from no_identifiers_support import PLANT, planted, planted_variants, valid_planted_patient
from service_support import AUTH, SALT, TestClient, make_settings, running

from hepatorisk.monitoring.store import MonitoringStore, iso_week
from hepatorisk.settings import Settings


@pytest.fixture(scope="module")
def entry_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("entry-models")
    out = {}
    for key, outcome in (("liver", "liver_event_12w"), ("relapse", "relapse_12w")):
        bundle = entry_model(outcome, f"hepatorisk-{key}")
        folder = bundle.save(root / key)
        facts = {"name": f"hepatorisk-{key}", "version": "3", "alias": "champion"}
        (folder / "registration.json").write_text(json.dumps(facts))
        out[key] = folder
    return out


@pytest.fixture
def monitored(entry_dirs: dict[str, Path], tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    db = tmp_path / "monitoring.db"
    base = make_settings(entry_dirs, tmp_path)
    settings = Settings(**(base.model_dump() | {"monitoring_db_url": f"sqlite:///{db}"}))
    with running(settings) as client:
        yield client, db


def test_no_identifier_or_free_text_in_the_monitoring_store(
    monitored: tuple[TestClient, Path],
) -> None:
    client, db = monitored
    body = valid_planted_patient()
    answer = client.post("/v1/assess", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    batch = {"patients": [body, body], "explain": False}
    assert client.post("/v1/assess/batch", json=batch, headers=AUTH).status_code == 200
    assert client.post("/v1/predict", json=body, headers=AUTH).status_code == 200
    refused = 0
    for _, variant in planted_variants(body):  # a planted string in every field, one at a time
        refused += client.post("/v1/assess", json=variant, headers=AUTH).status_code == 422
    assert refused > 20  # the variants were sent, and the invalid ones refused
    feedback = {"outcomes": [{"outcome": "liver", "value": 1, "patient_ref": body["patient_ref"]}]}
    fed = client.post("/v1/outcomes", json=feedback, headers=AUTH)
    assert fed.status_code == 202 and fed.json() == {"received": 1, "matched": 1}
    client.app.state.service.monitoring.close()  # type: ignore[attr-defined]
    stored = b"".join(p.read_bytes() for p in db.parent.glob("monitoring.db*"))
    assert PLANT.encode() not in stored
    assert b"MRN" not in stored
    rows = MonitoringStore(f"sqlite:///{db}").window(None)
    # 1 + 2 + 1 valid patients, two models each (the variants that passed hold no identifier)
    valid = len(rows) // 2
    assert valid >= 4 and len(rows) == 2 * valid
    key = hmac.new(SALT.encode(), planted("patient_ref").encode(), hashlib.sha256).hexdigest()
    assert (rows["patient_key"] == key).sum() >= 8
    assert set(rows["week"]) == {iso_week()}
    assert set(rows["model_version"]) == {"3"} and set(rows["landmark"]) == {0}
    first = rows.iloc[0]
    assert first["request_id"] == answer.json()["request_id"]
    assert "patient_ref" not in first["features"] and "age" in first["features"]
    liver = rows[(rows["patient_key"] == key) & (rows["outcome"] == "liver")]
    assert (liver["observed"] == 1).all()


def test_outcome_feedback_needs_a_token_and_a_key(monitored: tuple[TestClient, Path]) -> None:
    client, _ = monitored
    one = {"outcome": "relapse", "value": 0, "request_id": "0" * 32}
    assert client.post("/v1/outcomes", json={"outcomes": [one]}).status_code == 401
    both = one | {"patient_ref": "x"}
    assert client.post("/v1/outcomes", json={"outcomes": [both]}, headers=AUTH).status_code == 422
    bad = one | {"value": 2}
    assert client.post("/v1/outcomes", json={"outcomes": [bad]}, headers=AUTH).status_code == 422
    answer = client.post("/v1/outcomes", json={"outcomes": [one]}, headers=AUTH)
    assert answer.status_code == 202 and answer.json() == {"received": 1, "matched": 0}


def test_gauges_show_the_latest_monitor_values(monitored: tuple[TestClient, Path]) -> None:
    client, db = monitored
    MonitoringStore(f"sqlite:///{db}").save_summary(
        "hepatorisk-liver", "3", {"max_input_psi": 0.42, "estimated_auroc": 0.61}
    )
    text = client.get("/metrics").text
    gauge = 'hepatorisk_monitor{measure="max_input_psi",model="hepatorisk-liver",version="3"}'
    assert f"{gauge} 0.42" in text


def test_without_a_store_nothing_is_kept(entry_dirs: dict[str, Path], tmp_path: Path) -> None:
    one = {"outcome": "relapse", "value": 0, "request_id": "0" * 32}
    with running(make_settings(entry_dirs, tmp_path)) as client:
        answer = client.post("/v1/assess", json=valid_planted_patient(), headers=AUTH)
        assert answer.status_code == 200
        fed = client.post("/v1/outcomes", json={"outcomes": [one]}, headers=AUTH)
        assert fed.status_code == 503
    assert not list(tmp_path.glob("monitoring*"))


def _monitor_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("hepatorisk_monitor{")]


def test_gauges_of_a_shared_store_are_shown_once_in_multiprocess_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR (``serve --workers N``) the exposition is rebuilt from the
    workers' files; the monitor gauges are read from the shared store by the answering worker
    and shown once, with the stored value (not summed over workers, not missing)."""
    from hepatorisk.monitoring.gauges import MonitorGauges
    from hepatorisk.web.metrics import Metrics

    store = MonitoringStore(f"sqlite:///{tmp_path / 'm.db'}")
    store.save_summary("hepatorisk-liver", "3", {"estimated_auroc": 0.61})
    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    workers = [Metrics() for _ in range(2)]
    for metrics in workers:
        metrics.share(MonitorGauges(lambda: store))
    for metrics in workers:
        lines = _monitor_lines(metrics.render().decode())
        gauge = 'hepatorisk_monitor{measure="estimated_auroc",model="hepatorisk-liver",version="3"}'
        assert lines == [f"{gauge} 0.61"]
    store.close()


# prometheus_client warns that Gauge.clear() keeps no state across processes (the model-info
# gauge sets old versions to 0 first for this reason: web/metrics.py)
@pytest.mark.filterwarnings("ignore:Clearing labels has not been implemented:UserWarning")
def test_gauges_of_the_service_in_multiprocess_mode(
    entry_dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service as one worker of ``serve --workers N`` (PROMETHEUS_MULTIPROC_DIR set): its
    /metrics shows each monitor gauge once, the store's latest summary (a full 2-worker run,
    tests/service/test_operations.py's, takes about 30 s on this machine; the exposition is
    the same whichever worker answers)."""
    db = tmp_path / "monitoring.db"
    store = MonitoringStore(f"sqlite:///{db}")
    store.save_summary("hepatorisk-liver", "3", {"max_input_psi": 0.42, "estimated_auroc": 0.61})
    store.save_summary("hepatorisk-liver", "3", {"max_input_psi": 0.17, "estimated_auroc": 0.64})
    store.close()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    base = make_settings(entry_dirs, tmp_path)
    settings = Settings(**(base.model_dump() | {"monitoring_db_url": f"sqlite:///{db}"}))
    with running(settings) as client:
        text = client.get("/metrics").text
    assert sorted(_monitor_lines(text)) == [
        'hepatorisk_monitor{measure="estimated_auroc",model="hepatorisk-liver",version="3"} 0.64',
        'hepatorisk_monitor{measure="max_input_psi",model="hepatorisk-liver",version="3"} 0.17',
    ], text[-3000:]
