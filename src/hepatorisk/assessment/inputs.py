"""The patient as the assessment reads it: the model's record columns and the liver panel.

``AssessRequest`` (``request.py``) validates a caller's record and converts it into these; the
assessment code only sees these, so a wire format (JSON API, FHIR) never reaches the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.assessment.course import CourseHistory, history_columns
from hepatorisk.clinical.monitoring import KratomExposure
from hepatorisk.clinical.stopping_rules import Symptoms
from hepatorisk.cohorts.history import CATEGORICAL_HISTORY, HISTORY_COLUMNS, LABS, at_entry
from hepatorisk.cohorts.synthetic.tables import PATIENTS

__all__ = ["BASELINE_COLUMNS", "RECORD_COLUMNS", "LiverPanel", "PatientInput", "record_columns"]

# The patient record the models read: every baseline column except the identifier, then the
# history known by the assessment's week (landmark models; week 0 when none is given).
BASELINE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in PATIENTS.columns if c.name != "patient_id"
)
RECORD_COLUMNS: tuple[str, ...] = BASELINE_COLUMNS + HISTORY_COLUMNS
_KIND = {c.name: c.kind for c in PATIENTS.columns}
#: the baseline record columns the history is computed against
HISTORY_BASELINE = (*LABS.values(), "kratom_dose_g_day", "cows_entry", "craving_entry")


@dataclass(frozen=True)
class LiverPanel:
    """Latest liver tests as multiples of their ULN, with the optional history the rules use."""

    alt_xuln: float
    ast_xuln: float | None
    alp_xuln: float
    bilirubin_xuln: float
    inr: float | None
    values: dict[str, float]  # alt, ast, alp, bilirubin (U/L, mg/dL)
    ulns: dict[str, float]
    baseline: dict[str, float] = field(default_factory=dict)  # same units, when known
    days_above_5x_uln: int | None = None
    symptoms: Symptoms = field(default_factory=Symptoms)


@dataclass(frozen=True)
class PatientInput:
    """One patient: the model record (None = missing), the liver panel, and a hashed reference.

    ``exposure``: kratom taken now, for how long and since when at this dose (what the
    monitoring schedule counts from); unknown durations are None, never 0. ``history``: the
    treatment course so far (``course.CourseHistory``); None for a week-0 assessment."""

    record: dict[str, Any]
    liver: LiverPanel
    patient_ref: str | None = None
    exposure: KratomExposure = field(default_factory=lambda: KratomExposure(taking=True))
    history: CourseHistory | None = None
    entry_unknown: tuple[str, ...] = ()  # record fields sent only as later values (course)

    @property
    def week(self) -> int:
        """Week of treatment of the assessment (0: treatment entry)."""
        return 0 if self.history is None else self.history.week

    def with_record(self, **changes: Any) -> PatientInput:
        return replace(self, record={**self.record, **changes})


def record_columns(patients: Sequence[PatientInput]) -> dict[str, Any]:
    """Column arrays of the model record: floats (NaN missing, 0/1 yes/no), str|None categories.

    A record without history columns is a week-0 assessment: its history is the entry history
    (``cohorts.history.at_entry``: nothing has happened yet), never an unknown input. A patient
    with a treatment course gets its history from ``cohorts.history.history_features``, once per
    course (a what-if copy of the record shares its patient's history, computed from the
    patient's own baseline: the what-if changes the entry dose and everything scaled by it)."""
    records = [p.record for p in patients]
    columns: dict[str, Any] = {}
    for name in BASELINE_COLUMNS:
        values = [r.get(name) for r in records]
        # numpy reads None as NaN in a float array
        columns[name] = values if _KIND[name] == "category" else np.array(values, dtype=float)
    entry = at_entry(1)
    for name in HISTORY_COLUMNS:
        week0 = entry[name][0]
        values = [r.get(name, week0) for r in records]
        columns[name] = values if name in CATEGORICAL_HISTORY else np.array(values, dtype=float)
    _course_history(patients, columns)
    return columns


def _course_history(patients: Sequence[PatientInput], columns: dict[str, Any]) -> None:
    """Fill the history columns of the patients with a course, in place (one computation per
    course object: the first patient holding it supplies the baseline)."""
    first: dict[int, int] = {}
    for i, p in enumerate(patients):
        if p.history is not None:
            first.setdefault(id(p.history), i)
    if not first:
        return
    rows = np.fromiter(first.values(), dtype=int, count=len(first))
    histories = [patients[i].history for i in rows]
    baseline = {c: np.asarray(columns[c], dtype=float)[rows] for c in HISTORY_BASELINE}
    computed = history_columns([h for h in histories if h is not None], baseline)
    position = {key: k for k, key in enumerate(first)}
    at = np.array([i for i, p in enumerate(patients) if p.history is not None])
    source = np.array([position[id(patients[i].history)] for i in at])
    for name in HISTORY_COLUMNS:
        values = computed[name][source]
        if name in CATEGORICAL_HISTORY:
            target = list(columns[name])
            for i, v in zip(at, values, strict=True):
                target[i] = None if v is None or v is pd.NA else str(v)
            columns[name] = target
        else:
            columns[name][at] = values.astype(float)
