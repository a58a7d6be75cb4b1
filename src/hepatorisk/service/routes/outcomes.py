"""POST /v1/outcomes: outcomes that became known after an assessment (issue 18), keyed to it by
its request id (and the patient's position in the request) or by the patient reference, which is
stored only as the audit's keyed hash. Realised performance is computed from them by
``hepatorisk monitor``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from hepatorisk.assessment.fields import StrictModel
from hepatorisk.monitoring.store import Outcome, patient_key
from hepatorisk.web.deps import CallerDep, StateDep
from hepatorisk.web.json_body import JsonBodyRoute

router = APIRouter(prefix="/v1", tags=["monitoring"], route_class=JsonBodyRoute)


class _Outcome(StrictModel):
    outcome: Literal["liver", "relapse"]
    value: Annotated[Literal[0, 1], Field(description="1: the event happened; 0: it did not")]
    item: Annotated[
        int | None,
        Field(None, ge=0, le=1_000_000, description="the patient's position in a batch (0 first)"),
    ] = None

    @field_validator("item", mode="before")
    @classmethod
    def _whole(cls, v: object) -> object:
        """41.0 as 41: JSON Schema's integer includes it (as the request fields do)."""
        return int(v) if type(v) is float and v.is_integer() else v

    @field_validator("value", mode="before")
    @classmethod
    def _a_number(cls, v: object) -> object:
        """The schema's enum [0, 1] holds numbers: JSON true/false is not one of them."""
        if isinstance(v, bool):
            raise ValueError("value must be the number 0 or 1, not true or false")
        return v


class OutcomeByRequest(_Outcome):
    """An outcome keyed by the request id the assessment answered with."""

    request_id: Annotated[
        str,
        Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$",
              description="the request id the assessment answered with"),
    ]  # fmt: skip


class OutcomeByPatient(_Outcome):
    """An outcome keyed by the patient reference sent with the assessment."""

    patient_ref: Annotated[
        str,
        Field(min_length=1, max_length=200,
              description="the patient reference sent with the assessment (stored keyed-hashed)"),
    ]  # fmt: skip


# exactly one key, stated in the schema itself (each form forbids the other's field)
OutcomeIn = OutcomeByRequest | OutcomeByPatient


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
            request_id=o.request_id if isinstance(o, OutcomeByRequest) else None,
            item=o.item,
            patient_key=(
                patient_key(salt, o.patient_ref) if isinstance(o, OutcomeByPatient) else None
            ),
        )
        for o in body.outcomes
    ]
    return OutcomesOut(received=len(rows), matched=store.add_outcomes(rows, caller))
