"""POST /v1/assess and /v1/assess/batch: both risks, drivers, guideline flags, monitoring."""

from fastapi import APIRouter, Request

from hepatorisk.service.deps import AuditDep, CallerDep, ModelsDep, SettingsDep, StateDep
from hepatorisk.service.responses import AssessResponse, BatchResponse
from hepatorisk.service.schemas import AssessRequest, BatchRequest
from hepatorisk.service.workflow import assess_and_audit

router = APIRouter(prefix="/v1", tags=["assessment"])


@router.post("/assess", response_model=AssessResponse)
def assess_one(
    body: AssessRequest,
    request: Request,
    state: StateDep,
    audit: AuditDep,
    models: ModelsDep,
    caller: CallerDep,
    settings: SettingsDep,
) -> AssessResponse:
    """Assess one patient; the audit row is committed before this returns."""
    rid = request.state.request_id
    [result] = assess_and_audit(
        state,
        audit,
        models,
        [body],
        request_id=rid,
        caller=caller,
        endpoint="assess",
        top=settings.top_drivers,
    )
    return AssessResponse(request_id=rid, **dict(result))


@router.post("/assess/batch", response_model=BatchResponse)
def assess_batch(
    body: BatchRequest,
    request: Request,
    state: StateDep,
    audit: AuditDep,
    models: ModelsDep,
    caller: CallerDep,
    settings: SettingsDep,
) -> BatchResponse:
    """Assess up to 1,000 patients in one call (one audit row per patient, one transaction)."""
    rid = request.state.request_id
    results = assess_and_audit(
        state,
        audit,
        models,
        body.patients,
        request_id=rid,
        caller=caller,
        endpoint="assess/batch",
        top=settings.top_drivers,
        explain=body.explain,
    )
    return BatchResponse(request_id=rid, count=len(results), assessments=results)
