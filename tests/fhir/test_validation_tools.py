"""The validators the FHIR tests rely on can fail: each catches a planted defect."""

from __future__ import annotations

import copy
import json

from fhir_support import EXAMPLES
from fhir_validation import problems


def _answer() -> dict:
    return json.loads((EXAMPLES / "fhir_bundle_kratom_patient.response.json").read_text())


def _first(bundle: dict, kind: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def test_the_committed_answer_is_clean_and_each_planted_defect_is_found():
    assert problems(_answer()) == []
    plants = {
        "schema": lambda b: _first(b, "RiskAssessment")["prediction"][0].update(
            probabilityDecimal="0.2"
        ),
        "unknown element": lambda b: _first(b, "RiskAssessment").update(riskScore=3),
        "dangling reference": lambda b: _first(b, "RiskAssessment")["subject"].update(
            reference="Patient/elsewhere"
        ),
        "dom-6": lambda b: _first(b, "List").pop("text"),
        "lst-3": lambda b: _first(b, "List")["entry"][0].update(date="2026-01-01"),
        "ras-1": lambda b: _first(b, "RiskAssessment")["prediction"][0].update(
            probabilityDecimal=120
        ),
        "bdl-7": lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"]),
        "ele-1": lambda b: _first(b, "RiskAssessment").update(note=[]),
    }
    for name, plant in plants.items():
        bundle = copy.deepcopy(_answer())
        plant(bundle)
        found = problems(bundle)
        assert found, name
        if name.startswith(("dom", "lst", "ras", "bdl", "ele")):
            assert any(name in f for f in found), (name, found)
