"""The treatment course so far: dated lab panels, weekly visits and kratom doses in a request.

An optional ``course`` section of ``AssessRequest`` places the assessment at week N of treatment
(whole weeks from ``treatment_start`` to ``as_of``) and carries what happened since entry. It
is turned into visits rows in the synthetic cohort's format (``CourseHistory``), then into the
weekly grids the training table is built from, and read by ``cohorts.history.landmark_features``,
the one implementation of every history input, so a request and the training table compute the
same numbers (``history_columns``, vectorised over a batch; no pandas on a request's path).
A request without ``course`` is a week-0 assessment, as before.

Which panel is which:

* The **entry (baseline) panel** is the course panel dated in week 0 (from ``BASELINE_WINDOW_DAYS``
  days before the treatment start to 6 days after), or the ``labs`` section when it is dated in
  week 0. It fills the model's baseline lab values. Without one, the baseline is unknown (NaN,
  averaged over its plausible values by the model, never 0), and so are the ratios to it.
* The **latest panel** is the ``labs`` section, dated ``labs_date`` (default: ``as_of``): the
  panel the guideline rules read. Course panels are the earlier draws, one per week.
* Every other section of the request (treatment, kratom, opioid use, ...) describes the patient
  at treatment entry, as the models' baseline record does; the labs outside the liver panel
  (GGT, albumin, INR, platelets) are then the latest values, not entry ones, so mid-treatment the
  models read them as unknown.

A lab panel dated in a week without a visit entry is a contact: that week counts as attended,
with no urine-screen result. Weeks without a visit or a panel were not attended (a missing
screen), as in the cohort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from hepatorisk.assessment.fields import OptionalInteger as _OptInt
from hepatorisk.assessment.fields import StrictModel as _Strict
from hepatorisk.assessment.fields import ranged as _ranged
from hepatorisk.assessment.lab_results import Bilirubin, EnzymeUnit
from hepatorisk.clinical.monitoring import KratomExposure
from hepatorisk.cohorts.history import (
    HISTORY_COLUMNS,
    LABS,
    grids_from_rows,
    landmark_features,
)

__all__ = [
    "BASELINE_WINDOW_DAYS",
    "MAX_COURSE_WEEKS",
    "Course",
    "CourseHistory",
    "history_columns",
]

#: the entry panel may be drawn up to this many days before the treatment start (week 0);
#: anything dated earlier is refused. Project choice: a pre-treatment panel of the last month.
BASELINE_WINDOW_DAYS = 30
#: the longest course read (weeks from the treatment start to ``as_of``): 10 years
MAX_COURSE_WEEKS = 520
#: most entries of each dated list (one a week over MAX_COURSE_WEEKS)
_MAX_ITEMS = MAX_COURSE_WEEKS + 1


def _iso_date(value: Any) -> Any:
    """A date is a JSON string YYYY-MM-DD (no number read as a timestamp)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date as a string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}") from None


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class Enzyme(_Strict):
    unit: EnzymeUnit
    value: float = Field(gt=0, le=10000)


class Panel(_Strict):
    """One earlier liver panel (values only: the ratios are to the entry panel)."""

    date: IsoDate
    alt: Enzyme | None = None
    ast: Enzyme | None = None
    alp: Enzyme | None = None
    bilirubin: Bilirubin | None = None

    def values(self) -> dict[str, float]:
        """Record units (U/L, mg/dL) by ``cohorts.history.LABS`` name; absent labs left out."""
        enzymes = (("alt", self.alt), ("ast", self.ast), ("alp", self.alp))
        out = {n: e.value for n, e in enzymes if e is not None}
        if self.bilirubin is not None:
            out["bilirubin"] = self.bilirubin.mg_dl()[0]
        return out


class Visit(_Strict):
    """One weekly treatment visit (week 1 onwards; week 0 is the entry the record describes)."""

    date: IsoDate
    attended: bool = True
    opioid_screen: Literal["negative", "positive", "missing"] | None = Field(
        None, description="opioid urine drug screen; left out or 'missing' counts as missing"
    )
    kratom_dose_g_day: float | None = _ranged("kratom_dose_g_day", default=None)
    cows: _OptInt = _ranged("cows_entry", default=None)
    craving: float | None = _ranged("craving_entry", default=None)

    @model_validator(mode="after")
    def _nothing_if_absent(self) -> Visit:
        if not self.attended:
            given = [
                n for n in ("opioid_screen", "kratom_dose_g_day", "cows", "craving")
                if getattr(self, n) not in (None, "missing")
            ]  # fmt: skip
            if given:
                raise ValueError(f"a visit not attended has no results; leave out {given}")
        return self


class KratomDose(_Strict):
    """The daily kratom dose from this date on (a start, a change or a stop at 0)."""

    date: IsoDate
    dose_g_day: float = _ranged("kratom_dose_g_day")


class Course(_Strict):
    """The treatment course up to the assessment; dates are YYYY-MM-DD."""

    treatment_start: IsoDate = Field(description="first day of the current MOUD treatment")
    as_of: IsoDate = Field(description="date of the assessment: week N = whole weeks since start")
    labs_date: IsoDate | None = Field(
        None, description="date of the labs section (the latest panel); default: as_of"
    )
    panels: list[Panel] = Field(
        default_factory=list,
        max_length=_MAX_ITEMS,
        description="earlier liver panels, oldest first, one per week; the one dated in week 0 "
        f"(from {BASELINE_WINDOW_DAYS} days before the start) is the entry panel",
    )
    visits: list[Visit] = Field(
        default_factory=list,
        max_length=_MAX_ITEMS,
        description="weekly visits of weeks 1..N, oldest first, one per week; a week left out "
        "was not attended",
    )
    kratom_start: IsoDate | None = Field(None, description="first day of kratom use, if known")
    kratom_doses: list[KratomDose] = Field(
        default_factory=list,
        max_length=_MAX_ITEMS,
        description="daily kratom dose changes, oldest first; a visit without a reported dose "
        "is read at the dose in effect on its date",
    )

    @model_validator(mode="after")
    def _dates(self) -> Course:
        errors: list[InitErrorDetails] = []
        start, as_of = self.treatment_start, self.as_of
        latest_start = start + timedelta(weeks=MAX_COURSE_WEEKS, days=6)
        if not start <= as_of <= latest_start:
            _refuse(errors, ("as_of",), as_of, start, latest_start, "the assessment's date")
            _raise(errors)
        earliest = start - timedelta(days=BASELINE_WINDOW_DAYS)
        labs_date = self.lab_date
        if not earliest <= labs_date <= as_of:
            _refuse(errors, ("labs_date",), labs_date, earliest, as_of, "the latest panel's date")
            _raise(errors)
        labs_week = self.week_of(labs_date)
        before_labs = start + timedelta(weeks=labs_week) - timedelta(days=1)
        if labs_week == 0 and self.panels:
            what = "no earlier panel: the labs section is dated in week 0 (it is the entry panel)"
            _refuse(errors, ("panels", 0, "date"), self.panels[0].date, None, before_labs, what)
        else:
            _ordered(errors, "panels", [p.date for p in self.panels], earliest, before_labs, self)
        week1 = start + timedelta(weeks=1)
        _ordered(errors, "visits", [v.date for v in self.visits], week1, as_of, self)
        if self.kratom_start is not None and self.kratom_start > as_of:
            _refuse(errors, ("kratom_start",), self.kratom_start, None, as_of, "kratom start")
        for i, d in enumerate(self.kratom_doses):
            low = self.kratom_doses[i - 1].date + timedelta(days=1) if i else self.kratom_start
            if not (low or date.min) <= d.date <= as_of:
                what = f"dose change {i} (oldest first, from the kratom start)"
                _refuse(errors, ("kratom_doses", i, "date"), d.date, low, as_of, what)
                break
        _raise(errors)
        return self

    @property
    def week(self) -> int:
        """Week N of treatment of the assessment: whole weeks from the start to ``as_of``."""
        return self.week_of(self.as_of)

    @property
    def lab_date(self) -> date:
        return self.labs_date or self.as_of

    def week_of(self, day: date) -> int:
        """Week of treatment of a date (0 for week 0 and the pre-treatment window)."""
        return max(0, (day - self.treatment_start).days // 7)

    def dose_on(self, day: date) -> float | None:
        """The daily dose in effect on ``day`` by ``kratom_doses`` (None before the first)."""
        dose = None
        for d in self.kratom_doses:
            if d.date > day:
                break
            dose = d.dose_g_day
        return dose

    def kratom_weeks(self, day: date) -> int | None:
        """Whole weeks of kratom use from ``kratom_start`` to ``day`` (None if not known)."""
        if self.kratom_start is None:
            return None
        return max(0, (day - self.kratom_start).days // 7)

    def exposure(
        self, entry_dose: float, use_weeks: int | None, since_increase: int | None
    ) -> KratomExposure:
        """Kratom taken as of the assessment: the latest reported dose (a visit's, else the dose
        in effect by ``kratom_doses``, else the entry dose); weeks of use from ``kratom_start``
        (else the entry's weeks plus N) and since the last increase in ``kratom_doses`` (else
        the entry's plus N); None when not known."""
        n = self.week
        reported = [v.kratom_dose_g_day for v in self.visits if v.kratom_dose_g_day is not None]
        by_list = self.dose_on(self.as_of)
        current = reported[-1] if reported else by_list if by_list is not None else entry_dose
        last_increase = None
        previous = entry_dose
        for d in self.kratom_doses:
            if d.dose_g_day > previous:
                last_increase = d.date
            previous = d.dose_g_day
        weeks = self.kratom_weeks(self.as_of)
        return KratomExposure(
            taking=not current <= 0,  # an unknown (NaN) dose of a user is still taken
            use_weeks=weeks if weeks is not None else None if use_weeks is None else use_weeks + n,
            weeks_since_dose_increase=(self.as_of - last_increase).days // 7
            if last_increase is not None
            else None
            if since_increase is None
            else since_increase + n,
        )

    def history(self, latest: dict[str, float]) -> CourseHistory:
        """The course as cohort rows; ``latest``: the labs section's liver values (record
        units), the panel dated ``labs_date``."""
        panels = {self.week_of(p.date): p.values() for p in self.panels}
        panels[self.week_of(self.lab_date)] = latest
        visits = {self.week_of(v.date): v for v in self.visits}
        rows: list[dict[str, Any]] = []
        for week in sorted((set(panels) | set(visits)) - {0}):
            v = visits.get(week)
            row: dict[str, Any] = {"week": week, "attended": v is None or v.attended}
            if v is None:  # a lab draw: a contact without a screen result
                row |= {"uds_opioid": "missing", "kratom_dose_g": None}
            else:
                dose = v.kratom_dose_g_day
                if dose is None and v.attended:
                    dose = self.dose_on(v.date)
                screen = v.opioid_screen or "missing"
                row |= {"uds_opioid": screen if v.attended else "missing", "kratom_dose_g": dose}
                row |= {"cows": v.cows, "craving": v.craving}
            for lab, column in LABS.items():
                row[column] = panels.get(week, {}).get(lab)
            rows.append(row)
        return CourseHistory(self.week, rows, panels.get(0, {}))


def _refuse(
    errors: list[InitErrorDetails],
    loc: tuple[str | int, ...],
    got: date,
    low: date | None,
    high: date,
    what: str,
) -> None:
    allowed = f"from {low.isoformat()} to {high.isoformat()}" if low else f"up to {high}"
    ctx: dict[str, Any] = {"le": high.isoformat()}
    if low is not None:
        ctx["ge"] = low.isoformat()
    errors.append(
        InitErrorDetails(
            type=PydanticCustomError(
                "course_date",
                "{what} must be dated {allowed}",
                {**ctx, "what": what, "allowed": allowed},
            ),
            loc=loc,
            input=got.isoformat(),
        )
    )


def _ordered(
    errors: list[InitErrorDetails],
    name: str,
    days: Sequence[date],
    low: date,
    high: date,
    course: Course,
) -> None:
    """Each date within [low, high], in a later week than the one before (sorted, one a week)."""
    previous: int | None = None
    for i, day in enumerate(days):
        week = course.week_of(day)
        first = low if previous is None else course.treatment_start + timedelta(weeks=previous + 1)
        first = max(first, low)
        if not first <= day <= high:
            what = f"{name[:-1]} {i} (oldest first, one per week of treatment)"
            if name == "panels":
                what += "; the labs section is the latest panel"
            _refuse(errors, (name, i, "date"), day, first, high, what)
            return
        previous = week


def _raise(errors: list[InitErrorDetails]) -> None:
    if errors:
        raise ValidationError.from_exception_data("Course", errors)


@dataclass(frozen=True)
class CourseHistory:
    """One patient's course as the cohort's tables hold it: the week of the assessment, visits
    rows of weeks 1..N (``cohorts.history`` columns), and the entry panel (empty if unknown)."""

    week: int
    rows: list[dict[str, Any]]
    entry_panel: dict[str, float]


def history_columns(
    histories: Sequence[CourseHistory], baseline: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``HISTORY_COLUMNS`` of patients with a course, by the training table's rules
    (``cohorts.history``: the course rows become the same weekly grids, and the features are
    the one implementation, per distinct week of assessment over the patients at that week).

    ``baseline``: the history's baseline columns of the same patients (record columns
    ``LABS.values()``, ``kratom_dose_g_day``, ``cows_entry``, ``craving_entry``; NaN unknown)."""
    n = len(histories)
    weeks = np.array([h.week for h in histories], dtype=int)
    grids = grids_from_rows([h.rows for h in histories], baseline, int(weeks.max(initial=0)))
    out = {c: np.empty(n, dtype=object) for c in HISTORY_COLUMNS}
    for week in np.unique(weeks):
        at = np.flatnonzero(weeks == week)
        for c, values in landmark_features(grids.rows(at), int(week)).items():
            out[c][at] = values
    return out
