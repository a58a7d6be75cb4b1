"""Audit trail: a committed row for every 200 assessment, surviving the app; no identifiers."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading

import pytest
from service_support import AUTH, SALT, TestClient, patient, wait_ready

from hepatorisk.app import create_app
from hepatorisk.assessment.audit import AuditEntry, AuditLog, key_id
from hepatorisk.assessment.request import AssessRequest


def test_every_assessment_is_audited_and_survives_a_new_app(settings):
    ids = []
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        for age in (25, 50):
            body = patient(demographics={"age": age, "sex": "female"})
            r = c.post("/v1/assess", json=body, headers=AUTH)
            assert r.status_code == 200
            ids.append(r.json()["request_id"])
        r = c.post("/v1/assess/batch", json={"patients": [patient()] * 3}, headers=AUTH)
        assert r.status_code == 200
        batch_id = r.json()["request_id"]
        c.post("/v1/assess", json=patient(demographics={"age": 3}), headers=AUTH)  # 422
    with TestClient(create_app(settings)) as c:  # a new instance on the same database
        wait_ready(c)
    log = AuditLog(settings.audit_db_url)
    rows = log.rows()
    log.close()
    assert [r["request_id"] for r in rows] == [*ids, batch_id, batch_id, batch_id]
    assert [r["item"] for r in rows[2:]] == [0, 1, 2]
    first = rows[0]
    assert first["caller"] == "ehr-test"
    assert first["models"] == {
        "liver": "hepatorisk-liver:1@champion",
        "relapse": "hepatorisk-relapse:1@champion",
    }
    request = AssessRequest.model_validate(patient(demographics={"age": 25, "sex": "female"}))
    canonical = json.dumps(
        request.model_dump(mode="json", exclude={"patient_ref"}),
        sort_keys=True,
        separators=(",", ":"),
    )
    # both hashes keyed with the identifier salt, the key named by its id
    expected_input = hmac.new(SALT.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    assert first["input_hmac"] == expected_input
    assert first["input_hmac"] != hashlib.sha256(canonical.encode()).hexdigest()
    expected_ref = hmac.new(SALT.encode(), b"MRN-0042-SECRET", hashlib.sha256).hexdigest()
    assert first["patient_ref_hmac"] == expected_ref
    assert {r["key_id"] for r in rows} == {key_id(SALT)}
    assert SALT not in json.dumps([str(v) for r in rows for v in r.values()])
    assert set(first["outputs"]) == {"liver", "relapse", "monitoring"}
    assert "stopping_rules" in first["flags"]
    assert "MRN-0042-SECRET" not in json.dumps([str(v) for r in rows for v in r.values()])


def test_response_comes_after_the_commit(client, settings):
    r = client.post("/v1/assess", json=patient(), headers=AUTH)
    log = AuditLog(settings.audit_db_url)  # a separate connection sees the row already
    assert len(log.rows(r.json()["request_id"])) == 1
    log.close()


def test_no_patient_identifier_in_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    body = patient()
    client.post("/v1/assess", json=body, headers=AUTH)
    client.post("/v1/explain", json=body, headers=AUTH)
    client.post("/v1/assess", json=patient(demographics={"age": "MRN-0042-SECRET"}), headers=AUTH)
    bad_kratom = {"product": "MRN-0042-SECRET", "dose_g_day": 1}
    r = client.post("/v1/assess", json=patient(kratom=bad_kratom), headers=AUTH)
    assert r.status_code == 422
    assert "MRN-0042-SECRET" not in caplog.text
    assert all("MRN-0042-SECRET" not in str(rec.args) for rec in caplog.records)
    assert "MRN-0042-SECRET" not in r.text  # strings are not echoed either


def test_a_failing_request_does_not_fail_the_others_committed_with_it(tmp_path):
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", SALT)
    entry = [AuditEntry(0, "0" * 64, None, {"liver": {"probability": 0.1}}, {})]
    log.record("dup", "assess", "ehr", {"liver": "m:1"}, entry)
    log._pending.put(None)  # hold the writer: queue both below before it wakes
    log._writer.join()
    log._writer = threading.Thread(target=log._write_loop, daemon=True)
    bad = log.submit("dup", "assess", "ehr", {"liver": "m:1"}, entry)  # primary key taken
    good = log.submit("fresh", "assess", "ehr", {"liver": "m:1"}, entry)
    log._writer.start()
    with pytest.raises(Exception, match="UNIQUE"):
        bad.result(10)
    good.result(10)
    assert [r["request_id"] for r in log.rows()] == ["dup", "fresh"]
    log.close()
