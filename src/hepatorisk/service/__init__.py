"""The hepatorisk prediction service (FastAPI): ``create_app(settings)``; ``hepatorisk serve``."""

from hepatorisk.service.app import create_app
from hepatorisk.service.settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]
