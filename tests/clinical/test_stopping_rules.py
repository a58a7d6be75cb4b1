"""The FDA 2009 stopping rules against an abnormal baseline, the cholestatic trigger, and the
recommendation that names the rules it could not evaluate."""

from __future__ import annotations

import math

from hepatorisk.clinical.stopping_rules import (
    CHOLESTATIC_SOURCE,
    Multiple,
    RuleResult,
    Symptoms,
    cholestatic_trigger,
    recommendation,
    stopping_rules,
)

R1 = "ALT or AST > 8x ULN"
R2 = "ALT or AST > 5x ULN for more than 2 weeks"
R3 = "ALT or AST > 3x ULN and (bilirubin > 2x ULN or INR > 1.5)"
R4 = "ALT or AST > 3x ULN with hepatitis symptoms or eosinophilia > 5%"
NONE = Symptoms(False, False, False, False, False, 2.0)


def _by_rule(rules: list[RuleResult]) -> dict[str, RuleResult]:
    return {r.rule: r for r in rules}


def test_abnormal_baseline_changes_the_verdict_and_says_so():
    """ALT baseline 2x ULN, now 5x ULN (2.5x baseline), bilirubin 2.5x ULN: rule 3 is met
    against ULN but not against the baseline."""
    against_uln = _by_rule(stopping_rules(5.0, 1.0, 2.5, inr=1.0, symptoms=NONE))
    against_baseline = _by_rule(
        stopping_rules(Multiple(2.5, "baseline"), 1.0, 2.5, inr=1.0, symptoms=NONE)
    )
    assert against_uln[R3].status == "met"
    assert against_baseline[R3].status == "not_met"
    assert "ALT 2.5x baseline" in against_baseline[R3].reason
    assert "abnormal-baseline" in against_baseline[R3].reason
    assert "baseline" not in against_uln[R3].reason
    assert recommendation(list(against_baseline.values())).verdict == "no_rule_met"


def test_rule_1_against_an_abnormal_baseline():
    """ALT 9x ULN with a 2x ULN baseline is 4.5x baseline (not met); 20x ULN is 10x (met)."""
    assert _by_rule(stopping_rules(Multiple(4.5, "baseline"), 1.0, 1.0))[R1].status == "not_met"
    assert _by_rule(stopping_rules(9.0, 1.0, 1.0))[R1].status == "met"
    assert _by_rule(stopping_rules(Multiple(10.0, "baseline"), 1.0, 1.0))[R1].status == "met"


def test_rule_2_days_counted_above_uln_cannot_settle_it_against_a_baseline():
    """ALT 6x baseline for 20 days above 5x ULN: the time above 5x baseline may be shorter."""
    alt = Multiple(6.0, "baseline")
    rule = _by_rule(stopping_rules(alt, 1.0, 1.0, days_above_5x_uln=20))[R2]
    assert rule.status == "not_evaluable"
    assert rule.missing == ["days above 5x baseline"]
    assert _by_rule(stopping_rules(alt, 1.0, 1.0, days_above_5x_uln=10))[R2].status == "not_met"
    assert _by_rule(stopping_rules(6.0, 1.0, 1.0, days_above_5x_uln=20))[R2].status == "met"
    assert _by_rule(stopping_rules(6.0, 1.0, 1.0))[R2].missing == ["days above 5x ULN"]


def test_an_unknown_ast_is_not_read_as_normal():
    """ALT 1.2x ULN with AST not given: "ALT or AST > 8x" cannot be ruled out."""
    rules = _by_rule(stopping_rules(1.2, None, 1.0, inr=1.0, symptoms=NONE))
    assert [(rules[r].status, rules[r].missing) for r in (R1, R2)] == [
        ("not_evaluable", ["AST"]),
        ("not_evaluable", ["AST"]),
    ]
    assert "ALT 1.2x ULN; AST not given" in rules[R1].reason
    # rules 3 and 4 are settled without AST: bilirubin, INR and symptoms are all normal
    assert [rules[r].status for r in (R3, R4)] == ["not_met", "not_met"]
    # a known AST settles it; an ALT above the cut-off settles it without AST
    assert _by_rule(stopping_rules(1.2, 1.0, 1.0))[R1].status == "not_met"
    assert _by_rule(stopping_rules(9.0, None, 1.0))[R1].status == "met"
    assert _by_rule(stopping_rules(1.2, math.nan, 1.0))[R1].status == "not_evaluable"


def test_rule_3_needs_bilirubin_or_inr():
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0))[R3].missing == ["INR"]
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0, inr=1.6))[R3].status == "met"
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0, inr=1.2))[R3].status == "not_met"
    assert _by_rule(stopping_rules(4.0, 1.0, 2.5))[R3].status == "met"  # INR not needed
    missing_bili = _by_rule(stopping_rules(4.0, 1.0, None, inr=1.0))[R3]
    assert (missing_bili.status, missing_bili.missing) == ("not_evaluable", ["bilirubin"])
    # bilirubin judged against its own abnormal baseline (Gilbert's): 1.8x baseline, not met
    gilbert = stopping_rules(4.0, 1.0, Multiple(1.8, "baseline"), inr=1.0)
    assert _by_rule(gilbert)[R3].status == "not_met"


def test_rule_4_symptoms():
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0))[R4].missing == ["symptoms"]
    fever = Symptoms(fever=True)
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0, symptoms=fever))[R4].status == "met"
    assert _by_rule(stopping_rules(4.0, 1.0, 1.0, symptoms=NONE))[R4].status == "not_met"
    assert _by_rule(stopping_rules(2.0, 1.0, 1.0))[R4].status == "not_met"  # not above 3x


def test_recommendation_names_the_rules_it_could_not_evaluate():
    rules = stopping_rules(6.0, 1.0, 1.0)  # days above 5x, INR and symptoms not given
    advice = recommendation(rules)
    assert advice.verdict == "undetermined" and advice.met == []
    assert advice.not_evaluable == [R2, R3, R4]
    assert f"{R3} (INR not given)" in advice.text
    assert f"{R4} (symptoms not given)" in advice.text
    assert f"{R2} (days above 5x ULN not given)" in advice.text
    assert "not an all-clear" in advice.text
    assert R1 not in advice.text  # evaluated and not met


def test_recommendation_stop_and_all_clear():
    stop = recommendation(stopping_rules(9.0, 1.0, 1.0))
    assert stop.verdict == "stop" and stop.met == [R1]
    assert "Stop kratom" in stop.text and "Not evaluable" in stop.text  # R2-R4 lack inputs
    clear = recommendation(stopping_rules(1.2, 1.0, 1.0, inr=1.0, symptoms=NONE))
    assert (clear.verdict, clear.not_evaluable) == ("no_rule_met", [])
    assert "all 4 evaluated" in clear.text


def test_cholestatic_trigger():
    assert cholestatic_trigger(2.0, 1.0).status == "met"  # ALP >= 2x ULN (inclusive)
    assert cholestatic_trigger(1.9, 1.0).status == "not_met"
    assert cholestatic_trigger(1.0, 2.1).status == "met"  # bilirubin > 2x ULN
    assert cholestatic_trigger(1.0, 2.0).status == "not_met"
    against_baseline = cholestatic_trigger(Multiple(1.5, "baseline"), 1.0)
    assert against_baseline.status == "not_met"
    assert "ALP 1.5x baseline" in against_baseline.reason
    unknown = cholestatic_trigger(None, 1.0)
    assert (unknown.status, unknown.missing) == ("not_evaluable", ["ALP"])
    met = cholestatic_trigger(2.6, None)
    assert met.status == "met" and met.missing == []
    assert met.source == CHOLESTATIC_SOURCE and "clinical-facts.md" in met.source
    assert "cholestatic" in met.rule
