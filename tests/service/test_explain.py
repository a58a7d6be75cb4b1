"""POST /v1/explain: exact, additive, on both scales, grouped to clinical variables."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from service_support import AUTH, patient

from hepatorisk.assessment.inputs import record_columns
from hepatorisk.assessment.request import AssessRequest


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.mark.parametrize(
    "body",
    [patient(), patient(kratom={"product": "none", "dose_g_day": 0}, patient_ref=None)],
)
def test_explanation_is_additive_and_matches_the_served_probability(client, bundles, body):
    served = client.post("/v1/assess", json=body, headers=AUTH).json()
    r = client.post("/v1/explain", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    frame = pd.DataFrame(record_columns([AssessRequest.model_validate(body).to_input()]))
    for e in r.json()["explanations"]:
        bundle = bundles[e["outcome"]]
        contributions = sum(c["log_odds"] for c in e["contributions"])
        assert e["base_log_odds"] + contributions == pytest.approx(e["log_odds"], abs=1e-9)
        risk = next(x for x in served["risks"] if x["outcome"] == e["outcome"])
        assert e["log_odds"] == pytest.approx(_logit(risk["probability"]), abs=1e-9)
        reference = bundle.explain(frame)  # the library's own (pandas) path
        assert e["base_log_odds"] == pytest.approx(float(reference.base_value[0]), abs=1e-12)
        by_name = {c["feature"]: c["log_odds"] for c in e["contributions"]}
        for name, value in reference.contributions.iloc[0].items():
            assert by_name[name] == pytest.approx(value, abs=1e-12)
        p_sum = sum(c["probability"] for c in e["contributions"])
        assert e["base_probability"] + p_sum == pytest.approx(e["probability"], abs=1e-9)
        assert len(e["contributions"]) == len(bundle.features.feature_names_out_)


def test_grouped_contributions_sum_their_members(client):
    e = client.post("/v1/explain", json=patient(), headers=AUTH).json()["explanations"][0]
    by_name = {c["feature"]: c for c in e["contributions"]}
    groups = {g["variable"]: g for g in e["grouped"]}
    alt = groups["ALT"]
    assert alt["members"] == ["alt_u_l", "alt_uln_u_l", "alt_xuln"]
    assert alt["log_odds"] == pytest.approx(sum(by_name[m]["log_odds"] for m in alt["members"]))
    assert sum(g["log_odds"] for g in e["grouped"]) == pytest.approx(
        e["log_odds"] - e["base_log_odds"]
    )
    assert by_name["alt_xuln"]["label"] == "ALT as a multiple of its upper limit of normal"
    assert by_name["alt_xuln"]["value"] == pytest.approx(48 / 33)
    assert by_name["sex"]["value"] == "male"
