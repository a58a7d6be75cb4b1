"""POST /v1/outcomes: outcomes that became known after an assessment (issue 18), keyed to it by
its request id (and the patient's position in the request) or by the patient reference, which is
stored only as the audit's keyed hash. Realised performance is computed from them by
``hepatorisk monitor``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from hepatorisk.assessment.fields import StrictModel
from hepatorisk.monitoring.store import Outcome, patient_key
from hepatorisk.web.deps import CallerDep, StateDep
from hepatorisk.web.json_body import JsonBodyRoute

router = APIRouter(prefix="/v1", tags=["monitoring"], route_class=JsonBodyRoute)


class OutcomeIn(StrictModel):
    outcome: Literal["liver", "relapse"]
    value: Annotated[int, Field(ge=0, le=1, description="1: the event happened; 0: it did not")]
    request_id: Annotated[
        str | None,
        Field(None, min_length=8, max_length=64, pattern=r"^[0-9a-f]+$",
              description="the request id the assessment answered with"),
    ] = None  # fmt: skip
    item: Annotated[
        int | None, Field(None, ge=0, description="the patient's position in a batch (0 first)")
    ] = None
    patient_ref: Annotated[
        str | None,
        Field(None, min_length=1, max_length=200,
              description="the patient reference sent with the assessment (stored keyed-hashed)"),
    ] = None  # fmt: skip

    @model_validator(mode="after")
    def _one_key(self) -> OutcomeIn:
        if (self.request_id is None) == (self.patient_ref is None):
            raise ValueError("give exactly one of request_id and patient_ref")
        return self


class OutcomesIn(StrictModel):
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=10_000)


class OutcomesOut(BaseModel):
    received: int
    matched: int = Field(description="outcomes that found their monitoring record")


@router.post(
    "/outcomes",
    response_model=OutcomesOut,
    status_code=202,
    responses={503: {"description": "this service keeps no monitoring records"}},
)
def report_outcomes(body: OutcomesIn, state: StateDep, caller: CallerDep) -> OutcomesOut:
    """Store outcome feedback for monitored assessments (authenticated callers only); 503 when
    the service keeps no monitoring records (HEPATORISK_MONITORING_DB_URL unset)."""
    store = state.monitoring
    if store is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "this service keeps no monitoring records (HEPATORISK_MONITORING_DB_URL is unset)",
        )
    salt = state.settings.identifier_salt.get_secret_value()
    rows = [
        Outcome(
            outcome=o.outcome,
            value=o.value,
            request_id=o.request_id,
            item=o.item,
            patient_key=patient_key(salt, o.patient_ref) if o.patient_ref else None,
        )
        for o in body.outcomes
    ]
    return OutcomesOut(received=len(rows), matched=store.add_outcomes(rows, caller))
