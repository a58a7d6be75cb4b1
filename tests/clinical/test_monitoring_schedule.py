"""The liver-test schedule counts kratom's 1-8 week injury latency from kratom start or the last
dose increase, says what it assumed when neither is known, and adds the early retests."""

from __future__ import annotations

import pytest

from hepatorisk.clinical.monitoring import (
    KratomExposure,
    Monitoring,
    Plan,
    Policy,
    load_policy,
    monitoring_schedule,
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The default policy with fixed monitoring values, so the weeks below are hand-computed."""
    default = load_policy()
    monitoring = Monitoring(
        tests=["ALT", "AST", "ALP", "total bilirubin"],
        horizon_weeks=12,
        latency_window_weeks=8,
        plans={
            "low": Plan(every_weeks=4, first_week=4, after_window_every_weeks=8),
            "intermediate": Plan(every_weeks=2, first_week=2, after_window_every_weeks=4),
            "high": Plan(every_weeks=1, first_week=1, after_window_every_weeks=2),
        },
        elevated_retest_days=3,
        retest_on_cholestatic_trigger=True,
    )
    return default.model_copy(update={"monitoring": monitoring})


def test_counted_from_the_last_dose_increase(policy):
    """20 weeks of use, dose increased 3 weeks ago: tests at exposure weeks 4, 6, 8 (weeks 1, 3,
    5 from now), then every 4 weeks after the window (week 9)."""
    s = monitoring_schedule("intermediate", policy, KratomExposure(True, 20, 3))
    assert s.weeks == [1, 3, 5, 9]
    assert (s.counted_from, s.exposure_weeks) == ("dose_increase", 3)
    assert "last dose increase, 3 week(s) ago" in s.reason
    assert s.retest_within_days is None and s.retest_triggers == []
    # the same patient without the increase is past the window: the sparser interval only
    stable = monitoring_schedule("intermediate", policy, KratomExposure(True, 20, None))
    assert stable.weeks == [4, 8, 12]
    assert (stable.counted_from, stable.exposure_weeks) == ("kratom_start", 20)


def test_weeks_since_increase_alone_is_enough(policy):
    s = monitoring_schedule("low", policy, KratomExposure(True, None, 6))
    assert s.weeks == [2, 10]  # exposure week 8, then 8 weeks after the window
    assert (s.counted_from, s.exposure_weeks) == ("dose_increase", 6)


def test_the_earlier_of_start_and_increase_counts(policy):
    """An increase given before kratom was started (inconsistent) cannot push the clock back."""
    s = monitoring_schedule("high", policy, KratomExposure(True, 2, 30))
    assert (s.counted_from, s.exposure_weeks) == ("kratom_start", 2)
    assert s.weeks == [1, 2, 3, 4, 5, 6, 8, 10, 12]  # exposure weeks 3..8, then every 2


def test_early_weeks_get_denser_tests(policy):
    """Just started: weekly to week 8 for a high band, then every 2 weeks."""
    s = monitoring_schedule("high", policy, KratomExposure(True, 0, None))
    assert s.weeks == [1, 2, 3, 4, 5, 6, 7, 8, 10, 12]
    assert "injury appears 1-8 weeks after kratom is started or increased" in s.summary


def test_unknown_exposure_states_its_assumption(policy):
    s = monitoring_schedule("intermediate", policy, KratomExposure(True))
    assert s.weeks == [2, 4, 6, 8, 12]  # the whole window assumed ahead
    assert (s.counted_from, s.exposure_weeks) == ("assumed_now", None)
    assert s.reason.startswith("Assumption:")
    assert "neither the weeks of kratom use nor the weeks since the last dose increase" in (
        s.reason
    )
    assert s.reason in s.summary


def test_no_kratom_has_no_latency_window(policy):
    s = monitoring_schedule("intermediate", policy, KratomExposure(False))
    assert s.weeks == [4, 8, 12]
    assert (s.counted_from, s.exposure_weeks) == ("no_kratom", None)


def test_early_retest_triggers(policy):
    exposure = KratomExposure(True, 30)
    elevated = monitoring_schedule("low", policy, exposure, elevated="ALT 4.0x ULN > 3x")
    assert elevated.retest_within_days == 3
    assert elevated.retest_triggers == ["ALT 4.0x ULN > 3x"]
    assert elevated.summary.startswith("Repeat liver tests within 3 days (ALT 4.0x ULN > 3x)")
    cholestatic = monitoring_schedule("low", policy, exposure, cholestatic="ALP 2.6x ULN")
    assert cholestatic.retest_within_days == 3 and cholestatic.retest_triggers == [
        "cholestatic trigger: ALP 2.6x ULN"
    ]
    assert "80% cholestatic" in cholestatic.source  # the policy's reason to retest on it
    off = policy.model_copy(
        update={
            "monitoring": policy.monitoring.model_copy(
                update={"retest_on_cholestatic_trigger": False}
            )
        }
    )
    silent = monitoring_schedule("low", off, exposure, cholestatic="ALP 2.6x ULN")
    assert silent.retest_within_days is None and silent.retest_triggers == []


def test_default_policy_is_denser_inside_the_window_and_sourced():
    policy = load_policy()
    m = policy.monitoring
    assert m.latency_window_weeks == 8  # clinical-facts.md §1: onset 1-8 weeks
    for band, plan in m.plans.items():
        assert plan.every_weeks < plan.after_window_every_weeks, band
    for key in ("latency_window_weeks", "retest_on_cholestatic_trigger"):
        assert policy.sources[f"monitoring.{key}"]
    s = monitoring_schedule("high", policy, KratomExposure(True, 0, None), elevated="ALT 4x")
    assert "1-8 weeks" in s.source and "48-72 hours" in s.source
