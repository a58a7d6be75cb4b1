"""Dependencies: one per concern (state, caller, models, audit), and the one every assessment
route takes, built from them: ``AssessmentDep`` yields the core's ``AssessmentContext``.

Each per-concern dependency declares the error statuses it can answer (``declares``), so the
OpenAPI document lists, for every route, exactly the statuses its dependency tree can produce.
All are ``async def``: they only read app state, and a plain ``def`` dependency would cost a
thread-pool round trip each on every request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.context import AssessmentContext
from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.settings import Settings
from hepatorisk.web.auth import authenticate
from hepatorisk.web.availability import require_audit_available
from hepatorisk.web.monitoring import monitored
from hepatorisk.web.state import ServiceState

__all__ = [
    "STATUSES",
    "AdminDep",
    "AssessmentDep",
    "AuditDep",
    "CallerDep",
    "MetricsScraperDep",
    "ModelsDep",
    "SettingsDep",
    "StateDep",
    "declares",
]

# dependency -> error statuses it can answer (read by ``web.openapi``)
STATUSES: dict[Callable[..., Any], frozenset[int]] = {}
F = TypeVar("F", bound=Callable[..., Any])


def declares(*codes: int) -> Callable[[F], F]:
    """Record the error statuses a dependency can answer, for the OpenAPI document."""

    def mark(dependency: F) -> F:
        STATUSES[dependency] = frozenset(codes)
        return dependency

    return mark


_bearer = HTTPBearer(auto_error=False, description="API token (HEPATORISK_API_TOKENS)")
_admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="AdminBearer", description="admin token (HEPATORISK_ADMIN_TOKENS)"
)
Credentials = HTTPAuthorizationCredentials | None


async def get_state(request: Request) -> ServiceState:
    """The state of the app serving this request (``create_app``)."""
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    """The settings this app was built with."""
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


@declares(401)
async def get_caller(state: StateDep, creds: Annotated[Credentials, Depends(_bearer)]) -> str:
    """The authenticated caller's name (401 when the token is missing, unknown or expired)."""
    return authenticate(creds.credentials if creds else None, state.settings.api_tokens)


@declares(401)
async def get_admin(state: StateDep, creds: Annotated[Credentials, Depends(_admin_bearer)]) -> str:
    return authenticate(creds.credentials if creds else None, state.settings.admin_tokens)


CallerDep = Annotated[str, Depends(get_caller)]
AdminDep = Annotated[str, Depends(get_admin)]

_metrics_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsBearer",
    description="scraper token (HEPATORISK_METRICS_TOKENS), when configured",
)


async def get_metrics_scraper(
    state: StateDep, creds: Annotated[Credentials, Depends(_metrics_bearer)]
) -> str | None:
    """The scraper's name when ``metrics_tokens`` are configured (401 without one of them);
    None when ``/metrics`` is open (the default: a scraper on the internal network)."""
    if not state.settings.metrics_tokens:
        return None
    return authenticate(creds.credentials if creds else None, state.settings.metrics_tokens)


MetricsScraperDep = Annotated[str | None, Depends(get_metrics_scraper)]


@declares(503)
async def get_models(state: StateDep, caller: CallerDep) -> ModelPair:
    """The models serving now (503 before they are loaded); this request keeps this pair even
    if a reload swaps them. After authentication: an unknown caller learns nothing."""
    models = state.store.current
    if models is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "models are not loaded yet")
    return models


@declares(503)
async def get_audit(state: StateDep) -> AuditLog:
    """The open audit log: 503 before it is open, and 503 with Retry-After while its store is
    down (the readiness probe's answer, cached about a second): no model runs for an answer
    that could not be audited."""
    if state.audit is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "audit log is not open")
    await require_audit_available(state.audit)
    return state.audit


ModelsDep = Annotated[ModelPair, Depends(get_models)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]


async def assessment_context(
    request: Request, state: StateDep, caller: CallerDep, models: ModelsDep, audit: AuditDep
) -> AssessmentContext:
    """Everything an assessment needs, authenticated first (401), then ready (503)."""
    return AssessmentContext(
        request_id=request.state.request_id,
        caller=caller,
        models=models,
        audit=audit,
        policy=state.policy,
        top_drivers=state.settings.top_drivers,
        observe=state.metrics.count_predictions,
        **monitored(state, models),
    )


AssessmentDep = Annotated[AssessmentContext, Depends(assessment_context)]
