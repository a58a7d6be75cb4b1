"""What the FHIR face declares: its CapabilityStatement (``GET /fhir/metadata``), the
OperationDefinition of ``$assess``, and the CodeSystem of hepatorisk's own codes.

``$assess`` takes its input either as the Bundle itself (the body) or as a ``Parameters``
resource with one ``bundle`` parameter (the standard form of an operation call); its one output
is ``return``, a Bundle, answered directly (FHIR R4 "Operations": a single resource output named
``return`` is the response body).
"""

from __future__ import annotations

from typing import Any

from hepatorisk.fhir.issues import FhirInputError, Issues
from hepatorisk.fhir.narrative import narrative
from hepatorisk.fhir.terminology import CANONICAL_BASE, code_system

__all__ = [
    "OPERATION_ID",
    "OPERATION_URL",
    "capability_statement",
    "code_system",
    "operation_definition",
    "unwrap_parameters",
]

OPERATION_ID = "RiskAssessment-assess"
OPERATION_URL = f"{CANONICAL_BASE}/OperationDefinition/{OPERATION_ID}"


def operation_definition(version: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationDefinition",
        "id": OPERATION_ID,
        "text": narrative(
            "$assess: a Bundle (or Parameters.bundle) in, a Bundle of RiskAssessments out."
        ),
        "url": OPERATION_URL,
        "version": version,
        "name": "HepatoriskAssess",
        "title": "Assess kratom liver-injury and opioid-relapse risk",
        "status": "active",
        "kind": "operation",
        "publisher": "hepatorisk",
        "description": "Maps a Bundle (Patient, LOINC lab Observations, MedicationStatements or "
        "MedicationRequests, Conditions) to hepatorisk's patient record and answers one "
        "RiskAssessment per outcome, the lab series as Lists, the mapping's OperationOutcome and "
        "the resources they reference. Decision support only.",
        "affectsState": False,
        "code": "assess",
        "resource": ["RiskAssessment"],
        "system": False,
        "type": True,
        "instance": False,
        "parameter": [
            {
                "name": "bundle",
                "use": "in",
                "min": 1,
                "max": "1",
                "documentation": "The patient's data (a Bundle; may also be posted as the body "
                "itself instead of a Parameters resource).",
                "type": "Bundle",
            },
            {
                "name": "return",
                "use": "out",
                "min": 1,
                "max": "1",
                "documentation": "A collection Bundle of RiskAssessments, Lists, an "
                "OperationOutcome and the resources they reference.",
                "type": "Bundle",
            },
        ],
    }


def capability_statement(version: str, date: str, *, cors: bool = False) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "hepatorisk",
        "text": narrative("hepatorisk: RiskAssessment $assess (FHIR R4), CDS Hooks 2.0."),
        "url": f"{CANONICAL_BASE}/CapabilityStatement/hepatorisk",
        "version": version,
        "name": "HepatoriskServer",
        "title": "hepatorisk FHIR R4 interface",
        "status": "active",
        "date": date,
        "publisher": "hepatorisk",
        "description": "Risk assessments for people using kratom during opioid-use-disorder "
        "treatment, by a FHIR operation and CDS Hooks (GET /cds-services). Decision support only.",
        "kind": "instance",
        "software": {"name": "hepatorisk", "version": version},
        "implementation": {"description": "hepatorisk service"},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": cors,
                    "description": "Bearer API token (HEPATORISK_API_TOKENS) on $assess; "
                    "metadata, the OperationDefinition and the CodeSystem are open.",
                },
                "resource": [
                    {
                        "type": "RiskAssessment",
                        "operation": [{"name": "assess", "definition": OPERATION_URL}],
                    },
                    {"type": "OperationDefinition", "interaction": [{"code": "read"}]},
                    {"type": "CodeSystem", "interaction": [{"code": "read"}]},
                ],
                "operation": [{"name": "assess", "definition": OPERATION_URL}],
            }
        ],
    }


def unwrap_parameters(raw: Any) -> Any:
    """The Bundle of a ``Parameters`` call (its one ``bundle`` parameter); anything else as is."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Parameters":
        return raw
    params = raw.get("parameter")
    found = [
        p for p in params or [] if isinstance(p, dict) and p.get("name") == "bundle"
    ] if isinstance(params, list) else []  # fmt: skip
    if len(found) != 1 or not isinstance(found[0].get("resource"), dict):
        issues = Issues()
        issues.add(
            "error",
            "required",
            "a Parameters call of $assess needs exactly one parameter named 'bundle' with a "
            "Bundle in its 'resource'",
            "Parameters.parameter",
        )
        raise FhirInputError(issues, 422)
    return found[0]["resource"]
