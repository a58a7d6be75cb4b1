"""hepatorisk's own codes, published as one FHIR CodeSystem with a canonical http URL.

Used where no standard code exists: the reference material gives no SNOMED CT or LOINC code for
"risk of new-onset kratom liver-enzyme elevation by week 12" or "opioid relapse by week 12",
nor for the card topic, the override reasons or the models. The CodeSystem is served by the
service at ``/fhir/CodeSystem/hepatorisk`` (``conformance.py``) so that every code in an answer
can be looked up; its ``url`` is the canonical identity the codings carry (a canonical URL names
the code system; it need not be where the resource is fetched from).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CANONICAL_BASE",
    "CODE_SYSTEM_URL",
    "CONCEPTS",
    "code_system",
    "concept",
    "outcome_code",
]

CANONICAL_BASE = "http://hepatorisk.org/fhir"
CODE_SYSTEM_ID = "hepatorisk"
CODE_SYSTEM_URL = f"{CANONICAL_BASE}/CodeSystem/{CODE_SYSTEM_ID}"

CONCEPTS: dict[str, tuple[str, str]] = {
    # RiskAssessment.code: what kind of assessment
    "liver-risk-assessment": (
        "Kratom liver-injury risk assessment",
        "Prediction of new-onset liver-enzyme elevation during opioid-use-disorder treatment "
        "in a person who uses kratom (hepatorisk liver model).",
    ),
    "relapse-risk-assessment": (
        "Opioid relapse risk assessment",
        "Prediction of opioid relapse during opioid-use-disorder treatment (hepatorisk relapse "
        "model).",
    ),
    # RiskAssessment.prediction.outcome
    "liver-enzyme-elevation": (
        "New-onset liver-enzyme elevation",
        "ALT, AST or ALP CTCAE v5 grade 2 or higher against the reference, not present at "
        "treatment entry, within the prediction's time window.",
    ),
    "opioid-relapse": (
        "Opioid relapse",
        "Relapse to opioid use, as the hepatorisk model card defines it, within the "
        "prediction's time window.",
    ),
    # RiskAssessment.method
    "liver-model": ("hepatorisk liver model", "Calibrated gradient-boosted trees, SHAP drivers."),
    "relapse-model": (
        "hepatorisk relapse model",
        "Calibrated gradient-boosted trees, SHAP drivers.",
    ),
    # CDS card source.topic
    "liver-safety": (
        "Kratom liver safety during OUD treatment",
        "Cards about liver safety and relapse risk of people who use kratom in OUD treatment.",
    ),
    "moud-start": (
        "Starting MOUD in a person who uses kratom",
        "Cards shown when buprenorphine, methadone or naltrexone is ordered.",
    ),
    # CDS card overrideReasons
    "already-ordered": ("Liver tests already ordered or scheduled", "Override reason."),
    "not-relevant": ("Not relevant to this patient now", "Override reason."),
    "patient-declined": ("Patient declined", "Override reason."),
    "clinical-judgement": ("Clinical judgement differs", "Override reason."),
}
_OUTCOMES = {
    "liver": ("liver-risk-assessment", "liver-enzyme-elevation", "liver-model"),
    "relapse": ("relapse-risk-assessment", "opioid-relapse", "relapse-model"),
}


def concept(code: str) -> dict[str, str]:
    """A Coding (system, code, display) of one of hepatorisk's codes."""
    return {"system": CODE_SYSTEM_URL, "code": code, "display": CONCEPTS[code][0]}


def outcome_code(outcome: str, part: str) -> dict[str, str]:
    """The Coding of an outcome's ``assessment``, ``outcome`` or ``method``."""
    assessment, predicted, method = _OUTCOMES[outcome]
    return concept({"assessment": assessment, "outcome": predicted, "method": method}[part])


def code_system(version: str) -> dict[str, Any]:
    """The CodeSystem resource (R4) the service publishes."""
    return {
        "resourceType": "CodeSystem",
        "id": CODE_SYSTEM_ID,
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>hepatorisk codes: '
            + ", ".join(CONCEPTS)
            + "</p></div>",
        },
        "url": CODE_SYSTEM_URL,
        "version": version,
        "name": "HepatoriskCodes",
        "title": "hepatorisk codes",
        "status": "active",
        "experimental": False,
        "publisher": "hepatorisk",
        "description": "Codes hepatorisk uses where no standard code exists: its risk "
        "assessments, predicted outcomes, models, CDS card topics and override reasons.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(CONCEPTS),
        "concept": [
            {"code": code, "display": display, "definition": definition}
            for code, (display, definition) in CONCEPTS.items()
        ],
    }
