"""The audit store under failure: readiness and assessments tell the truth when it is down.

Assessments are refused up front (503 with ``Retry-After``) while the last probe of the audit
store failed, so no model runs for an answer that could not be audited; a commit that fails
anyway (``AuditUnavailableError`` from the core) is answered the same way by the handler
installed here, never as a bare 500: ``{detail, request_id}``, or a FHIR OperationOutcome on the
routes that answer 503 as one. Both count in ``hepatorisk_audit_failures_total``.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hepatorisk.assessment.audit import AuditLog, AuditUnavailableError
from hepatorisk.web.state import ServiceState

__all__ = ["audit_problem", "install_availability_handler", "require_audit_available"]

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
UNAVAILABLE = "the audit store is unavailable, so no assessment can be recorded; retry later"


async def audit_problem(audit: AuditLog) -> str | None:
    """None when the audit store answers, else why not: the cached probe while fresh (no
    await), else a new probe in a thread (bounded by the probe timeout)."""
    fresh, problem = audit.health_cached()
    if fresh:
        return problem
    return await asyncio.to_thread(audit.health)


class _RefusedError(AuditUnavailableError):
    """Refused up front: the last probe of the audit store failed."""


async def require_audit_available(audit: AuditLog) -> None:
    """503 with Retry-After (the handler below) while the audit store is known to be down."""
    problem = await audit_problem(audit)
    if problem is not None:
        raise _RefusedError(problem)


def install_availability_handler(app: FastAPI) -> None:
    @app.exception_handler(AuditUnavailableError)
    async def _audit_failed(request: Request, exc: AuditUnavailableError) -> JSONResponse:
        state: ServiceState = request.app.state.service
        refused = isinstance(exc, _RefusedError)
        state.metrics.count_audit_failure("unavailable" if refused else "commit")
        rid: str | None = request.scope.get("state", {}).get("request_id")
        if not refused:  # the probe logs an outage once, not once per request
            log.error("request %s: audit commit failed, answered 503", rid)
        headers = {"Retry-After": str(state.settings.retry_after_seconds)}
        route = request.scope.get("route")
        if 503 in getattr(route, "outcome_statuses", frozenset()):
            outcome = {
                "resourceType": "OperationOutcome",
                **({"id": rid} if rid is not None else {}),
                "issue": [{"severity": "error", "code": "transient", "diagnostics": UNAVAILABLE}],
            }
            return JSONResponse(outcome, 503, headers=headers, media_type=FHIR_JSON)
        return JSONResponse({"detail": UNAVAILABLE, "request_id": rid}, 503, headers=headers)
