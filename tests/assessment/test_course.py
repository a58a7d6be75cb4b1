"""A request with a treatment course (issue 13, item 6): its history inputs are the training
table's, computed by the one implementation (``cohorts.history.history_features``); dates out of
place are refused naming the field and the allowed range; answers say when and which model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from course_support import cohort_request
from pydantic import ValidationError
from service_support import SAMPLE, patient

from hepatorisk.assessment import AssessRequest, assess, explain, load_model_pair, predict
from hepatorisk.assessment.inputs import record_columns
from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.cohorts.history import CATEGORICAL_HISTORY, HISTORY_COLUMNS, history_features
from hepatorisk.cohorts.synthetic import load_cohort


@pytest.fixture(scope="module")
def cohort():  # type: ignore[no-untyped-def]
    return load_cohort(SAMPLE)


@pytest.fixture(scope="module")
def models(model_dirs: dict[str, Path]):  # type: ignore[no-untyped-def]
    return load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))


def _same(served: Any, trained: Any, categorical: bool) -> bool:
    if categorical:
        return str(served) == str(trained)
    if pd.isna(served) or pd.isna(trained):
        return bool(pd.isna(served) and pd.isna(trained))
    return abs(float(served) - float(trained)) <= 1e-9


def _a_rich_patient(cohort) -> pd.Series:  # type: ignore[no-untyped-def]
    """A kratom user with draws at weeks 2 and 4, a missed week and a screen of each kind by
    week 4 (so every history input is exercised), the first such patient of the sample."""
    v = cohort.visits[cohort.visits["week"].between(1, 4)]
    drawn = v[v["alt_u_l"].notna() & v["attended"]].groupby("patient_id")["week"].nunique()
    missed = v[~v["attended"]]["patient_id"].unique()
    screens = v[v["attended"]].groupby("patient_id")["uds_opioid"].nunique()
    users = cohort.patients[cohort.patients["kratom_product"] != "none"]
    ok = users[
        users["patient_id"].isin(drawn[drawn >= 2].index)
        & users["patient_id"].isin(missed)
        & users["patient_id"].isin(screens[screens >= 2].index)
    ]
    return ok.iloc[0]


def test_a_cohort_patient_as_a_request_has_the_training_rows_history(cohort) -> None:  # type: ignore[no-untyped-def]
    p = _a_rich_patient(cohort)
    request = AssessRequest.model_validate(cohort_request(p, cohort.visits, 4))
    assert request.course is not None and request.course.week == 4
    served = record_columns([request.to_input()])
    one = cohort.patients[cohort.patients["patient_id"] == p["patient_id"]]
    trained = history_features(one, cohort.visits, [4]).iloc[0]
    for c in HISTORY_COLUMNS:
        assert _same(served[c][0], trained[c], c in CATEGORICAL_HISTORY), (c, served[c][0])
    assert served["landmark_week"][0] == 4.0
    # the history is the patient's, not the entry's: something moved by week 4
    assert served["attendance_share"][0] < 1.0
    assert served["alt_latest_vs_baseline"][0] != 1.0
    # the baseline record's labs are the entry panel's, not the latest (labs section)
    assert served["alt_u_l"][0] == pytest.approx(float(p["alt_u_l"]))


@pytest.mark.parametrize("week", [2, 8, 12])
def test_a_batch_of_courses_matches_the_training_table_at_every_landmark(cohort, week) -> None:  # type: ignore[no-untyped-def]
    patients = cohort.patients.head(60)
    inputs = [
        AssessRequest.model_validate(cohort_request(p, cohort.visits, week)).to_input()
        for _, p in patients.iterrows()
    ]
    served = record_columns(inputs)
    trained = history_features(patients, cohort.visits, [week]).reset_index(drop=True)
    for c in HISTORY_COLUMNS:
        wrong = [
            i for i in range(len(patients))
            if not _same(served[c][i], trained[c].iloc[i], c in CATEGORICAL_HISTORY)
        ]  # fmt: skip
        assert not wrong, (c, wrong[:5])


def _course(**changes: Any) -> dict[str, Any]:
    course: dict[str, Any] = {
        "treatment_start": "2026-01-05",
        "as_of": "2026-02-03",  # week 4
        "labs_date": "2026-02-02",
        "panels": [
            {"date": "2026-01-02", "alt": {"unit": "U/L", "value": 30}},
            {"date": "2026-01-20", "alt": {"unit": "U/L", "value": 41}},
        ],
        "visits": [
            {"date": "2026-01-13", "opioid_screen": "positive", "kratom_dose_g_day": 8},
            {"date": "2026-01-20", "opioid_screen": "negative"},
            {"date": "2026-01-27", "attended": False},
        ],
    }
    course.update(changes)
    return course


def _errors(course: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        AssessRequest.model_validate(patient(course=course))
    return info.value.errors()


@pytest.mark.parametrize(
    ("changes", "loc", "ge", "le"),
    [
        ({"as_of": "2026-01-01"}, ("course", "as_of"), "2026-01-05", "2035-12-30"),
        ({"labs_date": "2026-02-04"}, ("course", "labs_date"), "2025-12-06", "2026-02-03"),
        (  # a visit after the assessment's date
            {"visits": [{"date": "2026-01-13"}, {"date": "2026-02-10"}]},
            ("course", "visits", 1, "date"), "2026-01-19", "2026-02-03",
        ),
        (  # unsorted visits
            {"visits": [{"date": "2026-01-20"}, {"date": "2026-01-13"}]},
            ("course", "visits", 1, "date"), "2026-01-26", "2026-02-03",
        ),
        (  # two visits in the same week of treatment
            {"visits": [{"date": "2026-01-13"}, {"date": "2026-01-14"}]},
            ("course", "visits", 1, "date"), "2026-01-19", "2026-02-03",
        ),
        (  # a visit in week 0: the entry the record describes
            {"visits": [{"date": "2026-01-06"}]},
            ("course", "visits", 0, "date"), "2026-01-12", "2026-02-03",
        ),
        (  # a panel before the baseline window
            {"panels": [{"date": "2025-11-01", "alt": {"unit": "U/L", "value": 30}}]},
            ("course", "panels", 0, "date"), "2025-12-06", "2026-02-01",
        ),
        (  # a panel in the latest panel's week: the labs section is that panel
            {"panels": [{"date": "2026-02-02", "alt": {"unit": "U/L", "value": 30}}]},
            ("course", "panels", 0, "date"), "2025-12-06", "2026-02-01",
        ),
        (  # dose changes out of order
            {"kratom_doses": [
                {"date": "2026-01-20", "dose_g_day": 4}, {"date": "2026-01-10", "dose_g_day": 2},
            ]},
            ("course", "kratom_doses", 1, "date"), "2026-01-21", "2026-02-03",
        ),
    ],
)  # fmt: skip
def test_dates_out_of_place_are_refused_naming_the_field_and_range(changes, loc, ge, le) -> None:  # type: ignore[no-untyped-def]
    [error] = _errors(_course(**changes))
    assert error["loc"] == loc
    assert error["ctx"]["ge"] == ge and error["ctx"]["le"] == le
    assert f"from {ge} to {le}" in error["msg"]


def test_a_visit_not_attended_has_no_results_and_dates_are_strings() -> None:
    [error] = _errors(_course(visits=[{"date": "2026-01-13", "attended": False, "cows": 4}]))
    assert error["loc"] == ("course", "visits", 0)
    assert "leave out ['cows']" in error["msg"]
    [error] = _errors(_course(as_of=20260203))
    assert error["loc"] == ("course", "as_of") and "YYYY-MM-DD" in error["msg"]


def test_without_an_entry_panel_the_baseline_is_unknown_not_zero(models) -> None:  # type: ignore[no-untyped-def]
    request = AssessRequest.model_validate(patient(course=_course(panels=[])))
    sent = request.to_input()
    assert {"alt_u_l", "ast_u_l", "inr"} <= set(sent.entry_unknown)  # sent, but as later values
    [result] = assess(models, [sent], load_policy())
    said = {u.variable: u.text for u in result.unknown_inputs}
    assert any("not known at treatment entry" in said[c] for c in sent.entry_unknown if c in said)
    assert all("not known at treatment entry" not in t for c, t in said.items()
               if c not in sent.entry_unknown)  # fmt: skip
    columns = record_columns([sent])
    for c in ("alt_u_l", "ast_u_l", "alp_u_l", "bilirubin_mg_dl", "inr"):
        assert np.isnan(columns[c][0]), c  # entry values unknown (the labs are week 4's)
    assert np.isnan(columns["alt_latest_vs_baseline"][0])
    assert columns["landmark_week"][0] == 4.0


def test_a_course_in_week0_is_the_week0_assessment() -> None:
    body = patient()
    plain = record_columns([AssessRequest.model_validate(body).to_input()])
    course = {"treatment_start": "2026-01-05", "as_of": "2026-01-07"}
    dated = record_columns([AssessRequest.model_validate(patient(course=course)).to_input()])
    for c, v in plain.items():
        assert _same(v[0], dated[c][0], isinstance(v, list)), c


def test_answers_state_the_week_and_the_landmark_model(models, cohort) -> None:  # type: ignore[no-untyped-def]
    p = _a_rich_patient(cohort)
    bodies = [patient(), cohort_request(p, cohort.visits, 6), cohort_request(p, cohort.visits, 20)]
    requests = [AssessRequest.model_validate(b) for b in bodies]
    inputs = [r.to_input() for r in requests]
    results = assess(models, inputs, load_policy())
    lms = [int(w) for w in models.liver.bundle.features.landmarks_]
    expected = [(0, 0), (6, max(w for w in lms if w <= 6)), (20, max(lms))]
    for result, prediction, (week, landmark) in zip(
        results, predict(models, inputs, load_policy()), expected, strict=True
    ):
        for risk in [*result.risks, *prediction]:
            assert (risk.as_of_week, risk.landmark_week) == (week, landmark)
            assert risk.as_of.startswith(f"as of week {week} of treatment")
    assert "week-4 landmark model answered" in results[1].risks[0].as_of
    assert "the last landmark model (week 12) answered, with the history through week 20" in (
        results[2].risks[0].as_of
    )
    [liver, _] = explain(models, requests[1])
    assert (liver.as_of_week, liver.landmark_week) == (6, 4)
    # the history changes the answer (the week-6 landmark model reads it)
    assert results[1].risks[0].probability != results[0].risks[0].probability
