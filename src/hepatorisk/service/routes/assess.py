"""POST /v1/assess, /v1/assess/batch and /v1/predict: both risks (with drivers, guideline flags,
monitoring and dose what-ifs, or, for /v1/predict, the calibrated risks alone)."""

from fastapi import APIRouter, Response

from hepatorisk.service.deps import ClinicalDep
from hepatorisk.service.responses import (
    DISCLAIMER,
    AssessResponse,
    BatchResponse,
    PredictResponse,
    assessments_response,
    json_response,
)
from hepatorisk.service.schemas import AssessRequest, BatchRequest
from hepatorisk.service.workflow import (
    assess_and_audit,
    assess_and_audit_async,
    predict_and_audit,
)

router = APIRouter(prefix="/v1", tags=["assessment"])


@router.post("/assess", response_model=AssessResponse)
async def assess_one(body: AssessRequest, call: ClinicalDep) -> Response:
    """Assess one patient; the audit row is committed before this returns.

    ``async``: one patient is a fraction of a millisecond of CPU, less than a thread-pool round
    trip; run several workers (``hepatorisk serve --workers``) to use several cores."""
    [result] = await assess_and_audit_async(
        call.state,
        call.audit,
        call.models,
        [body],
        request_id=call.request_id,
        caller=call.caller,
        endpoint="assess",
        top=call.settings.top_drivers,
    )
    return assessments_response(**vars(result), request_id=call.request_id, disclaimer=DISCLAIMER)


@router.post("/assess/batch", response_model=BatchResponse)
def assess_batch(body: BatchRequest, call: ClinicalDep) -> Response:
    """Assess up to 1,000 patients in one call (one audit row per patient, one transaction)."""
    results = assess_and_audit(
        call.state,
        call.audit,
        call.models,
        body.patients,
        request_id=call.request_id,
        caller=call.caller,
        endpoint="assess/batch",
        top=call.settings.top_drivers,
        explain=body.explain,
    )
    return assessments_response(
        request_id=call.request_id, count=len(results), assessments=results, disclaimer=DISCLAIMER
    )


@router.post("/predict", response_model=PredictResponse)
async def predict_one(body: AssessRequest, call: ClinicalDep) -> Response:
    """Both calibrated risks and their bands only, for callers that need the numbers fast (no
    explanations, rules or what-ifs); audited like an assessment."""
    risks = await predict_and_audit(
        call.state, call.audit, call.models, body, request_id=call.request_id, caller=call.caller
    )
    return json_response(PredictResponse(request_id=call.request_id, risks=risks))
