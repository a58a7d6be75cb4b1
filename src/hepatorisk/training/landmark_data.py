"""The landmark training set: one row per patient per landmark week at which the patient is at
risk, with the baseline record, the history known by then and the event in the next weeks.

The true probability at each landmark comes from ``cohorts.synthetic.landmark_oracle`` when that
module exists (it is optional: built in parallel); without it only the week-0 rows have a truth
(the cohort's ``p_*_true`` column: the true risk given the baseline record, which is the
week-0 landmark truth), and later rows have NaN.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hepatorisk.cohorts.catalog import read_cohort_table
from hepatorisk.cohorts.history import history_features
from hepatorisk.cohorts.landmarks import landmark_labels
from hepatorisk.training.spec import PipelineSpec

__all__ = ["LandmarkRows", "landmark_rows", "landmark_truth_reader"]

log = logging.getLogger(__name__)

LABEL_COLUMNS = (
    "liver_at_risk",
    "liver_event_next",
    "relapse_at_risk",
    "relapse_event_next",
    "p_liver_next_true",
    "p_relapse_next_true",
)

TruthReader = Callable[[Path, Sequence[int], int], pd.DataFrame]


@dataclass(frozen=True)
class LandmarkRows:
    frame: pd.DataFrame  # baseline record + outcomes + history + labels, patient then landmark
    y: np.ndarray
    oracle: np.ndarray | None
    landmark: np.ndarray
    label_columns: frozenset[str]  # never model inputs


def landmark_truth_reader() -> TruthReader | None:
    """``landmark_truth`` of the oracle module, or None while it does not exist."""
    try:
        module = importlib.import_module("hepatorisk.cohorts.synthetic.landmark_oracle")
    except ModuleNotFoundError:
        return None
    reader: TruthReader | None = getattr(module, "landmark_truth", None)
    return reader


def landmark_rows(frame: pd.DataFrame, folder: Path, key: str, spec: PipelineSpec) -> LandmarkRows:
    """The at-risk rows of ``spec.landmarks.outcome`` at each landmark, joined to ``frame``
    (one row per patient: the record and its outcomes)."""
    assert spec.landmarks is not None
    lm = spec.landmarks
    weeks = sorted(set(lm.weeks))
    patients = read_cohort_table(folder, "patients")
    visits = read_cohort_table(folder, "visits")
    labels = landmark_labels(patients, visits, weeks, spec.horizon_weeks)
    history = history_features(patients, visits, weeks)
    history["landmark_week"] = history["landmark_week"].astype(int)
    rows = labels[labels[f"{lm.outcome}_at_risk"]].merge(
        history, on=["patient_id", "landmark_week"], how="left", validate="1:1"
    )
    truth_column = f"p_{lm.outcome}_next_true"
    reader = landmark_truth_reader() if lm.oracle else None
    if reader is not None:
        truth = reader(folder, tuple(weeks), spec.horizon_weeks)
        truth = truth.assign(patient_id=truth["patient_id"].astype("string"))
        rows = rows.merge(
            truth[["patient_id", "landmark_week", truth_column]],
            on=["patient_id", "landmark_week"],
            how="left",
            validate="1:1",
        )
    rows = rows.rename(columns={"patient_id": key})
    base = frame.assign(**{key: frame[key].astype("string")})
    out = rows.merge(base, on=key, how="inner", validate="m:1")
    out = out.sort_values([key, "landmark_week"], kind="stable").reset_index(drop=True)
    landmark = out["landmark_week"].to_numpy(dtype=int)
    out["landmark_week"] = landmark.astype(float)
    y = out[f"{lm.outcome}_event_next"].to_numpy(dtype=int)
    oracle: np.ndarray | None = None
    if truth_column in out.columns:
        oracle = out[truth_column].to_numpy(dtype=float)
    elif spec.oracle is not None and spec.oracle in out.columns:
        log.info("no landmark oracle module: the truth is known at week 0 only")
        oracle = np.where(landmark == 0, out[spec.oracle].to_numpy(dtype=float), np.nan)
    log.info(
        "landmark rows (%s): %s",
        lm.outcome,
        ", ".join(
            f"week {w}: {int((landmark == w).sum())} at risk, {int(y[landmark == w].sum())} events"
            for w in weeks
        ),
    )
    return LandmarkRows(out, y, oracle, landmark, frozenset(LABEL_COLUMNS))
