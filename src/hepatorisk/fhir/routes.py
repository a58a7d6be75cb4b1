"""The FHIR and CDS Hooks routers: POST /fhir/RiskAssessment/$assess and /cds-services.

Thin handlers: each takes its body and the one assessment dependency (``AssessmentDep``) and
calls one function of ``workflow.py``.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from hepatorisk.fhir.cds_hooks import (
    SERVICE_ID,
    CdsRequest,
    CdsResponse,
    DiscoveryResponse,
    FeedbackRequest,
    discovery,
)
from hepatorisk.fhir.http import CdsRoute, FhirBodyDep, FhirRoute, fhir_json
from hepatorisk.fhir.workflow import fhir_assess, hook_cards, record_feedback
from hepatorisk.web.deps import AssessmentDep, AuditDep, CallerDep, SettingsDep

__all__ = ["router"]

fhir = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)
cds = APIRouter(prefix="/cds-services", tags=["cds-hooks"], route_class=CdsRoute)

_BUNDLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": {
                "schema": {
                    "type": "object",
                    "description": "FHIR R4 Bundle (Patient, LOINC Observations, "
                    "MedicationStatements, Conditions)",
                }
            }
        },
    }
}


@fhir.post("/RiskAssessment/$assess", openapi_extra=_BUNDLE_BODY, response_class=JSONResponse)
async def assess(body: FhirBodyDep, ctx: AssessmentDep) -> JSONResponse:
    """One RiskAssessment per outcome, the lab series as Lists and the mapping's
    OperationOutcome; errors are OperationOutcomes with a 4xx. Audited like /v1/assess."""
    return fhir_json(await fhir_assess(ctx, body))


@cds.get("", response_model=DiscoveryResponse, response_model_exclude_none=True)
def discover() -> DiscoveryResponse:
    return discovery()


@cds.post(
    f"/{SERVICE_ID}",
    response_model=CdsResponse,
    response_model_exclude_none=True,
    responses={412: {"description": "prefetch insufficient (OperationOutcome)"}},
)
async def patient_view(
    body: CdsRequest, request: Request, ctx: AssessmentDep, settings: SettingsDep
) -> CdsResponse:
    """Cards from the prefetch; every assessment is audited as /v1/assess is."""
    url = settings.model_card_url or f"{str(request.base_url).rstrip('/')}/docs"
    return await hook_cards(ctx, body, source_url=url)


@cds.post("/{service_id}/feedback")
def feedback(
    service_id: str, body: FeedbackRequest, request: Request, caller: CallerDep, audit: AuditDep
) -> dict[str, int]:
    """Accepted/overridden cards into the audit trail (committed before the 200)."""
    if service_id != SERVICE_ID:
        # the path's value is not quoted (a request string may carry an identifier)
        raise HTTPException(404, f"unknown CDS service id; the one known: {SERVICE_ID}")
    n = record_feedback(audit, body, request_id=request.state.request_id, caller=caller)
    return {"recorded": n}


router = APIRouter()
router.include_router(fhir)
router.include_router(cds)
