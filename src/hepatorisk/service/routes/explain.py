"""POST /v1/explain: exact SHAP for every input of both served models."""

from fastapi import APIRouter, Request

from hepatorisk.service.deps import ModelsDep
from hepatorisk.service.responses import ExplainResponse
from hepatorisk.service.schemas import AssessRequest
from hepatorisk.service.workflow import explain_patient

router = APIRouter(prefix="/v1", tags=["assessment"])


@router.post("/explain", response_model=ExplainResponse)
def explain(body: AssessRequest, request: Request, models: ModelsDep) -> ExplainResponse:
    """Contributions on the log-odds and probability scales, with the base value, and grouped
    back to clinical variables (an explanation is not an assessment: it is not audited)."""
    return explain_patient(models, body, request.state.request_id)
