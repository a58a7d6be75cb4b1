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
from hepatorisk.fhir.cards import OVERRIDE_REASONS, assessment_card, labs_needed_card
from hepatorisk.fhir.cds_hooks import (
    REQUIRED_PREFETCH,
    SERVICE_ID,
    CdsRequest,
    CdsResponse,
    Coding,
    FeedbackRequest,
)
from hepatorisk.fhir.inbound import MappedBundle, map_bundle
from hepatorisk.fhir.issues import FhirInputError, Issues
from hepatorisk.fhir.outbound import assessment_bundle

__all__ = [
    "assess_bundle",
    "fhir_assess",
    "hook_cards",
    "override_reason",
    "prefetch_bundle",
    "record_feedback",
]


class PrefetchInsufficientError(FhirInputError):
    """The prefetch lacks what the assessment needs and a fhirServer could supply it: 412."""


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
    mapped = map_bundle(raw)
    result = await assess_bundle(ctx, mapped, endpoint="fhir/RiskAssessment/$assess")
    return assessment_bundle(
        result, mapped, request_id=ctx.request_id, horizons=horizons(ctx.models, ctx.policy)
    )


def prefetch_bundle(prefetch: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The prefetched resources as one collection Bundle, and the required keys missing
    (absent, null, or an OperationOutcome in place of the resource: CDS Hooks 2.0)."""
    bundle, missing, _ = _prefetch(prefetch)
    return bundle, missing


def _prefetch(
    prefetch: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
    """:func:`prefetch_bundle`, and where each entry of the Bundle came from: (the entry's path,
    its resource's path) in the hook request, e.g. ``prefetch.liverLabs.entry[0]``."""
    prefetch = prefetch or {}
    missing = [k for k in REQUIRED_PREFETCH if _failed(prefetch.get(k))]
    entries: list[dict[str, Any]] = []
    origins: list[tuple[str, str]] = []
    for key, value in prefetch.items():
        if _failed(value):
            continue
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            items = value.get("entry") or []
            # malformed entries are passed on, so the mapper names them in its OperationOutcome
            many = isinstance(items, list)
            for i, e in enumerate(items if many else [items]):
                at = f"prefetch.{key}.entry[{i}]" if many else f"prefetch.{key}.entry"
                entries.append(e if isinstance(e, dict) else {"resource": e})
                origins.append((at, f"{at}.resource" if isinstance(e, dict) else at))
        else:
            entries.append({"resource": value})
            origins.append((f"prefetch.{key}", f"prefetch.{key}"))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, missing, origins


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


def _failed(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"
    )


async def hook_cards(ctx: AssessmentContext, body: CdsRequest, *, source_url: str) -> CdsResponse:
    """POST /cds-services/hepatorisk-liver-safety: prefetch -> assessment -> one card."""
    raw, missing, origins = _prefetch(body.prefetch)
    if "patient" in missing and not body.fhirServer:
        issues = Issues()
        issues.add("error", "required", "prefetch 'patient' is required", "prefetch.patient")
        raise FhirInputError(issues, 422)
    mapped = map_bundle(raw)
    _named_in_prefetch(mapped.issues, origins)
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
    result = await assess_bundle(ctx, mapped, endpoint=f"cds-services/{SERVICE_ID}")
    card = assessment_card(
        result, mapped, request_id=ctx.request_id, policy=ctx.policy, source_url=source_url
    )
    return CdsResponse(cards=[card])


def record_feedback(audit: AuditLog, body: FeedbackRequest, *, request_id: str, caller: str) -> int:
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
    audit.record_feedback(request_id, caller, SERVICE_ID, entries)
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
