"""The model-uncertainty range in every output (issue 13, item 4, API side): JSON
``probability_range``, FHIR ``prediction.probabilityRange`` (percent, R4 invariant ras-1,
validated) and the cards' text, from a model that carries a bootstrap ensemble; nothing claims
a range when the model has none (the other tests' models)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fhir_support import FHIR_JSON, example, serving
from fhir_validation import check_answer
from service_support import AUTH, build_bundle

from hepatorisk.fhir.cds_hooks import SERVICE_ID
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.uncertainty import Ensemble


def _with_ensemble(outcome: str, name: str) -> ModelBundle:
    """A small served model and three bootstrap-like refits (other seeds) as its ensemble."""
    served = build_bundle(outcome, name, n_estimators=20)
    members = [build_bundle(outcome, name, n_estimators=20, seed=s).model for s in (1, 2, 3)]
    bundle = replace(served, ensemble=Ensemble(members, level=0.9, widening=1.5))
    bundle.metadata["uncertainty"] = {
        "method": bundle.ensemble.describe(),  # type: ignore[union-attr]
        "level": 0.9,
        "test_coverage": 0.88,
    }
    return bundle


@pytest.fixture(scope="module")
def ranged_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator:  # type: ignore[type-arg]
    with serving(tmp_path_factory.mktemp("ranged"), _with_ensemble) as client:
        yield client


def test_the_range_is_in_json_fhir_and_cards(ranged_client) -> None:  # type: ignore[no-untyped-def]
    api = ranged_client.post("/v1/assess", json=_mid(), headers=AUTH).json()
    for risk in api["risks"]:
        r = risk["probability_range"]
        assert r["low"] < risk["probability"] < r["high"] and r["level"] == 0.9
        assert r["test_coverage"] == 0.88 and "bootstrap" in r["method"]
    url = "/fhir/RiskAssessment/$assess"
    out = ranged_client.post(
        url, json=example("fhir_bundle_kratom_patient.json"), headers={**AUTH, **FHIR_JSON}
    )
    assert out.status_code == 200, out.text
    check_answer(url, 200, out.json())  # R4 JSON schema, FHIRPath invariants (ras-1), references
    for e in out.json()["entry"]:
        ra = e["resource"]
        if ra["resourceType"] != "RiskAssessment":
            continue
        point, ranged = ra["prediction"]
        low, high = ranged["probabilityRange"]["low"], ranged["probabilityRange"]["high"]
        assert low["code"] == high["code"] == "%"
        assert low["value"] < point["probabilityDecimal"] * 100 < high["value"]
        assert ranged["whenRange"] == point["whenRange"] and "88%" in ranged["rationale"]
    hook = f"/cds-services/{SERVICE_ID}"
    cards = ranged_client.post(hook, json=example("cds_hooks_patient_view.json"), headers=AUTH)
    check_answer(hook, cards.status_code, cards.json())
    [card] = cards.json()["cards"]
    assert card["summary"].count("(90% range ") == 2, card["summary"]
    # week 14 on 2026-12-01 and later on later days (the hook's as-of is today); not cut at 140
    assert re.search(r"\(as of week (1[4-9]|[2-9]\d|\d{3,})\)$", card["summary"]), card["summary"]


def _mid() -> dict:  # type: ignore[type-arg]
    import json

    return json.loads(
        (Path(__file__).resolve().parents[2] / "examples" / "assess_mid_treatment.json").read_text()
    )
