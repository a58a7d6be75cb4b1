"""FDA 2009 DILI stopping rules and the cholestatic-injury trigger, on the latest liver tests.

From the FDA guidance "Drug-Induced Liver Injury: Premarketing Clinical Evaluation" (2009), as
reproduced in clinical-facts.md §2: stop the drug if ALT or AST
  1. > 8x ULN;
  2. > 5x ULN for more than 2 weeks;
  3. > 3x ULN and (total bilirubin > 2x ULN or INR > 1.5);
  4. > 3x ULN with fatigue, nausea, vomiting, right-upper-quadrant pain or tenderness, fever, rash
     and/or eosinophilia (> 5%).

**Abnormal baseline.** Each liver test is judged against its *reference*: the ULN, or the
patient's baseline when the baseline is above the ULN (the CTCAE v5.0 abnormal-baseline rule,
clinical-facts.md §2, applied to the rules as issue 12 asks; ``liver_events.reference`` computes
it, the caller passes the result as a ``Multiple``). Every rule's reason says which reference each
test was judged against.

**Cholestatic trigger.** The FDA rules read ALT and AST only, so they miss ALP-led (cholestatic)
injury, kratom's usual pattern (LiverTox: cholestatic or mixed, bilirubin can exceed 20 mg/dL;
53-case review: 80% cholestatic; clinical-facts.md §1). ``cholestatic_trigger`` is met when ALP is
>= 2x its reference (the ALP cut-off that separates cholestasis in Hy's law, and the ALP threshold
of the Aithal 2011 DILI case definition, whose primary text clinical-facts.md §2 marks as not
retrieved) or total bilirubin is > 2x its reference (Hy's law and FDA rule 3; Aithal 2011
severity 2, clinical-facts.md §2). It is a prompt to retest and look for cholestatic injury, not
an FDA stopping rule.

**Unknown is not "not met".** A rule whose inputs were not supplied is reported as not
evaluable, never as not met; "ALT or AST" with ALT below the cut-off and AST unknown is not
evaluable (AST could be above it). ``recommendation`` names the rules that could not be
evaluated and what they lack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from hepatorisk.clinical.dili import HYS_ALP_BELOW_XULN, HYS_BILIRUBIN_ABOVE_XULN

__all__ = [
    "CHOLESTATIC_ALP_AT_LEAST",
    "CHOLESTATIC_BILIRUBIN_ABOVE",
    "CHOLESTATIC_SOURCE",
    "Multiple",
    "Reference",
    "RuleResult",
    "StopRecommendation",
    "Symptoms",
    "cholestatic_trigger",
    "recommendation",
    "stopping_rules",
]

ALT_AST_STOP_XULN = 8.0
ALT_AST_PROLONGED_XULN = 5.0
PROLONGED_DAYS = 14
ALT_AST_WITH_XULN = 3.0
BILIRUBIN_WITH_XULN = 2.0
INR_WITH = 1.5
EOSINOPHILIA_PERCENT = 5.0
SOURCE = "FDA 2009 DILI guidance (clinical-facts.md §2)"
ABNORMAL_BASELINE_SOURCE = "CTCAE v5.0 abnormal-baseline rule (clinical-facts.md §2)"
# Cholestatic trigger: ALP >= 2x reference (the cholestasis cut-off of Hy's law, ALP < 2x ULN
# being "without cholestasis"; Aithal 2011 case definition ALP >= 2x ULN), or total bilirubin
# > 2x reference (Hy's law, FDA 2009 rule 3, Aithal 2011 severity 2) (clinical-facts.md §2).
CHOLESTATIC_ALP_AT_LEAST = HYS_ALP_BELOW_XULN
CHOLESTATIC_BILIRUBIN_ABOVE = HYS_BILIRUBIN_ABOVE_XULN
CHOLESTATIC_SOURCE = (
    "ALP >= 2x ULN: the cholestasis cut-off of Hy's law and the Aithal 2011 DILI case "
    "definition (primary text not retrieved, clinical-facts.md §2); bilirubin > 2x ULN: Hy's "
    "law, FDA 2009 rule 3, Aithal 2011 severity 2 (clinical-facts.md §2); kratom injury is "
    "mostly cholestatic or mixed (LiverTox, clinical-facts.md §1)"
)
CHOLESTATIC_RULE = "ALP >= 2x ULN or total bilirubin > 2x ULN (cholestatic injury trigger)"

Status = Literal["met", "not_met", "not_evaluable"]
Reference = Literal["ULN", "baseline"]


@dataclass(frozen=True)
class Multiple:
    """A liver test as a multiple of its reference: the ULN, or an abnormal baseline."""

    value: float
    reference: Reference = "ULN"

    def __str__(self) -> str:
        return f"{self.value:.1f}x {self.reference}"


@dataclass(frozen=True)
class Symptoms:
    """Symptoms the fourth rule asks about; None means not asked."""

    fatigue: bool | None = None
    nausea_or_vomiting: bool | None = None
    ruq_pain: bool | None = None
    fever: bool | None = None
    rash: bool | None = None
    eosinophils_percent: float | None = None

    def any_present(self) -> bool | None:
        flags = [self.fatigue, self.nausea_or_vomiting, self.ruq_pain, self.fever, self.rash]
        if self.eosinophils_percent is not None:
            flags.append(self.eosinophils_percent > EOSINOPHILIA_PERCENT)
        if any(f is True for f in flags):
            return True
        return None if any(f is None for f in flags) else False


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: Status
    reason: Annotated[
        str,
        Field(
            description="the values the rule read, each with what it was judged against "
            "(ULN, or the baseline when the baseline is above ULN)"
        ),
    ]
    missing: Annotated[
        list[str],
        Field(description="inputs not given that left the rule not evaluable (else empty)"),
    ] = field(default_factory=list)
    source: str = SOURCE


@dataclass(frozen=True)
class StopRecommendation:
    """What the FDA 2009 rules say together, naming the rules that could not be evaluated."""

    verdict: Annotated[
        Literal["stop", "no_rule_met", "undetermined"],
        Field(
            description="stop: a rule is met; no_rule_met: all four evaluated, none met; "
            "undetermined: none met, but a rule could not be evaluated"
        ),
    ]
    met: list[str]
    not_evaluable: list[str]
    text: str


MultipleIn = Multiple | float | None


def _multiple(x: MultipleIn) -> Multiple | None:
    """A bare number is a multiple of ULN (the callers before abnormal baselines); NaN = unknown."""
    if x is None:
        return None
    m = x if isinstance(x, Multiple) else Multiple(float(x))
    return None if math.isnan(m.value) else m


def _either(tests: dict[str, Multiple | None], above: float) -> tuple[bool | None, str, list[str]]:
    """Kleene "ALT or AST > above x reference": True, False, or None when it cannot be told."""
    known = {t: m for t, m in tests.items() if m is not None}
    missing = [t for t, m in tests.items() if m is None]
    text = ", ".join(f"{t} {m}" for t, m in known.items())
    if missing:
        text += ("; " if text else "") + " and ".join(missing) + " not given"
    if any(m.value > above for m in known.values()):
        return True, text, []
    return (None if missing else False), text, missing


def stopping_rules(
    alt: MultipleIn,
    ast: MultipleIn,
    bilirubin: MultipleIn,
    inr: float | None = None,
    days_above_5x_uln: int | None = None,
    symptoms: Symptoms | None = None,
) -> list[RuleResult]:
    """The four rules, in order.

    ``alt``, ``ast``, ``bilirubin``: each test as a ``Multiple`` of its reference (a bare number
    is a multiple of ULN; None or NaN = not given). ``days_above_5x_uln``: how long ALT/AST has
    been > 5x ULN, as the caller counts it."""
    tests = {"ALT": _multiple(alt), "AST": _multiple(ast)}
    bili = _multiple(bilirubin)
    baseline_note = (
        f" ({ABNORMAL_BASELINE_SOURCE}: judged against the baseline where it is above ULN)"
        if any(m is not None and m.reference == "baseline" for m in (*tests.values(), bili))
        else ""
    )

    above8, text, missing = _either(tests, ALT_AST_STOP_XULN)
    rules = [
        RuleResult("ALT or AST > 8x ULN", _status(above8), text + baseline_note, missing),
    ]

    above5, text5, missing5 = _either(tests, ALT_AST_PROLONGED_XULN)
    days_text = "not given" if days_above_5x_uln is None else str(days_above_5x_uln)
    against_baseline = any(
        m is not None and m.reference == "baseline" and m.value > ALT_AST_PROLONGED_XULN
        for m in tests.values()
    )
    prolonged: Status
    if above5 is False:
        prolonged, missing5 = "not_met", []
    elif above5 is None:
        prolonged = "not_evaluable"
    elif days_above_5x_uln is None:
        prolonged, missing5 = "not_evaluable", ["days above 5x ULN"]
    elif days_above_5x_uln <= PROLONGED_DAYS:
        prolonged, missing5 = "not_met", []
    elif against_baseline:
        # days were counted above 5x ULN; above 5x an abnormal baseline it may be fewer
        prolonged, missing5 = "not_evaluable", ["days above 5x baseline"]
        days_text += " (counted above 5x ULN; the time above 5x the baseline is not given)"
    else:
        prolonged, missing5 = "met", []
    rules.append(
        RuleResult(
            "ALT or AST > 5x ULN for more than 2 weeks",
            prolonged,
            f"{text5}; days above 5x ULN: {days_text}{baseline_note}",
            missing5,
        )
    )

    above3, text3, missing3 = _either(tests, ALT_AST_WITH_XULN)
    inr = None if inr is None or math.isnan(inr) else inr
    bili_high = None if bili is None else bili.value > BILIRUBIN_WITH_XULN
    inr_high = None if inr is None else inr > INR_WITH
    with_: bool | None = (
        True if (bili_high or inr_high) else (None if None in (bili_high, inr_high) else False)
    )
    combined, missing_c = _and(above3, missing3, with_, _missing(bilirubin=bili, INR=inr))
    rules.append(
        RuleResult(
            "ALT or AST > 3x ULN and (bilirubin > 2x ULN or INR > 1.5)",
            combined,
            f"{text3}; bilirubin {'not given' if bili is None else bili}; "
            f"INR {'not given' if inr is None else f'{inr:.2f}'}{baseline_note}",
            missing_c,
        )
    )

    present = (symptoms or Symptoms()).any_present()
    symptomatic, missing_s = _and(above3, missing3, present, ["symptoms"])
    rules.append(
        RuleResult(
            "ALT or AST > 3x ULN with hepatitis symptoms or eosinophilia > 5%",
            symptomatic,
            f"{text3}; symptoms "
            f"{'not fully reported' if present is None else ('present' if present else 'absent')}"
            f"{baseline_note}",
            missing_s,
        )
    )
    return rules


def cholestatic_trigger(alp: MultipleIn, bilirubin: MultipleIn) -> RuleResult:
    """ALP >= 2x its reference or total bilirubin > 2x its reference: cholestatic injury."""
    tests = {"ALP": _multiple(alp), "bilirubin": _multiple(bilirubin)}
    known = {t: m for t, m in tests.items() if m is not None}
    missing = [t for t, m in tests.items() if m is None]
    met = (known.get("ALP") is not None and known["ALP"].value >= CHOLESTATIC_ALP_AT_LEAST) or (
        known.get("bilirubin") is not None
        and known["bilirubin"].value > CHOLESTATIC_BILIRUBIN_ABOVE
    )
    status: Status = "met" if met else ("not_evaluable" if missing else "not_met")
    text = ", ".join(f"{t} {m}" for t, m in known.items())
    if missing:
        text += ("; " if text else "") + " and ".join(missing) + " not given"
    if any(m.reference == "baseline" for m in known.values()):
        text += f" ({ABNORMAL_BASELINE_SOURCE}: judged against the baseline where it is above ULN)"
    return RuleResult(CHOLESTATIC_RULE, status, text, [] if met else missing, CHOLESTATIC_SOURCE)


def recommendation(rules: Sequence[RuleResult]) -> StopRecommendation:
    """The rules together: stop if one is met; otherwise say which could not be evaluated."""
    met = [r.rule for r in rules if r.status == "met"]
    unknown = [r for r in rules if r.status == "not_evaluable"]
    not_evaluable = [r.rule for r in unknown]
    if met:
        text = f"Stop kratom: FDA 2009 stopping rule met: {'; '.join(met)}."
        if unknown:
            text += f" Not evaluable: {_listed(unknown)}."
        return StopRecommendation("stop", met, not_evaluable, text)
    if unknown:
        text = (
            "No FDA 2009 stopping rule is met by the values given, but "
            f"{len(unknown)} of {len(rules)} could not be evaluated: {_listed(unknown)}. "
            "This is not an all-clear: supply the missing values to evaluate them."
        )
        return StopRecommendation("undetermined", met, not_evaluable, text)
    return StopRecommendation(
        "no_rule_met",
        met,
        not_evaluable,
        f"No FDA 2009 stopping rule met (all {len(rules)} evaluated).",
    )


def _listed(rules: Sequence[RuleResult]) -> str:
    return "; ".join(
        f"{r.rule} ({', '.join(r.missing)} not given)" if r.missing else r.rule for r in rules
    )


def _missing(**inputs: object) -> list[str]:
    return [name for name, value in inputs.items() if value is None]


def _and(
    first: bool | None, first_missing: list[str], second: bool | None, second_missing: list[str]
) -> tuple[Status, list[str]]:
    """Kleene AND of two conditions, with the inputs that leave it unknown."""
    if first is False or second is False:
        return "not_met", []
    if first and second:
        return "met", []
    lacking = (first_missing if first is None else []) + (second_missing if second is None else [])
    return "not_evaluable", lacking


def _status(condition: bool | None) -> Status:
    if condition is None:
        return "not_evaluable"
    return "met" if condition else "not_met"
