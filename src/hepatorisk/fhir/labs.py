"""LOINC lab Observations -> latest value per code (for the assessment) and the series (trends).

Values are converted to the service's units (UCUM codes, ``codes.LABS``); a reference range's
``high`` (``low`` for albumin and platelets) is the lab's limit, else the documented default of
``defaults/generator.yaml`` (``labs.uln``: ACG 2017 / Mayo, clinical-facts.md §2), reported as an
information issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from hepatorisk.clinical.units import bilirubin_to_umol_l
from hepatorisk.fhir.codes import LABS, LOINC, LabCode
from hepatorisk.fhir.issues import Issues
from hepatorisk.fhir.resources import Entry, codings, parse_instant
from hepatorisk.paths import DEFAULT_GENERATOR_CONFIG
from hepatorisk.sourced_yaml import load_sourced_yaml

__all__ = ["LabPoint", "default_limit", "lab_points", "loinc_of", "usable"]

USABLE_STATUS = {"final", "amended", "corrected"}


@dataclass(frozen=True)
class LabPoint:
    """One lab result in the service's unit, with its limit (ULN or LLN) and source."""

    lab: LabCode
    when: datetime
    value: float  # in lab.unit (bilirubin: mg/dL under 1975-2, umol/L under 14631-6)
    unit: str  # lab.unit
    limit: float
    limit_from: str  # "referenceRange" or "default"
    reference: str
    path: str


@lru_cache(maxsize=1)
def _defaults() -> dict[str, float]:
    values = load_sourced_yaml(DEFAULT_GENERATOR_CONFIG).values["labs"]["uln"]
    return {str(k): float(v) for k, v in values.items()}


def default_limit(name: str, sex: str | None) -> float:
    """The default ULN (LLN for albumin, platelets) in the service's unit."""
    d = _defaults()
    key = {
        "alt": f"alt_{sex or 'male'}",
        "albumin": "albumin_lower",
        "platelets": "platelets_lower",
    }.get(name, name)
    return d[key]


def loinc_of(resource: dict[str, Any]) -> str | None:
    for c in codings(resource.get("code")):
        if c.get("system") == LOINC and c.get("code") in LABS:
            return str(c["code"])
    return None


def usable(entry: Entry, issues: Issues, patient_refs: set[str]) -> datetime | None:
    """The Observation's time if it may be used: final status, this patient, a known time."""
    r = entry.resource
    if r.get("status") not in USABLE_STATUS:
        issues.add(
            "warning",
            "business-rule",
            "status is not one of final, amended, corrected; not used",
            entry.at("status"),
        )
        return None
    subject = (r.get("subject") or {}).get("reference")
    if subject and patient_refs and subject not in patient_refs:
        issues.add(
            "warning",
            "business-rule",
            "subject.reference does not reference the Patient assessed; not used",
            entry.at("subject.reference"),
        )
        return None
    when = parse_instant(r.get("effectiveDateTime")) or parse_instant(
        (r.get("effectivePeriod") or {}).get("start") or r.get("issued")
    )
    if when is None:
        issues.add(
            "warning",
            "required",
            "no effective[x] or issued time: cannot tell the latest value; not used",
            entry.at("effective[x]"),
        )
    return when


def lab_points(entry: Entry, when: datetime, sex: str | None, issues: Issues) -> LabPoint | None:
    """The Observation as a LabPoint in the service's unit; None (with an issue) if unusable."""
    r, lab = entry.resource, LABS[str(loinc_of(entry.resource))]
    q = r.get("valueQuantity")
    if not isinstance(q, dict) or q.get("value") is None:
        issues.add(
            "warning",
            "required",
            f"{lab.name}: no valueQuantity.value; not used",
            entry.at("valueQuantity"),
        )
        return None
    unit = _unit(q)
    factor = lab.factor(unit)
    if factor is None:
        issues.add(
            "warning",
            "code-invalid",
            f"{lab.name}: the unit (valueQuantity.code, else .unit) is not a UCUM unit of "
            f"LOINC {lab.loinc}'s property (e.g. {lab.ucum}); not used",
            entry.at("valueQuantity.code"),
        )
        return None
    limit, limit_factor = _limit(entry, lab, unit, sex, issues)
    if limit is None:
        return None
    return LabPoint(
        lab,
        when,
        _times(float(q["value"]), factor),
        lab.unit,
        _times(limit, limit_factor),
        "default" if limit_factor is None else "referenceRange",
        entry.reference,
        entry.path,
    )


def _unit(q: dict[str, Any]) -> str:
    code = q.get("code") if q.get("system") in (None, "http://unitsofmeasure.org") else None
    return str(code if code is not None else q.get("unit") or "")


def _times(x: float, factor: float | None) -> float:
    """``x`` converted by ``factor`` (None: already in the lab's unit); a factor of 1 leaves the
    value untouched, so 21 umol/L stays 21."""
    return x if factor is None or factor == 1.0 else float(f"{x * factor:.10g}")


def _limit(
    entry: Entry, lab: LabCode, unit: str, sex: str | None, issues: Issues
) -> tuple[float | None, float | None]:
    """The reference-range limit and its factor to the lab's unit (None: the default, already in
    the lab's unit), reporting what was not used."""
    side = "high" if lab.limit == "uln" else "low"
    for k, rr in enumerate(entry.resource.get("referenceRange") or []):
        bound = (rr or {}).get(side)
        if not isinstance(bound, dict) or bound.get("value") is None:
            continue
        factor = lab.factor(_unit(bound) or unit)
        if factor is None:
            issues.add(
                "warning",
                "code-invalid",
                f"{lab.name}: referenceRange.{side} unit is not a UCUM unit of LOINC "
                f"{lab.loinc}'s property (e.g. {lab.ucum}); default limit used",
                entry.at(f"referenceRange[{k}].{side}"),
            )
            break
        return float(bound["value"]), factor
    default = default_limit(lab.name, sex)
    if lab.unit == "umol/L":  # the defaults are in mg/dL (defaults/generator.yaml)
        default = bilirubin_to_umol_l(default)
    issues.add(
        "information",
        "informational",
        f"{lab.name}: no referenceRange.{side}; default "
        f"{lab.limit.upper()} {default:g} {lab.unit} used (defaults/generator.yaml "
        "labs.uln)",
        entry.at("referenceRange"),
    )
    return default, None
