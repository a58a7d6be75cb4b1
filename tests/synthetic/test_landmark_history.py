"""History features known by week L (cohorts/history.py): week 0 is fixed by the baseline
record alone, and a hand-made visit sequence gives the values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.history import (
    CATEGORICAL_HISTORY,
    HISTORY_COLUMNS,
    LABS,
    at_entry,
    grids_from_rows,
    history_features,
    landmark_features,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"


def test_week0_history_is_the_entry_constant_and_never_unknown() -> None:
    patients = pd.read_parquet(SAMPLE / "patients.parquet")
    visits = pd.read_parquet(SAMPLE / "visits.parquet")
    history = history_features(patients, visits, (0, 4))
    week0 = history[history["landmark_week"] == 0]
    entry = at_entry(len(week0))
    for column in HISTORY_COLUMNS:
        got = week0[column].to_numpy(dtype=object)
        assert (got == entry[column]).all(), column
    # a baseline with unknown values (and no visits at all) still gives the same week-0 history
    blank = patients.head(3).copy()
    for column in ("ast_u_l", "cows_entry", "craving_entry", "kratom_dose_g_day"):
        blank[column] = np.nan
    empty = visits.iloc[:0]
    alone = history_features(blank, empty, (0,))
    assert not alone[list(HISTORY_COLUMNS)].isna().any().any()
    # later landmarks read the visits: some patients' screens and labs have moved
    week4 = history[history["landmark_week"] == 4]
    assert (week4["uds_last"] != "none").all()
    assert week4["alt_latest_vs_baseline"].std() > 0


def _patient() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "patient_id": "A",
                "alt_u_l": 20.0,
                "ast_u_l": 25.0,
                "alp_u_l": 80.0,
                "bilirubin_mg_dl": 0.5,
                "kratom_dose_g_day": 4.0,
                "cows_entry": 10,
                "craving_entry": 50.0,
            }
        ]
    )


def test_hand_made_history_at_week_4() -> None:
    screens = ["negative", "positive", "missing", "positive"]  # weeks 1..4 (week 3 missed)
    rows = []
    for week in range(1, 5):
        attended = week != 3
        drawn = attended and week in (2, 4)
        rows.append(
            {
                "patient_id": "A",
                "week": week,
                "attended": attended,
                "uds_opioid": screens[week - 1],
                "kratom_dose_g": {1: 4.2, 2: 3.9, 4: 6.0}.get(week, np.nan),
                "cows": {1: 9, 2: 8, 4: 6}.get(week),
                "craving": {1: 45.0, 2: 40.0, 4: 30.0}.get(week, np.nan),
                "alt_u_l": {2: 30.0, 4: 40.0}.get(week, np.nan) if drawn else np.nan,
                "ast_u_l": 25.0 if drawn else np.nan,
                "alp_u_l": 80.0 if drawn else np.nan,
                "bilirubin_mg_dl": 0.5 if drawn else np.nan,
            }
        )
    visits = pd.DataFrame(rows)
    visits["cows"] = visits["cows"].astype("Int64")
    row = history_features(_patient(), visits, (4,)).iloc[0]
    assert row["landmark_week"] == 4
    assert row["alt_latest_vs_baseline"] == pytest.approx(2.0)
    assert row["alt_peak_vs_baseline"] == pytest.approx(2.0)
    # least squares of (0, 1), (2, 1.5), (4, 2): slope 0.25 per week
    assert row["alt_slope_per_week"] == pytest.approx(0.25)
    assert row["ast_slope_per_week"] == pytest.approx(0.0)
    assert row["liver_panel_age_weeks"] == 0
    assert row["kratom_dose_vs_entry"] == pytest.approx(1.5)
    assert row["kratom_dose_changes"] == 1 and row["weeks_at_current_dose"] == 0
    assert row["uds_positive_so_far"] == 2 and row["uds_missing_so_far"] == 1
    assert row["uds_last"] == "positive" and row["uds_before_last"] == "missing"
    assert row["uds_bad_run"] == 3
    assert row["attendance_share"] == pytest.approx(4 / 5)
    assert row["cows_change"] == -4 and row["craving_change"] == pytest.approx(-20.0)
    at2 = history_features(_patient(), visits, (2,)).iloc[0]
    assert at2["uds_last"] == "positive" and at2["uds_before_last"] == "negative"
    assert at2["kratom_dose_changes"] == 0 and at2["weeks_at_current_dose"] == 2


def test_visits_held_as_rows_give_the_tables_history_at_every_landmark() -> None:
    """The service builds the weekly grids from a course's rows (``grids_from_rows``), training
    from the visits table (``history_grids``): the same features at every landmark, including
    values planted in weeks not attended (never read), repeated weeks (the last row counts),
    rows beyond the landmark and text where a number belongs (unknown)."""
    patients = pd.read_parquet(SAMPLE / "patients.parquet").head(300)
    visits = pd.read_parquet(SAMPLE / "visits.parquet")
    visits = visits[visits["patient_id"].isin(patients["patient_id"])].copy()
    rng = np.random.default_rng(5)
    absent = ~visits["attended"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    visits.loc[absent, "alt_u_l"] = 999.0  # a value of a week not attended
    repeat = visits.sample(40, random_state=1).assign(attended=True, uds_opioid="positive")
    repeat["kratom_dose_g"] = rng.uniform(0, 20, len(repeat))
    visits = pd.concat([visits, repeat], ignore_index=True)  # later rows of the same weeks
    weeks = (0, 2, 4, 8, 12)
    table = history_features(patients, visits, weeks)
    rows: dict[str, list[dict[str, object]]] = {str(p): [] for p in patients["patient_id"]}
    for record in visits.to_dict("records"):
        rows[str(record["patient_id"])].append(record)
    baseline = {
        c: patients[c].to_numpy(dtype=float)
        for c in (*LABS.values(), "kratom_dose_g_day", "cows_entry", "craving_entry")
    }
    grids = grids_from_rows(list(rows.values()), baseline, max(weeks))
    for week in weeks:
        got = landmark_features(grids, week)
        expected = table[table["landmark_week"] == week]
        for column in HISTORY_COLUMNS:
            want = expected[column].to_numpy(
                dtype=object if column in CATEGORICAL_HISTORY else float
            )
            if column in CATEGORICAL_HISTORY:
                assert (got[column] == want).all(), (week, column)
            else:
                np.testing.assert_array_equal(got[column], want, err_msg=f"{week} {column}")
