"""Assess (or predict) and audit: the one path every adapter's assessment goes through.

The audit rows are committed before the function returns, hence before any answer leaves; the
inputs are stored only as keyed hashes (HMAC with the identifier salt, ``audit.py``). Large
batches are computed off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hepatorisk.assessment.assess import assess, predict
from hepatorisk.assessment.audit import AuditEntry, AuditLog
from hepatorisk.assessment.context import AssessmentContext
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import Assessment, Prediction

__all__ = ["INLINE_PATIENTS", "assess_and_audit", "predict_and_audit"]

# Up to this many patients are assessed on the event loop (about a millisecond); more in a
# worker thread, so one large batch does not hold up the requests arriving meanwhile.
INLINE_PATIENTS = 8


async def assess_and_audit(
    ctx: AssessmentContext,
    requests: Sequence[AssessRequest],
    *,
    endpoint: str,
    explain: bool = True,
) -> list[Assessment]:
    """Assess, commit one audit row per patient, tell the observer, return the assessments."""
    if len(requests) <= INLINE_PATIENTS:
        results, entries = _assess(ctx, requests, explain)
    else:
        results, entries = await asyncio.to_thread(_assess, ctx, requests, explain)
    await _commit(ctx, endpoint, entries)
    for a in results:
        ctx.observe(a.risks)
    ctx.monitor(ctx.request_id, requests, [a.risks for a in results])
    return results


async def predict_and_audit(ctx: AssessmentContext, request: AssessRequest) -> list[Prediction]:
    """Both risks only (no explanations, rules or what-ifs), audited like an assessment."""
    [predictions] = predict(ctx.models, [request.to_input()], ctx.policy)
    entry = _entry(ctx.audit, 0, request, _risk_outputs(predictions), {})
    await _commit(ctx, "predict", [entry])
    ctx.observe(predictions)
    ctx.monitor(ctx.request_id, [request], [predictions])
    return predictions


def _assess(
    ctx: AssessmentContext, requests: Sequence[AssessRequest], explain: bool
) -> tuple[list[Assessment], list[AuditEntry]]:
    patients = [r.to_input() for r in requests]
    results = assess(ctx.models, patients, ctx.policy, top=ctx.top_drivers, explain=explain)
    entries = [
        _entry(
            ctx.audit,
            i,
            r,
            _risk_outputs(a.risks) | {"monitoring": a.monitoring.summary},
            _flags(a),
        )
        for i, (r, a) in enumerate(zip(requests, results, strict=True))
    ]
    return results, entries


async def _commit(ctx: AssessmentContext, endpoint: str, entries: list[AuditEntry]) -> None:
    """Hand the rows to the audit writer; other requests run while the commit is made."""
    done = ctx.audit.submit(ctx.request_id, endpoint, ctx.caller, ctx.models.versions(), entries)
    await asyncio.wrap_future(done)


def _entry(
    audit: AuditLog,
    item: int,
    request: AssessRequest,
    outputs: dict[str, Any],
    flags: dict[str, Any],
) -> AuditEntry:
    """The input only as the keyed hash of its canonical JSON (the patient reference apart,
    keyed-hashed by the writer)."""
    digest = audit.hash_input(request.model_dump(mode="json", exclude={"patient_ref"}))
    return AuditEntry(item, digest, request.patient_ref, outputs, flags)


def _risk_outputs(risks: Sequence[Prediction]) -> dict[str, Any]:
    return {
        r.outcome: {"probability": r.probability, "band": r.band, "model": r.model.version}
        for r in risks
    }


def _flags(a: Assessment) -> dict[str, Any]:
    f = a.flags
    return {
        "ctcae": {g.test: g.grade for g in f.ctcae},
        "r_ratio": f.r_ratio,
        "injury_pattern": f.injury_pattern,
        "hys_law": f.hys_law,
        "stopping_rules": {r.rule: r.status for r in f.stopping_rules},
        "stop_recommended": f.stop_recommended,
    }
