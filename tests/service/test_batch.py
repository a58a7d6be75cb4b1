"""POST /v1/assess/batch: the same answers as one by one."""

from __future__ import annotations

import pytest
from service_support import AUTH, patient


def test_batch_matches_single_assessments(client):
    bodies = [patient(demographics={"age": a, "sex": s}) for a, s in ((22, "male"), (60, "female"))]
    bodies.append(patient(kratom={"product": "none", "dose_g_day": 0}))
    r = client.post("/v1/assess/batch", json={"patients": bodies}, headers=AUTH)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["count"] == 3
    for body, got in zip(bodies, out["assessments"], strict=True):
        one = client.post("/v1/assess", json=body, headers=AUTH).json()
        for a, b in zip(one["risks"], got["risks"], strict=True):
            assert a["probability"] == pytest.approx(b["probability"], abs=1e-12)
            assert a["drivers"] == b["drivers"]
        assert one["flags"] == got["flags"]
        assert one["benefit_harm"] == got["benefit_harm"]


def test_batch_without_explanations_has_no_drivers(client):
    r = client.post(
        "/v1/assess/batch", json={"patients": [patient()] * 2, "explain": False}, headers=AUTH
    )
    assert r.status_code == 200
    assert all(risk["drivers"] == [] for a in r.json()["assessments"] for risk in a["risks"])


def test_empty_batch_is_refused(client):
    r = client.post("/v1/assess/batch", json={"patients": []}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["allowed"] == "at least 1 items/characters"
