"""Thin routers: each handler validates through its schema and calls one library function."""

from fastapi import APIRouter

from hepatorisk.service.routes import admin, assess, explain, health, metrics, models

api_router = APIRouter()
for _module in (health, metrics, assess, explain, models, admin):
    api_router.include_router(_module.router)

__all__ = ["api_router"]
