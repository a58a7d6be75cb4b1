"""The OpenAPI document against the answers: for every operation and every error status the
document lists, a request that really produces that status, with a body valid against the
schema documented for it (checked by jsonschema-rs, not by the project's own models).

A documented status no request can produce fails here (the document promises too much); a
status produced but not documented fails the schemathesis fuzzing (``test_fuzz_openapi.py``).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fhir_support import example
from service_support import ADMIN, AUTH, TestClient, patient, running

from hepatorisk.app import create_app
from hepatorisk.assessment.model_pair import load_model_pair
from hepatorisk.fhir.cds_hooks import ORDER_SELECT_ID, ORDER_SIGN_ID, SERVICE_ID
from hepatorisk.settings import Settings
from hepatorisk.web.deps import get_state

FHIR = "application/fhir+json"
HOOK = f"/cds-services/{SERVICE_ID}"
FEEDBACK = f"{HOOK}/feedback"


def _feedback() -> dict[str, Any]:
    return {
        "feedback": [
            {"card": str(uuid.uuid4()), "outcome": "accepted",
             "outcomeTimestamp": "2026-11-26T10:01:00Z"},
        ]
    }  # fmt: skip


def _order_select() -> dict[str, Any]:
    hook = example("cds_hooks_order_sign.json")
    [entry] = hook["context"]["draftOrders"]["entry"]
    hook["hook"] = "order-select"
    hook["context"]["selections"] = [f"MedicationRequest/{entry['resource']['id']}"]
    return hook


def valid_request(method: str, path: str) -> dict[str, Any]:
    """A request the operation answers with success: body, headers, path."""
    json_bodies = {
        "/v1/assess": patient(),
        "/v1/predict": patient(),
        "/v1/explain": patient(),
        "/v1/assess/batch": {"patients": [patient()]},
        HOOK: example("cds_hooks_patient_view.json"),
        f"/cds-services/{ORDER_SIGN_ID}": example("cds_hooks_order_sign.json"),
        f"/cds-services/{ORDER_SELECT_ID}": _order_select(),
        "/cds-services/{service_id}/feedback": _feedback(),
        "/v1/outcomes": {"outcomes": [{"outcome": "liver", "value": 0, "request_id": "0" * 32}]},
    }
    request: dict[str, Any] = {"method": method, "url": path, "headers": dict(AUTH)}
    if path.startswith("/v1/admin"):
        request["headers"] = dict(ADMIN)
    if path == "/fhir/RiskAssessment/$assess":
        request["json"] = example("fhir_bundle_kratom_patient.json")
        request["headers"]["Content-Type"] = FHIR
    elif path in json_bodies:
        request["json"] = json_bodies[path]
    request["url"] = path.replace("{service_id}", SERVICE_ID)
    return request


def failing(status: int, method: str, path: str) -> dict[str, Any]:
    """A request that produces ``status`` on this operation (on the client ``client_for``)."""
    r = valid_request(method, path)
    if status == 401:
        r["headers"].pop("Authorization")
    elif status == 400:  # a body that is not JSON (or not UTF-8)
        r.pop("json", None)
        r["content"] = b'{"patients": "\xff"}'
        r["headers"].setdefault("Content-Type", "application/json")
    elif status == 404:
        r["url"] = r["url"].replace(SERVICE_ID, "no-such-service")
    elif status == 412:  # a FHIR server to ask, and no liver labs in the prefetch
        r["json"] = copy.deepcopy(r["json"])
        r["json"]["fhirServer"] = "https://ehr.example.org/fhir"
        del r["json"]["prefetch"]["liverLabs"]
    elif status == 413:
        r.pop("json", None)
        r["content"] = b" " * 5_000
        r["headers"].setdefault("Content-Type", "application/json")
    elif status == 415:
        r.pop("json", None)
        r["content"] = b"ALT 48 U/L"
        r["headers"]["Content-Type"] = "text/plain"
    elif status == 422:
        if r.get("json") is None:
            r["params"] = {"wait": "perhaps"}
        elif path == "/fhir/RiskAssessment/$assess":
            r["json"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
        else:
            r["json"] = {"unexpected": 1}
    return r


@pytest.fixture(scope="module")
def clients(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """live: ready; cold: models and audit log not open (no lifespan); small: a 1 kB body
    limit; broken: every dependency fails unexpectedly; cds_off: ready, CDS Hooks switched off
    (``HEPATORISK_CDS_HOOKS_ENABLED`` false: every CDS Hooks route answers 404)."""
    from service_support import make_settings

    settings: Settings = make_settings(model_dirs, tmp_path_factory.mktemp("statuses"))
    small = settings.model_copy(update={"max_body_bytes": 1_000})
    off_base = make_settings(model_dirs, tmp_path_factory.mktemp("cds-off"))
    cds_off = Settings(**{**off_base.model_dump(), "cds_hooks_enabled": False})
    with running(settings) as live, running(cds_off) as off:
        models = load_model_pair(settings.liver_model, settings.relapse_model)
        broken_app = create_app(settings, models=models)

        async def broken_state() -> Any:
            raise RuntimeError("injected failure")

        broken_app.dependency_overrides[get_state] = broken_state
        yield {
            "live": live,
            "cold": TestClient(create_app(settings)),
            "small": TestClient(create_app(small)),
            "broken": TestClient(broken_app, raise_server_exceptions=False),
            "cds_off": off,
        }


def client_for(status: int) -> str:
    return {503: "cold", 413: "small", 500: "broken"}.get(status, "live")


def cases(status: int, method: str, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every (client, request) that must produce ``status`` on this operation."""
    if status == 404 and path.startswith("/cds-services"):
        # every CDS Hooks route: a valid request while CDS Hooks are switched off; a route with
        # a service id in its path: also an unknown service id while they are on
        found = [("cds_off", valid_request(method, path))]
        if "{service_id}" in path:
            found.append(("live", failing(status, method, path)))
        return found
    found = [(client_for(status), failing(status, method, path))]
    if status == 422 and path == HOOK:  # both formats: the hook's own and the mapping's
        found.append(("live", _cds_mapping_error(method, path)))
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (method, path, int(code))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for code in operation["responses"]
        if int(code) >= 400
    ]


def test_every_route_documents_its_error_statuses(clients):
    document = clients["live"].app.openapi()
    statuses = {(m, p): {c for mm, pp, c in _operations(document) if (mm, pp) == (m, p)}
                for m, p, _ in _operations(document)}  # fmt: skip
    assert statuses["post", "/v1/assess"] == {400, 401, 413, 415, 422, 500, 503}
    assert statuses["post", "/v1/predict"] == {400, 401, 413, 415, 422, 500, 503}
    assert statuses["post", "/v1/assess/batch"] == {400, 401, 413, 415, 422, 500, 503}
    assert statuses["post", "/fhir/RiskAssessment/$assess"] == {400, 401, 413, 415, 422, 500, 503}
    # 404 on the CDS Hooks routes: HEPATORISK_CDS_HOOKS_ENABLED false (``fhir.deps.cds_enabled``)
    assert statuses["post", HOOK] == {400, 401, 404, 412, 413, 415, 422, 500, 503}
    assert 404 in statuses["get", "/cds-services"]
    assert 404 in statuses["post", "/cds-services/{service_id}/feedback"]


def test_every_documented_error_is_answered_as_documented(clients):
    document = clients["live"].app.openapi()
    operations = _operations(document)
    assert len(operations) > 40
    for method, path, status in operations:
        for client, r in cases(status, method, path):
            response = clients[client].request(**r)
            where = f"{method.upper()} {path} -> {status} ({client})"
            assert response.status_code == status, f"{where}: got {response.status_code}"
            media = response.headers["content-type"].split(";")[0]
            content = document["paths"][path][method]["responses"][str(status)]["content"]
            assert media in content, f"{where}: {media} not documented ({sorted(content)})"
            schema = {**content[media]["schema"], "components": document["components"]}
            errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(
                response.json())]  # fmt: skip
            assert not errors, f"{where}: body not as documented: {errors[:3]}"


def _cds_mapping_error(method: str, path: str) -> dict[str, Any]:
    r = valid_request(method, path)
    r["json"] = copy.deepcopy(r["json"])
    # a prefetched resource the mapper refuses (an absent key is read from the fhirServer, or
    # is a 412 without one: CDS Hooks 2.0 prefetch semantics)
    r["json"]["prefetch"]["liverLabs"]["entry"][0]["resource"]["resourceType"] = "Kratom"
    return r


def test_every_json_body_is_read_strictly(clients):
    """Every route with a JSON body reads it with the one strict loader (``web.json_body``)."""
    from hepatorisk.web.json_body import JsonBodyRoute
    from hepatorisk.web.openapi import _api_routes

    routes = [route for _, route in _api_routes(clients["live"].app)]
    with_body = [r for r in routes if r.body_field is not None]
    assert len(with_body) >= 6
    assert all(isinstance(r, JsonBodyRoute) for r in with_body), [
        r.path for r in with_body if not isinstance(r, JsonBodyRoute)
    ]


def test_error_bodies_of_unparseable_bodies_carry_the_request_id(clients):
    for path in ("/v1/assess", HOOK, "/fhir/RiskAssessment/$assess"):
        for status in (400, 415):
            r = clients["live"].request(**failing(status, "post", path))
            assert r.status_code == status
            if path.startswith("/fhir"):
                assert r.json()["resourceType"] == "OperationOutcome"
                assert r.json()["id"] == r.headers["x-request-id"]
            else:
                assert r.json()["request_id"] == r.headers["x-request-id"]
