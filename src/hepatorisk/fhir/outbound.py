"""An assessment -> R4 RiskAssessments (one per outcome) in a collection Bundle, all validated.

The Bundle also carries one ``List`` per lab code (the series used for trends, oldest first,
each item referencing its Observation) and the mapping's OperationOutcome, so nothing the
mapping noticed is lost on the way back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hepatorisk.assessment.results import DISCLAIMER, NOT_PROVIDED, Assessment, Risk
from hepatorisk.fhir.codes import LOINC, UCUM
from hepatorisk.fhir.inbound import MappedBundle
from hepatorisk.fhir.labs import LabPoint

__all__ = [
    "METHOD_SYSTEM",
    "NOT_RECORDED",
    "QUALITATIVE",
    "assessment_bundle",
    "driver_texts",
    "flags_text",
]

METHOD_SYSTEM = "urn:hepatorisk:model"  # model name:version; no public code system exists
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
# The service's bands -> HL7 risk-probability codes (negligible | low | moderate | high | certain).
QUALITATIVE = {"low": "low", "intermediate": "moderate", "high": "high"}


def assessment_bundle(
    assessment: Assessment,
    mapped: MappedBundle,
    *,
    request_id: str,
    horizons: dict[str, int],
    when: datetime | None = None,
) -> dict[str, Any]:
    """The response Bundle (type collection) as validated FHIR JSON."""
    when = when or datetime.now(UTC)
    resources: list[dict[str, Any]] = [
        _risk_assessment(risk, assessment, mapped, request_id, horizons[risk.outcome], when)
        for risk in assessment.risks
    ]
    resources += [_trend(name, points, mapped) for name, points in mapped.series.items()]
    resources.append({**mapped.issues.outcome(), "id": f"{request_id}-issues"})
    bundle = {
        "resourceType": "Bundle",
        "id": request_id,
        "type": "collection",
        "timestamp": when.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in resources],
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


NOT_RECORDED = " (not recorded in the FHIR data: the risk is averaged over its plausible values)"


def driver_texts(risk: Risk) -> list[str]:
    """The drivers in words; a driver whose variable the Bundle did not supply says so, lest
    "injection drug use lowers the risk" be read as "the patient does not inject"."""
    return [
        d.text if d.provided else d.text.removesuffix(NOT_PROVIDED) + NOT_RECORDED
        for d in risk.drivers
    ]


def flags_text(a: Assessment) -> list[str]:
    """The guideline flags in short sentences (used in notes and CDS cards)."""
    f = a.flags
    grades = ", ".join(
        f"{g.test.upper()} grade {g.grade} ({g.multiple:.1f}x {g.reference})" for g in f.ctcae
    )
    met = [r.rule for r in f.stopping_rules if r.status == "met"]
    return [
        f"CTCAE v5: {grades}",
        f"R ratio {f.r_ratio:.2f} ({f.injury_pattern or 'pattern not assigned'})",
        f"Hy's law laboratory criteria: {'met' if f.hys_law else 'not met'}",
        "FDA 2009 stopping rules met: " + ("; ".join(met) if met else "none"),
    ]


def _risk_assessment(
    risk: Risk,
    a: Assessment,
    mapped: MappedBundle,
    request_id: str,
    horizon: int,
    when: datetime,
) -> dict[str, Any]:
    m = risk.model
    version = m.version or "unversioned"
    alias = f" (alias {m.alias})" if m.alias else ""
    mitigation = a.monitoring.summary
    if a.flags.stop_recommended:
        mitigation = "FDA 2009 stopping rule met: stop the suspected drug(s) now. " + mitigation
    return {
        "resourceType": "RiskAssessment",
        "id": f"{request_id}-{risk.outcome}",
        "status": "final",
        "subject": {"reference": mapped.patient_reference},
        "occurrenceDateTime": when.isoformat(),
        "code": {"text": f"hepatorisk {risk.outcome} risk by week {horizon}"},
        "method": {
            "coding": [
                {
                    "system": METHOD_SYSTEM,
                    "code": f"{m.name}:{version}",
                    "display": f"{m.name} version {version}",
                }
            ],
            "text": f"{m.name} version {version}{alias}, calibrated gradient-boosted trees "
            "with exact SHAP drivers",
        },
        "basis": [{"reference": ref} for ref in mapped.basis],
        "prediction": [
            {
                "outcome": {"text": risk.description},
                "probabilityDecimal": risk.probability,
                "qualitativeRisk": {
                    "coding": [{"system": RISK_PROBABILITY, "code": QUALITATIVE[risk.band]}],
                    "text": f"{risk.band} ({risk.outcome} band)",
                },
                "whenRange": {
                    "low": {"value": 0, "unit": "wk", "system": UCUM, "code": "wk"},
                    "high": {"value": horizon, "unit": "wk", "system": UCUM, "code": "wk"},
                },
                "rationale": "; ".join(driver_texts(risk)) or "no drivers computed",
            }
        ],
        "mitigation": mitigation,
        "note": [{"text": DISCLAIMER}, {"text": ". ".join(flags_text(a))}],
    }


def _trend(name: str, points: list[LabPoint], mapped: MappedBundle) -> dict[str, Any]:
    lab = points[-1].lab
    return {
        "resourceType": "List",
        "status": "current",
        "mode": "snapshot",
        "title": f"{name.upper()} series used for trends (oldest first)",
        "code": {"coding": [{"system": LOINC, "code": lab.loinc, "display": lab.display}]},
        "subject": {"reference": mapped.patient_reference},
        "orderedBy": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/list-order", "code": "event-date"}
            ]
        },
        "entry": [
            {
                "date": p.when.isoformat(),
                "item": {
                    "reference": p.reference,
                    "display": f"{p.value:g} {p.unit} ({p.lab.limit.upper()} {p.limit:g}, "
                    f"{p.limit_from})",
                },
            }
            for p in points
        ],
    }
