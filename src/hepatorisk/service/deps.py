"""Dependency-injection aliases: settings, state, models, audit, and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hepatorisk.service.audit import AuditLog
from hepatorisk.service.models import ServedModels
from hepatorisk.service.security import authenticate
from hepatorisk.service.settings import Settings, get_settings
from hepatorisk.service.state import ServiceState

__all__ = ["AdminDep", "AuditDep", "CallerDep", "ModelsDep", "SettingsDep", "StateDep"]

_bearer = HTTPBearer(auto_error=False, description="API token (HEPATORISK_API_TOKENS)")
_admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="AdminBearer", description="admin token (HEPATORISK_ADMIN_TOKENS)"
)
Credentials = HTTPAuthorizationCredentials | None

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_state(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_caller(settings: SettingsDep, creds: Annotated[Credentials, Depends(_bearer)]) -> str:
    return authenticate(creds.credentials if creds else None, settings.api_tokens)


def get_admin(settings: SettingsDep, creds: Annotated[Credentials, Depends(_admin_bearer)]) -> str:
    return authenticate(creds.credentials if creds else None, settings.admin_tokens)


CallerDep = Annotated[str, Depends(get_caller)]
AdminDep = Annotated[str, Depends(get_admin)]


def get_models(state: StateDep, caller: CallerDep) -> ServedModels:
    """The models serving now; this request keeps this pair even if a reload swaps them."""
    models = state.store.current
    if models is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "models are not loaded yet")
    return models


def get_audit(state: StateDep) -> AuditLog:
    if state.audit is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "audit log is not open")
    return state.audit


ModelsDep = Annotated[ServedModels, Depends(get_models)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
