"""Landmark labels (notes/landmark_contract.md): the week-0 landmark reproduces the entry labels
of the committed sample, and hand-made visit sequences pin the at-risk and next-event rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.landmarks import landmark_labels, week_grid

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"


def test_week0_equals_entry_outcomes_on_the_sample() -> None:
    patients = pd.read_parquet(SAMPLE / "patients.parquet")
    visits = pd.read_parquet(SAMPLE / "visits.parquet")
    outcomes = pd.read_parquet(SAMPLE / "outcomes.parquet").set_index("patient_id")
    labels = landmark_labels(patients, visits)
    assert sorted(labels["landmark_week"].unique()) == [0, 2, 4, 8, 12]
    week0 = labels[labels["landmark_week"] == 0].set_index("patient_id")
    week0 = week0.reindex(outcomes.index)
    liver = week0["liver_event_next"]
    truth = outcomes["liver_event_12w"]
    assert liver.isna().equals(truth.isna())
    assert (liver.dropna() == truth.dropna()).all()
    assert week0["liver_at_risk"].to_numpy().tolist() == (~truth.isna()).to_numpy().tolist()
    assert (week0["relapse_event_next"] == outcomes["relapse_12w"]).all()
    assert week0["relapse_at_risk"].all()
    # later landmarks shrink the risk set and never label a patient not at risk
    for kind in ("liver", "relapse"):
        at_risk = labels.groupby("landmark_week")[f"{kind}_at_risk"].sum()
        assert at_risk.is_monotonic_decreasing
        assert labels.loc[~labels[f"{kind}_at_risk"], f"{kind}_event_next"].isna().all()
        assert labels.loc[labels[f"{kind}_at_risk"], f"{kind}_event_next"].notna().all()


def _patient(pid: str, alt: float = 20.0, uln: float = 40.0) -> dict[str, object]:
    return {
        "patient_id": pid,
        "alt_u_l": alt,
        "ast_u_l": 20.0,
        "alp_u_l": 80.0,
        "alt_uln_u_l": uln,
        "ast_uln_u_l": 40.0,
        "alp_uln_u_l": 120.0,
    }


def _visits(pid: str, screens: str, alt: dict[int, float] | None = None) -> pd.DataFrame:
    """``screens``: one letter per week 0..n: n negative, p positive, m missed visit."""
    alt = alt or {}
    rows = []
    for week, s in enumerate(screens):
        attended = s != "m"
        drawn = attended and week in alt
        rows.append(
            {
                "patient_id": pid,
                "week": week,
                "attended": attended,
                "uds_opioid": {"n": "negative", "p": "positive", "m": "missing"}[s],
                "alt_u_l": alt[week] if drawn else np.nan,
                "ast_u_l": 20.0 if drawn else np.nan,
                "alp_u_l": 80.0 if drawn else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _labels(patients: list[dict[str, object]], visits: list[pd.DataFrame]) -> pd.DataFrame:
    return landmark_labels(pd.DataFrame(patients), pd.concat(visits, ignore_index=True))


def _yes(value: object) -> bool:
    return not pd.isna(value) and bool(value)


def _no(value: object) -> bool:
    return not pd.isna(value) and not bool(value)


def _at(labels: pd.DataFrame, pid: str, week: int) -> pd.Series:
    row = labels[(labels["patient_id"] == pid) & (labels["landmark_week"] == week)]
    assert len(row) == 1
    return row.iloc[0]


def test_relapse_run_crossing_the_landmark_counts_toward_the_next_event() -> None:
    # weeks 1..4 negative, weeks 5-6 positive, week 7 missed, week 8 positive: run ends at 8
    crossing = _visits("A", "n" + "nnnn" + "ppmp" + "n" * 16)
    # the same first four weeks, then the run of three stops with a negative at week 8
    broken = _visits("B", "n" + "nnnn" + "ppmn" + "n" * 16)
    labels = _labels([_patient("A"), _patient("B")], [crossing, broken])
    a4 = _at(labels, "A", 4)
    assert a4["relapse_at_risk"] and _yes(a4["relapse_event_next"])
    assert _no(_at(labels, "B", 4)["relapse_event_next"])
    # at week 8 patient A's run has completed (weeks 5..8): no longer at risk
    assert not _at(labels, "A", 8)["relapse_at_risk"]
    assert pd.isna(_at(labels, "A", 8)["relapse_event_next"])
    # a run that began before L and completes after it is an event at L
    late = _visits("C", "n" + "n" * 6 + "pp" + "pp" + "n" * 14)  # positives weeks 7..10
    lab_c = _labels([_patient("C")], [late])
    c8 = _at(lab_c, "C", 8)
    assert c8["relapse_at_risk"] and _yes(c8["relapse_event_next"])


def test_missed_landmark_visit_is_not_at_risk() -> None:
    missed = _visits("D", "n" + "nnm" + "n" * 21)  # week 3 missed only
    labels = _labels([_patient("D")], [_visits("D", "n" * 25)])
    assert _at(labels, "D", 2)["relapse_at_risk"]
    labels = _labels([_patient("D")], [_visits("D", "nnm" + "n" * 22)])  # week 2 missed
    d2 = _at(labels, "D", 2)
    assert not d2["relapse_at_risk"] and not d2["liver_at_risk"]
    assert _at(labels, "D", 0)["relapse_at_risk"]
    assert _at(_labels([_patient("D")], [missed]), "D", 4)["liver_at_risk"]


def test_liver_event_before_landmark_leaves_the_risk_set_and_after_it_is_the_event() -> None:
    # ALT 150 (> 3x ULN 40) at week 4
    visits = _visits("E", "n" * 25, alt={0: 20.0, 2: 25.0, 4: 150.0, 8: 30.0, 12: 30.0, 24: 30.0})
    labels = _labels([_patient("E")], [visits])
    assert _yes(_at(labels, "E", 0)["liver_event_next"])
    assert _yes(_at(labels, "E", 2)["liver_event_next"])
    e4 = _at(labels, "E", 4)
    assert not e4["liver_at_risk"] and pd.isna(e4["liver_event_next"])
    assert not _at(labels, "E", 8)["liver_at_risk"]
    # a week-24 elevation is beyond the 12-week horizon from week 8, inside it from week 12
    late = _visits("F", "n" * 25, alt={0: 20.0, 8: 20.0, 12: 20.0, 24: 200.0})
    labels = _labels([_patient("F")], [late])
    assert _no(_at(labels, "F", 8)["liver_event_next"])
    assert _yes(_at(labels, "F", 12)["liver_event_next"])
    # an elevation at a missed visit does not exist: no draw, no event
    unseen = _visits("G", "n" * 4 + "m" + "n" * 20, alt={0: 20.0, 4: 500.0})
    assert _no(_at(_labels([_patient("G")], [unseen]), "G", 0)["liver_event_next"])


def test_prevalent_and_abnormal_baseline() -> None:
    # prevalent: entry ALT 130 > 3x ULN 40 -> never at risk, labels <NA>
    prevalent = _visits("P", "n" * 25, alt={0: 130.0, 2: 130.0})
    # abnormal but not prevalent baseline: ALT 80 (2x ULN) is the reference; 200 < 3x80 = 240
    abnormal = _visits("Q", "n" * 25, alt={0: 80.0, 2: 200.0, 4: 250.0})
    labels = _labels(
        [_patient("P", alt=130.0), _patient("Q", alt=80.0)],
        [prevalent, abnormal],
    )
    for week in (0, 2, 4, 8, 12):
        p = _at(labels, "P", week)
        assert not p["liver_at_risk"] and pd.isna(p["liver_event_next"])
        assert p["relapse_at_risk"]
    assert _yes(_at(labels, "Q", 0)["liver_event_next"])  # 250 > 240 at week 4
    assert _at(labels, "Q", 2)["liver_at_risk"]  # 200 at week 2 is not new onset
    assert not _at(labels, "Q", 4)["liver_at_risk"]


def test_bad_landmarks_are_refused() -> None:
    patients = pd.DataFrame([_patient("A")])
    with pytest.raises(ValueError, match="landmarks must be non-negative"):
        landmark_labels(patients, _visits("A", "n" * 25), landmarks=(-2, 4))
    with pytest.raises(ValueError, match="visits table lacks"):
        landmark_labels(patients, _visits("A", "n" * 25).drop(columns="uds_opioid"))


def test_week_grid_equals_the_pandas_pivot_it_replaced() -> None:
    """``week_grid`` (numpy, issue 20) against the pivot it replaced: repeated weeks keep the
    last row, weeks outside the grid and unknown patients are ignored, missing values get the
    fill, repeated ids get the same row."""
    rng = np.random.default_rng(5)
    n = 400
    visits = pd.DataFrame(
        {
            "patient_id": rng.choice([f"P{i}" for i in range(30)], n),
            "week": rng.integers(-2, 16, n),
            "value": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )
    ids = pd.Index([f"P{i}" for i in range(0, 40, 2)] + ["P4"], name="patient_id")

    def pivot(fill: float) -> np.ndarray:
        table = (
            visits.drop_duplicates(["patient_id", "week"], keep="last")
            .pivot(index="patient_id", columns="week", values="value")
            .reindex(index=ids, columns=range(12 + 1))
        )
        out = table.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(out), fill, out)

    for fill in (np.nan, 0.0, 3.0):
        np.testing.assert_array_equal(week_grid(visits, ids, 12, "value", fill), pivot(fill))
