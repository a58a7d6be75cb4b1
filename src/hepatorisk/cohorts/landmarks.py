"""Landmark labels: who is still at risk at week L of treatment, and who has the event next.

A landmark model is asked at a visit in week L, from what is known by then, about the next H
weeks (van Houwelingen 2007). The rules (notes/landmark_contract.md) reuse the outcome
definitions of the entry labels so that L = 0 reproduces ``outcomes.liver_event_12w`` and
``outcomes.relapse_12w``:

* **Liver**: at risk at L when the entry labs are not already grade >= 2 (prevalent) and no
  attended draw in weeks 1..L showed a new-onset CTCAE grade >= 2 ALT/AST/ALP
  (``clinical.liver_events``); event = such a draw in weeks L+1..L+H.
* **Relapse**: at risk at L when no run of ``RUN_WEEKS`` consecutive positive-or-missing weekly
  screens completed in weeks 1..L (missing = not attended or no result; CTN-0094 / Luo 2024
  rule, as in the generator); event = the first such run completes in weeks L+1..L+H (a run that
  began before L counts).
* For L > 0 a patient is at risk only if they attended the week-L visit: a landmark assessment
  happens at a visit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hepatorisk.clinical.liver_events import ENZYMES, new_onset_elevation, prevalent_abnormality

__all__ = [
    "DEFAULT_HORIZON_WEEKS",
    "DEFAULT_LANDMARKS",
    "LAB_COLUMNS",
    "RUN_WEEKS",
    "ULN_COLUMNS",
    "landmark_labels",
    "positive_or_missing",
    "validate_landmarks",
    "week_grid",
]

DEFAULT_LANDMARKS: tuple[int, ...] = (0, 2, 4, 8, 12)
DEFAULT_HORIZON_WEEKS = 12
# Consecutive positive-or-missing weekly screens that make a relapse (Luo et al., JAMA Psychiatry
# 2024, the CTN-0094 harmonised definition; the generator's ``relapse_run_weeks``).
RUN_WEEKS = 4

LAB_COLUMNS = {"alt": "alt_u_l", "ast": "ast_u_l", "alp": "alp_u_l"}
ULN_COLUMNS = {"alt": "alt_uln_u_l", "ast": "ast_uln_u_l", "alp": "alp_uln_u_l"}

_VISIT_COLUMNS = ("patient_id", "week", "attended", "uds_opioid", *LAB_COLUMNS.values())


def validate_landmarks(landmarks: Sequence[int], horizon_weeks: int) -> tuple[int, ...]:
    """Sorted distinct non-negative whole weeks; a clear error otherwise."""
    weeks = tuple(sorted({int(w) for w in landmarks}))
    if not weeks or any(w < 0 for w in weeks) or any(int(w) != w for w in landmarks):
        raise ValueError(
            f"landmarks must be non-negative whole weeks of treatment, got {list(landmarks)!r}"
        )
    if int(horizon_weeks) < 1:
        raise ValueError(f"horizon_weeks must be >= 1 week, got {horizon_weeks!r}")
    return weeks


def positive_or_missing(uds: pd.Series, attended: pd.Series) -> np.ndarray:
    """A weekly screen that counts toward a relapse run: positive, or missing (not attended, no
    result, or recorded as 'missing')."""
    values = uds.astype("string")
    negative = values.eq("negative").fillna(False).to_numpy(dtype=bool)
    seen = attended.astype("boolean").fillna(False).to_numpy(dtype=bool)
    flags: np.ndarray = ~(negative & seen)
    return flags


def week_grid(
    visits: pd.DataFrame, ids: pd.Index, weeks: int, column: str, fill: float = np.nan
) -> np.ndarray:
    """(patients, weeks 0..weeks) float array of one visits column; absent cells get ``fill``.

    A patient's repeated week keeps its last row; weeks outside 0..weeks and patients not in
    ``ids`` are ignored. Built with numpy (the service builds one patient's course per
    request, where a pandas pivot cost milliseconds a call)."""
    distinct = ids if ids.is_unique else ids.unique()
    values = pd.to_numeric(visits[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    row = distinct.get_indexer(pd.Index(visits["patient_id"]))
    week = pd.to_numeric(visits["week"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = (row >= 0) & (week >= 0) & (week <= weeks) & (week == np.floor(week))
    cell = row[ok] * (weeks + 1) + week[ok].astype(np.int64)
    # the last row of each cell: the first occurrence in the reversed order
    _, first = np.unique(cell[::-1], return_index=True)
    last = len(cell) - 1 - first
    out = np.full(len(distinct) * (weeks + 1), np.nan)
    out[cell[last]] = values[ok][last]
    grid = out.reshape(len(distinct), weeks + 1)
    if distinct is not ids:
        grid = grid[distinct.get_indexer(ids)]
    return np.where(np.isnan(grid), fill, grid)


def landmark_labels(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    landmarks: Sequence[int] = DEFAULT_LANDMARKS,
    horizon_weeks: int = DEFAULT_HORIZON_WEEKS,
) -> pd.DataFrame:
    """One row per patient and landmark: at-risk flags and next-``horizon_weeks`` events.

    Columns: patient_id, landmark_week (int), liver_at_risk (bool), liver_event_next (boolean,
    <NA> when not at risk), relapse_at_risk (bool), relapse_event_next (boolean, <NA> when not
    at risk). Weeks without a visits row count as not attended (a missing screen)."""
    weeks_l = validate_landmarks(landmarks, horizon_weeks)
    missing = [c for c in _VISIT_COLUMNS if c not in visits.columns]
    if missing:
        raise ValueError(f"visits table lacks column(s) {missing}; needs {list(_VISIT_COLUMNS)}")
    need = ["patient_id", *LAB_COLUMNS.values(), *ULN_COLUMNS.values()]
    absent = [c for c in need if c not in patients.columns]
    if absent:
        raise ValueError(f"patients table lacks column(s) {absent}; needs {need}")
    ids = pd.Index(patients["patient_id"].astype(str), name="patient_id")
    last = max(weeks_l) + int(horizon_weeks)
    v = visits.loc[:, list(_VISIT_COLUMNS)].copy()
    v["patient_id"] = v["patient_id"].astype(str)
    v = v[(v["week"] >= 0) & (v["week"] <= last)]
    v["attended"] = v["attended"].astype("boolean").fillna(False).astype(bool)
    v["bad"] = positive_or_missing(v["uds_opioid"], v["attended"]).astype(float)
    attended = week_grid(v.assign(att=v["attended"].astype(float)), ids, last, "att", 0.0) > 0
    bad = week_grid(v, ids, last, "bad", 1.0) > 0

    baseline = {
        t: patients[c].to_numpy(dtype=float, na_value=np.nan) for t, c in LAB_COLUMNS.items()
    }
    uln = {t: patients[ULN_COLUMNS[t]].to_numpy(dtype=float, na_value=np.nan) for t in ENZYMES}
    drawn = v[v["attended"]]
    values = {t: week_grid(drawn, ids, last, c) for t, c in LAB_COLUMNS.items()}
    onset = new_onset_elevation(values, baseline, uln)  # (patients, weeks 0..last)
    onset[:, 0] = False  # week 0 is the baseline itself
    prevalent = prevalent_abnormality(baseline, uln)
    first_onset = np.where(onset.any(axis=1), onset.argmax(axis=1), np.inf)

    run = np.zeros(len(ids), dtype=int)
    first_run = np.full(len(ids), np.inf)
    for week in range(1, last + 1):
        run = np.where(bad[:, week], run + 1, 0)
        first_run = np.where(np.isinf(first_run) & (run >= RUN_WEEKS), week, first_run)

    rows = []
    for lw in weeks_l:
        visit = attended[:, lw] if lw > 0 else np.ones(len(ids), dtype=bool)
        end = lw + int(horizon_weeks)
        liver_risk = ~prevalent & (first_onset > lw) & visit
        relapse_risk = (first_run > lw) & visit
        liver_next = pd.array(first_onset <= end, dtype="boolean")
        relapse_next = pd.array(first_run <= end, dtype="boolean")
        liver_next[~liver_risk] = pd.NA
        relapse_next[~relapse_risk] = pd.NA
        rows.append(
            pd.DataFrame(
                {
                    "patient_id": ids.to_numpy(),
                    "landmark_week": np.full(len(ids), lw, dtype=int),
                    "liver_at_risk": liver_risk,
                    "liver_event_next": liver_next,
                    "relapse_at_risk": relapse_risk,
                    "relapse_event_next": relapse_next,
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["patient_id"] = out["patient_id"].astype("string")
    return out
