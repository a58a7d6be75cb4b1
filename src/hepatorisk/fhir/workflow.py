"""Glue for the FHIR and CDS Hooks routes: map, assess and audit through the service's own path.

Every assessment goes through ``service.workflow.assess_and_audit`` (same models, rules, audit
row committed before the answer) as ``POST /v1/assess`` does; only the mapping in and out differs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from hepatorisk.fhir.cards import assessment_card, labs_needed_card
from hepatorisk.fhir.cds_hooks import (
    REQUIRED_PREFETCH,
    SERVICE_ID,
    CdsRequest,
    CdsResponse,
    FeedbackRequest,
)
from hepatorisk.fhir.inbound import MappedBundle, map_bundle
from hepatorisk.fhir.issues import FhirInputError, Issues
from hepatorisk.fhir.outbound import assessment_bundle
from hepatorisk.service.audit import AuditLog, FeedbackEntry
from hepatorisk.service.models import ServedModels
from hepatorisk.service.responses import AssessmentOut
from hepatorisk.service.state import ServiceState
from hepatorisk.service.workflow import assess_and_audit, to_contract

__all__ = ["assess_bundle", "fhir_assess", "hook_cards", "prefetch_bundle", "record_feedback"]


class PrefetchInsufficientError(FhirInputError):
    """The prefetch lacks what the assessment needs and a fhirServer could supply it: 412."""


def horizons(models: ServedModels, state: ServiceState) -> dict[str, int]:
    default = state.policy.monitoring.horizon_weeks
    return {
        o: int(m.loaded.bundle.metadata.get("horizon_weeks") or default) for o, m in models.items()
    }


def assess_bundle(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    mapped: MappedBundle,
    *,
    request_id: str,
    caller: str,
    endpoint: str,
    top: int,
) -> AssessmentOut:
    """Assess a mapped Bundle (refused with its OperationOutcome if the mapping had errors)."""
    mapped.issues.raise_if_errors()
    assert mapped.request is not None
    [result] = assess_and_audit(
        state,
        audit,
        models,
        [mapped.request],
        request_id=request_id,
        caller=caller,
        endpoint=endpoint,
        top=top,
    )
    [contract] = to_contract([result])
    return contract


def fhir_assess(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    raw: Any,
    *,
    request_id: str,
    caller: str,
    top: int,
) -> dict[str, Any]:
    """POST /fhir/RiskAssessment/$assess: a Bundle in, a Bundle of RiskAssessments out."""
    mapped = map_bundle(raw)
    result = assess_bundle(
        state,
        audit,
        models,
        mapped,
        request_id=request_id,
        caller=caller,
        endpoint="fhir/RiskAssessment/$assess",
        top=top,
    )
    return assessment_bundle(
        result, mapped, request_id=request_id, horizons=horizons(models, state)
    )


def prefetch_bundle(prefetch: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The prefetched resources as one collection Bundle, and the required keys missing
    (absent, null, or an OperationOutcome in place of the resource: CDS Hooks 2.0)."""
    prefetch = prefetch or {}
    missing = [k for k in REQUIRED_PREFETCH if _failed(prefetch.get(k))]
    entries: list[dict[str, Any]] = []
    for value in prefetch.values():
        if _failed(value):
            continue
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            items = value.get("entry") or []
            # malformed entries are passed on, so the mapper names them in its OperationOutcome
            items = items if isinstance(items, list) else [items]
            entries += [e if isinstance(e, dict) else {"resource": e} for e in items]
        else:
            entries.append({"resource": value})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, missing


def _failed(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"
    )


def hook_cards(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    body: CdsRequest,
    *,
    request_id: str,
    caller: str,
    top: int,
    source_url: str,
) -> CdsResponse:
    """POST /cds-services/hepatorisk-liver-safety: prefetch -> assessment -> one card."""
    raw, missing = prefetch_bundle(body.prefetch)
    if "patient" in missing and not body.fhirServer:
        issues = Issues()
        issues.add("error", "required", "prefetch 'patient' is required", "prefetch.patient")
        raise FhirInputError(issues, 422)
    mapped = map_bundle(raw)
    if mapped.missing_labs and "liverLabs" not in missing:
        missing.append("liverLabs")
    if missing and body.fhirServer:
        issues = Issues()
        issues.add(
            "error",
            "incomplete",
            "prefetch insufficient: "
            + ", ".join(missing)
            + " (hepatorisk does not query the fhirServer; send the prefetch)",
            "prefetch",
        )
        raise PrefetchInsufficientError(issues, 412)
    if mapped.missing_labs and len(mapped.issues.errors) == len(mapped.missing_labs):
        return CdsResponse(cards=[labs_needed_card(mapped, source_url)])
    result = assess_bundle(
        state,
        audit,
        models,
        mapped,
        request_id=request_id,
        caller=caller,
        endpoint=f"cds-services/{SERVICE_ID}",
        top=top,
    )
    card = assessment_card(
        result, mapped, request_id=request_id, policy=state.policy, source_url=source_url
    )
    return CdsResponse(cards=[card])


def record_feedback(audit: AuditLog, body: FeedbackRequest, *, request_id: str, caller: str) -> int:
    """Write the feedback rows (committed before the 200); returns how many were recorded."""
    entries = [
        FeedbackEntry(
            card_uuid=str(f.card),
            outcome=f.outcome,
            outcome_at=f.outcomeTimestamp.astimezone(UTC)
            if f.outcomeTimestamp.tzinfo
            else f.outcomeTimestamp.replace(tzinfo=UTC),
            accepted_suggestions=[str(s.id) for s in f.acceptedSuggestions],
            override_reason=None
            if f.overrideReason is None or f.overrideReason.reason is None
            else f.overrideReason.reason.model_dump(exclude_none=True),
            comment_sha256=None
            if f.overrideReason is None or not f.overrideReason.userComment
            else hashlib.sha256(f.overrideReason.userComment.encode()).hexdigest(),
        )
        for f in body.feedback
    ]
    audit.record_feedback(request_id, caller, SERVICE_ID, entries)
    return len(entries)
