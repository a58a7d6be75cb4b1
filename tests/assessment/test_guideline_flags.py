"""Guideline flags of a request's latest labs: the stopping rules and the early-retest trigger
against an abnormal baseline, Hy's law on AST alone, the cholestatic trigger, and a stop
recommendation that names what it could not evaluate."""

from __future__ import annotations

from typing import Any

from service_support import patient

from hepatorisk.assessment.flags import elevated_aminotransferase, guideline_flags
from hepatorisk.assessment.request import AssessRequest

R1 = "ALT or AST > 8x ULN"
R3 = "ALT or AST > 3x ULN and (bilirubin > 2x ULN or INR > 1.5)"
NO_SYMPTOMS = {
    "fatigue": False,
    "nausea_or_vomiting": False,
    "ruq_pain": False,
    "fever": False,
    "rash": False,
}


def _labs(**tests: float) -> dict[str, Any]:
    """Latest labs (U/L, mg/dL), normal unless given: ALT/AST ULN 40, ALP 115, bilirubin 1."""
    values = {"alt": 30.0, "ast": 30.0, "alp": 90.0, "bilirubin": 0.6, "inr": 1.0} | tests
    labs: dict[str, Any] = {
        t: {"value": values[t], "unit": "U/L", "uln": u}
        for t, u in (("alt", 40.0), ("ast", 40.0), ("alp", 115.0))
        if values[t] is not None
    }
    labs["bilirubin"] = {"value": values["bilirubin"], "unit": "mg/dL", "uln": 1.0}
    if values["inr"] is not None:
        labs["inr"] = {"value": values["inr"], "uln": 1.1}
    return labs


def _panel(labs: dict[str, Any], history: dict[str, Any] | None = None, **sections: Any):
    body = patient(labs=labs, history=history or {}, symptoms=NO_SYMPTOMS, **sections)
    return AssessRequest.model_validate(body).to_input().liver


def test_alt_5x_uln_on_a_2x_uln_baseline_is_not_a_stop_or_a_retest():
    """Baseline ALT 80 (2x ULN), now 200 (5x ULN = 2.5x baseline) with bilirubin 2.5x ULN."""
    labs = _labs(alt=200.0, bilirubin=2.5)
    with_baseline = _panel(labs, {"baseline_alt": 80.0})
    flags = guideline_flags(with_baseline)
    rules = {r.rule: r for r in flags.stopping_rules}
    assert rules[R3].status == "not_met"
    assert "ALT 2.5x baseline" in rules[R3].reason
    assert flags.stop_recommended is False
    assert flags.stop_recommendation.verdict == "no_rule_met"
    alt = next(g for g in flags.ctcae if g.test == "alt")
    assert (alt.grade, alt.reference) == (1, "baseline")
    assert elevated_aminotransferase(with_baseline) is None
    # the same labs without the baseline: 5x ULN meets rule 3 and calls for a retest
    without = guideline_flags(_panel(labs))
    assert {r.rule: r.status for r in without.stopping_rules}[R3] == "met"
    assert without.stop_recommended is True and without.stop_recommendation.verdict == "stop"
    assert elevated_aminotransferase(_panel(labs)) == "ALT 5.0x ULN > 3x"


def test_alt_7x_uln_on_a_2x_uln_baseline_is_grade_2():
    panel = _panel(_labs(alt=280.0), {"baseline_alt": 80.0})
    alt = next(g for g in guideline_flags(panel).ctcae if g.test == "alt")
    assert (alt.grade, alt.reference, alt.multiple) == (2, "baseline", 3.5)
    assert elevated_aminotransferase(panel) == "ALT 3.5x baseline > 3x"


def test_rule_1_against_the_baseline():
    """ALT 400 (10x ULN) on a baseline of 100 (2.5x ULN) is 4x baseline: rule 1 not met."""
    flags = guideline_flags(_panel(_labs(alt=400.0), {"baseline_alt": 100.0}))
    assert {r.rule: r.status for r in flags.stopping_rules}[R1] == "not_met"
    flags = guideline_flags(_panel(_labs(alt=400.0)))
    assert {r.rule: r.status for r in flags.stopping_rules}[R1] == "met"


def test_hys_law_on_ast_alone():
    """ALT 2x ULN, AST 4x ULN, bilirubin 2.5x ULN, ALP normal."""
    flags = guideline_flags(_panel(_labs(alt=80.0, ast=160.0, bilirubin=2.5)))
    assert flags.hys_law is True
    assert guideline_flags(_panel(_labs(alt=80.0, ast=None, bilirubin=2.5))).hys_law is False


def test_alp_led_injury_meets_the_cholestatic_trigger_not_the_fda_rules():
    """ALP 300 U/L (2.6x ULN) with normal aminotransferases: kratom's usual pattern."""
    panel = _panel(_labs(alp=300.0))
    flags = guideline_flags(panel)
    trigger = flags.cholestatic_trigger
    assert trigger.status == "met"
    assert "ALP 2.6x ULN" in trigger.reason
    assert "clinical-facts.md" in trigger.source
    assert flags.stop_recommended is False
    assert elevated_aminotransferase(panel) is None
    # an abnormal ALP baseline (200 U/L) makes 300 U/L 1.5x baseline: not met, and says so
    rebased = guideline_flags(_panel(_labs(alp=300.0), {"baseline_alp": 200.0}))
    assert rebased.cholestatic_trigger.status == "not_met"
    assert "ALP 1.5x baseline" in rebased.cholestatic_trigger.reason


def test_bilirubin_meets_the_cholestatic_trigger_against_its_reference():
    assert guideline_flags(_panel(_labs(bilirubin=2.4))).cholestatic_trigger.status == "met"
    gilbert = _panel(_labs(bilirubin=2.4), {"baseline_bilirubin": {"value": 1.6, "unit": "mg/dL"}})
    assert guideline_flags(gilbert).cholestatic_trigger.status == "not_met"  # 1.5x baseline


def test_stop_recommendation_names_the_rules_not_evaluated():
    """ALT 6x ULN without AST, INR, symptoms or duration: no rule met, four not evaluable."""
    body = patient(labs=_labs(alt=240.0, ast=None, inr=None))
    flags = guideline_flags(AssessRequest.model_validate(body).to_input().liver)
    advice = flags.stop_recommendation
    assert flags.stop_recommended is False
    assert advice.verdict == "undetermined"
    assert advice.not_evaluable == [r.rule for r in flags.stopping_rules]
    assert "AST not given" in advice.text
    assert "INR not given" in advice.text and "symptoms not given" in advice.text
    assert "not an all-clear" in advice.text
    # with AST, INR, symptoms and the duration given, the same ALT is judged in full
    history = {"days_alt_or_ast_above_5x_uln": 3}
    full = guideline_flags(_panel(_labs(alt=240.0), history))
    assert full.stop_recommendation.verdict == "no_rule_met"
    assert full.stop_recommendation.not_evaluable == []
