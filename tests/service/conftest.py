"""Fixtures of the service tests, defined in service_support (importable by a unique name)."""

from service_support import bundles, client, model_dirs, settings

__all__ = ["bundles", "client", "model_dirs", "settings"]
