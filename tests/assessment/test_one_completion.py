"""One completion per request (issue 20): an assessment completes its records' unknown inputs
once and builds their features once, for the explanation, the what-ifs and the uncertainty
range; every number is exactly the one the separate calls give (each completing on its own)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from course_support import cohort_request
from service_support import SAMPLE, patient

from hepatorisk.assessment import AssessRequest, assess, load_model_pair, predict
from hepatorisk.assessment.inputs import record_columns
from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.what_if import dose_scenarios
from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.modeling.bundle import Explanation, ModelBundle, Scored
from hepatorisk.modeling.scenarios import ScenarioModels
from hepatorisk.modeling.uncertainty import Ensemble


def _ensemble(bundle: ModelBundle) -> ModelBundle:
    """The bundle with a 4-member ensemble and two scenario models: the served booster under
    shifted calibrations (no training; they score the same rows as real refits would)."""
    members = []
    for k in range(4):
        member = copy.copy(bundle.model)
        a, b = bundle.model.calibration_
        member.calibration_ = (a + 0.15 * (k - 1.5), b * (1 + 0.1 * (k - 1.5)))
        members.append(member)
    scenarios = {
        name: bundle.model.with_calibration((a + shift, b), (), bundle.model.booster_)
        for name, shift in (("low", -0.3), ("high", 0.3))
        for a, b in [bundle.model.calibration_]
    }
    return replace(
        bundle,
        ensemble=Ensemble(members, level=0.9, widening=1.5),
        scenarios=ScenarioModels("central", scenarios, 1.0),
    )


@pytest.fixture(scope="module")
def models(model_dirs: dict[str, Path]) -> ModelPair:
    pair = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    return ModelPair(
        replace(pair.liver, bundle=_ensemble(pair.liver.bundle)),
        replace(pair.relapse, bundle=_ensemble(pair.relapse.bundle)),
    )


@pytest.fixture(scope="module")
def bodies() -> list[dict[str, Any]]:
    """Records with unknown inputs (the example leaves housing, employment, injection history,
    GGT... out), fewer known (content, heroin days, AST, INR, hepatitis), a non-user, and
    mid-treatment records of the sample (their course, by-design missing fields)."""
    cohort = load_cohort(SAMPLE)
    sparse = patient(
        kratom={"product": "extract", "dose_g_day": 4.0},
        opioid_use={"primary_opioid": "heroin"},
        labs={
            "alt": {"value": 61, "unit": "U/L", "uln": 33},
            "alp": {"value": 90, "unit": "U/L", "uln": 115},
            "bilirubin": {"value": 0.8, "unit": "mg/dL", "uln": 1.0},
        },
        hepatitis={},
    )
    non_user = patient(kratom={"product": "none", "dose_g_day": 0.0})
    rows = [cohort.patients.iloc[i] for i in (3, 17, 40)]
    return [
        patient(),
        sparse,
        non_user,
        *(cohort_request(p, cohort.visits, w) for p, w in zip(rows, (0, 6, 12), strict=True)),
    ]


def _separate(
    self: ModelBundle, records: Any, head: int, *, explain: bool = True, reach: bool = False
) -> Scored:
    """``scored`` as the separate calls (each completing the unknown inputs on its own)."""
    first = {k: v[:head] for k, v in records.items()}
    interval = self.predict_interval(first)
    reached = self.reach(first) if reach else None
    scenarios = self.scenario_probabilities(first)
    if explain:
        e, rest = self.explain_then_predict(records, head)
        return Scored(e.probability, e, rest, interval, reached, scenarios)
    p = self.predict_proba(records)
    return Scored(p[:head], None, p[head:], interval, reached, scenarios)


def _same_explanation(a: Explanation | None, b: Explanation | None) -> None:
    assert a is not None and b is not None
    for field in ("base_value", "values", "group_values", "log_odds", "probability"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert (a.input_names, a.group_names) == (b.input_names, b.group_names)


@pytest.mark.parametrize(("explain", "reach"), [(True, True), (True, False), (False, True)])
def test_scored_equals_the_separate_calls(
    models: ModelPair, bodies: list[dict[str, Any]], explain: bool, reach: bool
) -> None:
    patients = [AssessRequest.model_validate(b).to_input() for b in bodies]
    scenarios = dose_scenarios(patients, load_policy())
    assert scenarios, "the sample records must include kratom users (what-if rows)"
    columns = record_columns([*patients, *(s for _, _, s in scenarios)])
    for outcome, model in models.items():
        bundle = model.bundle
        # the comparison means something: unknowns are averaged and the ensemble gives a range
        assert bundle.complete(columns) is not None, outcome
        once = bundle.scored(columns, len(patients), explain=explain, reach=reach)
        apart = _separate(bundle, columns, len(patients), explain=explain, reach=reach)
        assert once.reach == apart.reach
        assert once.scenarios is not None and apart.scenarios is not None
        assert once.scenarios.keys() == apart.scenarios.keys() == {"low", "high"}
        for name in once.scenarios:
            np.testing.assert_array_equal(once.scenarios[name], apart.scenarios[name])
        assert (once.reach is not None) == reach
        assert not reach or any(r for r in once.reach or []), "no unknown input has a reach"
        np.testing.assert_array_equal(once.probability, apart.probability)
        np.testing.assert_array_equal(once.rest, apart.rest)
        assert once.interval is not None and apart.interval is not None
        np.testing.assert_array_equal(once.interval, apart.interval)
        assert (once.interval[:, 0] < once.interval[:, 1]).all()
        if explain:
            _same_explanation(once.explanation, apart.explanation)
        else:
            assert once.explanation is None


def test_one_patient_alone_as_in_a_batch(models: ModelPair, bodies) -> None:  # type: ignore[no-untyped-def]
    """A patient's completions do not depend on the other records: alone or first of a batch,
    the same numbers."""
    patients = [AssessRequest.model_validate(b).to_input() for b in bodies]
    bundle = models.liver.bundle
    alone = bundle.scored(record_columns(patients[1:2]), 1)
    batch = bundle.scored(record_columns(patients[1:]), len(patients) - 1)
    assert alone.interval is not None and batch.interval is not None
    np.testing.assert_array_equal(alone.probability, batch.probability[:1])
    np.testing.assert_array_equal(alone.interval, batch.interval[:1])


def test_assessments_are_identical(models: ModelPair, bodies, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole answer (probabilities, ranges, drivers, what-ifs, unknown inputs and their
    reach) is the same as with the separate calls."""
    patients = [AssessRequest.model_validate(b).to_input() for b in bodies]
    policy = load_policy()
    once = assess(models, patients, policy)
    monkeypatch.setattr(ModelBundle, "scored", _separate)
    apart = assess(models, patients, policy)
    assert once == apart
    assert all(r.probability_range is not None for a in once for r in a.risks)
    assert any(a.benefit_harm.scenarios for a in once)
    assert any(d for a in once for r in a.risks for d in r.drivers if not d.provided)


def test_predictions_are_identical(models: ModelPair, bodies, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The prediction-only path (one ``scored`` per model) gives the separate calls' risks,
    ranges and scenario answers."""
    patients = [AssessRequest.model_validate(b).to_input() for b in bodies]
    policy = load_policy()
    once = predict(models, patients, policy)
    monkeypatch.setattr(ModelBundle, "scored", _separate)
    apart = predict(models, patients, policy)
    assert once == apart
    assert all(p.probability_range is not None for ps in once for p in ps)
    assert any(p.scenario_answer is not None for ps in once for p in ps)
