"""Every error answer carries the request id of its ``X-Request-ID`` header, and the 500 has the
same security headers as every other answer.

The JSON API's bodies say it as ``request_id`` (the 401, 404, 405 and 503 of an
``HTTPException`` too, not only the project's own 4xx); a FHIR OperationOutcome as its ``id``.
The 500 is sent by Starlette's outermost layer, outside every middleware, so its handler sets
the request id and the security headers itself: a test app with a route that raises checks it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir_support import example
from service_support import AUTH, TestClient, make_settings, patient, running

from hepatorisk.app import create_app
from hepatorisk.assessment.model_pair import load_model_pair
from hepatorisk.fhir.cds_hooks import SERVICE_ID
from hepatorisk.web.deps import get_state
from hepatorisk.web.headers import CONTENT_SECURITY_POLICY

HOOK = f"/cds-services/{SERVICE_ID}"
FHIR_URL = "/fhir/RiskAssessment/$assess"
FHIR = {"Content-Type": "application/fhir+json"}
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "cache-control": "no-store",
}


@pytest.fixture(scope="module")
def clients(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """live: ready; cold: models and audit log not open (503); raising: a route that raises
    and a state dependency that fails (500s returned, not re-raised)."""
    settings = make_settings(model_dirs, tmp_path_factory.mktemp("errors"))
    with running(settings) as live:
        app = create_app(settings, models=load_model_pair(settings.liver_model,
                                                          settings.relapse_model))  # fmt: skip

        async def broken_state() -> Any:
            raise RuntimeError("injected failure")

        def boom() -> None:
            raise RuntimeError("injected failure")

        app.add_api_route("/boom", boom, methods=["GET"])
        app.dependency_overrides[get_state] = broken_state
        yield {
            "live": live,
            "cold": TestClient(create_app(settings)),
            "raising": TestClient(app, raise_server_exceptions=False),
        }


def _json_id(r: Any) -> str:
    """The body's request id, checked against the header."""
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["request_id"] == r.headers["x-request-id"] and len(body["request_id"]) == 32
    assert isinstance(body["detail"], str | list)
    return str(body["request_id"])


def _outcome_id(r: Any) -> str:
    assert r.headers["content-type"].startswith("application/fhir+json"), r.headers
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["id"] == r.headers["x-request-id"]
    return str(body["id"])


JSON_ERRORS = {
    "401 missing token": ("live", "post", "/v1/assess", {}, 401),
    "401 unknown token": ("live", "get", "/v1/models", {"Authorization": "Bearer nope"}, 401),
    "401 CDS hook": ("live", "post", HOOK, {}, 401),
    "404 unknown route": ("live", "get", "/v1/no-such-route", AUTH, 404),
    "404 unknown CDS service": ("live", "post", "/cds-services/MRN-0042/feedback", AUTH, 404),
    "405 method": ("live", "get", "/v1/assess", AUTH, 405),
    "503 models not loaded": ("cold", "post", "/v1/assess", AUTH, 503),
    "503 CDS hook not ready": ("cold", "post", HOOK, AUTH, 503),
}


@pytest.mark.parametrize("case", JSON_ERRORS)
def test_json_api_errors_carry_the_request_id(clients, case):
    client, method, path, headers, status = JSON_ERRORS[case]
    body: Any = patient()
    if "CDS" in case:
        body = example("cds_hooks_patient_view.json")
        if "feedback" in path:
            body = {"feedback": [{"card": "1d7c5f9e-6a53-4bb4-9a49-5d5c3c2a1e11",
                                  "outcome": "accepted",
                                  "outcomeTimestamp": "2026-11-26T10:01:00Z"}]}  # fmt: skip
    kwargs = {"json": body} if method == "post" else {}
    r = clients[client].request(method, path, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    _json_id(r)
    assert "MRN-0042" not in r.text  # the unknown service id of the path is not quoted
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_fhir_errors_carry_the_request_id_as_the_outcome_id(clients):
    live, cold = clients["live"], clients["cold"]
    bundle = example("fhir_bundle_kratom_patient.json")
    r = live.post(FHIR_URL, json=bundle, headers=FHIR)  # no token
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    _outcome_id(r)
    r = live.post(FHIR_URL, content=b"{not json", headers=AUTH | FHIR)
    assert r.status_code == 400
    _outcome_id(r)
    r = live.post(FHIR_URL, content=b"ALT 48", headers=AUTH | {"Content-Type": "text/plain"})
    assert r.status_code == 415
    _outcome_id(r)
    r = live.post(FHIR_URL, json={"resourceType": "Bundle", "type": "collection", "entry": []},
                  headers=AUTH | FHIR)  # fmt: skip
    assert r.status_code == 422
    _outcome_id(r)
    r = cold.post(FHIR_URL, json=bundle, headers=AUTH | FHIR)
    assert r.status_code == 503
    _outcome_id(r)
    ids = {live.post(FHIR_URL, json=bundle, headers=FHIR).json()["id"] for _ in range(3)}
    assert len(ids) == 3  # one per request


def test_cds_mapping_errors_carry_the_request_id_as_the_outcome_id(clients):
    live = clients["live"]
    hook = copy.deepcopy(example("cds_hooks_patient_view.json"))
    # a prefetched resource the mapper refuses (an absent key would be read from the fhirServer,
    # or be a 412 without one: CDS Hooks 2.0 prefetch semantics)
    hook["prefetch"]["liverLabs"]["entry"][0]["resource"]["resourceType"] = "Kratom"
    r = live.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 422
    _outcome_id(r)
    hook = copy.deepcopy(example("cds_hooks_patient_view.json"))
    hook["fhirServer"] = "https://ehr.example.org/fhir"
    del hook["prefetch"]["liverLabs"]
    r = live.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 412
    _outcome_id(r)
    r = live.post(HOOK, json={"hook": "patient-view"}, headers=AUTH)  # the hook's own 422
    assert r.status_code == 422
    _json_id(r)


def _security(r: Any) -> dict[str, str]:
    return {k: r.headers.get(k) for k in SECURITY}


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/boom", {}),  # a route that raises
        ("post", "/v1/assess", AUTH),  # a dependency that raises
        ("post", FHIR_URL, AUTH | FHIR),  # the same under the FHIR route class
    ],
)
def test_500_has_the_request_id_and_the_security_headers(clients, method, path, headers):
    raising, live = clients["raising"], clients["live"]
    body = example("fhir_bundle_kratom_patient.json") if path == FHIR_URL else patient()
    kwargs = {"json": body} if method == "post" else {}
    r = raising.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 500
    rid = _json_id(r)
    assert r.json()["detail"] == "internal error; quote the request id to the operators"
    assert _security(r) == SECURITY
    assert _security(r) == _security(live.get("/livez"))  # as on any other answer
    assert "injected failure" not in r.text
    assert raising.get("/boom").headers["x-request-id"] != rid
