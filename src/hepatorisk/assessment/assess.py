"""The assessment: both risks, their drivers, guideline flags, monitoring and dose what-ifs.

Pure library code: ``PatientInput``s and a ``ModelPair`` in, ``Assessment`` dataclasses out,
vectorised over patients so that a batch costs one feature build and one model call per model
(the what-if records ride along with the patients).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

import numpy as np

from hepatorisk.assessment.drivers import top_drivers
from hepatorisk.assessment.flags import elevated_aminotransferase, guideline_flags
from hepatorisk.assessment.inputs import PatientInput, record_columns
from hepatorisk.assessment.model_pair import ModelPair, model_ref
from hepatorisk.assessment.results import (
    OUTCOME_TEXT,
    Assessment,
    Driver,
    Outcome,
    Prediction,
    ProbabilityRange,
    Risk,
    UnknownInput,
    as_of_text,
)
from hepatorisk.assessment.scenario_answers import with_scenario_answers
from hepatorisk.assessment.what_if import Scenario, benefit_harm, dose_scenarios, what_if_note
from hepatorisk.clinical.monitoring import Policy, monitoring_schedule, risk_band
from hepatorisk.modeling.bundle import ModelBundle, Reach
from hepatorisk.tracking import VersionedModel

__all__ = ["REACH_PATIENTS", "Timing", "assess", "predict", "timing"]

#: the largest assessment (patients) whose unknown inputs get their risk ranges
REACH_PATIENTS = 20
_NO_REACH = (float("nan"), float("nan"))


def assess(
    models: ModelPair,
    patients: Sequence[PatientInput],
    policy: Policy,
    *,
    top: int = 5,
    explain: bool = True,
) -> list[Assessment]:
    """Assess every patient: per model, one feature build for the patients and their what-ifs."""
    scenarios = dose_scenarios(patients, policy)
    n = len(patients)
    columns = record_columns([*patients, *(s for _, _, s in scenarios)])
    risks: dict[str, list[Risk]] = {}
    what_if: dict[str, np.ndarray] = {}
    reach: dict[str, list[Reach]] = {}
    mine = {k: v[:n] for k, v in columns.items()}
    for outcome, model in models.items():
        bundle = model.bundle
        # one completion of the unknown inputs and one feature build for the explanation, the
        # what-ifs, the uncertainty range and how far each unknown could move the risk (per
        # patient and field, the risk over the field's values: costly, so computed for
        # assessments of up to REACH_PATIENTS patients)
        s = bundle.scored(columns, n, explain=explain, reach=n <= REACH_PATIENTS)
        reach[outcome] = (
            s.reach
            if s.reach is not None
            else [dict.fromkeys(f, _NO_REACH) for f in bundle.unknown_fields(mine)]
        )
        what_if[outcome] = s.rest
        drivers = (
            top_drivers(bundle, s.explanation, top, outcome, columns, reach[outcome])
            if s.explanation is not None
            else [[] for _ in patients]
        )
        when = timing(bundle, patients, described_ranges(bundle, s.interval, n))
        risks[outcome] = _risks(outcome, model, s.probability, drivers, policy, when)
        # issue 13 item 4: the risk under the cohort's other scenarios of kratom's effects
        risks[outcome] = with_scenario_answers(bundle, patients, risks[outcome], s.scenarios)
    by_patient: dict[int, list[Scenario]] = {}
    for j, (i, label, changed) in enumerate(scenarios):
        by_patient.setdefault(i, []).append((j, label, changed))
    note = what_if_note({outcome: m.bundle.metadata for outcome, m in models.items()})
    out = []
    for i, patient in enumerate(patients):
        flags = guideline_flags(patient.liver)
        liver, relapse = risks["liver"][i], risks["relapse"][i]
        cholestatic = flags.cholestatic_trigger
        monitoring = monitoring_schedule(
            liver.band,
            policy,
            patient.exposure,
            elevated=elevated_aminotransferase(patient.liver),
            cholestatic=cholestatic.reason if cholestatic.status == "met" else None,
        )
        benefit = benefit_harm(patient, liver, relapse, by_patient.get(i, []), what_if, note)
        unknown = unknown_inputs(
            models, reach["liver"][i], reach["relapse"][i], patient.entry_unknown
        )
        out.append(Assessment([liver, relapse], flags, monitoring, benefit, unknown))
    return out


def unknown_inputs(
    models: ModelPair, liver: Reach, relapse: Reach, entry_unknown: Sequence[str] = ()
) -> list[UnknownInput]:
    """One patient's unknown inputs, the largest possible change first. ``entry_unknown``: the
    fields the request gave only as later values (mid-treatment labs), unknown at entry."""
    out = []
    for name in dict.fromkeys([*liver, *relapse]):
        said = (
            "not known at treatment entry (the value sent is a later one; the models read the "
            "entry value)"
            if name in entry_unknown
            else "not provided"
        )
        lv, rl = liver.get(name), relapse.get(name)
        if not all(math.isfinite(x) for r in (lv, rl) if r is not None for x in r):
            label = (models.liver if lv is not None else models.relapse).bundle.label(name)
            text = f"{label}: {said} (averaged over its plausible values); its reach is "
            text += f"computed for assessments of up to {REACH_PATIENTS} patients"
            out.append(UnknownInput(name, label, [], [], 0.0, 0.0, text))
            continue
        width = {
            o: 0.0 if r is None else (r[1] - r[0]) * 100
            for o, r in (("liver", lv), ("relapse", rl))
        }
        label = (models.liver if lv is not None else models.relapse).bundle.label(name)
        could = " and ".join(
            f"the {noun} risk by up to {width[o]:.1f} percentage points"
            for o, noun in (("liver", "liver-injury"), ("relapse", "relapse"))
            if (lv if o == "liver" else rl) is not None
        )
        out.append(
            UnknownInput(
                name,
                label,
                [] if lv is None else list(lv),
                [] if rl is None else list(rl),
                width["liver"],
                width["relapse"],
                f"{label}: {said} (averaged over its plausible values), and knowing it "
                f"could change {could}",
            )
        )
    return sorted(out, key=lambda u: -max(u.liver_change_points, u.relapse_change_points))


def predict(
    models: ModelPair, patients: Sequence[PatientInput], policy: Policy
) -> list[list[Prediction]]:
    """Both calibrated risks and their bands, nothing else: the prediction-only path. Per
    model one completion of the unknown inputs and one feature build give the risk, its
    uncertainty range and its scenario answers (``ModelBundle.scored``)."""
    columns = record_columns(patients)
    n = len(patients)
    per_model = []
    for outcome, model in models.items():
        ref, cuts = model_ref(model), policy.bands[outcome]
        s = model.bundle.scored(columns, n, explain=False)
        when = timing(model.bundle, patients, described_ranges(model.bundle, s.interval, n))
        made = [
            Prediction(outcome, OUTCOME_TEXT[outcome], p, risk_band(p, cuts), ref, **when[i])
            for i, p in enumerate(map(float, s.probability))
        ]
        per_model.append(with_scenario_answers(model.bundle, patients, made, s.scenarios))
    return [[predictions[i] for predictions in per_model] for i in range(n)]


class Timing(TypedDict):
    """A prediction's when-and-which-model fields (``Prediction``'s keyword-only fields)."""

    as_of_week: int
    landmark_week: int | None
    as_of: str
    probability_range: ProbabilityRange | None


def timing(
    bundle: ModelBundle,
    patients: Sequence[PatientInput],
    ranges: Sequence[ProbabilityRange | None],
) -> list[Timing]:
    """Per patient: the week of treatment, the landmark that answered (the bundle applies the
    same ``answering_landmark`` when scoring), the words, and the model-uncertainty range."""
    last = bundle.answering_landmark(1e9)
    landmark = {w: bundle.answering_landmark(w) for w in {p.week for p in patients}}
    return [
        {
            "as_of_week": p.week,
            "landmark_week": landmark[p.week],
            "as_of": as_of_text(p.week, landmark[p.week], last),
            "probability_range": r,
        }
        for p, r in zip(patients, ranges, strict=True)
    ]


def described_ranges(
    bundle: ModelBundle, bounds: np.ndarray | None, n: int
) -> list[ProbabilityRange | None]:
    """``n`` records' ranges (``predict_interval``'s bounds) with their level, method and
    coverage; None each when the model has none."""
    if bounds is None:
        return [None] * n
    about = bundle.metadata.get("uncertainty") or {}
    ensemble = getattr(bundle, "ensemble", None)
    level = float(about.get("level", getattr(ensemble, "level", 0.9)))
    method = str(about.get("method") or (ensemble.describe() if ensemble else "unstated"))
    coverage = about.get("test_coverage")
    coverage = None if coverage is None else float(coverage)
    return [ProbabilityRange(float(lo), float(hi), level, method, coverage) for lo, hi in bounds]


def _risks(
    outcome: Outcome,
    model: VersionedModel,
    probabilities: np.ndarray,
    drivers: Sequence[list[Driver]],
    policy: Policy,
    when: Sequence[Timing],
) -> list[Risk]:
    """One model's risks: probability, its band under the policy, the model, the drivers."""
    ref, cuts = model_ref(model), policy.bands[outcome]
    return [
        Risk(outcome, OUTCOME_TEXT[outcome], float(p), risk_band(float(p), cuts), ref, d, **w)
        for p, d, w in zip(probabilities, drivers, when, strict=True)
    ]
