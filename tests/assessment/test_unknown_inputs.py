"""The answer names the inputs left out and how far each could move each risk, and a driver of
an unknown input is worded as unknown, never as a fact (issue 13, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_support import patient

from hepatorisk.assessment import AssessRequest, assess, load_model_pair
from hepatorisk.assessment.results import NOT_PROVIDED
from hepatorisk.clinical.monitoring import load_policy


@pytest.fixture(scope="module")
def models(model_dirs: dict[str, Path]):  # type: ignore[no-untyped-def]
    return load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))


def _assess(models, body):  # type: ignore[no-untyped-def]
    [a] = assess(models, [AssessRequest.model_validate(body).to_input()], load_policy())
    return a


def test_unknown_inputs_are_listed_with_how_far_they_could_move_each_risk(models) -> None:  # type: ignore[no-untyped-def]
    a = _assess(models, patient())
    unknown = {u.variable: u for u in a.unknown_inputs}
    # left out of the example request: injection history, housing, employment, GGT...
    assert {"injection_drug_use", "stable_housing", "employed", "ggt_u_l"} <= set(unknown)
    # given: not unknown; a user's content was given, so not listed either
    assert not {"heroin_days_30", "mitragynine_mg_per_g", "age"} & set(unknown)
    risk = {r.outcome: r.probability for r in a.risks}
    for u in a.unknown_inputs:
        for outcome, span, width in (
            ("liver", u.liver_range, u.liver_change_points),
            ("relapse", u.relapse_range, u.relapse_change_points),
        ):
            if span:
                lo, hi = span
                assert lo <= hi and width == pytest.approx((hi - lo) * 100)
                # the averaged risk lies within the range only when this is the sole unknown;
                # here, within the other unknowns' reach too: a loose sanity bound
                assert abs(risk[outcome] - (lo + hi) / 2) < 0.5
        assert u.text.startswith(f"{u.label}: not provided")
        assert "could change" in u.text
    widths = [max(u.liver_change_points, u.relapse_change_points) for u in a.unknown_inputs]
    assert widths == sorted(widths, reverse=True)


def test_drivers_of_unknown_inputs_are_worded_as_unknown(models) -> None:  # type: ignore[no-untyped-def]
    body = patient(opioid_use={"primary_opioid": "fentanyl"})  # heroin days left out
    a = _assess(models, body)
    reach = {u.variable: u for u in a.unknown_inputs}
    assert "heroin_days_30" in reach
    seen = 0
    for risk in a.risks:
        for d in risk.drivers:
            if d.provided:
                assert "not provided" not in d.text
                continue
            seen += 1
            assert d.text.startswith(f"{d.label}: not provided, and knowing it could change the ")
            assert d.text.endswith(NOT_PROVIDED)
            assert " raises " not in d.text and " lowers " not in d.text
    assert seen > 0


def test_a_kratom_user_with_unknown_content_is_not_scored_as_stopped(models) -> None:  # type: ignore[no-untyped-def]
    kratom = {"product": "extract", "dose_g_day": 3.0}
    unknown = _assess(models, patient(kratom=kratom))
    stopped = _assess(models, patient(kratom={"product": "none", "dose_g_day": 0.0}))
    scenario = {s.label: s for s in unknown.benefit_harm.scenarios}["kratom stopped"]
    liver = {r.outcome: r.probability for r in unknown.risks}["liver"]
    assert scenario.liver_probability == pytest.approx(
        {r.outcome: r.probability for r in stopped.risks}["liver"], abs=1e-12
    )
    contents = {u.variable for u in unknown.unknown_inputs}
    assert "mitragynine_mg_per_g" in contents
    assert liver != pytest.approx(scenario.liver_probability, abs=1e-9)
