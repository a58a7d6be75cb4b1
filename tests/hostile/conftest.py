"""The hostile-input tests reuse the service tests' models and settings (``service_support``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_support import bundles, model_dirs, settings

__all__ = ["bundles", "model_dirs", "settings"]
