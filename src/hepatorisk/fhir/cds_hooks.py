# ruff: noqa: N815  (field names are the CDS Hooks 2.0 wire names)
"""CDS Hooks 2.0 wire models: discovery, hook request, cards, feedback (pydantic).

Field names and required fields follow the specification (cds-hooks/docs
``docs/specification/current.md``; HL7 CDSHooksRequest/CDSHooksResponse logical models):
cards need ``uuid``-less ``summary`` (< 140 characters), ``indicator`` and ``source``; cards with
suggestions need ``selectionBehavior``; feedback is ``accepted`` or ``overridden``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepatorisk.fhir.codes import (
    AUDIT_C_LOINC,
    BMI_LOINC,
    HBSAG_LOINC,
    HCV_AB_LOINC,
    LABS,
    LOINC,
    OPIOID_SCREEN_LOINC,
)

__all__ = [
    "FHIR_ID",
    "HOOKS",
    "ORDER_SELECT_ID",
    "ORDER_SIGN_ID",
    "PREFETCH",
    "REQUESTS",
    "REQUIRED_PREFETCH",
    "SERVICE_ID",
    "SERVICE_IDS",
    "Card",
    "CdsRequest",
    "CdsResponse",
    "DiscoveryResponse",
    "FeedbackRequest",
    "discovery",
]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # R4 id datatype
SERVICE_ID = "hepatorisk-liver-safety"  # patient-view
ORDER_SIGN_ID = "hepatorisk-moud-order-sign"
ORDER_SELECT_ID = "hepatorisk-moud-order-select"
HOOKS = {SERVICE_ID: "patient-view", ORDER_SIGN_ID: "order-sign", ORDER_SELECT_ID: "order-select"}
SERVICE_IDS = tuple(HOOKS)
_LAB_CODES = ",".join(f"{LOINC}|{code}" for code in LABS)
_RISK_CODES = ",".join(
    f"{LOINC}|{c}" for c in (BMI_LOINC, AUDIT_C_LOINC, HCV_AB_LOINC, HBSAG_LOINC)
)
_SCREEN_CODES = ",".join(f"{LOINC}|{c}" for c in OPIOID_SCREEN_LOINC)
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "liverLabs": f"Observation?patient={{{{context.patientId}}}}&code={_LAB_CODES}&_sort=-date",
    "riskFactors": f"Observation?patient={{{{context.patientId}}}}&code={_RISK_CODES}",
    # weekly opioid urine screens of the treatment course (every date: the history so far)
    "drugScreens": f"Observation?patient={{{{context.patientId}}}}&code={_SCREEN_CODES}"
    "&_sort=-date",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
}
REQUIRED_PREFETCH = ("patient", "liverLabs")
_USAGE = (
    "A CDS Hooks 2.0 client JWT (ES384/RS384) from an issuer configured in "
    "HEPATORISK_CDS_JWT_ISSUERS, or a hepatorisk API token. Prefetch keys that are absent are "
    "read from fhirServer with fhirAuthorization; without a fhirServer, a missing 'patient' or "
    "'liverLabs' key is a 412. A null key or an empty searchset means 'no data'."
)
_MOUD_WORDS = "buprenorphine, methadone or naltrexone"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")  # the spec allows extensions


class CdsService(_Wire):
    hook: str
    id: str
    title: str | None = None
    description: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class DiscoveryResponse(_Wire):
    services: list[CdsService]


def discovery() -> DiscoveryResponse:
    return DiscoveryResponse(
        services=[
            CdsService(
                hook="patient-view",
                id=SERVICE_ID,
                title="hepatorisk: kratom liver safety in opioid-use-disorder treatment",
                description=(
                    "Risk of a new liver-enzyme elevation (CTCAE v5 grade 2 or more) and of "
                    "opioid relapse in the next 12 weeks, at any week of treatment, for people "
                    "using kratom during OUD treatment, with CTCAE v5 grades, Hy's law and the FDA "
                    "2009 stopping rules, a liver-test monitoring schedule and a suggestion to "
                    "order a hepatic function panel when one is due. Decision support only."
                ),
                prefetch=PREFETCH,
                usageRequirements=_USAGE,
            ),
            CdsService(
                hook="order-sign",
                id=ORDER_SIGN_ID,
                title="hepatorisk: starting MOUD in a patient who uses kratom",
                description=(
                    f"When an order for {_MOUD_WORDS} is signed for a patient who uses kratom "
                    "(or whose use is unknown): the liver risk, the relapse risk under that "
                    "medication, the liver-test plan, an order for a baseline liver panel when "
                    "none is recent, and under naltrexone the warning that it blocks kratom's "
                    "opioid effect and can precipitate withdrawal. Decision support only."
                ),
                prefetch=PREFETCH,
                usageRequirements=_USAGE,
            ),
            CdsService(
                hook="order-select",
                id=ORDER_SELECT_ID,
                title="hepatorisk: choosing MOUD for a patient who uses kratom",
                description=(
                    f"When {_MOUD_WORDS} is selected for a patient who uses kratom (or whose "
                    "use is unknown): the same card as at signing, while the order can still "
                    "be changed. Decision support only."
                ),
                prefetch=PREFETCH,
                usageRequirements=_USAGE,
            ),
        ]
    )


class CdsRequest(_Wire):
    hook: Literal["patient-view", "order-sign", "order-select"]
    hookInstance: UUID
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _invariants(self) -> CdsRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirAuthorization requires fhirServer (cds-r-1)")
        pid = self.context.get("patientId")
        if not isinstance(pid, str) or not FHIR_ID.fullmatch(pid):
            raise ValueError(
                "context.patientId is required: a FHIR id (1-64 letters, digits, '-' or '.')"
            )
        if self.hook in ("order-sign", "order-select"):
            draft = self.context.get("draftOrders")
            if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
                raise ValueError(f"context.draftOrders (a Bundle) is required for {self.hook}")
        if self.hook == "order-select" and not isinstance(self.context.get("selections"), list):
            raise ValueError("context.selections (an array) is required for order-select")
        return self

    @property
    def patient_id(self) -> str:
        return str(self.context["patientId"])

    @property
    def access_token(self) -> str | None:
        token = (self.fhirAuthorization or {}).get("access_token")
        return token if isinstance(token, str) and token else None


class PatientViewRequest(CdsRequest):
    hook: Literal["patient-view"]


class OrderSignRequest(CdsRequest):
    hook: Literal["order-sign"]


class OrderSelectRequest(CdsRequest):
    hook: Literal["order-select"]


# each service's request model: a request for another hook is refused naming ``hook``
REQUESTS: dict[str, type[CdsRequest]] = {
    SERVICE_ID: PatientViewRequest,
    ORDER_SIGN_ID: OrderSignRequest,
    ORDER_SELECT_ID: OrderSelectRequest,
}


class Coding(_Wire):
    code: str
    system: str | None = None
    display: str | None = None


class Source(_Wire):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Wire):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class Suggestion(_Wire):
    label: str
    uuid: UUID | None = None
    isRecommended: bool | None = None
    actions: list[Action] = Field(default_factory=list)


class Link(_Wire):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Card(_Wire):
    uuid: UUID | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are given")
        return self


class CdsResponse(_Wire):
    cards: list[Card]
    systemActions: list[Action] | None = None


class OverrideReason(_Wire):
    reason: Coding | None = None
    userComment: str | None = Field(None, max_length=2000)


class AcceptedSuggestion(_Wire):
    id: UUID


class FeedbackItem(_Wire):
    card: UUID
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] = Field(default_factory=list)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime


class FeedbackRequest(_Wire):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
