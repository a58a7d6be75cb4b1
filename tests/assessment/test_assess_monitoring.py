"""The assessment wires the request's kratom history and the triggers into the schedule: the
latency window runs from kratom start or the last dose increase, and a cholestatic trigger
(ALP >= 2x ULN) or ALT above 3x its reference calls for the early retest."""

from __future__ import annotations

from pathlib import Path

from service_support import patient

from hepatorisk.assessment import AssessRequest, assess, load_model_pair
from hepatorisk.clinical.monitoring import load_policy

KRATOM = {"product": "leaf_powder", "dose_g_day": 8.0, "mitragynine_mg_per_g": 1.5}
NORMAL = {
    "alt": {"value": 30, "unit": "U/L", "uln": 40},
    "ast": {"value": 30, "unit": "U/L", "uln": 40},
    "alp": {"value": 90, "unit": "U/L", "uln": 115},
    "bilirubin": {"value": 0.6, "unit": "mg/dL", "uln": 1.0},
    "inr": {"value": 1.0, "uln": 1.1},
}


def test_schedule_and_retest_follow_exposure_and_triggers(model_dirs: dict[str, Path]):
    models = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    policy = load_policy()
    bodies = [
        patient(labs=NORMAL, kratom=KRATOM | {"use_weeks": 30}),
        patient(labs=NORMAL, kratom=KRATOM | {"use_weeks": 30, "weeks_since_dose_increase": 2}),
        patient(labs=NORMAL | {"alp": {"value": 300, "unit": "U/L", "uln": 115}}, kratom=KRATOM),
        patient(
            labs=NORMAL | {"alt": {"value": 200, "unit": "U/L", "uln": 40}},
            history={"baseline_alt": 80},
            kratom=KRATOM,
        ),
    ]
    stable, increased, cholestatic, rebased = (
        a.monitoring
        for a in assess(
            models, [AssessRequest.model_validate(b).to_input() for b in bodies], policy
        )
    )
    window = policy.monitoring.latency_window_weeks

    plan = policy.monitoring.plans[stable.band]
    assert (stable.counted_from, stable.exposure_weeks) == ("kratom_start", 30)
    every = plan.after_window_every_weeks
    assert stable.weeks == list(range(every, policy.monitoring.horizon_weeks + 1, every))

    plan = policy.monitoring.plans[increased.band]
    assert (increased.counted_from, increased.exposure_weeks) == ("dose_increase", 2)
    in_window = [t - 2 for t in range(plan.first_week, window + 1, plan.every_weeks) if t > 2]
    assert increased.weeks[: len(in_window)] == in_window
    assert "last dose increase, 2 week(s) ago" in increased.summary

    assert cholestatic.counted_from == "assumed_now"
    assert cholestatic.reason.startswith("Assumption:")
    assert cholestatic.retest_within_days == policy.monitoring.elevated_retest_days
    assert cholestatic.retest_triggers == ["cholestatic trigger: ALP 2.6x ULN, bilirubin 0.6x ULN"]

    # ALT 5x ULN on a 2x ULN baseline is 2.5x baseline: no early retest
    assert rebased.retest_within_days is None and rebased.retest_triggers == []
