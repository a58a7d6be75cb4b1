"""Property-based fuzzing of every operation in the OpenAPI document (schemathesis, in-process).

Each operation gets schema-valid and schema-violating requests (schemathesis' examples, coverage
and fuzzing phases, derandomized with a fixed seed, bounded), authenticated with the test tokens
(and without them, by the ``ignored_auth`` check), and every response must be:

* no server error (``not_a_server_error``): bad input is a 4xx, never a 500;
* documented: its status code, content type, headers and body are the ones the document lists;
* for ``/v1``: a schema-valid request is accepted, and a schema-violating one is refused.

Left out, and why:

* ``allow_header_conformance``: a 405's ``Allow`` header lists the methods of one route, not of
  the path (Starlette's routing: ``OPTIONS /v1/admin/reload`` says ``Allow: POST``, not GET too).
* ``positive_data_acceptance`` outside ``/v1``: a FHIR Bundle or a CDS Hooks prefetch that fits
  the (deliberately loose) JSON schema is still refused by the FHIR mapping when it lacks the
  patient or the liver labs (422 OperationOutcome, as documented).
* ``positive_data_acceptance`` for a record with a ``course``: its dates must be in order
  (one visit a week, in weeks 1..N, panels before the latest, dose changes oldest first): rules
  between fields that JSON Schema cannot state, so a schema-valid course may be refused (a 422
  naming the field and the allowed dates, ``tests/assessment/test_course.py``). Such records
  still get every other check (no server error, documented answers).
* the stateful phase: the document declares no links between operations (an assessment's
  answer is not an input of another operation: nothing to chain), so it has nothing to run.

The negative-data phase runs in full (coverage and fuzzing): with strict types on the patient
record, the coverage phase's type mutations (``"1"`` for a number, ``0`` for a boolean) are
refused like every other schema violation.

The schema is loaded at import (from the app's own ``/openapi.json``) so that pytest shows one
test per operation; requests go to the app the module fixture starts, through ``_Served``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from pydantic import ValidationError
from schemathesis.checks import allow_header_conformance, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from service_support import ADMIN_TOKEN, API_TOKEN, make_settings, running

from hepatorisk.app import create_app
from hepatorisk.assessment.lab_results import Bilirubin
from hepatorisk.settings import Settings

CONFIG = {
    "seed": 20240611,
    "generation": {
        "mode": "all",  # positive and negative
        "max-examples": 25,  # per operation and mode, in the fuzzing phase
        "deterministic": True,
        "database": "none",  # nothing kept between runs: every run is the same run
    },
    "auth": {
        "openapi": {
            "HTTPBearer": {"bearer": API_TOKEN},
            "AdminBearer": {"bearer": ADMIN_TOKEN},
        }
    },
    "phases": {
        "stateful": {"enabled": False},  # no links between operations to follow
    },
}


class _Served:
    """The ASGI app requests go to: the document's app at import, the fixture's live app after.

    The live app's lifespan (models, audit log) is the fixture's; schemathesis' own attempt to
    run a lifespan is refused, which it takes as an app without one.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("the test fixture runs the app's lifespan")
        await self.app(scope, receive, send)


# create_app loads and opens nothing: enough to serve /openapi.json
_DOCUMENT_APP = create_app(Settings(liver_model="-", relapse_model="-", audit_db_url="sqlite://"))
SERVED = _Served(_DOCUMENT_APP)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", SERVED, config=SchemathesisConfig.from_dict(CONFIG)
)


@pytest.fixture(scope="module", autouse=True)
def live_app(
    model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """One app for every operation: models loaded, audit log and monitoring store open (so that
    POST /v1/outcomes answers as documented, not 503), the test tokens."""
    folder = tmp_path_factory.mktemp("fuzz")
    settings = make_settings(model_dirs, folder).model_copy(
        update={"monitoring_db_url": f"sqlite:///{folder / 'monitoring.db'}"}
    )
    with running(settings) as client:
        SERVED.app = client.app
        try:
            yield
        finally:
            SERVED.app = _DOCUMENT_APP


def test_every_operation_of_the_document_is_fuzzed() -> None:
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert {
        "POST /v1/assess",
        "POST /v1/assess/batch",
        "POST /v1/explain",
        "GET /v1/models",
        "POST /fhir/RiskAssessment/$assess",
        "GET /cds-services",
        "POST /cds-services/hepatorisk-liver-safety",
        "POST /cds-services/{service_id}/feedback",
    } <= operations


@schema.parametrize()
def test_no_server_error_and_every_response_as_documented(case: schemathesis.Case) -> None:
    excluded = [allow_header_conformance]
    if not case.operation.path.startswith("/v1/") or _has_course(case.body):
        excluded.append(positive_data_acceptance)
    # a fuzzed batch of explained patients with many unknown inputs takes seconds on a loaded
    # 2-core machine (issue 20); a server error or an undocumented answer still fails
    case.call_and_validate(excluded_checks=excluded, timeout=60)


def _has_course(body: Any) -> bool:
    """A patient record (or a batch of them) with a ``course`` section."""
    if not isinstance(body, dict):
        return False
    records = body.get("patients") if isinstance(body.get("patients"), list) else [body]
    return any(isinstance(r, dict) and r.get("course") is not None for r in records)


@pytest.mark.parametrize("unit", ["mg/dL", "umol/L"])
def test_documented_bilirubin_range_is_the_enforced_one_to_the_last_float(unit: str) -> None:
    [branch] = [
        b
        for b in _DOCUMENT_APP.openapi()["components"]["schemas"]["Bilirubin"]["oneOf"]
        if b["properties"]["unit"]["const"] == unit
    ]
    documented = {
        "value": branch["properties"]["value"],
        "uln": branch["properties"]["uln"]["anyOf"][0],
    }
    for field, bounds in documented.items():
        other = {"value": 1.0, "uln": 1.0} if unit == "mg/dL" else {"value": 17.1, "uln": 17.1}
        lo, hi = bounds["minimum"], bounds["maximum"]
        for accepted in (lo, hi):
            Bilirubin(unit=unit, **(other | {field: accepted}))
        for refused in (math.nextafter(lo, 0.0), math.nextafter(hi, math.inf)):
            with pytest.raises(ValidationError, match="must be between"):
                Bilirubin(unit=unit, **(other | {field: refused}))
