"""Fixtures of the FHIR tests: the service tests' models and app, reused (never rebuilt here)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_support import bundles, client, model_dirs, settings

__all__ = ["bundles", "client", "model_dirs", "settings"]
