"""Readiness, start-up failures, model listing, metrics and zero-downtime reloads."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest
from service_support import ADMIN, AUTH, TestClient, build_bundle, export, patient, wait_ready

from hepatorisk.app import create_app
from hepatorisk.assessment.model_pair import load_model_pair
from hepatorisk.exceptions import DataSourceError
from hepatorisk.tracking import load_versioned_model


def test_not_ready_until_models_are_loaded(settings):
    release = threading.Event()

    def slow_loader(source: str):
        release.wait(10)
        return load_versioned_model(source)

    with TestClient(create_app(settings, loader=slow_loader)) as c:
        assert c.get("/livez").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["state"] == "loading"
        assert c.post("/v1/assess", json=patient(), headers=AUTH).status_code == 503
        release.set()
        wait_ready(c)
        assert c.post("/v1/assess", json=patient(), headers=AUTH).status_code == 200


def test_not_ready_when_loading_fails(settings, tmp_path):
    broken = type(settings).model_validate(
        settings.model_dump() | {"relapse_model": str(tmp_path / "nowhere")}
    )
    with TestClient(create_app(broken)) as c:
        for _ in range(200):
            r = c.get("/readyz")
            if r.json()["state"] == "failed":
                break
            threading.Event().wait(0.02)
        assert r.status_code == 503
        assert "nowhere" in r.json()["error"] and "no such model folder" in r.json()["error"]


def test_corrupt_model_is_a_clear_start_up_error(model_dirs, tmp_path):
    corrupt = shutil.copytree(model_dirs["liver"], tmp_path / "corrupt")
    (corrupt / "booster.txt").write_text("tree\nnot a model")
    with pytest.raises(DataSourceError, match="not a readable hepatorisk model"):
        load_model_pair(str(corrupt), str(model_dirs["relapse"]))


def test_models_endpoint_lists_versions_and_metadata(client):
    r = client.get("/v1/models", headers=AUTH)
    assert r.status_code == 200
    models = {m["outcome"]: m for m in r.json()["models"]}
    assert models["liver"]["model"]["name"] == "hepatorisk-liver"
    assert models["liver"]["model"]["run_id"] == "run-1"
    assert models["relapse"]["outcome_column"] == "relapse_12w"
    assert models["relapse"]["horizon_weeks"] == 12
    assert "kratom_dose_g_day" in models["liver"]["input_columns"]


def test_metrics_count_requests_bands_and_versions(client):
    client.post("/v1/assess", json=patient(), headers=AUTH)
    client.post("/v1/assess", json=patient(), headers={})
    text = client.get("/metrics").text
    assert (
        'hepatorisk_http_requests_total{method="POST",route="/v1/assess",status="200"} 1.0' in text
    )
    assert (
        'hepatorisk_http_requests_total{method="POST",route="/v1/assess",status="401"} 1.0' in text
    )
    assert 'hepatorisk_http_request_duration_seconds_count{route="/v1/assess"} 2.0' in text
    bands = [ln for ln in text.splitlines() if ln.startswith("hepatorisk_predictions_total{")]
    assert sum(float(ln.rsplit(" ", 1)[1]) for ln in bands) == 2.0
    assert 'hepatorisk_model_info{alias="champion",name="hepatorisk-liver"' in text


def test_reload_swaps_versions_and_keeps_old_on_failure(settings, model_dirs, tmp_path):
    liver = shutil.copytree(model_dirs["liver"], tmp_path / "liver")
    mine = type(settings).model_validate(settings.model_dump() | {"liver_model": str(liver)})
    with TestClient(create_app(mine)) as c:
        wait_ready(c)
        before = c.post("/v1/assess", json=patient(), headers=AUTH).json()
        # promote a new champion: a different model, version 2
        export(build_bundle("liver_event_12w", "hepatorisk-liver", n_estimators=60, seed=3),
               liver, "2")  # fmt: skip
        r = c.post("/v1/admin/reload?wait=true", headers=ADMIN)
        assert r.status_code == 202 and r.json()["state"] == "succeeded"
        after = c.post("/v1/assess", json=patient(), headers=AUTH).json()
        old, new = before["risks"][0], after["risks"][0]
        assert (old["model"]["version"], new["model"]["version"]) == ("1", "2")
        assert old["probability"] != new["probability"]
        assert 'version="2"' in c.get("/metrics").text
        # a broken promotion: the old pair keeps serving
        (liver / "bundle.json").write_text(json.dumps({"format": 99}))
        r = c.post("/v1/admin/reload?wait=true", headers=ADMIN)
        assert r.json()["state"] == "failed" and "format" in r.json()["error"]
        still = c.post("/v1/assess", json=patient(), headers=AUTH)
        assert still.status_code == 200
        assert still.json()["risks"][0]["model"]["version"] == "2"
        assert c.get("/readyz").status_code == 200


def test_requests_during_reload_all_succeed(client):
    statuses: list[int] = []

    def hammer():
        for _ in range(15):
            statuses.append(client.post("/v1/assess", json=patient(), headers=AUTH).status_code)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(3):
        client.post("/v1/admin/reload?wait=true", headers=ADMIN)
    for t in threads:
        t.join()
    assert statuses == [200] * 45


def test_reload_to_new_versions_under_load_fails_no_request(settings, model_dirs, tmp_path):
    """Two promotions picked up by /v1/admin/reload while four clients keep assessing: every
    request answers 200, each from one consistent pair (version 1, then 2, then 3)."""
    liver = shutil.copytree(model_dirs["liver"], tmp_path / "liver")
    mine = type(settings).model_validate(settings.model_dump() | {"liver_model": str(liver)})
    promotions = [build_bundle("liver_event_12w", "hepatorisk-liver", n_estimators=50 + 10 * i,
                               seed=i) for i in (1, 2)]  # fmt: skip
    answers: list[tuple[int, str | None]] = []
    stop = threading.Event()
    with TestClient(create_app(mine)) as c:
        wait_ready(c)

        def hammer() -> None:
            while not stop.is_set():
                r = c.post("/v1/assess", json=patient(), headers=AUTH)
                version = r.json()["risks"][0]["model"]["version"] if r.status_code == 200 else None
                answers.append((r.status_code, version))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()

        def served_more(n: int) -> None:
            """Wait (by answers, not by the clock: assessments are slower on a loaded machine)
            until ``n`` more answers arrived under the current version."""
            target = len(answers) + n
            deadline = time.monotonic() + 120
            while len(answers) < target and time.monotonic() < deadline:
                threading.Event().wait(0.05)

        try:
            for version, bundle in enumerate(promotions, start=2):
                served_more(8)
                export(bundle, liver, str(version))
                r = c.post("/v1/admin/reload?wait=true", headers=ADMIN)
                assert r.status_code == 202 and r.json()["state"] == "succeeded", r.text
            served_more(8)
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert len(answers) >= 24
    assert [s for s, _ in answers if s != 200] == []
    assert {v for _, v in answers} == {"1", "2", "3"}
