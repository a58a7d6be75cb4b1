"""Dependency-injection aliases: settings, state, models, audit, and the authenticated caller.

All are ``async def``: they only read app state, and a plain ``def`` dependency would cost a
thread-pool round trip each on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hepatorisk.service.audit import AuditLog
from hepatorisk.service.models import ServedModels
from hepatorisk.service.security import authenticate
from hepatorisk.service.settings import Settings
from hepatorisk.service.state import ServiceState

__all__ = [
    "AdminDep",
    "AuditDep",
    "CallerDep",
    "ClinicalCall",
    "ClinicalDep",
    "ModelsDep",
    "SettingsDep",
    "StateDep",
]

_bearer = HTTPBearer(auto_error=False, description="API token (HEPATORISK_API_TOKENS)")
_admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="AdminBearer", description="admin token (HEPATORISK_ADMIN_TOKENS)"
)
Credentials = HTTPAuthorizationCredentials | None


async def app_settings(request: Request) -> Settings:
    """The settings this app was built with (``create_app``)."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_caller(settings: SettingsDep, creds: Annotated[Credentials, Depends(_bearer)]) -> str:
    return authenticate(creds.credentials if creds else None, settings.api_tokens)


async def get_admin(
    settings: SettingsDep, creds: Annotated[Credentials, Depends(_admin_bearer)]
) -> str:
    return authenticate(creds.credentials if creds else None, settings.admin_tokens)


CallerDep = Annotated[str, Depends(get_caller)]
AdminDep = Annotated[str, Depends(get_admin)]


async def get_models(state: StateDep, caller: CallerDep) -> ServedModels:
    """The models serving now; this request keeps this pair even if a reload swaps them."""
    return _serving(state)


async def get_audit(state: StateDep) -> AuditLog:
    return _open_audit(state)


ModelsDep = Annotated[ServedModels, Depends(get_models)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]


@dataclass(frozen=True)
class ClinicalCall:
    """What an assessment endpoint needs, resolved by one dependency: FastAPI's per-request cost
    grows with the number of dependencies, and these endpoints answer in about a millisecond."""

    request_id: str
    caller: str
    settings: Settings
    state: ServiceState
    models: ServedModels
    audit: AuditLog


async def clinical_call(
    request: Request, creds: Annotated[Credentials, Depends(_bearer)]
) -> ClinicalCall:
    """Authenticate (401 first), then the serving models and the audit log (503 if not ready)."""
    settings: Settings = request.app.state.settings
    caller = authenticate(creds.credentials if creds else None, settings.api_tokens)
    state: ServiceState = request.app.state.service
    return ClinicalCall(
        request.state.request_id, caller, settings, state, _serving(state), _open_audit(state)
    )


ClinicalDep = Annotated[ClinicalCall, Depends(clinical_call)]


def _serving(state: ServiceState) -> ServedModels:
    models = state.store.current
    if models is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "models are not loaded yet")
    return models


def _open_audit(state: ServiceState) -> AuditLog:
    if state.audit is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "audit log is not open")
    return state.audit
