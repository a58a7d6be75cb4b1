"""What is known about a patient by week L of treatment: the landmark models' history inputs.

One module for training (every patient at every landmark, from the visits table) and for the
service (a record without history is a week-0 assessment: ``at_entry``), so that no second
implementation of a history feature exists.

Every history column is defined so that at week 0 it is fixed by the fact that nothing has
happened yet: the latest lab is the baseline (ratio 1, slope 0, age 0 weeks), counts and runs are
0, no screen yet ('none'), attendance 1 (the entry visit), the dose is the entry dose (ratio 1),
withdrawal and craving have not changed (0). So a week-0 history is never unknown, whatever the
baseline record leaves unknown. Quantities that mix the baseline with the history (latest ALT as
a multiple of ULN = ``alt_u_l * alt_latest_vs_baseline / alt_uln_u_l``, current dose, weeks since
kratom start, latest COWS) are derived features of the pipeline file, computed after unknown
baseline values are completed, so they follow the completion (``modeling.unknowns``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hepatorisk.cohorts.landmarks import positive_or_missing, validate_landmarks, week_grid

__all__ = [
    "CATEGORICAL_HISTORY",
    "DOSE_CHANGE_RATIO",
    "HISTORY_COLUMNS",
    "HISTORY_LABELS",
    "LABS",
    "SCREEN_LEVELS",
    "HistoryGrids",
    "at_entry",
    "grids_from_rows",
    "history_features",
    "history_grids",
    "landmark_features",
]

#: labs followed over time: record column of the value (the baseline is the patients column)
LABS: dict[str, str] = {
    "alt": "alt_u_l",
    "ast": "ast_u_l",
    "alp": "alp_u_l",
    "bilirubin": "bilirubin_mg_dl",
}
#: a reported weekly dose this far (ratio) from the level since the last change is a change; the
#: synthetic cohort's weekly report noise is 0.15 on the log scale (2.2 SD) and its dose increases
#: are x1.5, so a single noisy report rarely counts and an increase mostly does. Project choice.
DOSE_CHANGE_RATIO = 1.4
#: last screens: what a week's opioid urine screen was, 'none' before week 1
SCREEN_LEVELS = ("none", "negative", "positive", "missing")

_LAB_FEATURES = ("latest_vs_baseline", "peak_vs_baseline", "slope_per_week")

HISTORY_LABELS: dict[str, str] = {
    "landmark_week": "week of treatment of the assessment (landmark)",
    **{
        f"{lab}_latest_vs_baseline": f"latest {lab.upper() if lab != 'bilirubin' else lab} "
        "as a multiple of its baseline"
        for lab in LABS
    },
    **{
        f"{lab}_peak_vs_baseline": f"highest {lab.upper() if lab != 'bilirubin' else lab} "
        "so far as a multiple of its baseline"
        for lab in LABS
    },
    **{
        f"{lab}_slope_per_week": f"trend of {lab.upper() if lab != 'bilirubin' else lab} "
        "(multiple of baseline per week, over the draws so far)"
        for lab in LABS
    },
    "liver_panel_age_weeks": "weeks since the latest liver panel",
    "kratom_dose_vs_entry": "latest reported kratom dose as a multiple of the entry dose",
    "weeks_at_current_dose": "weeks of treatment since the last kratom dose change",
    "kratom_dose_changes": "kratom dose changes during treatment so far",
    "uds_positive_so_far": "opioid-positive weekly urine screens so far",
    "uds_missing_so_far": "missing weekly urine screens so far",
    "uds_last": "last weekly urine screen",
    "uds_before_last": "weekly urine screen before the last",
    "uds_bad_run": "current run of positive-or-missing weekly screens (weeks)",
    "attendance_share": "share of treatment weeks attended so far",
    "cows_change": "change in withdrawal score (COWS) since entry, latest visit",
    "craving_change": "change in craving (0-100) since entry, latest visit",
}
HISTORY_COLUMNS: tuple[str, ...] = tuple(HISTORY_LABELS)
#: the history columns holding text levels (the others are numbers)
CATEGORICAL_HISTORY = ("uds_last", "uds_before_last")


def at_entry(n: int) -> dict[str, np.ndarray]:
    """The history columns of ``n`` week-0 assessments (nothing has happened yet)."""
    values: dict[str, object] = {
        "landmark_week": 0.0,
        **{f"{lab}_latest_vs_baseline": 1.0 for lab in LABS},
        **{f"{lab}_peak_vs_baseline": 1.0 for lab in LABS},
        **{f"{lab}_slope_per_week": 0.0 for lab in LABS},
        "liver_panel_age_weeks": 0.0,
        "kratom_dose_vs_entry": 1.0,
        "weeks_at_current_dose": 0.0,
        "kratom_dose_changes": 0.0,
        "uds_positive_so_far": 0.0,
        "uds_missing_so_far": 0.0,
        "uds_last": "none",
        "uds_before_last": "none",
        "uds_bad_run": 0.0,
        "attendance_share": 1.0,
        "cows_change": 0.0,
        "craving_change": 0.0,
    }
    return {
        k: np.full(n, v, dtype=object if k in CATEGORICAL_HISTORY else float)
        for k, v in values.items()
    }


@dataclass(frozen=True)
class HistoryGrids:
    """What the history inputs read, as weekly grids (patients x weeks 0..last): week 0 is
    the entry record. Built from the cohort's tables (``history_grids``) or from courses held
    as rows (``grids_from_rows``, the service: no pandas on a request's path); the features
    are the same numpy either way (``landmark_features``)."""

    attended: np.ndarray  # bool; week 0 True (the entry visit); a week without a row False
    status: np.ndarray  # int screen codes: 0 none (week 0), 1 negative, 2 positive, 3 missing
    labs: dict[str, np.ndarray]  # lab -> values of attended weeks (NaN: not drawn); week 0 baseline
    dose: np.ndarray  # reported kratom dose of attended weeks; week 0 the entry dose
    cows: np.ndarray
    craving: np.ndarray
    entry: dict[str, np.ndarray]  # dose, cows, craving at entry

    def rows(self, index: np.ndarray) -> HistoryGrids:
        """The grids of some patients only."""
        return HistoryGrids(
            self.attended[index], self.status[index],
            {k: v[index] for k, v in self.labs.items()},
            self.dose[index], self.cows[index], self.craving[index],
            {k: v[index] for k, v in self.entry.items()},
        )  # fmt: skip


def history_features(
    patients: pd.DataFrame, visits: pd.DataFrame, landmarks: Sequence[int]
) -> pd.DataFrame:
    """One row per patient and landmark: patient_id and ``HISTORY_COLUMNS`` from the baseline
    record and every visits row with week <= L (week L included; week 0 of the visits table is
    not read: the baseline record is the entry visit). A week without a visits row counts as not
    attended. Categorical columns are pandas strings, the others floats."""
    weeks_l = validate_landmarks(landmarks, 1)
    ids = pd.Index(patients["patient_id"].astype(str), name="patient_id")
    grids = history_grids(patients, visits, max(weeks_l))
    rows = []
    for lw in weeks_l:
        out = {"patient_id": ids.to_numpy(), **landmark_features(grids, lw)}
        rows.append(pd.DataFrame(out))
    frame = pd.concat(rows, ignore_index=True)
    frame["patient_id"] = frame["patient_id"].astype("string")
    for c in CATEGORICAL_HISTORY:
        frame[c] = frame[c].astype("string")
    for c in HISTORY_COLUMNS:  # numeric inputs are float64 (a served record may hold NaN)
        if c not in CATEGORICAL_HISTORY:
            frame[c] = frame[c].astype("float64")
    return frame.loc[:, ["patient_id", *HISTORY_COLUMNS]]


def history_grids(patients: pd.DataFrame, visits: pd.DataFrame, last: int) -> HistoryGrids:
    """The grids of weeks 0..``last`` from the cohort's patients and visits tables."""
    need = ["patient_id", "week", "attended", "uds_opioid", "kratom_dose_g", "cows", "craving"]
    absent = [c for c in [*need, *LABS.values()] if c not in visits.columns]
    if absent:
        raise ValueError(f"visits table lacks column(s) {absent}")
    base_need = ["patient_id", *LABS.values(), "kratom_dose_g_day", "cows_entry", "craving_entry"]
    absent = [c for c in base_need if c not in patients.columns]
    if absent:
        raise ValueError(f"patients table lacks column(s) {absent}")
    ids = pd.Index(patients["patient_id"].astype(str), name="patient_id")
    v = visits.copy()
    v["patient_id"] = v["patient_id"].astype(str)
    v = v[(v["week"] >= 1) & (v["week"] <= last)]
    v["attended"] = v["attended"].astype("boolean").fillna(False).astype(bool)
    seen = v[v["attended"]]
    attended = week_grid(v.assign(a=v["attended"].astype(float)), ids, last, "a", 0.0) > 0
    attended[:, 0] = True
    entry = {
        "dose": _col(patients, "kratom_dose_g_day"),
        "cows": _col(patients, "cows_entry"),
        "craving": _col(patients, "craving_entry"),
    }

    def grid(column: str, week0: np.ndarray) -> np.ndarray:
        g = week_grid(seen, ids, last, column)
        g[:, 0] = week0
        return g

    return HistoryGrids(
        attended=attended,
        status=_screen_codes(v, ids, last),
        labs={lab: grid(column, _col(patients, column)) for lab, column in LABS.items()},
        dose=grid("kratom_dose_g", entry["dose"]),
        cows=grid("cows", entry["cows"]),
        craving=grid("craving", entry["craving"]),
        entry=entry,
    )


def grids_from_rows(
    courses: Sequence[Sequence[Mapping[str, object]]],
    baseline: Mapping[str, np.ndarray],
    last: int,
) -> HistoryGrids:
    """The grids of weeks 0..``last`` of patients whose visits are rows (``week``,
    ``attended``, ``uds_opioid``, ``kratom_dose_g``, ``cows``, ``craving`` and the ``LABS``
    columns; a missing key or None is unknown), by the rules of ``history_grids``: a repeated
    week keeps its last row, values are read from attended weeks, and a screen counts as
    negative only when attended and 'negative'. ``baseline``: the entry record's columns
    (``LABS`` values, ``kratom_dose_g_day``, ``cows_entry``, ``craving_entry``; NaN unknown)."""
    n, width = len(courses), last + 1

    def empty() -> np.ndarray:
        return np.full((n, width), np.nan)

    attended = np.zeros((n, width), dtype=bool)
    status = np.full((n, width), 3, dtype=int)
    labs = {lab: empty() for lab in LABS}
    dose, cows, craving = empty(), empty(), empty()
    for i, rows in enumerate(courses):
        for row in rows:
            week = row.get("week")
            if not isinstance(week, int | np.integer) or not 1 <= week <= last:
                continue
            seen = bool(row.get("attended"))
            attended[i, week] = seen
            screen = row.get("uds_opioid")
            status[i, week] = (
                1 if seen and screen == "negative" else 2 if seen and screen == "positive" else 3
            )
            if not seen:
                continue
            for lab, column in LABS.items():
                labs[lab][i, week] = _number(row.get(column))
            dose[i, week] = _number(row.get("kratom_dose_g"))
            cows[i, week] = _number(row.get("cows"))
            craving[i, week] = _number(row.get("craving"))
    attended[:, 0] = True
    status[:, 0] = 0
    entry = {
        "dose": np.asarray(baseline["kratom_dose_g_day"], dtype=float),
        "cows": np.asarray(baseline["cows_entry"], dtype=float),
        "craving": np.asarray(baseline["craving_entry"], dtype=float),
    }
    for lab, column in LABS.items():
        labs[lab][:, 0] = np.asarray(baseline[column], dtype=float)
    dose[:, 0], cows[:, 0], craving[:, 0] = entry["dose"], entry["cows"], entry["craving"]
    return HistoryGrids(attended, status, labs, dose, cows, craving, entry)


def landmark_features(grids: HistoryGrids, lw: int) -> dict[str, np.ndarray]:
    """``HISTORY_COLUMNS`` of every patient of ``grids`` at landmark week ``lw`` (numbers as
    floats, the screen levels as str objects)."""
    n = grids.attended.shape[0]
    out: dict[str, np.ndarray] = {"landmark_week": np.full(n, float(lw))}
    for lab in LABS:
        out |= _lab_features(lab, grids.labs[lab][:, : lw + 1], lw)
    panel = grids.labs["alt"][:, : lw + 1]
    out["liver_panel_age_weeks"] = (lw - _last_index(np.isfinite(panel), default=0)).astype(float)
    out |= _dose_features(grids.dose[:, : lw + 1], grids.attended[:, : lw + 1], lw)
    out |= _screen_features(grids.status[:, : lw + 1], lw)
    out["attendance_share"] = grids.attended[:, : lw + 1].mean(axis=1)
    for name, g in (("cows", grids.cows), ("craving", grids.craving)):
        g = g[:, : lw + 1]
        at = _last_index(np.isfinite(g[:, 1:]), default=-1) + 1  # 0: entry only
        latest = g[np.arange(n), at]
        out[f"{name}_change"] = np.where(at == 0, 0.0, latest - grids.entry[name])
    return {c: out[c] for c in HISTORY_COLUMNS}


def _number(value: object) -> float:
    """A row's value as a float (None, text or NaN: unknown)."""
    if value is None or isinstance(value, str | bool):
        return np.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.nan


def _col(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _last_index(mask: np.ndarray, default: int) -> np.ndarray:
    """Per row, the last column where ``mask`` holds (``default`` where none does)."""
    width = mask.shape[1]
    if width == 0:
        return np.full(mask.shape[0], default)
    last = width - 1 - np.argmax(mask[:, ::-1], axis=1)
    out: np.ndarray = np.where(mask.any(axis=1), last, default)
    return out


def _lab_features(lab: str, g: np.ndarray, lw: int) -> Mapping[str, np.ndarray]:
    """Latest and peak value over the baseline, and the least-squares slope of value/baseline
    per week over the draws so far (0 with fewer than two draws). Ratio 1 while the latest draw
    is the baseline itself (week 0), whether or not the baseline value is known."""
    n = g.shape[0]
    baseline = g[:, 0]
    drawn = np.isfinite(g)
    post = drawn.copy()
    post[:, 0] = False
    at = _last_index(post, default=0)
    latest = g[np.arange(n), at]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = g / baseline[:, None]
        latest_ratio = np.where(at == 0, 1.0, latest / baseline)
        peak = np.where(
            post.any(axis=1),
            np.nanmax(np.where(drawn, ratio, -np.inf), axis=1),
            1.0,
        )
        peak = np.where(np.isfinite(peak), np.maximum(peak, 1.0), np.nan)
        weeks = np.arange(lw + 1, dtype=float)[None, :]
        ok = drawn & np.isfinite(ratio)
        k = ok.sum(axis=1)
        wm = np.where(ok, weeks, 0).sum(axis=1) / np.maximum(k, 1)
        rm = np.where(ok, ratio, 0).sum(axis=1) / np.maximum(k, 1)
        dw = np.where(ok, weeks - wm[:, None], 0.0)
        dr = np.where(ok, ratio - rm[:, None], 0.0)
        sxx = (dw**2).sum(axis=1)
        slope = np.where(
            (k >= 2) & (sxx > 0), (dw * dr).sum(axis=1) / np.where(sxx > 0, sxx, 1), 0.0
        )
    no_baseline_later = ~np.isfinite(baseline) & post.any(axis=1)
    slope = np.where(no_baseline_later, np.nan, slope)
    return {
        f"{lab}_latest_vs_baseline": latest_ratio,
        f"{lab}_peak_vs_baseline": peak,
        f"{lab}_slope_per_week": slope,
    }


def _dose_features(dose: np.ndarray, attended: np.ndarray, lw: int) -> Mapping[str, np.ndarray]:
    """Latest reported dose over the entry dose (1 for a non-user at entry, who has no dose to
    scale), weeks since the last change and the number of changes (``DOSE_CHANGE_RATIO``, or a
    switch between none and some)."""
    n = dose.shape[0]
    entry = dose[:, 0]
    level = entry.copy()
    changes = np.zeros(n)
    last_change = np.zeros(n)
    latest = entry.copy()
    for week in range(1, lw + 1):
        d = dose[:, week]
        ok = attended[:, week] & np.isfinite(d)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = d / level
        switch = (d > 0) != (level > 0)
        jump = (
            (level > 0) & (d > 0) & ((ratio > DOSE_CHANGE_RATIO) | (ratio < 1 / DOSE_CHANGE_RATIO))
        )
        changed = ok & np.isfinite(level) & (switch | jump)
        changes += changed
        last_change = np.where(changed, week, last_change)
        level = np.where(changed | (ok & ~np.isfinite(level)), d, level)
        latest = np.where(ok, d, latest)
    reported = (attended[:, 1:] & np.isfinite(dose[:, 1:])).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        vs_entry = np.where(entry > 0, latest / entry, np.where(np.isfinite(entry), 1.0, np.nan))
    vs_entry = np.where(reported, vs_entry, 1.0)  # the latest is the entry dose itself
    return {
        "kratom_dose_vs_entry": vs_entry,
        "weeks_at_current_dose": lw - last_change,
        "kratom_dose_changes": changes,
    }


def _screen_codes(v: pd.DataFrame, ids: pd.Index, last: int) -> np.ndarray:
    """(patients, weeks 0..last) codes: 0 before week 1, 1 negative, 2 positive, 3 missing."""
    bad = positive_or_missing(v["uds_opioid"], v["attended"])
    positive = v["uds_opioid"].astype("string").eq("positive").fillna(False).to_numpy(dtype=bool)
    code = np.where(~bad, 1.0, np.where(positive & v["attended"].to_numpy(dtype=bool), 2.0, 3.0))
    grid = week_grid(v.assign(code=code), ids, last, "code", 3.0)
    grid[:, 0] = 0.0
    return grid.astype(int)


def _screen_features(status: np.ndarray, lw: int) -> Mapping[str, np.ndarray]:
    n = status.shape[0]
    levels = np.array(SCREEN_LEVELS, dtype=object)
    weeks = status[:, 1:]
    run = np.zeros(n)
    for week in range(weeks.shape[1]):
        run = np.where(weeks[:, week] >= 2, run + 1, 0)
    return {
        "uds_positive_so_far": (weeks == 2).sum(axis=1).astype(float),
        "uds_missing_so_far": (weeks == 3).sum(axis=1).astype(float),
        "uds_last": levels[status[:, lw]] if lw >= 1 else np.full(n, "none", dtype=object),
        "uds_before_last": levels[status[:, lw - 1]]
        if lw >= 2
        else np.full(n, "none", dtype=object),
        "uds_bad_run": run,
    }
