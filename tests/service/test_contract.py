"""The assessments are serialised from the library's dataclasses without passing through the
response models; these tests hold the two to the same fields and values, so the OpenAPI
document stays the truth."""

from __future__ import annotations

import json

import pydantic_core
from service_support import AUTH, patient

from hepatorisk.service.assessment import assess
from hepatorisk.service.responses import AssessmentOut, AssessResponse, BatchResponse
from hepatorisk.service.schemas import AssessRequest

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


def test_dataclass_json_is_the_response_models_json(client):
    state = client.app.state.service
    inputs = [AssessRequest.model_validate(p).to_input() for p in VARIED]
    for a in assess(state.store.current, inputs, state.policy):
        direct = json.loads(pydantic_core.to_json(a))
        assert direct == AssessmentOut.model_validate(a).model_dump(mode="json")


def test_responses_validate_against_their_documented_models(client):
    for body in VARIED:
        r = client.post("/v1/assess", json=body, headers=AUTH)
        assert r.status_code == 200, r.text
        assert AssessResponse.model_validate(r.json()).model_dump(mode="json") == r.json()
    r = client.post("/v1/assess/batch", json={"patients": VARIED}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert BatchResponse.model_validate(r.json()).model_dump(mode="json") == r.json()
    assert r.json()["count"] == len(VARIED)
