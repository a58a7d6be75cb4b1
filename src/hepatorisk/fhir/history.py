"""A FHIR record's treatment course: the ``course`` section of the patient record.

What the mapping reads over time (``inbound.map_bundle``):

* the **treatment start**: the period start (``effectivePeriod.start``/``effectiveDateTime``) or
  ``authoredOn`` of the current MOUD MedicationStatement/MedicationRequest (the most recent);
* every **liver-panel Observation** (ALT, AST, ALP, total bilirubin), one panel per week of
  treatment (the latest draw of each code that week); the latest of each code is the ``labs``
  section, dated by the latest of ALT, ALP and bilirubin;
* weekly **opioid urine screens** (``codes.OPIOID_SCREEN_LOINC``): a week with a screen is an
  attended visit, positive if any screen that week was, else negative;
* **kratom** MedicationStatements/Requests, current or not (a completed one is an earlier dose):
  the earliest start is the kratom start, each start with a dose a dose change.

Without a MOUD start there is no course: the assessment is at treatment entry (week 0), as it
says. Values the course cannot place (before the baseline window, after the assessment date)
are left out with an issue naming the resource.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hepatorisk.assessment.course import BASELINE_WINDOW_DAYS, MAX_COURSE_WEEKS
from hepatorisk.fhir.codes import KRATOM_WORDS, LOINC, NEGATIVE, OPIOID_SCREEN_LOINC, POSITIVE
from hepatorisk.fhir.context import daily_grams, started
from hepatorisk.fhir.issues import Issues
from hepatorisk.fhir.labs import LabPoint
from hepatorisk.fhir.resources import Entry, codings, text_of

__all__ = ["CourseParts", "build_course", "read_kratom_period", "read_screen"]

_PANEL_LABS = ("alt", "ast", "alp", "bilirubin")
_LATEST_DATES = ("alt", "alp", "bilirubin")
_SKIP_STATUS = {"entered-in-error", "not-taken", "cancelled", "draft"}


@dataclass
class CourseParts:
    """What the Bundle said over time, before it is placed in weeks."""

    screens: list[tuple[datetime, str, str]] = field(default_factory=list)  # when, result, path
    kratom: list[tuple[datetime, float | None, str]] = field(default_factory=list)


def read_screen(entry: Entry, parts: CourseParts, issues: Issues) -> bool:
    """An opioid urine screen into ``parts``; False if the Observation is not one."""
    r = entry.resource
    codes = {str(c.get("code")) for c in codings(r.get("code")) if c.get("system") == LOINC}
    if not codes & set(OPIOID_SCREEN_LOINC):
        return False
    when = started(r, False)
    concept = r.get("valueCodeableConcept")
    values = {str(c.get("code")).lower() for c in codings(concept)} | {text_of(concept).strip()}
    values.add(str(r.get("valueString") or "").lower())
    result = "positive" if values & POSITIVE else "negative" if values & NEGATIVE else None
    if r.get("status") not in {"final", "amended", "corrected"} or when is None or not result:
        issues.add(
            "warning",
            "incomplete",
            "opioid urine screen without a final status, a time or a positive/negative result; "
            "not used",
            entry.path,
        )
        return True
    parts.screens.append((when, result, entry.path))
    return True


def read_kratom_period(entry: Entry, media: dict[str, Entry], parts: CourseParts) -> None:
    """A kratom MedicationStatement/Request, current or past, as a dated dose."""
    r = entry.resource
    if r.get("status") in _SKIP_STATUS:
        return
    concept = r.get("medicationCodeableConcept")
    ref = (r.get("medicationReference") or {}).get("reference")
    if concept is None and ref in media:
        concept = media[ref].resource.get("code")
    if not any(w in text_of(concept) for w in KRATOM_WORDS):
        return
    request = entry.type == "MedicationRequest"
    when = started(r, request)
    if when is not None:
        dosages = r.get("dosageInstruction" if request else "dosage") or []
        parts.kratom.append((when, daily_grams(dosages), entry.path))


def build_course(
    start: datetime,
    as_of: date,
    series: dict[str, list[LabPoint]],
    parts: CourseParts,
    issues: Issues,
) -> dict[str, Any] | None:
    """The ``course`` section (JSON), or None (with an issue) when it cannot be placed."""
    first = start.date()
    if as_of < first or (as_of - first).days // 7 > MAX_COURSE_WEEKS:
        issues.add(
            "warning",
            "business-rule",
            f"the MOUD start {first} is after the assessment date or more than "
            f"{MAX_COURSE_WEEKS} weeks before it: assessed at treatment entry (week 0)",
            "Bundle",
        )
        return None
    earliest = first - timedelta(days=BASELINE_WINDOW_DAYS)

    def week(day: date) -> int:
        return max(0, (day - first).days // 7)

    latest = [series[n][-1].when.date() for n in _LATEST_DATES if series.get(n)]
    labs_date = max(latest)
    if not earliest <= labs_date <= as_of:
        issues.add(
            "warning",
            "business-rule",
            f"the latest liver panel ({labs_date}) is not between {earliest} (the baseline "
            f"window before the MOUD start) and {as_of}: assessed at treatment entry (week 0)",
            "Bundle",
        )
        return None
    by_week: dict[int, dict[str, LabPoint]] = defaultdict(dict)
    for name in _PANEL_LABS:
        for p in series.get(name, []):
            day = p.when.date()
            if earliest <= day and week(day) < week(labs_date):
                by_week[week(day)][name] = p  # points are sorted: the week's latest wins
            elif day < earliest:
                issues.add(
                    "information",
                    "informational",
                    f"{name} before the baseline window ({BASELINE_WINDOW_DAYS} days before the "
                    "MOUD start): not part of the treatment course",
                    p.path,
                )
    panels = []
    for _, points in sorted(by_week.items()):
        panel: dict[str, Any] = {"date": max(p.when.date() for p in points.values()).isoformat()}
        for name, p in points.items():
            panel[name] = {"unit": p.unit, "value": p.value}
        panels.append(panel)
    visits: dict[int, dict[str, Any]] = {}
    for when, result, path in sorted(parts.screens):
        day = when.date()
        if not first + timedelta(weeks=1) <= day <= as_of:
            issues.add(
                "information",
                "informational",
                "opioid urine screen outside weeks 1 to N of treatment (the entry screen is "
                "the record's): not part of the treatment course",
                path,
            )
            continue
        visit = visits.setdefault(week(day), {"date": day.isoformat(), "opioid_screen": result})
        if result == "positive":
            visit["opioid_screen"] = "positive"
    if week(as_of) >= 1 and not visits:
        issues.add(
            "warning",
            "incomplete",
            f"no opioid urine screen (LOINC {' or '.join(OPIOID_SCREEN_LOINC)}) in weeks 1-"
            f"{week(as_of)} of treatment: each week is read as a missing screen, which counts "
            "toward relapse (as in the training cohort); send the screens if they exist",
            "Bundle",
        )
    course: dict[str, Any] = {
        "treatment_start": first.isoformat(),
        "as_of": as_of.isoformat(),
        "labs_date": labs_date.isoformat(),
        "panels": panels,
        "visits": [visits[w] for w in sorted(visits)],
    }
    doses = sorted((w.date(), d) for w, d, _ in parts.kratom if w.date() <= as_of)
    if doses:
        course["kratom_start"] = doses[0][0].isoformat()
        changes: dict[date, float] = {day: d for day, d in doses if d is not None}
        course["kratom_doses"] = [
            {"date": day.isoformat(), "dose_g_day": round(d, 6)} for day, d in changes.items()
        ]
    return course
