"""FHIR reads the treatment course (issue 13, item 6): every liver-panel Observation over time,
the MOUD start, the kratom statements and the weekly opioid urine screens become the same
``course`` a JSON caller would send, so the record (history inputs included) is the same."""

from __future__ import annotations

import copy
from datetime import date

import numpy as np
import pytest
from fhir_support import example

from hepatorisk.assessment import AssessRequest
from hepatorisk.assessment.inputs import record_columns
from hepatorisk.cohorts.history import HISTORY_COLUMNS
from hepatorisk.fhir import map_bundle

AS_OF = date(2026, 12, 1)  # week 14 of the example's buprenorphine (started 2026-08-20)

# the example Bundle's course, written out by hand from its resources
COURSE = {
    "treatment_start": "2026-08-20",  # ms-bup effectiveDateTime
    "as_of": "2026-12-01",
    "labs_date": "2026-11-24",  # the latest ALT, ALP and bilirubin
    "panels": [
        {"date": "2026-08-20", "alt": {"unit": "U/L", "value": 28}},  # the entry panel
        {
            "date": "2026-10-15",
            "alt": {"unit": "U/L", "value": 61},
            "bilirubin": {"unit": "umol/L", "value": 12},
        },
    ],
    "visits": [
        {"date": f"2026-{d}", "opioid_screen": "positive" if w in (1, 2, 3, 9) else "negative"}
        for w, d in [
            (1, "08-28"), (2, "09-04"), (3, "09-11"), (5, "09-25"), (6, "10-02"), (7, "10-09"),
            (8, "10-16"), (9, "10-23"), (11, "11-06"), (12, "11-13"), (13, "11-20"),
            (14, "11-27"),
        ]
    ],
    "kratom_start": "2026-07-01",
    "kratom_doses": [{"date": "2026-07-01", "dose_g_day": 15.0}],
}  # fmt: skip


def test_the_bundle_over_time_is_the_course_a_json_caller_sends() -> None:
    mapped = map_bundle(example("fhir_bundle_kratom_patient.json"), as_of=AS_OF)
    assert mapped.request is not None and mapped.request.course is not None
    assert mapped.request.course.model_dump(mode="json") == AssessRequest.model_validate(
        {**mapped.request.model_dump(mode="json"), "course": COURSE}
    ).course.model_dump(mode="json")  # type: ignore[union-attr]
    by_hand = AssessRequest.model_validate(
        {**mapped.request.model_dump(mode="json"), "course": COURSE}
    )
    fhir, json_ = (record_columns([r.to_input()]) for r in (mapped.request, by_hand))
    for c in fhir:
        a, b = fhir[c][0], json_[c][0]
        assert (a == b) or (a is None and b is None) or (np.isnan(a) and np.isnan(b)), c
    # what the history says: week 14, ALT 118 on a baseline of 28, 4 positive and 2 missing
    # screens (weeks 4 and 10), the last two negative; the labs' entry values are the entry
    # panel's (28), not the latest (118)
    assert fhir["landmark_week"][0] == 14.0
    assert fhir["alt_latest_vs_baseline"][0] == pytest.approx(118 / 28)
    assert fhir["alt_u_l"][0] == 28.0 and np.isnan(fhir["ast_u_l"][0])  # no entry AST: unknown
    assert (fhir["uds_positive_so_far"][0], fhir["uds_missing_so_far"][0]) == (4.0, 2.0)
    assert fhir["uds_last"][0] == fhir["uds_before_last"][0] == "negative"
    assert fhir["attendance_share"][0] == pytest.approx(13 / 15)
    assert set(HISTORY_COLUMNS) <= set(fhir)


def test_without_screens_the_weeks_are_read_as_missing_and_said_so() -> None:
    raw = example("fhir_bundle_kratom_patient.json")
    raw["entry"] = [e for e in raw["entry"] if not e["resource"].get("id", "").startswith("uds")]
    mapped = map_bundle(raw, as_of=AS_OF)
    assert mapped.request is not None and mapped.request.course is not None
    assert mapped.request.course.visits == []
    notes = [i["diagnostics"] for i in mapped.issues.items if i["severity"] == "warning"]
    assert any("no opioid urine screen" in n and "weeks 1-14" in n for n in notes), notes


def test_an_opiates_screen_counts_and_a_screen_without_a_result_is_named() -> None:
    raw = example("fhir_bundle_kratom_patient.json")
    screens = [e for e in raw["entry"] if e["resource"].get("id", "").startswith("uds")]
    screens[-1]["resource"]["code"]["coding"][0]["code"] = "19295-5"  # opiates, week 14
    screens[-1]["resource"]["valueCodeableConcept"] = {"text": "Positive"}
    screens[0]["resource"].pop("valueCodeableConcept")
    mapped = map_bundle(raw, as_of=AS_OF)
    assert mapped.request is not None and mapped.request.course is not None
    visits = mapped.request.course.visits
    assert visits[-1].opioid_screen == "positive" and len(visits) == 11  # week 1 left out
    assert any("opioid urine screen without" in i["diagnostics"] for i in mapped.issues.items)


def test_without_a_moud_start_the_assessment_is_at_treatment_entry() -> None:
    raw = copy.deepcopy(example("fhir_bundle_kratom_patient.json"))
    for e in raw["entry"]:
        if e["resource"].get("id") == "ms-bup":
            e["resource"].pop("effectiveDateTime")
    mapped = map_bundle(raw, as_of=AS_OF)
    assert mapped.request is not None and mapped.request.course is None
    assert any(
        "assessed at treatment entry (week 0)" in i["diagnostics"] for i in mapped.issues.items
    )
