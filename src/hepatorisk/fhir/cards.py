"""One CDS Hooks card per assessment: both risks, rule flags, monitoring, drivers, trends.

Indicator: ``critical`` when an FDA 2009 stopping rule is met or Hy's law criteria are; ``warning``
when either risk band is ``high`` or ALT/AST is above 3x ULN (retest due); else ``info``
(assumption: the bands and rules the service already reports, no separate threshold). The card's
uuid is the audited request id, so feedback joins the assessment it is about.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fhir.resources.R4B.servicerequest import ServiceRequest

from hepatorisk.assessment.results import DISCLAIMER, Assessment
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.fhir.cds_hooks import Action, Card, Coding, Source, Suggestion
from hepatorisk.fhir.codes import LOINC
from hepatorisk.fhir.inbound import MappedBundle
from hepatorisk.fhir.outbound import driver_texts, flags_text

__all__ = [
    "OVERRIDE_REASONS",
    "PANEL_LOINC",
    "assessment_card",
    "labs_needed_card",
    "monitoring_due",
]

# LOINC 24325-3 "Hepatic function 2000 panel - Serum or Plasma": hl7.org/fhir/dstu2
# valueset-diagnostic-requests.html.
PANEL_LOINC = "24325-3"
TOPIC = Coding(
    system="urn:hepatorisk:topic",
    code="liver-safety",
    display="Kratom liver safety during OUD treatment",
)
OVERRIDE_REASONS = [
    Coding(system="urn:hepatorisk:override-reason", code=c, display=d)
    for c, d in (
        ("already-ordered", "Liver tests already ordered or scheduled"),
        ("not-relevant", "Not relevant to this patient now"),
        ("patient-declined", "Patient declined"),
        ("clinical-judgement", "Clinical judgement differs"),
    )
]


def card_uuid(request_id: str) -> uuid.UUID:
    return uuid.UUID(hex=request_id)


def monitoring_due(a: Assessment, mapped: MappedBundle, policy: Policy, now: datetime) -> bool:
    """A retest is due (ALT/AST > 3x ULN or a stop rule), or the latest ALT is older than the
    band's interval."""
    if a.monitoring.retest_within_days is not None or a.flags.stop_recommended:
        return True
    every = policy.monitoring.plans[a.monitoring.band].every_weeks
    return now - mapped.latest["alt"].when > timedelta(weeks=every)


def assessment_card(
    a: Assessment,
    mapped: MappedBundle,
    *,
    request_id: str,
    policy: Policy,
    source_url: str,
    now: datetime | None = None,
) -> Card:
    now = now or datetime.now(UTC)
    risks = {r.outcome: r for r in a.risks}
    liver, relapse = risks["liver"], risks["relapse"]
    critical = a.flags.stop_recommended or a.flags.hys_law
    warn = "high" in (liver.band, relapse.band) or a.monitoring.retest_within_days is not None
    indicator: Literal["info", "warning", "critical"] = (
        "critical" if critical else "warning" if warn else "info"
    )
    summary = (
        f"Kratom liver risk {liver.probability:.0%} ({liver.band}), relapse "
        f"{relapse.probability:.0%} ({relapse.band}) by week 12"
    )
    if a.flags.stop_recommended:
        summary = f"FDA stopping rule met. {summary}"
    due = monitoring_due(a, mapped, policy, now)
    cid = card_uuid(request_id)
    return Card(
        uuid=cid,
        summary=summary[:139],
        detail=_detail(a, mapped, due),
        indicator=indicator,
        source=Source(
            label=f"hepatorisk ({liver.model.name} {liver.model.version}, "
            f"{relapse.model.name} {relapse.model.version})",
            url=source_url,
            topic=TOPIC,
        ),
        suggestions=[_order_panel(cid, mapped)] if due else None,
        selectionBehavior="at-most-one" if due else None,
        overrideReasons=OVERRIDE_REASONS,
    )


def labs_needed_card(mapped: MappedBundle, source_url: str) -> Card:
    """No assessment possible: the liver tests it needs are missing; suggest ordering them."""
    missing = ", ".join(x.upper() for x in mapped.missing_labs) or "liver tests"
    cid = uuid.uuid4()
    return Card(
        uuid=cid,
        summary=f"Liver-risk assessment needs recent {missing}"[:139],
        detail=(
            "hepatorisk assesses kratom liver-injury and relapse risk from ALT, ALP and total "
            f"bilirubin; none usable was found for: {missing}.\n\n{DISCLAIMER}"
        ),
        indicator="info",
        source=Source(label="hepatorisk", url=source_url, topic=TOPIC),
        suggestions=[_order_panel(cid, mapped)],
        selectionBehavior="at-most-one",
        overrideReasons=OVERRIDE_REASONS,
    )


def _order_panel(cid: uuid.UUID, mapped: MappedBundle) -> Suggestion:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "108252007",
                        "display": "Laboratory procedure",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": PANEL_LOINC,
                    "display": "Hepatic function 2000 panel - Serum or Plasma",
                }
            ]
        },
        "subject": {"reference": mapped.patient_reference},
        "reasonCode": [{"text": "Liver-test monitoring during kratom use (hepatorisk)"}],
    }
    ServiceRequest.model_validate(resource)  # R4 conformance of what the EHR will create
    return Suggestion(
        label="Order a hepatic function panel",
        uuid=uuid.uuid5(cid, "hepatic-function-panel"),
        isRecommended=True,
        actions=[
            Action(
                type="create",
                description=f"Order a hepatic function panel (LOINC {PANEL_LOINC})",
                resource=resource,
            )
        ],
    )


def _detail(a: Assessment, mapped: MappedBundle, due: bool) -> str:
    lines = ["| Risk by week 12 | Probability | Band | Model |", "|---|---|---|---|"]
    for r in a.risks:
        lines.append(
            f"| {r.description} | {r.probability:.1%} | {r.band} | "
            f"{r.model.name} {r.model.version} |"
        )
    lines += ["", "**Guideline flags**", *[f"- {t}" for t in flags_text(a)]]
    lines += [
        "",
        f"**Monitoring**: {a.monitoring.summary}" + (" — a liver panel is due now." if due else ""),
    ]
    for r in a.risks:
        if r.drivers:
            texts = driver_texts(r)
            lines += ["", f"**Top drivers ({r.outcome})**", *[f"- {t}" for t in texts]]
    trends = [
        f"- {name.upper()}: " + " → ".join(f"{p.value:g}" for p in pts) + f" {pts[-1].unit}"
        for name, pts in mapped.series.items()
        if len(pts) > 1
    ]
    if trends:
        lines += ["", "**Trends (oldest → latest)**", *trends]
    noted = [i for i in mapped.issues.items if i["severity"] == "warning"]
    if noted:
        lines += [
            "",
            f"**Data notes** ({len(noted)}): " + "; ".join(i["diagnostics"] for i in noted[:5]),
        ]
    if a.benefit_harm.scenarios:
        lines += ["", "**Daily kratom dose what-if (model associations)**"]
        lines += [
            f"- {s.label}: liver {s.liver_change_points:+.1f}, relapse "
            f"{s.relapse_change_points:+.1f} percentage points"
            for s in a.benefit_harm.scenarios
        ]
    lines += ["", f"_{a.benefit_harm.note}_", "", f"_{DISCLAIMER}_"]
    return "\n".join(lines)
