"""POST /v1/explain: exact SHAP for every input of both served models."""

from fastapi import APIRouter, Request, Response

from hepatorisk.assessment.explain import explain as explain_patient
from hepatorisk.service.responses import ExplainResponse, dataclass_response
from hepatorisk.service.schemas import AssessRequest
from hepatorisk.web.deps import ModelsDep
from hepatorisk.web.json_body import JsonBodyRoute

router = APIRouter(prefix="/v1", tags=["assessment"], route_class=JsonBodyRoute)


@router.post("/explain", response_model=ExplainResponse)
def explain(body: AssessRequest, request: Request, models: ModelsDep) -> Response:
    """Contributions on the log-odds and probability scales, with the base value, and grouped
    back to clinical variables (an explanation is not an assessment: it is not audited)."""
    explanations = explain_patient(models, body)
    return dataclass_response(
        ExplainResponse(request_id=request.state.request_id, explanations=explanations)
    )
