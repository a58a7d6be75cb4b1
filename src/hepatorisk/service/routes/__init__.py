"""Thin routers: each handler validates through its schema and calls one library function."""

from fastapi import APIRouter

from hepatorisk.service.routes import (
    admin,
    assess,
    cds_hooks,
    explain,
    fhir,
    health,
    metrics,
    models,
)

api_router = APIRouter()
for _module in (health, metrics, assess, explain, models, admin, fhir, cds_hooks):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
