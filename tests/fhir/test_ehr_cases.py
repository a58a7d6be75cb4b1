"""Issue 15's cases, each as the FHIR and CDS Hooks specifications say: SI bilirubin,
MedicationRequest MOUD, text-only kratom, null prefetch, missing prefetch with and without a
fhirServer (a local FHIR endpoint the test starts), a Patient that is not context.patientId, a
Parameters-wrapped $assess, /fhir/metadata, and the order-sign/order-select services."""

from __future__ import annotations

import copy
import math
from datetime import date
from typing import Any

import pytest
from fhir_support import FHIR_JSON, cds_settings, example
from service_support import AUTH, running

from hepatorisk.fhir import map_bundle
from hepatorisk.fhir.cds_hooks import ORDER_SELECT_ID, ORDER_SIGN_ID, SERVICE_ID
from hepatorisk.fhir.terminology import CODE_SYSTEM_URL
from hepatorisk.fhir.ucum import convert_factor

HOOK = f"/cds-services/{SERVICE_ID}"
ASSESS = "/fhir/RiskAssessment/$assess"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AS_OF = date(2026, 12, 1)


def _bundle() -> dict[str, Any]:
    return example("fhir_bundle_kratom_patient.json")


def _entry(raw: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in raw["entry"] if e["resource"].get("id") == rid)


def _drop(raw: dict[str, Any], kind: str, *words: str) -> None:
    raw["entry"] = [
        e
        for e in raw["entry"]
        if not (
            e["resource"]["resourceType"] == kind
            and any(w in str(e["resource"]).lower() for w in words)
        )
    ]


def _risks(answer: dict[str, Any]) -> dict[str, float]:
    return {
        e["resource"]["id"].rsplit("-", 1)[1]: e["resource"]["prediction"][0]["probabilityDecimal"]
        for e in answer["entry"]
        if e["resource"]["resourceType"] == "RiskAssessment"
    }


def _issues(answer: dict[str, Any]) -> list[dict[str, Any]]:
    [oo] = [e["resource"] for e in answer["entry"]
            if e["resource"]["resourceType"] == "OperationOutcome"]  # fmt: skip
    return oo["issue"]


# --- terminology: UCUM and the LOINC property ---


def test_ucum_factors_are_ucums_definitions():
    """Written out from UCUM's tables (https://ucum.org/ucum): U = umol/min, kat = mol/s,
    L = dm3, the decimal prefixes; no UCUM library is available to the project to compare."""
    assert convert_factor("ukat/L", "U/L") == 60.0
    assert convert_factor("nkat/L", "U/L") == pytest.approx(0.06)
    assert convert_factor("mU/mL", "U/L") == 1.0
    assert convert_factor("g/L", "g/dL") == 0.1
    assert convert_factor("mg/dL", "g/L") == 0.01
    assert convert_factor("mmol/L", "umol/L") == 1000.0
    assert convert_factor("10*3/uL", "10*9/L") == 1.0
    assert convert_factor("/nL", "10*9/L") == 1.0
    assert convert_factor("10*3/mm3", "10*9/L") == 1.0
    assert convert_factor("mg/d", "g/d") == 0.001
    assert convert_factor("{INR}", "1") == 1.0
    for a, b in (("mg/dL", "umol/L"), ("U/L", "g/L"), ("g", "g/d"), ("[IU]/L", "U/L")):
        assert convert_factor(a, b) is None  # other dimensions, or not a known UCUM atom


def test_si_bilirubin_14631_6_is_assessed_and_umol_l_under_1975_2_is_refused(client):
    raw = _bundle()
    assert _entry(raw, "tbil-3")["code"]["coding"][0]["code"] == "14631-6"
    r = client.post(ASSESS, json=raw, headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 200, r.text
    bili = map_bundle(raw, as_of=AS_OF).request.labs.bilirubin
    assert (bili.unit, bili.value, bili.uln) == ("umol/L", 22, 21)
    # the same value under the mass-concentration code: not that LOINC property, not used
    for rid in ("tbil-2", "tbil-3"):
        _entry(raw, rid)["code"]["coding"][0]["code"] = "1975-2"
    r = client.post(ASSESS, json=raw, headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 422
    notes = [i["diagnostics"] for i in r.json()["issue"]]
    assert any("not a UCUM unit of LOINC 1975-2's property" in n for n in notes), notes
    assert any("no usable BILIRUBIN" in n for n in notes)
    # a bilirubin in mg/dL under 1975-2, and a lab in another UCUM unit of its property
    for rid in ("tbil-2", "tbil-3"):
        q = _entry(raw, rid)["valueQuantity"]
        q |= {"value": round(q["value"] / 17.1, 3), "code": "mg/dL", "unit": "mg/dL"}
        _entry(raw, rid)["referenceRange"][0]["high"] |= {"value": 1.2, "code": "mg/dL",
                                                          "unit": "mg/dL"}  # fmt: skip
    _entry(raw, "alb-3")["valueQuantity"] |= {"value": 4.1, "code": "g/dL", "unit": "g/dL"}
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request.labs.bilirubin.unit == "mg/dL" and m.request.labs.bilirubin.uln == 1.2
    assert m.request.labs.albumin.value == pytest.approx(4.1)


def test_loinc_displays_and_coded_risk_assessments(client):
    r = client.post(ASSESS, json=_bundle(), headers={**AUTH, **FHIR_JSON})
    answer = r.json()
    codes = {c["code"] for c in client.get("/fhir/CodeSystem/hepatorisk").json()["concept"]}
    for e in answer["entry"]:
        ra = e["resource"]
        if ra["resourceType"] != "RiskAssessment":
            continue
        coded = [ra["code"], ra["method"], ra["prediction"][0]["outcome"]]
        for concept in coded:
            [coding] = concept["coding"]
            assert coding["system"] == CODE_SYSTEM_URL and coding["code"] in codes
        assert not any("urn:" in str(c) for c in coded)
    lists = [e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == "List"]
    alt = next(x for x in lists if x["code"]["coding"][0]["code"] == "1742-6")
    assert alt["code"]["coding"][0]["display"] == (
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"
    )


# --- resolvable output, basis and mitigation per outcome ---


def test_every_reference_resolves_and_basis_belongs_to_its_outcome(client):
    answer = client.post(ASSESS, json=_bundle(), headers={**AUTH, **FHIR_JSON}).json()
    by_url = {e["fullUrl"]: e["resource"] for e in answer["entry"]}
    ras = {r["id"].rsplit("-", 1)[1]: r for r in by_url.values()
           if r["resourceType"] == "RiskAssessment"}  # fmt: skip
    liver = [by_url[b["reference"]] for b in ras["liver"]["basis"]]
    relapse = [by_url[b["reference"]] for b in ras["relapse"]["basis"]]
    assert by_url[ras["liver"]["subject"]["reference"]]["id"] == "kp-001"
    assert {r["resourceType"] for r in liver} >= {"Observation", "MedicationStatement"}
    loinc = {r["code"]["coding"][0]["code"] for r in liver if r["resourceType"] == "Observation"}
    assert {"1742-6", "6768-6", "14631-6"} <= loinc
    relapse_labs = {r["code"]["coding"][0]["code"] for r in relapse
                    if r["resourceType"] == "Observation"}  # fmt: skip
    assert not relapse_labs & {"1742-6", "6768-6", "14631-6", "1920-8"}  # no liver labs
    assert any("buprenorphine" in str(r).lower() for r in relapse)  # the MOUD it was under
    assert "mitigation" in ras["liver"] and "mitigation" not in ras["relapse"]


# --- medications ---


def test_moud_and_kratom_as_medication_requests(client):
    """MOUD and kratom recorded as MedicationRequests (kratom self-reported, reportedBoolean)
    are read as the MedicationStatements are: same record, same risks."""
    statements = _bundle()
    requests = copy.deepcopy(statements)
    for e in requests["entry"]:
        r = e["resource"]
        if r["resourceType"] == "MedicationStatement":
            r["resourceType"] = "MedicationRequest"
            r["intent"] = "order" if "kratom" not in str(r).lower() else "plan"
            r["status"] = "active"
            r["reportedBoolean"] = "kratom" in str(r).lower()
            if "dosage" in r:
                r["dosageInstruction"] = r.pop("dosage")
            started = r.get("effectiveDateTime", "2026-09-01")  # the MOUD start: same course
            for k in ("effectiveDateTime", "effectivePeriod", "dateAsserted", "informationSource"):
                r.pop(k, None)
            r["authoredOn"] = started
    a = map_bundle(statements, as_of=AS_OF).request
    b = map_bundle(requests, as_of=AS_OF).request
    assert b.treatment.moud == a.treatment.moud == "buprenorphine"
    assert b.kratom == a.kratom and b.kratom.product != "none"
    assert b.course == a.course and a.course is not None and a.course.week > 0
    one = client.post(ASSESS, json=statements, headers={**AUTH, **FHIR_JSON}).json()
    two = client.post(ASSESS, json=requests, headers={**AUTH, **FHIR_JSON}).json()
    assert _risks(one) == pytest.approx(_risks(two), abs=1e-9)
    # an ended or cancelled request is not a current medication
    for e in requests["entry"]:
        r = e["resource"]
        if r["resourceType"] == "MedicationRequest" and "bup" in str(r).lower():
            r["dispenseRequest"] = {"validityPeriod": {"start": "2025-01-01", "end": "2025-03-01"}}
    assert map_bundle(requests, as_of=AS_OF).request.treatment.moud == "none"


def test_text_only_kratom_with_an_unparseable_dose_is_assessed_as_a_user(client):
    raw = _bundle()
    [kratom] = [e["resource"] for e in raw["entry"] if "kratom" in str(
        e["resource"].get("medicationCodeableConcept", "")).lower()]  # fmt: skip
    kratom["medicationCodeableConcept"] = {"text": "kratom powder"}
    kratom["dosage"] = [{"text": "a couple of spoonfuls when needed"}]
    r = client.post(ASSESS, json=raw, headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 200, r.text
    warnings = [i for i in _issues(r.json()) if "kratom daily dose unknown" in i["diagnostics"]]
    assert warnings and warnings[0]["severity"] == "warning"
    request = map_bundle(raw, as_of=AS_OF).request
    assert request.kratom.product == "leaf_powder" and math.isnan(request.kratom.dose_g_day)
    record = request.to_input()
    assert record.exposure.taking and math.isnan(record.record["kratom_dose_g_day"])
    # not scored as a non-user: the same Bundle without the kratom statement differs
    _drop(raw, "MedicationStatement", "kratom")
    none = client.post(ASSESS, json=raw, headers={**AUTH, **FHIR_JSON}).json()
    assert _risks(none)["liver"] != pytest.approx(_risks(r.json())["liver"], abs=1e-6)


# --- Parameters, metadata ---


def test_parameters_wrapped_call_equals_the_bundle_call(client):
    raw = _bundle()
    params = {"resourceType": "Parameters", "parameter": [{"name": "bundle", "resource": raw}]}
    a = client.post(ASSESS, json=raw, headers={**AUTH, **FHIR_JSON})
    b = client.post(ASSESS, json=params, headers={**AUTH, **FHIR_JSON})
    assert a.status_code == b.status_code == 200, b.text
    assert _risks(a.json()) == pytest.approx(_risks(b.json()), abs=1e-12)
    bad = {"resourceType": "Parameters", "parameter": [{"name": "patient", "valueString": "x"}]}
    r = client.post(ASSESS, json=bad, headers={**AUTH, **FHIR_JSON})
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["Parameters.parameter"]


def test_metadata_operation_definition_and_code_system(client):
    cs = client.get("/fhir/metadata")
    assert cs.status_code == 200 and cs.headers["content-type"].startswith("application/fhir+json")
    body = cs.json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    [op] = body["rest"][0]["resource"][0]["operation"]
    od = client.get("/fhir/OperationDefinition/RiskAssessment-assess").json()
    assert od["url"] == op["definition"] and od["code"] == "assess"
    assert {p["name"] for p in od["parameter"]} == {"bundle", "return"}
    assert client.get("/fhir/CodeSystem/hepatorisk").json()["url"] == CODE_SYSTEM_URL


# --- CDS Hooks: prefetch and fhirServer ---


def _hook(**changes: Any) -> dict[str, Any]:
    return example("cds_hooks_patient_view.json") | changes


def _serve(fhir_server, hook: dict[str, Any]) -> None:
    """The local FHIR endpoint answers each prefetch template with what the hook carries."""
    for key, value in hook["prefetch"].items():
        path = {"patient": "/fhir/Patient/kp-001"}.get(key)
        if path is None:
            kind = {"liverLabs": "Observation", "riskFactors": "Observation",
                    "drugScreens": "Observation",
                    "medications": "MedicationStatement", "medicationRequests": "MedicationRequest",
                    "conditions": "Condition"}[key]  # fmt: skip
            path = f"/fhir/{kind}?" + {
                "liverLabs": _query("liverLabs"), "riskFactors": _query("riskFactors"),
                "drugScreens": _query("drugScreens"),
            }.get(key, "patient=kp-001")  # fmt: skip
        fhir_server.answer(path, value)


def _query(key: str) -> str:
    from hepatorisk.fhir.cds_hooks import PREFETCH

    return PREFETCH[key].split("?", 1)[1].replace("{{context.patientId}}", "kp-001")


def test_missing_prefetch_is_read_from_the_fhir_server(client, fhir_server):
    full = _hook()
    _serve(fhir_server, full)
    fhir_server.answer("/fhir/Observation?" + _query("liverLabs"), {
        **full["prefetch"]["liverLabs"], "entry": full["prefetch"]["liverLabs"]["entry"][:5],
        "link": [{"relation": "next", "url": f"{fhir_server.base}/fhir/page-2"}],
    })  # fmt: skip
    rest = full["prefetch"]["liverLabs"]["entry"][5:]
    fhir_server.answer(
        "/fhir/page-2", {"resourceType": "Bundle", "type": "searchset", "entry": rest}
    )
    auth = {"access_token": "at-123", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "hepatorisk"}  # fmt: skip
    hook = _hook(prefetch={}, fhirServer=f"{fhir_server.base}/fhir", fhirAuthorization=auth)
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 200, r.text
    expected = client.post(HOOK, json=full, headers=AUTH).json()["cards"][0]
    [card] = r.json()["cards"]
    assert card["summary"] == expected["summary"]  # the same data, read instead of prefetched
    asked = [p for p, _ in fhir_server.requests]
    assert "/fhir/Patient/kp-001" in asked and "/fhir/page-2" in asked
    assert {a for _, a in fhir_server.requests} == {"Bearer at-123"}


def test_missing_prefetch_without_a_fhir_server_is_412(client):
    hook = _hook()
    del hook["prefetch"]["liverLabs"]
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 412, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert "liverLabs: not prefetched and no fhirServer" in r.json()["issue"][0]["diagnostics"]
    hook = _hook()
    del hook["prefetch"]
    assert client.post(HOOK, json=hook, headers=AUTH).status_code == 412


def test_slow_fhir_server_is_412_naming_the_timeout(client, fhir_server):
    hook = _hook(fhirServer=f"{fhir_server.base}/fhir")
    del hook["prefetch"]["patient"]
    fhir_server.answer("/fhir/Patient/kp-001", hook["prefetch"].get("patient", {}), delay=3.0)
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 412
    assert "patient: the fhirServer did not answer within 2 s" in r.text
    assert fhir_server.base not in r.text
    https_only = _hook(fhirServer="http://ehr.example.org/fhir")
    del https_only["prefetch"]["patient"]
    r = client.post(HOOK, json=https_only, headers=AUTH)
    assert r.status_code == 412 and "fhirServer must be an https URL" in r.text


@pytest.mark.parametrize("empty", ["null keys", "null prefetch", "empty searchset"])
def test_null_or_empty_prefetch_means_no_data(client, fhir_server, empty):
    hook = _hook(fhirServer=f"{fhir_server.base}/fhir")  # present, but nothing is fetched
    if empty == "null prefetch":
        hook["prefetch"] = None
    elif empty == "null keys":
        hook["prefetch"] = dict.fromkeys(hook["prefetch"])
    else:
        hook["prefetch"]["liverLabs"] = {"resourceType": "Bundle", "type": "searchset"}
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert "needs" in card["summary"] and "ALT, ALP, BILIRUBIN" in card["summary"]
    assert card["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "ServiceRequest"
    assert fhir_server.requests == []


def test_a_patient_that_is_not_context_patient_id_is_refused(client):
    hook = _hook()
    hook["prefetch"]["patient"]["id"] = "someone-else"
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 422, r.text
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert oo["issue"][0]["expression"] == ["prefetch.patient.id"]
    assert "someone-else" not in r.text


# --- order-sign and order-select ---


def _order(drug: str, text: str, service: str = ORDER_SIGN_ID) -> dict[str, Any]:
    hook = example("cds_hooks_order_sign.json")
    [entry] = hook["context"]["draftOrders"]["entry"]
    entry["resource"]["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": {"buprenorphine": "1819", "methadone": "6813",
                                               "naltrexone": "7243"}[drug], "display": drug}],
        "text": text,
    }  # fmt: skip
    if service == ORDER_SELECT_ID:
        hook["hook"] = "order-select"
        hook["context"]["selections"] = [f"MedicationRequest/{entry['resource']['id']}"]
    return hook


@pytest.mark.parametrize(
    ("drug", "arm"),
    [
        ("buprenorphine", "buprenorphine"),
        ("methadone", "methadone"),
        ("naltrexone", "xr_naltrexone"),
    ],
)
def test_order_sign_card_under_the_ordered_medication(client, drug, arm):
    hook = _order(drug, f"{drug} (extended-release injectable)" if arm == "xr_naltrexone" else drug)
    r = client.post(f"/cds-services/{ORDER_SIGN_ID}", json=hook, headers=AUTH)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["summary"].startswith(drug.capitalize())
    assert card["source"]["topic"]["code"] == "moud-start"
    # the relapse risk is the one under that medication: /v1/assess with that MOUD
    from hepatorisk.fhir.hook_data import prefetch_bundle

    request = map_bundle(prefetch_bundle(hook["prefetch"])[0]).request
    body = request.model_dump(mode="json")
    body["treatment"]["moud"] = arm
    api = client.post("/v1/assess", json=body, headers=AUTH).json()
    for risk in api["risks"]:
        assert f"{risk['probability']:.1%} | {risk['band']}" in card["detail"]
    assert ("precipitate opioid withdrawal" in card["detail"]) == (arm == "xr_naltrexone")
    assert card["links"][0]["type"] == "absolute"


def test_order_select_uses_the_selection_and_no_moud_means_no_card(client):
    hook = _order("buprenorphine", "buprenorphine 8 mg film", ORDER_SELECT_ID)
    r = client.post(f"/cds-services/{ORDER_SELECT_ID}", json=hook, headers=AUTH)
    assert r.status_code == 200 and r.json()["cards"][0]["summary"].startswith("Buprenorphine")
    hook["context"]["selections"] = ["MedicationRequest/another-order"]
    assert client.post(f"/cds-services/{ORDER_SELECT_ID}", json=hook, headers=AUTH).json() == {
        "cards": []
    }
    other = _order("buprenorphine", "x")
    other["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"] = {
        "text": "ondansetron 4 mg tablet"
    }
    r = client.post(f"/cds-services/{ORDER_SIGN_ID}", json=other, headers=AUTH)
    assert r.json() == {"cards": []}
    wrong_hook = _order("buprenorphine", "x") | {"hook": "patient-view"}
    assert (
        client.post(f"/cds-services/{ORDER_SIGN_ID}", json=wrong_hook, headers=AUTH).status_code
        == 422
    )


def test_order_without_labs_asks_for_the_baseline_panel(client):
    hook = _order("naltrexone", "naltrexone extended-release injectable")
    hook["prefetch"]["liverLabs"] = None
    [card] = client.post(f"/cds-services/{ORDER_SIGN_ID}", json=hook, headers=AUTH).json()["cards"]
    assert card["summary"].startswith("Naltrexone ordered: liver-risk assessment needs")
    assert "precipitate opioid withdrawal" in card["detail"]
    assert (
        card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "24325-3"
    )


def test_cds_hooks_can_be_switched_off_and_cors_allows_the_sandbox(settings):
    off = cds_settings(settings, cds_hooks_enabled=False)
    with running(off) as c:
        assert c.get("/cds-services").status_code == 404
        assert c.post(HOOK, json=_hook(), headers=AUTH).status_code == 404
    sandbox = "https://sandbox.cds-hooks.org"
    on = cds_settings(settings, cors_origins=[sandbox])
    with running(on) as c:
        preflight = {
            "Origin": sandbox,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        r = c.options(HOOK, headers=preflight)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == sandbox
