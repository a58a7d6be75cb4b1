"""FDA 2009 drug-induced liver injury stopping rules, evaluated on the latest liver tests.

From the FDA guidance "Drug-Induced Liver Injury: Premarketing Clinical Evaluation" (2009), as
reproduced in clinical-facts.md §2: stop the drug if ALT or AST
  1. > 8x ULN;
  2. > 5x ULN for more than 2 weeks;
  3. > 3x ULN and (total bilirubin > 2x ULN or INR > 1.5);
  4. > 3x ULN with fatigue, nausea, vomiting, right-upper-quadrant pain or tenderness, fever, rash
     and/or eosinophilia (> 5%).
A rule whose inputs were not supplied is reported as not evaluable, never as not met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["RuleResult", "Symptoms", "stopping_rules"]

ALT_AST_STOP_XULN = 8.0
ALT_AST_PROLONGED_XULN = 5.0
PROLONGED_DAYS = 14
ALT_AST_WITH_XULN = 3.0
BILIRUBIN_WITH_XULN = 2.0
INR_WITH = 1.5
EOSINOPHILIA_PERCENT = 5.0
SOURCE = "FDA 2009 DILI guidance (clinical-facts.md §2)"

Status = Literal["met", "not_met", "not_evaluable"]


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
    reason: str


def stopping_rules(
    alt_xuln: float,
    ast_xuln: float | None,
    bilirubin_xuln: float,
    inr: float | None = None,
    days_above_5x_uln: int | None = None,
    symptoms: Symptoms | None = None,
) -> list[RuleResult]:
    """The four rules, in order; ``days_above_5x_uln`` is how long ALT/AST has been > 5x ULN."""
    peak = max(alt_xuln, ast_xuln if ast_xuln is not None else 0.0)
    peak_text = f"max(ALT, AST) = {peak:.1f}x ULN"
    rules = [RuleResult("ALT or AST > 8x ULN", _status(peak > ALT_AST_STOP_XULN), peak_text)]

    if peak <= ALT_AST_PROLONGED_XULN:
        prolonged: Status = "not_met"
    elif days_above_5x_uln is None:
        prolonged = "not_evaluable"
    else:
        prolonged = _status(days_above_5x_uln > PROLONGED_DAYS)
    rules.append(
        RuleResult(
            "ALT or AST > 5x ULN for more than 2 weeks",
            prolonged,
            f"{peak_text}; days above 5x ULN: "
            f"{'not given' if days_above_5x_uln is None else days_above_5x_uln}",
        )
    )

    above3 = peak > ALT_AST_WITH_XULN
    bili_high = bilirubin_xuln > BILIRUBIN_WITH_XULN
    inr_high = inr is not None and inr > INR_WITH
    if not above3:
        combined: Status = "not_met"
    elif bili_high or inr_high:
        combined = "met"
    else:
        combined = "not_met" if inr is not None else "not_evaluable"
    rules.append(
        RuleResult(
            "ALT or AST > 3x ULN and (bilirubin > 2x ULN or INR > 1.5)",
            combined,
            f"{peak_text}; bilirubin {bilirubin_xuln:.1f}x ULN; "
            f"INR {'not given' if inr is None else f'{inr:.2f}'}",
        )
    )

    present = (symptoms or Symptoms()).any_present()
    if not above3:
        symptomatic: Status = "not_met"
    elif present is None:
        symptomatic = "not_evaluable"
    else:
        symptomatic = _status(present)
    rules.append(
        RuleResult(
            "ALT or AST > 3x ULN with hepatitis symptoms or eosinophilia > 5%",
            symptomatic,
            f"{peak_text}; symptoms "
            f"{'not fully reported' if present is None else ('present' if present else 'absent')}",
        )
    )
    return rules


def _status(condition: bool) -> Status:
    return "met" if condition else "not_met"
