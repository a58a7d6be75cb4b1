"""CDS Hooks 2.0: discovery, card shapes, indicators, the 412 path, feedback, auth."""

from __future__ import annotations

import copy
import uuid

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir_support import example
from service_support import AUTH, patient

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.fhir.cds_hooks import SERVICE_ID
from hepatorisk.fhir.outbound import NOT_RECORDED

HOOK = f"/cds-services/{SERVICE_ID}"


def _indicator(assessment: dict) -> str:
    """The documented rule (fhir/cards.py), from the JSON API's answer for the same patient."""
    f, bands = assessment["flags"], {r["band"] for r in assessment["risks"]}
    if f["stop_recommended"] or f["hys_law"]:
        return "critical"
    if "high" in bands or assessment["monitoring"]["retest_within_days"] is not None:
        return "warning"
    return "info"


def test_discovery_is_open_and_conforms(client):
    r = client.get("/cds-services")
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-sign", "order-select"}
    service = services[SERVICE_ID]
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    assert {"patient", "liverLabs", "medications", "conditions"} <= set(service["prefetch"])
    assert all("{{context.patientId}}" in t for t in service["prefetch"].values())
    assert "http://loinc.org|1742-6" in service["prefetch"]["liverLabs"]
    assert "_sort=-date" in service["prefetch"]["liverLabs"]


def test_patient_view_card_conforms_and_is_audited(client, settings):
    r = client.post(HOOK, json=example("cds_hooks_patient_view.json"), headers=AUTH)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert len(card["summary"]) < 140 and card["detail"] and card["source"]["label"]
    assert card["indicator"] in {"info", "warning", "critical"}
    assert card["source"]["url"].startswith("http") and card["source"]["topic"]["code"]
    for heading in ("Guideline flags", "Monitoring", "Top drivers", "Decision support only"):
        assert heading in card["detail"]
    assert "ALT: 28 → 61 → 118 U/L" in card["detail"]  # the series from the prefetch
    # the example has no injection or craving record: such drivers must not read as values
    drivers = [x for x in card["detail"].splitlines() if " risk by " in x]
    assert any(x.startswith("- ALT ") and not x.endswith(NOT_RECORDED) for x in drivers)
    unrecorded = [x for x in drivers if "injection drug use" in x or "craving" in x]
    assert unrecorded and all(x.endswith(NOT_RECORDED) for x in unrecorded)
    request_id = r.headers["x-request-id"]
    assert uuid.UUID(card["uuid"]).hex == request_id
    # ALT 118 U/L against a reference high of 35 is > 3x ULN: a retest is due
    [suggestion] = card["suggestions"]
    assert card["selectionBehavior"] == "at-most-one"
    uuid.UUID(suggestion["uuid"])
    [action] = suggestion["actions"]
    assert action["type"] == "create"
    order = ServiceRequest.model_validate(action["resource"])
    assert order.code.coding[0].code == "24325-3"
    assert order.subject.reference == "Patient/kp-001"
    log = AuditLog(settings.audit_db_url)
    [row] = log.rows(request_id)
    log.close()
    assert row["endpoint"] == f"cds-services/{SERVICE_ID}" and row["caller"] == "ehr-test"


@pytest.mark.parametrize(
    "labs",
    [
        None,  # the patient() labs
        {
            "alt": {"value": 400, "unit": "U/L", "uln": 40},
            "ast": {"value": 300, "unit": "U/L", "uln": 40},
            "alp": {"value": 150, "unit": "U/L", "uln": 130},
            "bilirubin": {"value": 3.0, "unit": "mg/dL", "uln": 1.2},
        },
    ],
)
def test_indicator_follows_bands_and_stopping_rules(client, labs):
    hook = example("cds_hooks_patient_view.json")
    body = patient(**({"labs": labs} if labs else {}))
    codes = {"alt": "1742-6", "ast": "1920-8", "alp": "6768-6", "bilirubin": "1975-2"}
    entries = []
    for name, code in codes.items():
        lab = body["labs"].get(name)
        if lab:
            q = {"value": lab["value"], "code": lab["unit"], "system": "http://unitsofmeasure.org"}
            entries.append(
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": name,
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                        "effectiveDateTime": "2026-11-25",
                        "valueQuantity": q,
                        "referenceRange": [{"high": {**q, "value": lab["uln"]}}],
                    }
                }
            )
    hook["prefetch"]["liverLabs"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": entries,
    }
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    from hepatorisk.fhir.workflow import map_bundle, prefetch_bundle

    request = map_bundle(prefetch_bundle(hook["prefetch"])[0]).request
    api = client.post("/v1/assess", json=request.model_dump(mode="json"), headers=AUTH).json()
    assert card["indicator"] == _indicator(api)
    if labs:
        assert card["indicator"] == "critical" and card["summary"].startswith("FDA stopping")


@pytest.mark.parametrize(
    "broken",
    [
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
        "drop",
    ],
)
def test_unreadable_required_data_with_a_fhir_server_is_412(client, settings, fhir_server, broken):
    """liverLabs neither prefetched nor readable from the fhirServer (it answers 500): 412,
    naming the key and the reason, quoting neither the server's URL nor its answer."""
    hook = example("cds_hooks_patient_view.json")
    hook |= {
        "fhirServer": f"{fhir_server.base}/fhir",
        "fhirAuthorization": {
            "access_token": "secret-access-token-x",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "hepatorisk",
        },
    }
    fhir_server.answer("/fhir/Observation", {"resourceType": "OperationOutcome"}, status=500)
    if broken == "drop":
        del hook["prefetch"]["liverLabs"]
    else:
        hook["prefetch"]["liverLabs"] = broken
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 412, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.json()["id"] == r.headers["x-request-id"]
    diagnostics = r.json()["issue"][0]["diagnostics"]
    assert "liverLabs" in diagnostics and "HTTP 500" in diagnostics
    assert fhir_server.base not in r.text and "secret-access-token" not in r.text
    assert fhir_server.requests[0][1] == "Bearer secret-access-token-x"
    log = AuditLog(settings.audit_db_url)
    assert log.rows() == []  # nothing was assessed
    log.close()


def test_missing_labs_without_fhir_server_suggest_a_panel(client):
    hook = example("cds_hooks_patient_view.json")
    hook["prefetch"]["liverLabs"] = None
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["indicator"] == "info" and "ALT, ALP, BILIRUBIN" in card["summary"]
    assert (
        card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "24325-3"
    )


def test_malformed_prefetch_is_4xx_not_500(client):
    hook = example("cds_hooks_patient_view.json")
    hook["prefetch"]["liverLabs"]["entry"][0]["resource"]["valueQuantity"] = {"value": "x"}
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 422 and r.json()["resourceType"] == "OperationOutcome"
    bad = copy.deepcopy(example("cds_hooks_patient_view.json"))
    bad["hookInstance"] = "not-a-uuid"
    assert client.post(HOOK, json=bad, headers=AUTH).status_code == 422


@pytest.mark.parametrize(
    ("element", "sent", "expression"),
    [
        ("liverLabs.entry.0.resource.valueQuantity.value", "118",
         "prefetch.liverLabs.entry[0].resource.valueQuantity.value"),
        ("patient.gender", "unknown", "prefetch.patient.gender"),
        ("conditions.entry.0", 7, "prefetch.conditions.entry[0]"),
        ("liverLabs.entry.3.resource.resourceType", "Kratom",
         "prefetch.liverLabs.entry[3].resource.resourceType"),
    ],
)  # fmt: skip
def test_mapping_errors_name_the_element_of_the_hook_request(client, element, sent, expression):
    """The prefetch is mapped as one Bundle; its OperationOutcome names the element where the
    hook request has it (``prefetch.liverLabs.entry[0]...``), not the gathered Bundle's."""
    hook = copy.deepcopy(example("cds_hooks_patient_view.json"))
    node = hook["prefetch"]
    keys = [int(k) if k.isdigit() else k for k in element.split(".")]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = sent
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 422, r.text
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome" and oo["id"] == r.headers["x-request-id"]
    errors = [x for i in oo["issue"] if i["severity"] == "error" for x in i["expression"]]
    assert expression in errors, oo
    assert not [x for i in oo["issue"] for x in i.get("expression", []) if "Bundle" in x], oo


def test_feedback_lands_in_the_audit_trail(client, settings):
    r = client.post(HOOK, json=example("cds_hooks_patient_view.json"), headers=AUTH)
    card = r.json()["cards"][0]
    comment = "Patient MRN EX-000123 had labs yesterday"
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-26T10:00:00Z",
                "overrideReason": {"reason": card["overrideReasons"][0], "userComment": comment},
            },
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "outcomeTimestamp": "2026-11-26T10:01:00Z",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
            },
        ]
    }
    r = client.post(f"{HOOK}/feedback", json=feedback, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"recorded": 2}
    log = AuditLog(settings.audit_db_url)
    rows = log.feedback_rows(card["uuid"])
    [assessed] = log.rows(uuid.UUID(card["uuid"]).hex)  # the card joins its assessment
    log.close()
    assert assessed["endpoint"] == f"cds-services/{SERVICE_ID}"
    assert [x["outcome"] for x in rows] == ["overridden", "accepted"]
    assert rows[0]["override_reason"]["code"] == "already-ordered"
    assert rows[0]["comment_sha256"] and comment not in str(rows)
    assert rows[1]["accepted_suggestions"] == [card["suggestions"][0]["uuid"]]
    assert (
        client.post("/cds-services/other/feedback", json=feedback, headers=AUTH).status_code == 404
    )
    feedback["feedback"][0]["outcome"] = "ignored"
    assert client.post(f"{HOOK}/feedback", json=feedback, headers=AUTH).status_code == 422


def test_feedback_stores_only_an_offered_override_reason(client, settings):
    """The reason is stored as one the card offered (the service's own display, the caller's
    display and extra fields dropped); anything else as ``other`` with a keyed hash."""
    card = client.post(HOOK, json=example("cds_hooks_patient_view.json"), headers=AUTH).json()[
        "cards"
    ][0]
    offered = card["overrideReasons"][1]
    secret = "MRN-EX-000123"
    reasons = [
        offered | {"display": f"see {secret}", "note": secret},  # offered, caller's text
        {"code": offered["code"]},  # offered code without a system
        {"system": offered["system"], "code": f"{secret}-code", "display": "x"},  # not offered
        {"system": f"urn:{secret}", "code": offered["code"]},  # offered code, other system
        {"system": "urn:other", "code": "z", "display": secret},
        {"system": "urn:other", "code": "z", "display": secret},  # the same: the same hash
    ]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-26T10:00:00Z",
                "overrideReason": {"reason": reason},
            }
            for reason in reasons
        ]
    }
    r = client.post(f"{HOOK}/feedback", json=feedback, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"recorded": len(reasons)}
    log = AuditLog(settings.audit_db_url)
    stored = [row["override_reason"] for row in log.feedback_rows(card["uuid"])]
    log.close()
    assert secret not in str(stored)
    assert stored[0] == stored[1] == offered  # system, code and display as the card gave them
    assert [s["code"] for s in stored[2:]] == ["other"] * 4
    hashes = [s["sha256"] for s in stored[2:]]
    assert all(len(h) == 64 for h in hashes)
    assert hashes[2] == hashes[3] and len(set(hashes)) == 3


@pytest.mark.parametrize("path", [HOOK, f"{HOOK}/feedback"])
def test_hook_and_feedback_need_the_token(client, path):
    r = client.post(path, json=example("cds_hooks_patient_view.json"))
    assert r.status_code == 401
