"""CDS Hooks 2.0: discovery (open, as the specification's examples are), the patient-view
service and its feedback endpoint (both behind the bearer token)."""

from fastapi import APIRouter, HTTPException, Request

from hepatorisk.fhir.cds_hooks import (
    SERVICE_ID,
    CdsRequest,
    CdsResponse,
    DiscoveryResponse,
    FeedbackRequest,
    discovery,
)
from hepatorisk.fhir.http import CdsRoute, FhirSettingsDep
from hepatorisk.fhir.workflow import hook_cards, record_feedback
from hepatorisk.service.deps import AuditDep, CallerDep, ModelsDep, SettingsDep, StateDep

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"], route_class=CdsRoute)


@router.get("", response_model=DiscoveryResponse, response_model_exclude_none=True)
def discover() -> DiscoveryResponse:
    return discovery()


@router.post(
    f"/{SERVICE_ID}",
    response_model=CdsResponse,
    response_model_exclude_none=True,
    responses={412: {"description": "prefetch insufficient (OperationOutcome)"}},
)
def patient_view(
    body: CdsRequest,
    request: Request,
    state: StateDep,
    audit: AuditDep,
    models: ModelsDep,
    caller: CallerDep,
    settings: SettingsDep,
    fhir: FhirSettingsDep,
) -> CdsResponse:
    """Cards from the prefetch; every assessment is audited as /v1/assess is."""
    url = fhir.model_card_url or f"{str(request.base_url).rstrip('/')}/docs"
    return hook_cards(
        state,
        audit,
        models,
        body,
        request_id=request.state.request_id,
        caller=caller,
        top=settings.top_drivers,
        source_url=url,
    )


@router.post("/{service_id}/feedback")
def feedback(
    service_id: str, body: FeedbackRequest, request: Request, audit: AuditDep, caller: CallerDep
) -> dict[str, int]:
    """Accepted/overridden cards into the audit trail (committed before the 200)."""
    if service_id != SERVICE_ID:
        raise HTTPException(404, f"unknown CDS service {service_id!r}; known: {SERVICE_ID}")
    n = record_feedback(audit, body, request_id=request.state.request_id, caller=caller)
    return {"recorded": n}
