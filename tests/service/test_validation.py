"""Bad input: a precise 422 naming the field and what is allowed; never a 500."""

from __future__ import annotations

import json
import random

import pytest
from service_support import AUTH, patient


def _with(path: str, value):
    body = patient()
    node = body
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return body


CATALOGUE = [
    # (field path, bad value, expected field, text expected in "allowed" or "problem")
    ("demographics.age", 12, "demographics.age", ">= 18"),
    ("demographics.age", 130, "demographics.age", "<= 90"),
    ("demographics.sex", "unknown", "demographics.sex", "'female' or 'male'"),
    ("treatment.moud", "suboxone", "treatment.moud", "'buprenorphine'"),
    ("kratom.product", "gummies", "kratom.product", "'leaf_powder'"),
    ("kratom.dose_g_day", -1, "kratom.dose_g_day", ">= 0"),
    ("kratom.dose_g_day", 250, "kratom.dose_g_day", "<= 100"),
    ("labs.alt.value", 20000, "labs.alt.value", "<= 10000"),
    ("labs.alt.unit", "ukat/L", "labs.alt.unit", "'U/L' or 'IU/L'"),
    ("labs.alt.uln", 0, "labs.alt.uln", ">= 5"),
    ("labs.bilirubin.unit", "mmol/L", "labs.bilirubin.unit", "'mg/dL' or 'umol/L'"),
    ("labs.bilirubin.value", 90, "labs.bilirubin.value", "between 0.01 and 60 mg/dL"),
    ("labs.bilirubin.uln", 100, "labs.bilirubin.uln", "between 0.3 and 3 mg/dL"),
    ("labs.bilirubin.uln", None, "labs.bilirubin", "uln is required"),
    ("labs.inr.value", 50, "labs.inr.value", "<= 10"),
    ("alcohol_audit_c", 13, "alcohol_audit_c", "<= 12"),
    ("opioid_use.heroin_days_30", 31, "opioid_use.heroin_days_30", "<= 30"),
    ("symptoms", {"eosinophils_percent": 120}, "symptoms.eosinophils_percent", "<= 100"),
    ("demographics.shoe_size", 44, "demographics.shoe_size", "unknown field"),
    ("demographics.age", "forty", "demographics.age", "valid integer"),
    ("labs.alt", None, "labs.alt", "valid dictionary"),
    ("patient_ref", "x" * 200, "patient_ref", "at most 128"),
]


@pytest.mark.parametrize(("path", "value", "field", "expected"), CATALOGUE)
def test_bad_value_names_field_and_allowed(client, path, value, field, expected):
    r = client.post("/v1/assess", json=_with(path, value), headers=AUTH)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    mine = [e for e in errors if e["field"] == field]
    assert mine, errors
    assert any(expected in f"{e['allowed']} {e['problem']}" for e in mine), mine


def test_dose_without_product_is_refused(client):
    body = _with("kratom", {"product": "none", "dose_g_day": 5})
    r = client.post("/v1/assess", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "kratom.dose_g_day"


def test_missing_required_section(client):
    body = patient()
    del body["labs"]
    r = client.post("/v1/assess", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"field": "labs", "problem": "required field is missing", "allowed": None, "got": None}
    ]


@pytest.mark.parametrize("raw", [b"", b"[]", b"null", b'{"demographics": 5}'])
def test_json_that_is_not_a_record_is_a_422(client, raw):
    r = client.post("/v1/assess", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "raw", [b"{", b"not json", b"\xff\xfe", b'{"demographics": {"age": 41}', b"{}{}", b"[" * 65]
)
def test_body_that_is_not_json_is_a_400_with_the_request_id(client, raw):
    r = client.post("/v1/assess", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"detail", "request_id"}
    assert r.json()["request_id"] == r.headers["x-request-id"]


NOT_JSON = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "multipart/form-data; boundary=x",
]


@pytest.mark.parametrize("ctype", NOT_JSON)
def test_a_body_that_is_not_json_by_its_content_type_is_a_415(client, ctype):
    headers = {**AUTH, **({"Content-Type": ctype} if ctype else {})}
    r = client.post("/v1/assess", content=json.dumps(patient()).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["request_id"] == r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"labs": {"alt": {"value": 48, "value": 4800}}}', "labs.alt.value"),
        (b'{"labs": {}, "labs": {}}', "labs"),
        (b'{"labs": {"alt": {"value": NaN}}}', "labs.alt.value"),
        (b'{"labs": {"alt": {"uln": 1e400}}}', "labs.alt.uln"),
        (b'{"kratom": {"dose_g_day": -Infinity}}', "kratom.dose_g_day"),
    ],
)
def test_duplicate_keys_and_non_finite_numbers_are_named(client, raw, field):
    r = client.post("/v1/assess", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["field"] == field
    assert error["got"] is None


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("labs.alt.value", True, "a number"),
        ("labs.alt.value", "48", "a number"),
        ("demographics.age", "41", "an integer"),
        ("demographics.age", 41.5, "an integer"),
        ("hepatitis.hcv_antibody", 1, "true or false"),
        ("hepatitis.hcv_antibody", "true", "true or false"),
        ("medications.statin", "no", "true or false"),
        ("demographics.diabetes", "Y", "true or false"),
    ],
)
def test_strict_types_say_what_was_expected(client, path, value, expected):
    r = client.post("/v1/assess", json=_with(path, value), headers=AUTH)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert (error["field"], error["allowed"]) == (path, expected)
    assert error["got"] == (value if not isinstance(value, str) else None)


def test_a_whole_number_is_an_integer(client):
    r = client.post("/v1/assess", json=_with("demographics.age", 41.0), headers=AUTH)
    same = client.post("/v1/assess", json=patient(), headers=AUTH)
    assert r.status_code == 200, r.text
    drop = {"request_id"}
    assert {k: v for k, v in r.json().items() if k not in drop} == {
        k: v for k, v in same.json().items() if k not in drop
    }


def test_random_mutations_never_give_a_server_error(client):
    """Seeded fuzzing of the request body: replace, drop or retype random leaves."""
    rng = random.Random(5)
    junk = [None, -1, 0, 1e308, -1e308, "", "x", True, [], {}, 10**30, "NaN", 3.5]
    for _ in range(150):
        body = json.loads(json.dumps(patient()))
        for _ in range(rng.randint(1, 3)):
            node = body
            while isinstance(node, dict) and node:
                key = rng.choice(list(node))
                if not isinstance(node[key], dict) or rng.random() < 0.3:
                    action = rng.random()
                    if action < 0.2:
                        del node[key]
                    else:
                        node[key] = rng.choice(junk)
                    break
                node = node[key]
        r = client.post("/v1/assess", json=body, headers=AUTH)
        assert r.status_code in (200, 422), (body, r.text)


def test_batch_limit_is_1000(client):
    one = patient()
    r = client.post("/v1/assess/batch", json={"patients": [one] * 1001}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "patients"
    assert "at most 1000" in r.json()["detail"][0]["allowed"]


def test_body_size_limit(settings):
    from service_support import TestClient, wait_ready

    from hepatorisk.app import create_app

    small = type(settings).model_validate(settings.model_dump() | {"max_body_bytes": 2000})
    with TestClient(create_app(small)) as c:
        wait_ready(c)
        r = c.post("/v1/assess/batch", json={"patients": [patient()] * 5}, headers=AUTH)
    assert r.status_code == 413
