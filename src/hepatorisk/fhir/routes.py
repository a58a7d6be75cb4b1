"""The FHIR and CDS Hooks routers: POST /fhir/RiskAssessment/$assess and /cds-services.

Thin handlers: each takes its body and the one assessment dependency (``AssessmentDep``) and
calls one function of ``workflow.py``.
"""

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from hepatorisk import __version__
from hepatorisk.fhir.cds_hooks import (
    HOOKS,
    REQUESTS,
    CdsResponse,
    DiscoveryResponse,
    FeedbackRequest,
    discovery,
)
from hepatorisk.fhir.conformance import (
    OPERATION_ID,
    capability_statement,
    code_system,
    operation_definition,
)
from hepatorisk.fhir.deps import CdsAssessmentDep, CdsCallerDep, cds_enabled
from hepatorisk.fhir.http import CdsRoute, FhirBodyDep, FhirJSONResponse, FhirRoute, fhir_json
from hepatorisk.fhir.workflow import fhir_assess, hook_cards, record_feedback
from hepatorisk.web.deps import AssessmentDep, AuditDep, SettingsDep

__all__ = ["router"]

_STARTED = datetime.now(UTC).date().isoformat()  # the CapabilityStatement's date

fhir = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)
cds = APIRouter(
    prefix="/cds-services",
    tags=["cds-hooks"],
    route_class=CdsRoute,
    dependencies=[Depends(cds_enabled)],
)

_BUNDLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": {
                "schema": {
                    "type": "object",
                    "description": "FHIR R4 Bundle (Patient, LOINC Observations, "
                    "MedicationStatements/MedicationRequests, Conditions), or a Parameters "
                    "resource with one 'bundle' parameter",
                }
            }
        },
    }
}


@fhir.get("/metadata", response_class=FhirJSONResponse)
def metadata(settings: SettingsDep) -> JSONResponse:
    """The CapabilityStatement (open, as FHIR servers serve it)."""
    return fhir_json(capability_statement(__version__, _STARTED, cors=bool(settings.cors_origins)))


@fhir.get(f"/OperationDefinition/{OPERATION_ID}", response_class=FhirJSONResponse)
def assess_definition() -> JSONResponse:
    return fhir_json(operation_definition(__version__))


@fhir.get("/CodeSystem/hepatorisk", response_class=FhirJSONResponse)
def hepatorisk_codes() -> JSONResponse:
    """hepatorisk's own codes (RiskAssessment code/outcome/method, card topics, override
    reasons), published so every code the service answers can be looked up."""
    return fhir_json(code_system(__version__))


@fhir.post("/RiskAssessment/$assess", openapi_extra=_BUNDLE_BODY, response_class=JSONResponse)
async def assess(body: FhirBodyDep, ctx: AssessmentDep) -> JSONResponse:
    """One RiskAssessment per outcome, the lab series as Lists and the mapping's
    OperationOutcome; errors are OperationOutcomes with a 4xx. Audited like /v1/assess."""
    return fhir_json(await fhir_assess(ctx, body))


@cds.get("", response_model=DiscoveryResponse, response_model_exclude_none=True)
def discover() -> DiscoveryResponse:
    return discovery()


def _service(service_id: str) -> str:
    if service_id not in HOOKS:
        # the path's value is not quoted (a request string may carry an identifier)
        raise HTTPException(404, "unknown CDS service id; known: " + ", ".join(HOOKS))
    return service_id


def _hook_route(service_id: str) -> Callable[..., Coroutine[Any, Any, CdsResponse]]:
    model = REQUESTS[service_id]  # a request for another hook is a 422 naming `hook`

    async def hook(body: model, ctx: CdsAssessmentDep, settings: SettingsDep) -> CdsResponse:  # type: ignore[valid-type]
        """Cards from the prefetch (what it lacks read from the fhirServer); every assessment
        is audited as /v1/assess is."""
        return await hook_cards(ctx, body, settings=settings, service_id=service_id)

    hook.__name__ = f"hook_{HOOKS[service_id].replace('-', '_')}"
    return hook


for _sid in HOOKS:  # one documented path per service, as discovery lists them
    cds.add_api_route(
        f"/{_sid}",
        _hook_route(_sid),
        methods=["POST"],
        response_model=CdsResponse,
        response_model_exclude_none=True,
        summary=f"CDS Hooks {HOOKS[_sid]}: {_sid}",
        responses={412: {"description": "required data neither prefetched nor readable from "
                         "the fhirServer (OperationOutcome)"}},
    )  # fmt: skip


@cds.post("/{service_id}/feedback")
def feedback(
    service_id: str, body: FeedbackRequest, request: Request, caller: CdsCallerDep, audit: AuditDep
) -> dict[str, int]:
    """Accepted/overridden cards into the audit trail (committed before the 200)."""
    n = record_feedback(
        audit, body, request_id=request.state.request_id, caller=caller,
        service_id=_service(service_id),
    )  # fmt: skip
    return {"recorded": n}


router = APIRouter()
router.include_router(fhir)
router.include_router(cds)
