"""The answers are the documented types: each response body validates into the response model
its route declares, and dumps back to the same JSON (no field missing, none extra)."""

from __future__ import annotations

from pydantic import TypeAdapter
from service_support import AUTH, patient

from hepatorisk.service.responses import (
    AssessResponse,
    BatchResponse,
    ExplainResponse,
    PredictResponse,
)

HYS_LAW_LABS = {
    "alt": {"value": 400, "unit": "U/L", "uln": 40},
    "ast": {"value": 300, "unit": "U/L", "uln": 40},
    "alp": {"value": 150, "unit": "U/L", "uln": 130},
    "bilirubin": {"value": 51.3, "unit": "umol/L", "uln": 20.52},
}
VARIED = [
    patient(),
    patient(labs=HYS_LAW_LABS),
    patient(kratom={"product": "none", "dose_g_day": 0}),
    patient(demographics={"age": 70, "sex": "female"}, patient_ref=None),
]


def _round_trips(model: type, body: dict) -> None:
    adapter = TypeAdapter(model)
    assert adapter.dump_python(adapter.validate_python(body), mode="json") == body


def test_responses_validate_against_their_documented_models(client):
    for body in VARIED:
        for url, model in (
            ("/v1/assess", AssessResponse),
            ("/v1/predict", PredictResponse),
            ("/v1/explain", ExplainResponse),
        ):
            r = client.post(url, json=body, headers=AUTH)
            assert r.status_code == 200, r.text
            _round_trips(model, r.json())
    r = client.post("/v1/assess/batch", json={"patients": VARIED}, headers=AUTH)
    assert r.status_code == 200, r.text
    _round_trips(BatchResponse, r.json())
    assert r.json()["count"] == len(VARIED)


def test_documented_schema_names_the_core_types(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assessment = schemas["AssessResponse"]["properties"]
    assert set(assessment) == {
        "risks", "flags", "monitoring", "benefit_harm", "unknown_inputs", "request_id",
        "disclaimer",
    }  # fmt: skip
    assert schemas["Risk"]["properties"]["probability"]["maximum"] == 1
    assert "provided" in schemas["Driver"]["properties"]
