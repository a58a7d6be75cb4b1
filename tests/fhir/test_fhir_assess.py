"""POST /fhir/RiskAssessment/$assess: round trips, equality with /v1/assess, audit, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir_support import FHIR_JSON, example, record_body, record_bundle, synthetic_rows
from service_support import AUTH

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.results import NOT_PROVIDED
from hepatorisk.fhir import map_bundle
from hepatorisk.fhir.outbound import NOT_RECORDED

URL = "/fhir/RiskAssessment/$assess"
# Record variables the example Bundle does not carry (the FHIR mapping does not read them).
NOT_IN_EXAMPLE = {
    "cocaine_use",
    "cows_entry",
    "craving_entry",
    "diabetes",
    "employed",
    "heroin_days_30",
    "hiv",
    "injection_drug_use",
    "mitragynine_mg_per_g",
    "primary_opioid",
    "prior_treatments",
    "race_ethnicity",
    "stable_housing",
    "uds_opioid_entry",
}


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_example_bundle_gives_validating_risk_assessments(client):
    raw = example("fhir_bundle_kratom_patient.json")
    r = client.post(URL, json=raw, headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    out = r.json()
    Bundle.model_validate(out)
    assert out["type"] == "collection"
    risks = {ra["id"].rsplit("-", 1)[1]: ra for ra in _resources(out, "RiskAssessment")}
    assert set(risks) == {"liver", "relapse"}
    api = client.post(
        "/v1/assess", json=map_bundle(raw).request.model_dump(mode="json"), headers=AUTH
    ).json()
    for risk in api["risks"]:
        ra = risks[risk["outcome"]]
        [patient] = [e for e in out["entry"] if e["resource"]["resourceType"] == "Patient"]
        assert patient["resource"]["id"] == "kp-001"  # the subject, included: it resolves
        assert ra["status"] == "final" and ra["subject"] == {"reference": patient["fullUrl"]}
        pred = ra["prediction"][0]  # a second one is the uncertainty range, when there is one
        assert len(ra["prediction"]) == 1 + (risk["probability_range"] is not None)
        assert pred["probabilityDecimal"] == pytest.approx(risk["probability"], abs=1e-12)
        # the example is mid-treatment (week 14 on the day it runs, or later): the answer says
        # when it holds and which landmark model gave it, as the JSON API does
        week = risk["as_of_week"]
        assert week >= 14 and risk["landmark_week"] == 12
        assert (pred["whenRange"]["low"]["value"], pred["whenRange"]["high"]["value"]) == (
            week,
            week + 12,
        )
        assert any(risk["as_of"] in n["text"] for n in ra["note"])
        assert risk["as_of"] in ra["text"]["div"]
        parts = pred["rationale"].split("; ")
        texts = [d["text"].removesuffix(NOT_PROVIDED) for d in risk["drivers"]]
        assert [x.removesuffix(NOT_RECORDED) for x in parts] == texts
        for x, d in zip(parts, risk["drivers"], strict=True):  # said, not read as a value
            assert x.endswith(NOT_RECORDED) == (not d["provided"]), x
            if d["variable"] in NOT_IN_EXAMPLE:
                assert not d["provided"], d
        assert risk["model"]["name"] in ra["method"]["text"]
        assert ra["method"]["coding"][0]["code"] == f"{risk['outcome']}-model"
        if risk["outcome"] == "liver":  # the liver-test plan mitigates the liver risk only
            assert ra["mitigation"].endswith(api["monitoring"]["summary"])
        else:
            assert "mitigation" not in ra
        ids = {e["fullUrl"]: e["resource"].get("id") for e in out["entry"]}
        basis = {ids[b["reference"]] for b in ra["basis"]}  # each resolves to an included copy
        if risk["outcome"] == "liver":
            assert {"alt-3", "tbil-3", "alp-3"} <= basis
            assert "alt-1" not in basis  # only the latest value per code is used
    alt_trend = next(
        x for x in _resources(out, "List") if x["code"]["coding"][0]["code"] == "1742-6"
    )
    assert [ids[e["item"]["reference"]] for e in alt_trend["entry"]] == ["alt-1", "alt-2", "alt-3"]
    [oo] = _resources(out, "OperationOutcome")
    OperationOutcome.model_validate(oo)
    where = {x for i in oo["issue"] for x in i.get("expression", [])}
    for element in (
        "entry[8].resource.referenceRange",  # GGT without a range: default ULN
        "entry[12].resource.code",  # hemoglobin: not read
        "entry[19].resource.status",  # a completed medication
        "entry[21].resource",
    ):  # the Encounter
        assert f"Bundle.{element}" in where, element


def test_fhir_equals_json_api_for_synthetic_patients(client, settings):
    today = datetime.now(UTC).date()
    rows = synthetic_rows(12)
    for k, row in enumerate(rows):
        fhir = client.post(
            URL, json=record_bundle(row, today, si_bilirubin=k % 2 == 1), headers=AUTH
        )
        api = client.post("/v1/assess", json=record_body(row), headers=AUTH)
        assert fhir.status_code == 200 and api.status_code == 200, (fhir.text, api.text)
        ras = {ra["id"].rsplit("-", 1)[1]: ra for ra in _resources(fhir.json(), "RiskAssessment")}
        for risk in api.json()["risks"]:
            pred = ras[risk["outcome"]]["prediction"][0]
            assert pred["probabilityDecimal"] == pytest.approx(risk["probability"], rel=1e-9)
    log = AuditLog(settings.audit_db_url)
    rows_ = log.rows()
    log.close()
    fhir_rows = [r for r in rows_ if r["endpoint"] == "fhir/RiskAssessment/$assess"]
    api_rows = [r for r in rows_ if r["endpoint"] == "assess"]
    assert len(fhir_rows) == len(api_rows) == len(rows)
    for f, a in zip(fhir_rows, api_rows, strict=True):
        _same_flags(f, a)
        for outcome in ("liver", "relapse"):
            assert f["outputs"][outcome]["band"] == a["outputs"][outcome]["band"]
            assert f["outputs"][outcome]["probability"] == pytest.approx(
                a["outputs"][outcome]["probability"], rel=1e-9
            )
        assert f["outputs"]["monitoring"] == a["outputs"]["monitoring"]
        assert f["caller"] == "ehr-test" and f["patient_ref_hmac"] == a["patient_ref_hmac"]


def _same_flags(f: dict, a: dict) -> None:
    ff, fa = dict(f["flags"]), dict(a["flags"])
    assert ff.pop("r_ratio") == pytest.approx(fa.pop("r_ratio"), rel=1e-9)
    assert ff == fa


BAD = {
    "not a Bundle": ({"resourceType": "Patient", "gender": "male"}, 422, "Bundle.resourceType"),
    "not an object": ([{"resourceType": "Bundle"}], 422, "Bundle"),
    "entry not an array": (
        {"resourceType": "Bundle", "type": "collection", "entry": {}},
        422,
        "Bundle.entry",
    ),
    "Bundle without type": ({"resourceType": "Bundle", "entry": []}, 422, "Bundle.type"),
    "unknown resource type": (
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Kratom"}}],
        },
        422,
        "Bundle.entry[0].resource.resourceType",
    ),
}


def _mutated(path_fn) -> dict:
    raw = example("fhir_bundle_kratom_patient.json")
    path_fn(raw["entry"])
    return raw


MUTATIONS = {
    "Observation without code": (
        lambda e: e[1]["resource"].pop("code"),
        "Bundle.entry[1].resource.code",
    ),
    "Observation with text as value": (
        lambda e: e[3]["resource"]["valueQuantity"].update(value="high"),
        "Bundle.entry[3].resource.valueQuantity.value",
    ),
    "no Patient": (lambda e: e.pop(0), "Bundle"),
    "no ALT": (lambda e: [e.pop(i) for i in (3, 2, 1)], "Bundle"),
    "a child": (
        lambda e: e[0]["resource"].update(birthDate="2019-05-01"),
        "Bundle.entry[0].resource.birthDate",
    ),
    "unknown gender": (
        lambda e: e[0]["resource"].update(gender="unknown"),
        "Bundle.entry[0].resource.gender",
    ),
}


@pytest.mark.parametrize("case", [*BAD, *MUTATIONS])
def test_malformed_input_is_an_operation_outcome_with_a_4xx(client, case):
    if case in BAD:
        body, status, expression = BAD[case]
    else:
        mutate, expression = MUTATIONS[case]
        body, status = _mutated(mutate), 422
    r = client.post(URL, json=body, headers=AUTH)
    assert r.status_code == status, r.text
    oo = r.json()
    OperationOutcome.model_validate(oo)
    errors = [i for i in oo["issue"] if i["severity"] == "error"]
    assert errors and any(expression in i.get("expression", []) for i in errors), oo


def test_not_json_and_wrong_content_type(client):
    r = client.post(URL, content=b"{not json", headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    r = client.post(URL, content=b"<Bundle/>", headers={**AUTH, "Content-Type": "application/xml"})
    assert r.status_code == 415 and r.json()["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0000000000"}])
def test_token_required(client, headers):
    r = client.post(URL, json=example("fhir_bundle_kratom_patient.json"), headers=headers)
    assert r.status_code == 401
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.headers["www-authenticate"] == "Bearer"
