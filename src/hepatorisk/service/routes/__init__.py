"""Thin routers of the JSON API: each handler takes its validated body and one dependency and
calls one core function."""

from fastapi import APIRouter

from hepatorisk.service.routes import admin, assess, explain, health, metrics, models, outcomes

router = APIRouter()
for _module in (health, metrics, assess, explain, models, admin, outcomes):
    router.include_router(_module.router)

__all__ = ["router"]
