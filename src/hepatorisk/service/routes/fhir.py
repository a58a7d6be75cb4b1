"""POST /fhir/RiskAssessment/$assess: a FHIR R4 Bundle in, a Bundle of RiskAssessments out."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hepatorisk.fhir.http import FhirBodyDep, FhirRoute, fhir_json
from hepatorisk.fhir.workflow import fhir_assess
from hepatorisk.service.deps import AuditDep, CallerDep, ModelsDep, SettingsDep, StateDep

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)

_BODY = {
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


@router.post("/RiskAssessment/$assess", openapi_extra=_BODY, response_class=JSONResponse)
def assess(
    body: FhirBodyDep,
    request: Request,
    state: StateDep,
    audit: AuditDep,
    models: ModelsDep,
    caller: CallerDep,
    settings: SettingsDep,
) -> JSONResponse:
    """One RiskAssessment per outcome, the lab series as Lists and the mapping's
    OperationOutcome; errors are OperationOutcomes with a 4xx. Audited like /v1/assess."""
    rid = request.state.request_id
    out = fhir_assess(
        state, audit, models, body, request_id=rid, caller=caller, top=settings.top_drivers
    )
    return fhir_json(out)
