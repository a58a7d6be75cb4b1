"""A FHIR R4 Bundle -> the core's patient record (``AssessRequest``), the lab series, and every
issue.

The record is the same pydantic model ``POST /v1/assess`` validates, so ranges, units and the
bilirubin conversion are the core's own; its validation errors come back as issues naming the
FHIR resource and element the value came from.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from hepatorisk.assessment.request import AssessRequest, Kratom
from hepatorisk.assessment.request import Product as Product
from hepatorisk.clinical.monitoring import KratomExposure
from hepatorisk.fhir.context import (
    ClinicalContext,
    read_condition,
    read_medication,
    read_other_observation,
)
from hepatorisk.fhir.history import CourseParts, build_course, read_kratom_period, read_screen
from hepatorisk.fhir.issues import Issues, Severity
from hepatorisk.fhir.labs import LabPoint, lab_points, loinc_of, usable
from hepatorisk.fhir.resources import Entry, parse_bundle

__all__ = ["REQUIRED_LABS", "MappedBundle", "map_bundle"]

log = logging.getLogger(__name__)
REQUIRED_LABS = ("alt", "alp", "bilirubin")  # the guideline rules read them (schemas.Labs)
MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest")
IGNORED_TYPES = {"Practitioner", "PractitionerRole", "Organization", "Encounter", "Provenance"}


@dataclass
class MappedBundle:
    """The assessment input, where each value came from, the series, and the issues."""

    request: AssessRequest | None
    issues: Issues
    patient_reference: str | None = None
    latest: dict[str, LabPoint] = field(default_factory=dict)
    series: dict[str, list[LabPoint]] = field(default_factory=dict)
    missing_labs: list[str] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # every resource read, by path
    sources: dict[str, str] = field(default_factory=dict)  # AssessRequest field -> FHIRPath

    @property
    def basis(self) -> list[str]:
        """References of the Observations the assessment used (the latest of each code)."""
        return [p.reference for p in self.latest.values()]

    @property
    def patient_entry(self) -> Entry | None:
        return next((e for e in self.entries.values() if e.type == "Patient"), None)

    def used(self, *fields: str) -> list[Entry]:
        """The resources the AssessRequest fields (or field prefixes) ``fields`` came from."""
        out: list[Entry] = []
        for name, where in self.sources.items():
            if not any(name == f or name.startswith(f"{f}.") for f in fields):
                continue
            entry = self.entries.get(_resource_path(where))
            if entry is not None and entry not in out:
                out.append(entry)
        return out


def _resource_path(where: str) -> str:
    """``Bundle.entry[3].resource.dosage`` -> ``Bundle.entry[3].resource``."""
    head, sep, _ = where.partition(".resource")
    return head + sep


def map_bundle(raw: Any, as_of: date | None = None) -> MappedBundle:
    """Map ``raw`` (parsed JSON); ``request`` is None when any error issue was found.

    Malformed input the R4 models let through is answered with an error issue, never a crash.
    """
    try:
        return _map(raw, as_of)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        log.warning("FHIR mapping failed: %s", type(exc).__name__)
        issues = Issues()
        issues.add(
            "error",
            "processing",
            # the exception's text may quote a request value: only its type is named
            f"could not map the Bundle ({type(exc).__name__})",
            "Bundle",
        )
        return MappedBundle(None, issues)


def _map(raw: Any, as_of: date | None) -> MappedBundle:
    issues = Issues()
    entries = parse_bundle(raw, issues)
    out = MappedBundle(None, issues, entries={e.path: e for e in entries})
    if issues.errors:
        return out
    by_type: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_type[e.type].append(e)
    patient = _patient(by_type.get("Patient", []), issues)
    if patient is None:
        return out
    out.patient_reference = patient["reference"]
    refs = {patient["reference"], *patient["aliases"]}
    ctx = ClinicalContext()
    parts = CourseParts()
    _observations(by_type.get("Observation", []), refs, patient["sex"], ctx, out, parts)
    media = {e.reference: e for e in by_type.get("Medication", [])}
    for kind in MEDICATION_TYPES:
        for e in by_type.get(kind, []):
            read_medication(e, ctx, media, issues)
            read_kratom_period(e, media, parts)
    for e in by_type.get("Condition", []):
        read_condition(e, ctx, issues)
    for kind, items in by_type.items():
        if kind not in {"Patient", "Observation", *MEDICATION_TYPES, "Condition", "Medication"}:
            severity: Severity = "information" if kind in IGNORED_TYPES else "warning"
            for e in items:
                issues.add(severity, "not-supported", f"{kind} is not read by hepatorisk", e.path)
    out.missing_labs = [lab for lab in REQUIRED_LABS if lab not in out.latest]
    for lab in out.missing_labs:
        issues.add(
            "error",
            "required",
            f"no usable {lab.upper()} Observation (LOINC "
            f"{_LOINC_OF[lab]}); ALT, ALP and total bilirubin are required",
            "Bundle",
        )
    if issues.errors:
        return out
    body, sources = _body(patient, ctx, out, issues, as_of or datetime.now(UTC).date(), parts)
    out.sources = sources
    try:
        out.request = AssessRequest.model_validate(body)
        if ctx.kratom is not None and ctx.kratom["dose_g_day"] is None:
            out.request = with_unknown_dose(out.request)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            where = next(
                (
                    v
                    for k, v in sorted(sources.items(), key=lambda kv: -len(kv[0]))
                    if loc.startswith(k)
                ),
                "Bundle",
            )
            issues.add("error", "value", f"{loc}: {err['msg']}", where)
    return out


_LOINC_OF = {"alt": "1742-6", "alp": "6768-6", "bilirubin": "1975-2 or 14631-6"}
DOSE_PLACEHOLDER = 1.0  # any dose in range; replaced by "unknown" after validation


class UnknownDoseKratom(Kratom):
    """A kratom user whose daily dose is unknown: NaN in the model's record, which the models
    average over the plausible doses given the product (``modeling.unknowns``), never 0 or
    "no kratom"; taking kratom for the monitoring schedule. Dose what-ifs other than stopping
    are left out (a multiple of an unknown dose is unknown)."""

    def exposure(self) -> KratomExposure:
        return KratomExposure(
            taking=True,
            use_weeks=self.use_weeks,
            weeks_since_dose_increase=self.weeks_since_dose_increase,
        )


def with_unknown_dose(request: AssessRequest) -> AssessRequest:
    """``request`` (validated) with its kratom dose made unknown."""
    k = request.kratom
    unknown = UnknownDoseKratom.model_construct(
        product=k.product,
        dose_g_day=math.nan,
        mitragynine_mg_per_g=k.mitragynine_mg_per_g,
        use_weeks=k.use_weeks,
        weeks_since_dose_increase=k.weeks_since_dose_increase,
    )
    return request.model_copy(update={"kratom": unknown})


def _patient(patients: list[Entry], issues: Issues) -> dict[str, Any] | None:
    if len(patients) != 1:
        issues.add(
            "error",
            "required" if not patients else "structure",
            f"expected exactly one Patient, found {len(patients)}",
            "Bundle",
        )
        return None
    e = patients[0]
    r = e.resource
    birth = r.get("birthDate")
    sex = r.get("gender")
    if not birth:
        issues.add("error", "required", "birthDate is required (age)", e.at("birthDate"))
    if sex not in ("male", "female"):
        issues.add(
            "error",
            "value",
            "gender must be male or female: the models need sex at birth "
            "(administrative gender is used as such); "
            + ("it is missing" if sex is None else "the value sent is not one of them"),
            e.at("gender"),
        )
    if issues.errors:
        return None
    return {
        "entry": e,
        "reference": e.reference,
        "aliases": {e.path, e.full_url or e.path},
        "id": r.get("id"),
        "birth": str(birth),
        "sex": sex,
    }


def _observations(
    entries: list[Entry],
    refs: set[str],
    sex: str,
    ctx: ClinicalContext,
    out: MappedBundle,
    parts: CourseParts,
) -> None:
    series: dict[str, list[LabPoint]] = defaultdict(list)
    for e in entries:
        if loinc_of(e.resource) is None:
            if read_screen(e, parts, out.issues):
                continue
            if not read_other_observation(e, ctx, out.issues):
                out.issues.add(
                    "information",
                    "not-supported",
                    "Observation code is not one hepatorisk reads (see fhir/codes.py)",
                    e.at("code"),
                )
            continue
        when = usable(e, out.issues, refs)
        point = lab_points(e, when, sex, out.issues) if when is not None else None
        if point is not None:
            series[point.lab.name].append(point)
    for name, points in series.items():
        points.sort(key=lambda p: p.when)
        out.series[name] = points
        out.latest[name] = points[-1]


def _age(birth: str, as_of: date) -> int:
    b = date.fromisoformat(birth if len(birth) == 10 else f"{birth}-01-01"[:10])
    return as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))


def _body(
    patient: dict[str, Any],
    ctx: ClinicalContext,
    out: MappedBundle,
    issues: Issues,
    as_of: date,
    parts: CourseParts,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The AssessRequest body and, per field, the FHIRPath it came from."""
    p: Entry = patient["entry"]
    sources = {
        "demographics.age": p.at("birthDate"),
        "demographics.sex": p.at("gender"),
        **ctx.sources,
    }
    labs: dict[str, Any] = {}
    for name, point in out.latest.items():
        limit = point.lab.limit
        labs[name] = {"value": point.value, limit: point.limit}
        if name not in ("inr",):
            labs[name]["unit"] = point.unit
        sources[f"labs.{name}"] = f"{point.path}.valueQuantity"
    moud = "none"
    if ctx.moud:
        ctx.moud.sort(key=lambda m: m[0] or datetime.min.replace(tzinfo=UTC))
        moud = ctx.moud[-1][1]
        sources["treatment"] = ctx.moud[-1][2]
        if len({m[1] for m in ctx.moud}) > 1:
            issues.add(
                "warning",
                "business-rule",
                f"more than one MOUD; the most recent ({moud}) is assessed",
                ctx.moud[-1][2],
            )
    else:
        issues.add(
            "information",
            "informational",
            "no current MOUD MedicationStatement or MedicationRequest "
            "(buprenorphine, methadone, naltrexone): assessed as no MOUD",
            "Bundle",
        )
    kratom = dict(ctx.kratom or {"product": "none", "dose_g_day": 0.0})
    if kratom["dose_g_day"] is None:
        kratom["dose_g_day"] = DOSE_PLACEHOLDER  # validated as a user, then made unknown
    if ctx.kratom is None:
        issues.add(
            "information",
            "informational",
            "no kratom MedicationStatement or MedicationRequest: assessed as no kratom use",
            "Bundle",
        )
    meds: dict[str, bool | None] = {}
    for name in ("acetaminophen", "statin", "other_hepatotoxic", "cyp_interacting"):
        meds[name] = (name in ctx.drugs) if ctx.medication_list else None
    if not ctx.medication_list:
        issues.add(
            "information",
            "informational",
            "no MedicationStatement or MedicationRequest: co-medications unknown",
            "Bundle",
        )
    body = {
        "patient_ref": patient["id"],
        "demographics": {
            "age": _age(patient["birth"], as_of),
            "sex": patient["sex"],
            "bmi": ctx.bmi,
            "diabetes": ctx.diabetes,
        },
        "treatment": {"moud": moud},
        "kratom": kratom,
        "labs": labs,
        "hepatitis": {
            "hcv_antibody": ctx.hepatitis.get("hcv_antibody"),
            "hbv_surface_antigen": ctx.hepatitis.get("hbv_surface_antigen"),
            "hiv": ctx.hepatitis.get("hiv"),
        },
        "alcohol_audit_c": ctx.audit_c,
        "medications": meds,
    }
    start = ctx.moud[-1][0] if ctx.moud else None
    course = None if start is None else build_course(start, as_of, out.series, parts, issues)
    if course is None:
        issues.add(
            "information",
            "informational",
            "no treatment course read (a current MOUD with a start date places the assessment "
            "in its week of treatment): assessed at treatment entry (week 0)",
            "Bundle",
        )
        return body, sources
    body["course"] = course
    sources["course"] = ctx.moud[-1][2]
    entry_dose = next(
        (d["dose_g_day"] for d in reversed(course.get("kratom_doses", []))
         if d["date"] <= course["treatment_start"]),
        None,
    )  # fmt: skip
    if ctx.kratom is not None and entry_dose is not None:
        kratom["dose_g_day"] = entry_dose  # the record describes treatment entry
    return body, sources
