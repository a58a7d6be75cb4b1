"""The answer under the synthetic cohort's other scenarios (issue 13 item 4) in every output:
JSON ``scenario_answer`` (words and numbers; null for a model without scenario models), FHIR
RiskAssessment note (validated against the R4 schema) and the CDS card's line; a patient who
does not use kratom is told the assumption does not apply, with no scenario risks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fhir_support import FHIR_JSON, example, serving
from fhir_validation import check_answer
from service_support import AUTH, build_bundle, patient

from hepatorisk.fhir.cds_hooks import SERVICE_ID
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.scenarios import ScenarioModels


def _with_scenarios(outcome: str, name: str) -> ModelBundle:
    """A small served model whose low and high scenario models are its own trees with the
    calibration's intercept moved by -0.6 and +0.6 (a known, monotone scenario effect)."""
    served = build_bundle(outcome, name, n_estimators=20)
    a, b = served.model.calibration_
    models = {
        "low": served.model.with_calibration((a - 0.6, b)),
        "high": served.model.with_calibration((a + 0.6, b)),
    }
    return replace(served, scenarios=ScenarioModels("central", models, noise_points=0.5))


@pytest.fixture(scope="module")
def scenario_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator:  # type: ignore[type-arg]
    with serving(tmp_path_factory.mktemp("scenarios"), _with_scenarios) as client:
        yield client


def test_a_kratom_user_is_told_the_risk_under_each_scenario(scenario_client) -> None:  # type: ignore[no-untyped-def]
    api = scenario_client.post("/v1/assess", json=patient(), headers=AUTH)
    assert api.status_code == 200, api.text
    for risk in api.json()["risks"]:
        s = risk["scenario_answer"]
        assert s["applies"] and s["drives"] and s["served_scenario"] == "central"
        low, high = (r["probability"] for r in s["risks"])
        assert [r["scenario"] for r in s["risks"]] == ["low", "high"]
        assert low < risk["probability"] < high
        assert s["text"].startswith("This risk rests on an assumption of the synthetic training")
        assert f"Under the low scenario it would be {low:.1%}" in s["text"]
        assert f"under the high scenario {high:.1%}" in s["text"]
        assert s["refit_noise_points"] == 0.5
    # the prediction-only path carries the same answer
    only = scenario_client.post("/v1/predict", json=patient(), headers=AUTH)
    assert only.status_code == 200, only.text
    assessed = [r["scenario_answer"] for r in api.json()["risks"]]
    assert [r["scenario_answer"] for r in only.json()["risks"]] == assessed


def test_a_non_user_gets_no_scenario_risks(scenario_client) -> None:  # type: ignore[no-untyped-def]
    body = patient(kratom={"product": "none", "dose_g_day": 0.0})
    api = scenario_client.post("/v1/assess", json=body, headers=AUTH)
    assert api.status_code == 200, api.text
    for risk in api.json()["risks"]:
        s = risk["scenario_answer"]
        assert not s["applies"] and not s["drives"] and s["risks"] == []
        assert "does not use kratom" in s["text"]


def test_fhir_and_cards_say_it(scenario_client) -> None:  # type: ignore[no-untyped-def]
    url = "/fhir/RiskAssessment/$assess"
    out = scenario_client.post(
        url, json=example("fhir_bundle_kratom_patient.json"), headers={**AUTH, **FHIR_JSON}
    )
    assert out.status_code == 200, out.text
    check_answer(url, 200, out.json())  # R4 JSON schema, FHIRPath invariants, references
    notes = [
        n["text"]
        for e in out.json()["entry"]
        if e["resource"]["resourceType"] == "RiskAssessment"
        for n in e["resource"]["note"]
    ]
    assert sum("Under the low scenario it would be" in n for n in notes) == 2, notes
    hook = f"/cds-services/{SERVICE_ID}"
    cards = scenario_client.post(hook, json=example("cds_hooks_patient_view.json"), headers=AUTH)
    check_answer(hook, cards.status_code, cards.json())
    [card] = cards.json()["cards"]
    assert card["detail"].count("**Scenario (") == 2, card["detail"]


def test_a_model_without_scenarios_answers_null(client) -> None:  # type: ignore[no-untyped-def]
    api = client.post("/v1/assess", json=patient(), headers=AUTH)
    assert api.status_code == 200, api.text
    assert [r["scenario_answer"] for r in api.json()["risks"]] == [None, None]
