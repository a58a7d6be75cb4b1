"""POST /v1/assess, /v1/assess/batch and /v1/predict: both risks (with drivers, guideline flags,
monitoring and dose what-ifs, or, for /v1/predict, the calibrated risks alone)."""

from fastapi import APIRouter, Response

from hepatorisk.assessment.audited import assess_and_audit, predict_and_audit
from hepatorisk.service.responses import (
    AssessResponse,
    BatchResponse,
    PredictResponse,
    dataclass_response,
)
from hepatorisk.service.schemas import AssessRequest, BatchRequest
from hepatorisk.web.deps import AssessmentDep
from hepatorisk.web.json_body import JsonBodyRoute

router = APIRouter(prefix="/v1", tags=["assessment"], route_class=JsonBodyRoute)


@router.post("/assess", response_model=AssessResponse)
async def assess_one(body: AssessRequest, ctx: AssessmentDep) -> Response:
    """Assess one patient; the audit row is committed before this returns.

    ``async``: one patient is a fraction of a millisecond of CPU, less than a thread-pool round
    trip; run several workers (``hepatorisk serve --workers``) to use several cores."""
    [result] = await assess_and_audit(ctx, [body], endpoint="assess")
    return dataclass_response(AssessResponse(**vars(result), request_id=ctx.request_id))


@router.post("/assess/batch", response_model=BatchResponse)
async def assess_batch(body: BatchRequest, ctx: AssessmentDep) -> Response:
    """Assess up to 1,000 patients in one call (one audit row per patient, one transaction)."""
    results = await assess_and_audit(
        ctx, body.patients, endpoint="assess/batch", explain=body.explain
    )
    return dataclass_response(
        BatchResponse(request_id=ctx.request_id, count=len(results), assessments=results)
    )


@router.post("/predict", response_model=PredictResponse)
async def predict_one(body: AssessRequest, ctx: AssessmentDep) -> Response:
    """Both calibrated risks and their bands only, for callers that need the numbers fast (no
    explanations, rules or what-ifs); audited like an assessment."""
    risks = await predict_and_audit(ctx, body)
    return dataclass_response(PredictResponse(request_id=ctx.request_id, risks=risks))
