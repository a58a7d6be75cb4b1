"""Every FHIR module imports on its own in a fresh interpreter (was a circular import: the
service's routers import ``hepatorisk.fhir`` and ``hepatorisk.fhir`` imports the service)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "hepatorisk.fhir",
    "hepatorisk.fhir.inbound",
    "hepatorisk.fhir.outbound",
    "hepatorisk.fhir.cards",
    "hepatorisk.fhir.cds_hooks",
    "hepatorisk.fhir.workflow",
    "hepatorisk.fhir.labs",
    "hepatorisk.service.routes.fhir",
]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module):
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-500:]
