"""The FHIR and CDS Hooks calls: map in, assess and audit through the core, map out.

Every assessment goes through ``assessment.audited.assess_and_audit`` (same models, rules, audit
row committed before the answer) as ``POST /v1/assess`` does; only the mapping in and out differs.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from hepatorisk.assessment.audit import AuditLog, FeedbackEntry
from hepatorisk.assessment.audited import assess_and_audit
from hepatorisk.assessment.context import AssessmentContext
from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.results import Assessment
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.fhir.cards import (
    OVERRIDE_REASONS,
    assessment_card,
    card_links,
    card_source,
    data_needed_card,
)
from hepatorisk.fhir.cds_hooks import SERVICE_ID, CdsRequest, CdsResponse, Coding, FeedbackRequest
from hepatorisk.fhir.conformance import unwrap_parameters
from hepatorisk.fhir.hook_data import HookData, gather, prefetch_bundle
from hepatorisk.fhir.inbound import MappedBundle, map_bundle
from hepatorisk.fhir.issues import FhirInputError, Issues
from hepatorisk.fhir.order_hooks import order_card, ordered_moud, under_moud
from hepatorisk.fhir.outbound import assessment_bundle
from hepatorisk.settings import Settings

__all__ = [
    "assess_bundle",
    "fhir_assess",
    "hook_cards",
    "override_reason",
    "prefetch_bundle",
    "record_feedback",
]


def horizons(models: ModelPair, policy: Policy) -> dict[str, int]:
    default = policy.monitoring.horizon_weeks
    return {o: int(m.bundle.metadata.get("horizon_weeks") or default) for o, m in models.items()}


async def assess_bundle(
    ctx: AssessmentContext, mapped: MappedBundle, *, endpoint: str
) -> Assessment:
    """Assess a mapped Bundle (refused with its OperationOutcome if the mapping had errors)."""
    mapped.issues.raise_if_errors()
    assert mapped.request is not None  # no errors: the mapping produced a record
    [result] = await assess_and_audit(ctx, [mapped.request], endpoint=endpoint)
    return result


async def fhir_assess(ctx: AssessmentContext, raw: Any) -> dict[str, Any]:
    """POST /fhir/RiskAssessment/$assess: a Bundle in, a Bundle of RiskAssessments out."""
    mapped = map_bundle(unwrap_parameters(raw))
    result = await assess_bundle(ctx, mapped, endpoint="fhir/RiskAssessment/$assess")
    return assessment_bundle(
        result, mapped, request_id=ctx.request_id, horizons=horizons(ctx.models, ctx.policy)
    )


_ENTRY = re.compile(r"Bundle\.entry\[(\d+)\](\.resource)?")


def _named_in_prefetch(issues: Issues, origins: list[tuple[str, str]]) -> None:
    """The issues' expressions as paths of the hook request (``prefetch.liverLabs.entry[0]
    .resource.status``), not of the Bundle the prefetch was gathered into."""
    for item in issues.items:
        if "expression" in item:
            item["expression"] = [_in_prefetch(x, origins) for x in item["expression"]]


def _in_prefetch(expression: str, origins: list[tuple[str, str]]) -> str:
    m = _ENTRY.match(expression)
    if m is not None and int(m[1]) < len(origins):
        entry, resource = origins[int(m[1])]
        return (resource if m[2] else entry) + expression[m.end() :]
    if expression == "Bundle" or expression.startswith(("Bundle.", "Bundle[")):
        return "prefetch" + expression[len("Bundle") :]
    return expression


async def hook_cards(
    ctx: AssessmentContext, body: CdsRequest, *, settings: Settings, service_id: str
) -> CdsResponse:
    """POST /cds-services/{id}: the hook's data (prefetch, else the fhirServer) -> one card."""
    links = card_links(settings, body)
    order = None
    if service_id != SERVICE_ID:
        order = ordered_moud(body)
        if order is None:
            return CdsResponse(cards=[])  # no MOUD in the orders: nothing to say
    data = await gather(body, settings)
    _same_patient(data, body)
    mapped = map_bundle(data.bundle)
    _named_in_prefetch(mapped.issues, data.origins)
    mapped.issues.items += data.notes.items
    source = card_source(settings)
    subject = f"Patient/{body.patient_id}"
    if mapped.patient_reference is None and "patient" in data.no_data:
        card = data_needed_card(mapped, source, links, order=order, patient=True, subject=subject)
        return CdsResponse(cards=[card])
    if mapped.missing_labs and len(mapped.issues.errors) == len(mapped.missing_labs):
        card = data_needed_card(mapped, source, links, order=order, subject=subject)
        return CdsResponse(cards=[card])
    if order is not None:
        mapped.issues.raise_if_errors()
        assert mapped.request is not None
        mapped.request = under_moud(mapped.request, order.arm)
    result = await assess_bundle(ctx, mapped, endpoint=f"cds-services/{service_id}")
    if order is not None:
        card = order_card(
            result, mapped, order, request_id=ctx.request_id, policy=ctx.policy,
            source=source, links=links,
        )  # fmt: skip
    else:
        card = assessment_card(
            result, mapped, request_id=ctx.request_id, policy=ctx.policy, source=source,
            links=links,
        )  # fmt: skip
    return CdsResponse(cards=[card])


def _same_patient(data: HookData, body: CdsRequest) -> None:
    """A Patient that is not ``context.patientId`` is refused: its card would be about someone
    else (neither id is quoted)."""
    for (_, where), entry in zip(data.origins, data.bundle["entry"], strict=True):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if (
            isinstance(resource, dict)
            and resource.get("resourceType") == "Patient"
            and resource.get("id") != body.patient_id
        ):
            issues = Issues()
            issues.add(
                "error",
                "business-rule",
                "the Patient's id is not context.patientId: the data is not about the patient "
                "of the hook; nothing assessed",
                f"{where}.id",
            )
            raise FhirInputError(issues, 422)


def record_feedback(
    audit: AuditLog,
    body: FeedbackRequest,
    *,
    request_id: str,
    caller: str,
    service_id: str = SERVICE_ID,
) -> int:
    """Write the feedback rows (committed before the 200); returns how many were recorded.

    Nothing the caller wrote is stored in clear: the override reason only as one of the reasons
    the card offered (:func:`override_reason`), the comment as a keyed hash."""
    entries = [
        FeedbackEntry(
            card_uuid=str(f.card),
            outcome=f.outcome,
            outcome_at=f.outcomeTimestamp.astimezone(UTC)
            if f.outcomeTimestamp.tzinfo
            else f.outcomeTimestamp.replace(tzinfo=UTC),
            accepted_suggestions=[str(s.id) for s in f.acceptedSuggestions],
            override_reason=None
            if f.overrideReason is None
            else override_reason(audit, f.overrideReason.reason),
            comment_sha256=None
            if f.overrideReason is None or not f.overrideReason.userComment
            else audit.hash_text(f.overrideReason.userComment),
        )
        for f in body.feedback
    ]
    audit.record_feedback(request_id, caller, service_id, entries)
    return len(entries)


_OFFERED = {c.code: c for c in OVERRIDE_REASONS}


def override_reason(audit: AuditLog, reason: Coding | None) -> dict[str, Any] | None:
    """The override reason as stored: one the card offered (its code, with the service's own
    system and display, the caller's display and extra fields dropped), else ``other`` with a
    keyed hash of what was sent (so equal reasons can be counted, never read back)."""
    if reason is None:
        return None
    offered = _OFFERED.get(reason.code)
    if offered is not None and reason.system in (None, offered.system):
        return offered.model_dump(exclude_none=True)
    return {"code": "other", "sha256": audit.hash_input(reason.model_dump(mode="json"))}
