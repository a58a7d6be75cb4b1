"""The core's tests reuse the service tests' small exported models (``service_support``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_support import bundles, model_dirs

__all__ = ["bundles", "model_dirs"]
