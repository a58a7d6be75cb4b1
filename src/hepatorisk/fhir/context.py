"""MedicationStatements (kratom, MOUD, co-medications), Conditions and the other Observations.

Matching is by code (``codes.py``) and by ingredient words in the text, so a statement coded only
with a clinical-drug RxCUI still matches. Whatever matches nothing is reported, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hepatorisk.fhir.codes import (
    AUDIT_C_LOINC,
    BMI_LOINC,
    CONDITIONS,
    DRUG_CLASSES,
    HBSAG_LOINC,
    HCV_AB_LOINC,
    ICD10,
    KRATOM_PRODUCTS,
    KRATOM_WORDS,
    LOINC,
    NEGATIVE,
    NOT_STATINS,
    POSITIVE,
    RXNORM,
    SNOMED,
    XR_NALTREXONE_WORDS,
)
from hepatorisk.fhir.issues import Issues
from hepatorisk.fhir.resources import Entry, codings, parse_instant, text_of
from hepatorisk.fhir.ucum import convert_factor

__all__ = [
    "MOUD",
    "ClinicalContext",
    "daily_grams",
    "moud_arm",
    "read_condition",
    "read_medication",
    "read_other_observation",
    "started",
]

CURRENT_MEDS = {"active", "intended", "on-hold"}  # MedicationStatement.status
CURRENT_REQUESTS = {"active", "on-hold"}  # MedicationRequest.status
MOUD = {"buprenorphine": "buprenorphine", "methadone": "methadone", "naltrexone": "xr_naltrexone"}


@dataclass
class ClinicalContext:
    """What the non-lab resources said; None = not stated."""

    medication_list: bool = False
    moud: list[tuple[datetime | None, str, str]] = field(default_factory=list)  # when, arm, ref
    kratom: dict[str, Any] | None = None
    drugs: set[str] = field(default_factory=set)
    hepatitis: dict[str, bool] = field(default_factory=dict)
    diabetes: bool | None = None
    bmi: float | None = None
    audit_c: int | None = None
    sources: dict[str, str] = field(default_factory=dict)  # AssessRequest field -> FHIRPath


def read_medication(
    entry: Entry, ctx: ClinicalContext, media: dict[str, Entry], issues: Issues
) -> None:
    """One MedicationStatement or MedicationRequest into ``ctx`` (kratom, MOUD, co-medication
    flags). A request counts when ``active`` (or on hold) and not ended; a self-reported one
    (``reportedBoolean``/``reportedReference``, e.g. a supplement) counts like any other."""
    r = entry.resource
    ctx.medication_list = True
    request = entry.type == "MedicationRequest"
    current = CURRENT_REQUESTS if request else CURRENT_MEDS
    if r.get("status") not in current:
        issues.add(
            "information",
            "informational",
            f"status is not one of {', '.join(sorted(current))}: "
            "not a current medication; not used",
            entry.at("status"),
        )
        return
    ended = _ended(r, request)
    if ended is not None:
        issues.add(
            "information",
            "informational",
            "the medication's period ended before today: not a current medication; not used",
            entry.at(ended),
        )
        return
    concept = r.get("medicationCodeableConcept")
    ref = (r.get("medicationReference") or {}).get("reference")
    if concept is None and ref:
        med = media.get(ref)
        if med is None:
            issues.add(
                "warning",
                "not-found",
                "medicationReference.reference is not a Medication in the Bundle; not used",
                entry.at("medicationReference"),
            )
            return
        concept = med.resource.get("code")
    words = text_of(concept)
    rxcuis = {str(c.get("code")) for c in codings(concept) if c.get("system") == RXNORM}
    when = started(r, request)
    dosage_element = "dosageInstruction" if request else "dosage"
    if any(w in words for w in KRATOM_WORDS):
        _kratom(entry, words, r.get(dosage_element) or [], dosage_element, ctx, issues)
        return
    matched = [
        d.name for d in DRUG_CLASSES if rxcuis & d.rxcuis or any(w in words for w in d.words)
    ]
    if "statin" in matched and any(w in words for w in NOT_STATINS) and not rxcuis:
        matched.remove("statin")
    if not matched:
        issues.add(
            "information",
            "informational",
            "medication not in hepatorisk's code lists "
            "(kratom, MOUD, acetaminophen, statins, hepatotoxic or CYP3A4/2D6-interacting "
            "drugs); not used",
            entry.at("medication[x]"),
        )
    for name in matched:
        if name in MOUD:
            ctx.moud.append((when, MOUD[name], entry.path))
            if name == "naltrexone" and not any(w in words for w in XR_NALTREXONE_WORDS):
                issues.add(
                    "warning",
                    "business-rule",
                    "naltrexone not stated as extended-release; "
                    "assessed as XR-naltrexone (the model's only naltrexone arm)",
                    entry.at("medication[x]"),
                )
        else:
            ctx.drugs.add(name)
            ctx.sources.setdefault(f"medications.{name}", entry.at("medication[x]"))


def moud_arm(concept: dict[str, Any] | None) -> str | None:
    """The model's MOUD arm a medication concept names (buprenorphine, methadone, naltrexone)."""
    words = text_of(concept)
    rxcuis = {str(c.get("code")) for c in codings(concept) if c.get("system") == RXNORM}
    for d in DRUG_CLASSES:
        if d.name in MOUD and (rxcuis & d.rxcuis or any(w in words for w in d.words)):
            return MOUD[d.name]
    return None


def started(r: dict[str, Any], request: bool) -> datetime | None:
    if request:
        return parse_instant(r.get("authoredOn")) or parse_instant(
            ((r.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("start")
        )
    return parse_instant(r.get("effectiveDateTime")) or parse_instant(
        (r.get("effectivePeriod") or {}).get("start") or r.get("dateAsserted")
    )


def _ended(r: dict[str, Any], request: bool) -> str | None:
    """The element whose period ended before now (the medication is no longer taken), if any."""
    now = datetime.now(UTC)
    periods = (
        [("dispenseRequest.validityPeriod",
          (r.get("dispenseRequest") or {}).get("validityPeriod"))]
        + [(f"dosageInstruction[{i}].timing.repeat.boundsPeriod",
            ((d.get("timing") or {}).get("repeat") or {}).get("boundsPeriod"))
           for i, d in enumerate(r.get("dosageInstruction") or [])]
        if request
        else [("effectivePeriod", r.get("effectivePeriod"))]
    )  # fmt: skip
    for element, period in periods:
        end = parse_instant((period or {}).get("end"))
        if end is not None and end < now:
            return element
    return None


def _kratom(
    entry: Entry,
    words: str,
    dosages: list[dict[str, Any]],
    element: str,
    ctx: ClinicalContext,
    issues: Issues,
) -> None:
    product = next((p for p, ws in KRATOM_PRODUCTS if any(w in words for w in ws)), None)
    if product is None:
        product = "leaf_powder"
        issues.add(
            "warning",
            "incomplete",
            "kratom product form not stated (powder, extract, tablet); assessed as leaf powder",
            entry.at("medication[x]"),
        )
    dose = daily_grams(dosages)
    if dose is None:
        # unknown, not zero: a kratom user whose dose is unknown is assessed as a user, the
        # models averaging the risk over the plausible doses (modeling.unknowns)
        issues.add(
            "warning",
            "incomplete",
            f"kratom daily dose unknown (no {element}[0].doseAndRate[0].doseQuantity in g or mg "
            "with timing.repeat frequency and period, nor a dose in g/d): assessed as a kratom "
            "user with an unknown dose, the risk averaged over the plausible doses",
            entry.at(element),
        )
    if ctx.kratom is not None:
        issues.add(
            "warning",
            "duplicate",
            "more than one kratom statement; the doses are added",
            entry.path,
        )
        previous = ctx.kratom["dose_g_day"]
        dose = None if dose is None or previous is None else dose + previous
    ctx.kratom = {"product": product, "dose_g_day": None if dose is None else round(dose, 6)}
    ctx.sources["kratom"] = entry.at(element)


def daily_grams(dosages: list[dict[str, Any]]) -> float | None:
    """g/day from doseQuantity (a UCUM mass, e.g. g or mg, times the timing's frequency per
    day; or a mass per time, e.g. g/d); None when no dosage says it."""
    for d in dosages:
        for dr in d.get("doseAndRate") or []:
            q = dr.get("doseQuantity") or {}
            unit, value = q.get("code") or q.get("unit"), q.get("value")
            if not isinstance(value, int | float) or not isinstance(unit, str):
                continue
            per_day = convert_factor(unit, "g/d")
            if per_day is not None:
                return float(value) * per_day
            grams = convert_factor(unit, "g")
            times = _per_day((d.get("timing") or {}).get("repeat") or {})
            if grams is not None and times is not None:
                return float(value) * grams * times
    return None


def _per_day(rep: dict[str, Any]) -> float | None:
    days = {"h": 1 / 24, "d": 1.0, "wk": 7.0}.get(rep.get("periodUnit", ""))
    if days is None or not rep.get("period"):
        return None
    return float(rep.get("frequency", 1)) / (float(rep["period"]) * days)


def read_condition(entry: Entry, ctx: ClinicalContext, issues: Issues) -> None:
    """Hepatitis B/C, HIV and diabetes Conditions; anything else is reported as not used."""
    r = entry.resource
    verification = _code(r.get("verificationStatus"))
    if verification in ("refuted", "entered-in-error"):
        issues.add(
            "information",
            "informational",
            f"verificationStatus {verification}; not used",
            entry.at("verificationStatus"),
        )
        return
    active = _code(r.get("clinicalStatus")) in (None, "active", "recurrence", "relapse")
    concept = r.get("code")
    words = text_of(concept)
    for name, lists in CONDITIONS.items():
        if _matches(concept, words, lists):
            if name == "hcv":  # anti-HCV stays positive after cure: any HCV history counts
                ctx.hepatitis["hcv_antibody"] = True
            elif name == "hbv":
                ctx.hepatitis["hbv_surface_antigen"] = active or ctx.hepatitis.get(
                    "hbv_surface_antigen", False
                )
            elif name == "hiv":
                ctx.hepatitis["hiv"] = True
            else:
                ctx.diabetes = True
            return
    issues.add(
        "information",
        "informational",
        "condition not used by hepatorisk (hepatitis B/C, HIV, diabetes)",
        entry.at("code"),
    )


def _matches(concept: dict[str, Any] | None, words: str, lists: dict[str, tuple[str, ...]]) -> bool:
    for c in codings(concept):
        code, system = str(c.get("code") or ""), c.get("system")
        if system in ICD10 and any(code == x or code.startswith(f"{x}.") for x in lists["icd10"]):
            return True
        if system == SNOMED and code in lists["snomed"]:
            return True
    return any(w in words for w in lists["words"])


def _code(concept: dict[str, Any] | None) -> str | None:
    cs = codings(concept)
    return str(cs[0].get("code")) if cs else None


def read_other_observation(entry: Entry, ctx: ClinicalContext, issues: Issues) -> bool:
    """BMI, AUDIT-C, anti-HCV and HBsAg Observations; False if the code is none of them."""
    r = entry.resource
    codes = {str(c.get("code")) for c in codings(r.get("code")) if c.get("system") == LOINC}
    q = r.get("valueQuantity") or {}
    if BMI_LOINC in codes and q.get("value") is not None:
        ctx.bmi, ctx.sources["demographics.bmi"] = float(q["value"]), entry.at("valueQuantity")
    elif AUDIT_C_LOINC in codes and (q.get("value") is not None or "valueInteger" in r):
        ctx.audit_c = int(q["value"] if q.get("value") is not None else r["valueInteger"])
        ctx.sources["alcohol_audit_c"] = entry.at("value[x]")
    elif codes & {HCV_AB_LOINC, HBSAG_LOINC}:
        result = _presence(r)
        if result is None:
            issues.add(
                "warning",
                "code-invalid",
                "result is neither positive nor negative; not used",
                entry.at("value[x]"),
            )
        else:
            key = "hcv_antibody" if HCV_AB_LOINC in codes else "hbv_surface_antigen"
            ctx.hepatitis[key] = ctx.hepatitis.get(key, False) or result
    else:
        return False
    return True


def _presence(r: dict[str, Any]) -> bool | None:
    concept = r.get("valueCodeableConcept")
    values = {str(c.get("code")).lower() for c in codings(concept)} | {text_of(concept).strip()}
    values.add(str(r.get("valueString") or "").lower())
    if values & POSITIVE:
        return True
    if values & NEGATIVE:
        return False
    return None
