"""order-sign and order-select: a MOUD order for a patient who uses kratom (or may).

The hook's ``draftOrders`` (order-select: only its ``selections``) are searched for a
MedicationRequest of buprenorphine, methadone or naltrexone; without one the service answers no
card. With one, the patient is assessed as if on that medication (the relapse risk is the one
under it) and the card gives both risks, the liver-test plan, a baseline liver panel when none
is recent, and under naltrexone the warning about kratom's blocked opioid effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import DISCLAIMER, Assessment, probability_text, range_text
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.fhir.cards import (
    NALTREXONE_WARNING,
    OVERRIDE_REASONS,
    OrderedMoud,
    card_uuid,
    models_label,
    monitoring_due,
    order_panel,
)
from hepatorisk.fhir.cds_hooks import Card, CdsRequest, Coding, Link, Source
from hepatorisk.fhir.context import moud_arm
from hepatorisk.fhir.inbound import MappedBundle
from hepatorisk.fhir.outbound import driver_texts
from hepatorisk.fhir.terminology import concept

__all__ = ["order_card", "ordered_moud", "under_moud"]

DRUG = {"buprenorphine": "buprenorphine", "methadone": "methadone", "xr_naltrexone": "naltrexone"}


def ordered_moud(body: CdsRequest) -> OrderedMoud | None:
    """The first MOUD MedicationRequest among the draft orders (order-select: the selected)."""
    draft = body.context.get("draftOrders") or {}
    selected = body.context.get("selections") if body.hook == "order-select" else None
    for entry in draft.get("entry") or []:
        r = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(r, dict) or r.get("resourceType") != "MedicationRequest":
            continue
        reference = f"MedicationRequest/{r['id']}" if isinstance(r.get("id"), str) else None
        if selected is not None and reference not in selected:
            continue
        arm = moud_arm(r.get("medicationCodeableConcept"))
        if arm is not None:
            return OrderedMoud(arm, DRUG[arm], reference)
    return None


def under_moud(request: AssessRequest, arm: str) -> AssessRequest:
    """The patient as if on the ordered medication (the relapse model's treatment arm). Another
    MOUD than the current one starts a new treatment today: week 0, its entry labs the latest
    (the course of the current treatment is left out); the same one continues its course."""
    treatment = request.treatment.model_copy(update={"moud": arm})
    course = request.course if arm == request.treatment.moud else None
    return request.model_copy(update={"treatment": treatment, "course": course})


def order_card(
    a: Assessment,
    mapped: MappedBundle,
    order: OrderedMoud,
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
    kratom = mapped.request.kratom.product if mapped.request is not None else "none"
    user = kratom != "none"
    naltrexone = order.arm == "xr_naltrexone"
    critical = a.flags.stop_recommended or a.flags.hys_law
    warn = (naltrexone and user) or "high" in (liver.band, relapse.band)
    indicator: Literal["info", "warning", "critical"] = (
        "critical" if critical else "warning" if warn else "info"
    )
    who = "kratom user" if user else "kratom use not recorded"
    lv = probability_text(liver.probability, liver.probability_range)
    rl = probability_text(relapse.probability, relapse.probability_range)
    week = liver.as_of_week
    summary = (
        f"{order.drug.capitalize()} ({who}): liver risk {lv} ({liver.band}), "
        f"relapse {rl} ({relapse.band}) by week {week + 12}"
    ) + (f" (as of week {week})" if week else "")
    due = monitoring_due(a, mapped, policy, now)
    cid = card_uuid(request_id)
    lines = [
        f"Assessed as if on **{order.drug}**, the medication being ordered.",
        "",
        f"| Risk by week {week + 12} | Probability | Band |",
        "|---|---|---|",
        *[
            f"| {r.description} | {r.probability:.1%}{range_text(r.probability_range)} | {r.band} |"
            for r in a.risks
        ],
        "",
        *[f"**{r.outcome.capitalize()}**: {r.as_of}." for r in a.risks],
        "",
        f"**Liver-test plan**: {a.monitoring.summary}",
    ]
    if due:
        lines.append(
            "A liver panel is due now (as the baseline before starting, and for the plan above)."
        )
    if not user:
        lines += ["", "Kratom use is not recorded: ask about it (and the daily amount)."]
    if naltrexone:
        lines += ["", NALTREXONE_WARNING]
    for r in a.risks:
        if r.drivers:
            lines += ["", f"**Top drivers ({r.outcome})**", *[f"- {t}" for t in driver_texts(r)]]
    lines += ["", f"_{DISCLAIMER}_"]
    return Card(
        uuid=cid,
        summary=summary[:139],
        detail="\n".join(lines),
        indicator=indicator,
        source=source.model_copy(
            update={"label": models_label(a), "topic": Coding(**concept("moud-start"))}
        ),
        suggestions=[order_panel(cid, mapped)] if due else None,
        selectionBehavior="at-most-one" if due else None,
        overrideReasons=OVERRIDE_REASONS,
        links=links or None,
    )
