"""Fixtures of the integration tests: the service tests' throwaway PostgreSQL cluster (reused
from tests/service/postgres_support.py) and the compose file read through ``docker-compose``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from postgres_support import postgres

__all__ = ["postgres"]
