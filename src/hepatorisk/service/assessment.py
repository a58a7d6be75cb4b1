"""The assessment: both risks, their drivers in words, guideline flags, monitoring, dose what-if.

Library code with no HTTP in it: it takes internal ``PatientInput``s and the served models and
returns plain dataclasses, vectorised over patients so that a batch costs one model call per
model. Dose what-ifs are the models' associations, not causal effects, and are labelled so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepatorisk.clinical import dili
from hepatorisk.clinical.ctcae import CtcaeGrade, ctcae_grade
from hepatorisk.clinical.monitoring import (
    MonitoringSchedule,
    Policy,
    monitoring_schedule,
    risk_band,
)
from hepatorisk.clinical.stopping_rules import RuleResult, stopping_rules
from hepatorisk.service.models import ServedModels
from hepatorisk.service.records import LiverPanel, PatientInput, record_columns
from hepatorisk.service.runtime import Explanation, ServedModel

__all__ = [
    "NOT_PROVIDED",
    "Assessment",
    "ModelRef",
    "Risk",
    "assess",
    "guideline_flags",
    "model_ref",
    "predict",
]

OUTCOME_TEXT = {
    "liver": "ALT above 3x ULN at a liver test by week 12 (CTCAE v5 grade 2 or more)",
    "relapse": "return to opioid use by week 12 (4 consecutive positive or missing weekly "
    "urine screens, CTN-0094 definition)",
}
WHAT_IF_NOTE = (
    "Model associations, not causal effects: how the models' predictions move when only the "
    "daily dose is changed in this record. They do not show what would happen if the dose "
    "were changed; discuss any change with the patient."
)


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str | None
    alias: str | None
    run_id: str | None
    source: str


NOT_PROVIDED = " (not provided: the model's contribution for a missing value)"


@dataclass(frozen=True)
class Driver:
    variable: str
    label: str
    direction: str  # "raises" | "lowers"
    log_odds: float
    probability_points: float  # percentage points on the probability scale
    text: str
    # False when the request gave none of the variable's inputs: the contribution is then the
    # model's for a missing value, and "injects drugs lowers the risk" must not be read as
    # "does not inject".
    provided: bool = True


@dataclass(frozen=True)
class Risk:
    outcome: str
    description: str
    probability: float
    band: str
    model: ModelRef
    drivers: list[Driver]


@dataclass(frozen=True)
class GuidelineFlags:
    ctcae: list[CtcaeGrade]
    r_ratio: float
    injury_pattern: str | None
    hys_law: bool
    stopping_rules: list[RuleResult]
    stop_recommended: bool


@dataclass(frozen=True)
class DoseScenario:
    label: str
    dose_g_day: float
    liver_probability: float
    relapse_probability: float
    liver_change_points: float
    relapse_change_points: float


@dataclass(frozen=True)
class BenefitHarm:
    current_dose_g_day: float
    liver_probability: float
    relapse_probability: float
    scenarios: list[DoseScenario]
    note: str


@dataclass(frozen=True)
class Assessment:
    risks: list[Risk]
    flags: GuidelineFlags
    monitoring: MonitoringSchedule
    benefit_harm: BenefitHarm


def model_ref(model: ServedModel) -> ModelRef:
    m = model.loaded
    return ModelRef(m.name, m.version, m.alias, m.run_id, m.source)


def assess(
    models: ServedModels,
    patients: Sequence[PatientInput],
    policy: Policy,
    *,
    top: int = 5,
    explain: bool = True,
) -> list[Assessment]:
    """Assess every patient: per model, one feature build for the patients and their what-ifs."""
    scenarios = _scenarios(patients, policy)
    n = len(patients)
    columns = record_columns([*patients, *(s for _, _, s in scenarios)])
    risks: dict[str, list[Risk]] = {}
    what_if: dict[str, np.ndarray] = {}
    for outcome, model in models.items():
        if explain:
            c, what_if[outcome] = model.explain_then_predict(columns, n)
            probs, drivers = c.probability, _drivers(model, c, top, outcome, columns)
        else:
            p = model.probability(columns)
            probs, what_if[outcome], drivers = p[:n], p[n:], [[] for _ in patients]
        risks[outcome] = _risks(outcome, model, probs, drivers, policy)
    by_patient: dict[int, list[tuple[int, str, PatientInput]]] = {}
    for j, (i, label, changed) in enumerate(scenarios):
        by_patient.setdefault(i, []).append((j, label, changed))
    out = []
    for i, patient in enumerate(patients):
        flags = guideline_flags(patient.liver)
        liver, relapse = risks["liver"][i], risks["relapse"][i]
        alt_ast_3x = max(patient.liver.alt_xuln, patient.liver.ast_xuln or 0) > dili.ALT_EVENT_XULN
        monitoring = monitoring_schedule(liver.band, alt_ast_3x, policy)
        benefit = _benefit_harm(patient, liver, relapse, by_patient.get(i, []), what_if)
        out.append(Assessment([liver, relapse], flags, monitoring, benefit))
    return out


def predict(
    models: ServedModels, patients: Sequence[PatientInput], policy: Policy
) -> list[list[Risk]]:
    """Both calibrated risks and their bands, nothing else: the prediction-only path."""
    columns = record_columns(patients)
    no_drivers: list[list[Driver]] = [[] for _ in patients]
    per_model = [
        _risks(outcome, model, model.probability(columns), no_drivers, policy)
        for outcome, model in models.items()
    ]
    return [[risks[i] for risks in per_model] for i in range(len(patients))]


def _risks(
    outcome: str,
    model: ServedModel,
    probabilities: np.ndarray,
    drivers: Sequence[list[Driver]],
    policy: Policy,
) -> list[Risk]:
    """One model's risks: probability, its band under the policy, the model, the drivers."""
    ref, cuts = model_ref(model), policy.bands[outcome]
    return [
        Risk(outcome, OUTCOME_TEXT[outcome], float(p), risk_band(float(p), cuts), ref, d)
        for p, d in zip(probabilities, drivers, strict=True)
    ]


def guideline_flags(panel: LiverPanel) -> GuidelineFlags:
    """CTCAE grades, R ratio and pattern, Hy's law and the FDA 2009 stopping rules."""
    grades = [
        ctcae_grade(test, panel.values[test], panel.ulns[test], panel.baseline.get(test))
        for test in ("alt", "ast", "alp", "bilirubin")
        if test in panel.values
    ]
    r = float(dili.r_ratio(np.array([panel.alt_xuln]), np.array([panel.alp_xuln]))[0])
    pattern = dili.injury_pattern(np.array([r]))[0]
    hys = bool(dili.hys_law(panel.alt_xuln, panel.bilirubin_xuln, panel.alp_xuln))
    rules = stopping_rules(
        panel.alt_xuln,
        panel.ast_xuln,
        panel.bilirubin_xuln,
        panel.inr,
        panel.days_above_5x_uln,
        panel.symptoms,
    )
    stop = any(rule.status == "met" for rule in rules)
    return GuidelineFlags(grades, r, pattern, hys, rules, stop)


def _drivers(
    model: ServedModel, c: Explanation, top: int, outcome: str, columns: dict[str, Any]
) -> list[list[Driver]]:
    """The ``top`` clinical variables by size of contribution, in words, for every row."""
    n = c.group_values.shape[0]
    points = c.on_probability_scale(c.group_values) * 100
    order = np.argsort(-np.abs(c.group_values), axis=1, kind="stable")[:, :top]
    masks: dict[str, np.ndarray] = {}  # record column -> rows lacking it, built when asked

    def given(row: int, group: str) -> bool:
        for col in model.group_sources[group]:
            if col not in masks:
                masks[col] = _missing_rows(columns[col], n)
            if not masks[col][row]:
                return True
        return False

    labels = model.group_labels
    noun = "liver-injury" if outcome == "liver" else "relapse"
    result = []
    for row in range(n):
        drivers = []
        for j in order[row]:
            lo = float(c.group_values[row, j])
            if lo == 0:
                continue
            pp, provided = float(points[row, j]), given(row, model.group_names[j])
            direction = "raises" if lo > 0 else "lowers"
            text = f"{labels[j]} {direction} the {noun} risk by {abs(pp):.1f} percentage points"
            text += "" if provided else NOT_PROVIDED
            drivers.append(
                Driver(model.group_names[j], labels[j], direction, lo, pp, text, provided)
            )
        result.append(drivers)
    return result


def _missing_rows(values: Any, n: int) -> np.ndarray:
    """Which of the first ``n`` records lack this column (None, or NaN for numbers)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return np.isnan(values[:n])
    return np.array([_missing(v) for v in values[:n]], dtype=bool)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _scenarios(
    patients: Sequence[PatientInput], policy: Policy
) -> list[tuple[int, str, PatientInput]]:
    """(patient index, label, changed record) for each dose what-if of kratom users."""
    out = []
    for i, p in enumerate(patients):
        dose = float(p.record["kratom_dose_g_day"])
        if p.record["kratom_product"] == "none" or dose <= 0:
            continue
        for k in policy.what_if.dose_multipliers:
            if k == 0:
                changed = p.with_record(
                    kratom_product="none", kratom_dose_g_day=0.0, mitragynine_mg_per_g=None
                )
                out.append((i, "kratom stopped", changed))
            elif dose * k <= 100:
                out.append(
                    (i, f"{k:g}x the current dose", p.with_record(kratom_dose_g_day=dose * k))
                )
    return out


def _benefit_harm(
    patient: PatientInput,
    liver: Risk,
    relapse: Risk,
    mine: list[tuple[int, str, PatientInput]],
    what_if: dict[str, np.ndarray],
) -> BenefitHarm:
    scenarios = []
    for j, label, changed in mine:
        pl, pr = float(what_if["liver"][j]), float(what_if["relapse"][j])
        scenarios.append(
            DoseScenario(
                label,
                float(changed.record["kratom_dose_g_day"]),
                pl,
                pr,
                (pl - liver.probability) * 100,
                (pr - relapse.probability) * 100,
            )
        )
    return BenefitHarm(
        float(patient.record["kratom_dose_g_day"]),
        liver.probability,
        relapse.probability,
        scenarios,
        WHAT_IF_NOTE,
    )
