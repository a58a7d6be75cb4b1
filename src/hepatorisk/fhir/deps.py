"""The CDS Hooks routes' dependencies: a caller by signed JWT or API token, then the assessment.

CDS clients (Epic, Oracle Health, the CDS Hooks sandbox) authenticate with a JWT signed by their
own keys (``client_jwt``); the service's static API tokens stay accepted (``web.auth``), so the
JSON API's callers and existing integrations keep working. The assessment context is built as
``web.deps.assessment_context`` builds it, with this caller.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hepatorisk.assessment.context import AssessmentContext
from hepatorisk.fhir.client_jwt import ClientJwtVerifier, JwtRefusedError, looks_like_jwt
from hepatorisk.web.auth import authenticate
from hepatorisk.web.deps import AuditDep, StateDep, declares

__all__ = ["CdsAssessmentDep", "CdsCallerDep", "cds_enabled", "verifier"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# the JSON API's bearer scheme (one "HTTPBearer" in the OpenAPI document, as before): the hooks
# accept its API tokens, and also CDS client JWTs (documented in discovery's usageRequirements)
_cds_bearer = HTTPBearer(auto_error=False, description="API token (HEPATORISK_API_TOKENS)")


@declares(404)
async def cds_enabled(state: StateDep) -> None:
    """404 on every CDS Hooks route when ``HEPATORISK_CDS_HOOKS_ENABLED`` is false."""
    if not state.settings.cds_hooks_enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "CDS Hooks are not enabled on this service")


def verifier(request: Request) -> ClientJwtVerifier:
    """The app's one verifier (its JWK Set and jti caches live as long as the app)."""
    found: ClientJwtVerifier | None = getattr(request.app.state, "cds_jwt_verifier", None)
    if found is None:
        found = ClientJwtVerifier(request.app.state.service.settings)
        request.app.state.cds_jwt_verifier = found
    return found


@declares(401)
async def cds_caller(
    request: Request,
    state: StateDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_cds_bearer)],
) -> str:
    """The caller: the configured name of the issuer of a valid client JWT, or of an API token."""
    token = creds.credentials if creds else None
    if token and looks_like_jwt(token) and state.settings.cds_jwt_issuers:
        try:
            return await verifier(request).verify(token)
        except JwtRefusedError as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), _CHALLENGE) from None
    return authenticate(token, state.settings.api_tokens)


CdsCallerDep = Annotated[str, Depends(cds_caller)]


@declares(503)
async def cds_assessment_context(
    request: Request, state: StateDep, caller: CdsCallerDep, audit: AuditDep
) -> AssessmentContext:
    """Everything an assessment needs: authenticated first (401), then ready (503)."""
    models = state.store.current
    if models is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "models are not loaded yet")
    return AssessmentContext(
        request_id=request.state.request_id,
        caller=caller,
        models=models,
        audit=audit,
        policy=state.policy,
        top_drivers=state.settings.top_drivers,
        observe=state.metrics.count_predictions,
    )


CdsAssessmentDep = Annotated[AssessmentContext, Depends(cds_assessment_context)]
