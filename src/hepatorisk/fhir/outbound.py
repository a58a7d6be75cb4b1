"""An assessment -> R4 RiskAssessments (one per outcome) in a collection Bundle, all validated.

The Bundle also carries one ``List`` per lab code (the series used for trends, oldest first,
each item referencing its Observation) and the mapping's OperationOutcome, so nothing the
mapping noticed is lost on the way back.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hepatorisk.assessment.results import (
    DISCLAIMER,
    NOT_PROVIDED,
    Assessment,
    Risk,
    probability_text,
)
from hepatorisk.fhir.codes import LOINC, UCUM
from hepatorisk.fhir.inbound import MappedBundle
from hepatorisk.fhir.labs import LabPoint
from hepatorisk.fhir.narrative import narrative, with_narrative
from hepatorisk.fhir.resources import Entry
from hepatorisk.fhir.terminology import outcome_code

__all__ = [
    "BASIS_FIELDS",
    "NOT_RECORDED",
    "QUALITATIVE",
    "assessment_bundle",
    "driver_texts",
    "flags_text",
]

RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
# The service's bands -> HL7 risk-probability codes (negligible | low | moderate | high | certain).
QUALITATIVE = {"low": "low", "intermediate": "moderate", "high": "high"}
# what each outcome's RiskAssessment is based on (AssessRequest fields, see inbound._body)
BASIS_FIELDS = {
    "liver": ("labs", "kratom", "medications", "demographics.bmi", "alcohol_audit_c"),
    "relapse": ("treatment", "kratom", "alcohol_audit_c", "demographics.bmi"),
}
_NAMESPACE = uuid.UUID("6f1c2f4e-5a7b-4c8d-9e0f-1a2b3c4d5e6f")  # fullUrls of included copies


def assessment_bundle(
    assessment: Assessment,
    mapped: MappedBundle,
    *,
    request_id: str,
    horizons: dict[str, int],
    when: datetime | None = None,
) -> dict[str, Any]:
    """The response Bundle (type collection) as validated FHIR JSON: the RiskAssessments, the
    lab series, the mapping's OperationOutcome, and a copy of every resource they reference
    (the Patient and the Observations and medications used), so that every reference in the
    Bundle resolves to an entry of it (references of the copies to resources that were not sent
    keep only their display)."""
    when = when or datetime.now(UTC)
    included = _included(mapped, request_id)
    refs = {alias: full for entry, full in included for alias in _aliases(entry)}
    resources: list[dict[str, Any]] = [
        _risk_assessment(risk, assessment, mapped, request_id, horizons[risk.outcome], when, refs)
        for risk in assessment.risks
    ]
    resources += [
        {**_trend(name, points, mapped, refs), "id": f"{request_id}-{name}-series"}
        for name, points in mapped.series.items()
    ]
    resources.append({**mapped.issues.outcome(), "id": f"{request_id}-issues"})
    entries = [{"fullUrl": _urn(request_id, str(r["id"])), "resource": r} for r in resources]
    entries += [
        {
            "fullUrl": full,
            "resource": with_narrative(
                _resolved(copy.deepcopy(entry.resource), refs),
                f"{entry.type} as sent in the request (a copy the assessment used)",
            ),
        }
        for entry, full in included
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": request_id,
        "type": "collection",
        "timestamp": when.isoformat(),
        "entry": entries,
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def _included(mapped: MappedBundle, request_id: str) -> list[tuple[Entry, str]]:
    """The resources the answer references, each with the fullUrl it gets in the answer: its own
    when that is an absolute URL or a valid urn:uuid, else a urn:uuid made for it."""
    wanted: list[Entry] = []
    patient = mapped.patient_entry
    if patient is not None:
        wanted.append(patient)
    fields = {f for fs in BASIS_FIELDS.values() for f in fs}
    wanted += mapped.used(*fields)
    wanted += [mapped.entries[p.path] for ps in mapped.series.values() for p in ps]
    out: list[tuple[Entry, str]] = []
    for entry in wanted:
        if any(entry is e for e, _ in out):
            continue
        full = entry.full_url if _valid_full_url(entry.full_url) else None
        out.append((entry, full or _urn(request_id, entry.path)))
    return out


def _urn(request_id: str, name: str) -> str:
    """A urn:uuid fullUrl, the same for the same request and name."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{request_id}/{name}')}"


def _valid_full_url(url: str | None) -> bool:
    if not url:
        return False
    if url.startswith("urn:uuid:"):
        try:
            uuid.UUID(url.removeprefix("urn:uuid:"))
        except ValueError:
            return False
        return True
    return url.startswith(("https://", "http://"))


def _aliases(entry: Entry) -> list[str]:
    """The strings a reference to ``entry`` may be written as in the request."""
    out = [entry.reference, entry.path]
    if entry.full_url:
        out.append(entry.full_url)
        rid = entry.resource.get("id")
        if rid and entry.full_url.endswith(f"/{entry.type}/{rid}"):
            out.append(f"{entry.type}/{rid}")
    return out


def _resolved(node: Any, refs: dict[str, str]) -> Any:
    """``node`` with every Reference.reference replaced by the fullUrl of its entry in the
    answer; a reference to a resource that was not sent keeps only its display (it could not be
    resolved in the answer)."""
    if isinstance(node, list):
        return [_resolved(x, refs) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _resolved(v, refs) for k, v in node.items()}
    ref = node.get("reference")
    if isinstance(ref, str) and not ref.startswith("#"):
        if ref in refs:
            out["reference"] = refs[ref]
        else:
            del out["reference"]
            out.setdefault("display", "a resource not included in the request")
    return out


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
    refs: dict[str, str],
) -> dict[str, Any]:
    m = risk.model
    version = m.version or "unversioned"
    alias = f" (alias {m.alias})" if m.alias else ""
    basis = [refs[e.reference] for e in mapped.used(*BASIS_FIELDS[risk.outcome])]
    start, end = risk.as_of_week, risk.as_of_week + horizon  # weeks of treatment
    shown = probability_text(risk.probability, risk.probability_range)
    ra: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": f"{request_id}-{risk.outcome}",
        "text": narrative(
            f"{risk.description}: {shown} ({risk.band}) in weeks {start}-{end} of treatment, "
            f"{risk.as_of}; {m.name} version {version}. {DISCLAIMER}"
        ),
        "status": "final",
        "subject": {"reference": refs[mapped.patient_reference or ""]},
        "occurrenceDateTime": when.isoformat(),
        "code": {
            "coding": [outcome_code(risk.outcome, "assessment")],
            "text": f"hepatorisk {risk.outcome} risk in the {horizon} weeks after week {start} "
            "of treatment",
        },
        "method": {
            "coding": [outcome_code(risk.outcome, "method")],
            "text": f"{m.name} version {version}{alias}, calibrated gradient-boosted trees "
            "with exact SHAP drivers",
        },
        "basis": [{"reference": ref} for ref in basis],
        "prediction": [
            {
                "outcome": {"coding": [outcome_code(risk.outcome, "outcome")],
                            "text": risk.description},
                "probabilityDecimal": risk.probability,
                "qualitativeRisk": {
                    "coding": [{"system": RISK_PROBABILITY, "code": QUALITATIVE[risk.band]}],
                    "text": f"{risk.band} ({risk.outcome} band)",
                },
                "whenRange": {
                    "low": {"value": start, "unit": "wk", "system": UCUM, "code": "wk"},
                    "high": {"value": end, "unit": "wk", "system": UCUM, "code": "wk"},
                },
                "rationale": "; ".join(driver_texts(risk)) or "no drivers computed",
            }
        ],
        "note": [{"text": f"This risk holds {risk.as_of}."}, {"text": DISCLAIMER}],
    }  # fmt: skip
    if risk.probability_range is not None:
        ra["prediction"].append(_range_prediction(risk, ra["prediction"][0]))
    if risk.scenario_answer is not None:  # issue 13 item 4: the cohort's scenario assumption
        ra["note"].append({"text": risk.scenario_answer.text})
    if not basis:
        del ra["basis"]
    if risk.outcome == "liver":
        mitigation = a.monitoring.summary
        if a.flags.stop_recommended:
            mitigation = "FDA 2009 stopping rule met: stop the suspected drug(s) now. " + mitigation
        ra["mitigation"] = mitigation
        ra["note"].append({"text": ". ".join(flags_text(a))})
    return ra


def _range_prediction(risk: Risk, point: dict[str, Any]) -> dict[str, Any]:
    """The model-uncertainty range as a second prediction of the same outcome and time:
    ``probability[x]`` is one choice per prediction, and R4's ras-1 wants a probabilityRange in
    percent (UCUM ``%``)."""
    r = risk.probability_range
    assert r is not None

    covered = (
        ""
        if r.test_coverage is None
        else f"; the ranges covered the true risk for {r.test_coverage:.0%} of the synthetic "
        "test set"
    )

    def pct(x: float) -> dict[str, Any]:
        return {"value": round(x * 100, 2), "unit": "%", "system": UCUM, "code": "%"}

    return {
        "outcome": point["outcome"],
        "probabilityRange": {"low": pct(r.low), "high": pct(r.high)},
        "whenRange": point["whenRange"],
        "rationale": f"{r.level:.0%} model-uncertainty range of the probability above "
        f"({r.method}){covered}",
    }


def _trend(
    name: str, points: list[LabPoint], mapped: MappedBundle, refs: dict[str, str]
) -> dict[str, Any]:
    lab = points[-1].lab
    return {
        "resourceType": "List",
        "status": "current",
        "mode": "snapshot",
        "text": narrative(
            f"{name.upper()} (oldest first): "
            + ", ".join(f"{p.when.date().isoformat()} {p.value:g} {p.unit}" for p in points)
        ),
        "title": f"{name.upper()} series used for trends (oldest first)",
        "code": {"coding": [{"system": LOINC, "code": lab.loinc, "display": lab.display}]},
        "subject": {"reference": refs[mapped.patient_reference or ""]},
        "orderedBy": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/list-order", "code": "event-date"}
            ]
        },
        "entry": [
            {  # no entry.date: R4's lst-3 allows it only in a 'working' list
                "item": {
                    "reference": refs[p.reference],
                    "display": f"{p.when.isoformat()}: {p.value:g} {p.unit} "
                    f"({p.lab.limit.upper()} {p.limit:g}, {p.limit_from})",
                },
            }
            for p in points
        ],
    }
