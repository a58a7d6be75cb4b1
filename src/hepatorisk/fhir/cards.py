"""One CDS Hooks card per assessment: both risks, rule flags, monitoring, drivers, trends.

Indicator: ``critical`` when an FDA 2009 stopping rule is met or Hy's law criteria are; ``warning``
when either risk band is ``high`` or ALT/AST is above 3x ULN (retest due); else ``info``
(assumption: the bands and rules the service already reports, no separate threshold). The card's
uuid is the audited request id, so feedback joins the assessment it is about.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fhir.resources.R4B.servicerequest import ServiceRequest

from hepatorisk.assessment.results import DISCLAIMER, Assessment, probability_text, range_text
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.fhir.cds_hooks import Action, Card, CdsRequest, Coding, Link, Source, Suggestion
from hepatorisk.fhir.codes import LOINC
from hepatorisk.fhir.inbound import MappedBundle
from hepatorisk.fhir.narrative import narrative
from hepatorisk.fhir.outbound import driver_texts, flags_text
from hepatorisk.fhir.terminology import concept
from hepatorisk.settings import Settings

__all__ = [
    "NALTREXONE_WARNING",
    "OVERRIDE_REASONS",
    "PANEL_LOINC",
    "OrderedMoud",
    "assessment_card",
    "card_links",
    "card_source",
    "data_needed_card",
    "models_label",
    "monitoring_due",
    "order_panel",
]

# LOINC 24325-3 "Hepatic function 2000 panel - Serum or Plasma": hl7.org/fhir/dstu2
# valueset-diagnostic-requests.html.
PANEL_LOINC = "24325-3"
PANEL_DISPLAY = "Hepatic function 2000 panel - Serum or Plasma"
# Naltrexone is an opioid antagonist; kratom's alkaloids (mitragynine, 7-hydroxymitragynine)
# act on the mu-opioid receptor (clinical-facts.md §1-3): the issue's clinical requirement.
NALTREXONE_WARNING = (
    "**Naltrexone and kratom**: naltrexone blocks kratom's opioid effect, and in a patient "
    "physically dependent on kratom a dose soon after recent kratom use can precipitate opioid "
    "withdrawal. Ask when kratom was last taken and manage as for other opioids before "
    "starting naltrexone."
)
TOPIC = Coding(**concept("liver-safety"))
OVERRIDE_REASONS = [
    Coding(**concept(c))
    for c in ("already-ordered", "not-relevant", "patient-declined", "clinical-judgement")
]


def card_source(settings: Settings, label: str = "hepatorisk") -> Source:
    """The card's source: its url is the configured model card / facts page (absolute, checked
    at start-up), never this host's /docs, which the EHR user's browser may not reach."""
    return Source(label=label, url=settings.model_card_url, topic=TOPIC)


def card_links(settings: Settings, body: CdsRequest) -> list[Link]:
    """The model card / facts page and, when configured, the SMART app launch."""
    links = []
    if settings.model_card_url:
        links.append(
            Link(
                label="hepatorisk model card and facts (what the risks mean, their limits)",
                url=settings.model_card_url,
                type="absolute",
            )
        )
    if settings.cds_smart_launch_url:
        links.append(
            Link(
                label="Open hepatorisk (SMART app)",
                url=settings.cds_smart_launch_url,
                type="smart",
                appContext=json.dumps({"hook": body.hook, "hookInstance": str(body.hookInstance)}),
            )
        )
    return links


@dataclass(frozen=True)
class OrderedMoud:
    """The MOUD an order-sign/order-select hook is about: the model's arm and the drug's name."""

    arm: str  # buprenorphine | methadone | xr_naltrexone
    drug: str  # as the clinician reads it
    reference: str | None  # MedicationRequest/<id> in draftOrders


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
    source: Source,
    links: list[Link] | None = None,
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
    lv = probability_text(liver.probability, liver.probability_range)
    rl = probability_text(relapse.probability, relapse.probability_range)
    week = liver.as_of_week
    summary = (
        f"Kratom liver risk {lv} ({liver.band}), relapse {rl} ({relapse.band}) by week {week + 12}"
    )
    if week:
        summary += f" (as of week {week})"
    if a.flags.stop_recommended:
        summary = f"FDA stopping rule met. {summary}"
    due = monitoring_due(a, mapped, policy, now)
    cid = card_uuid(request_id)
    return Card(
        uuid=cid,
        summary=summary[:139],
        detail=_detail(a, mapped, due),
        indicator=indicator,
        source=source.model_copy(update={"label": models_label(a)}),
        suggestions=[order_panel(cid, mapped)] if due else None,
        selectionBehavior="at-most-one" if due else None,
        overrideReasons=OVERRIDE_REASONS,
        links=links or None,
    )


def models_label(a: Assessment) -> str:
    return "hepatorisk (" + ", ".join(f"{r.model.name} {r.model.version}" for r in a.risks) + ")"


def data_needed_card(
    mapped: MappedBundle,
    source: Source,
    links: list[Link] | None = None,
    *,
    order: OrderedMoud | None = None,
    patient: bool = False,
    subject: str | None = None,
) -> Card:
    """No assessment possible: the data it needs is missing (no Patient, or no usable liver
    tests); suggest the liver panel. At an MOUD order, say so (and naltrexone's warning)."""
    missing = ", ".join(x.upper() for x in mapped.missing_labs) or "ALT, ALP, BILIRUBIN"
    need = f"the patient's birth date and sex and {missing}" if patient else f"recent {missing}"
    cid = uuid.uuid4()
    lead = f"{order.drug.capitalize()} ordered: liver" if order else "Liver"
    detail = (
        "hepatorisk assesses kratom liver-injury and relapse risk from the patient's age and "
        f"sex and ALT, ALP and total bilirubin; not available: {need}."
    )
    if order is not None:
        detail += (
            f"\n\nA baseline liver panel before starting {order.drug} lets later results be "
            "read against it. Kratom use is not known to hepatorisk here: ask about it."
        )
        if order.arm == "xr_naltrexone":
            detail += "\n\n" + NALTREXONE_WARNING
    return Card(
        uuid=cid,
        summary=f"{lead}-risk assessment needs {need}"[:139],
        detail=f"{detail}\n\n{DISCLAIMER}",
        indicator="warning" if order and order.arm == "xr_naltrexone" else "info",
        source=source,
        suggestions=[order_panel(cid, mapped, subject=subject or mapped.patient_reference)],
        selectionBehavior="at-most-one",
        overrideReasons=OVERRIDE_REASONS,
        links=links or None,
    )


def order_panel(cid: uuid.UUID, mapped: MappedBundle, subject: str | None = None) -> Suggestion:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "text": narrative(
            f"Proposed: {PANEL_DISPLAY} (LOINC {PANEL_LOINC}), for liver-test "
            "monitoring during kratom use."
        ),
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
                    "display": PANEL_DISPLAY,
                }
            ]
        },
        "subject": {"reference": subject or mapped.patient_reference},
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
    week = a.risks[0].as_of_week
    lines = [f"| Risk by week {week + 12} | Probability | Band | Model |", "|---|---|---|---|"]
    for r in a.risks:
        lines.append(
            f"| {r.description} | {r.probability:.1%}{range_text(r.probability_range)} | "
            f"{r.band} | {r.model.name} {r.model.version} |"
        )
    lines += ["", *[f"**{r.outcome.capitalize()}**: {r.as_of}." for r in a.risks]]
    # issue 13 item 4: one line where an assumption of the synthetic cohort drives a risk
    lines += [
        f"**Scenario ({r.outcome})**: {r.scenario_answer.text}"
        for r in a.risks
        if r.scenario_answer is not None and r.scenario_answer.drives
    ]
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
