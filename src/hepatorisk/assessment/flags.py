"""Guideline flags of the latest labs: CTCAE grades, R ratio and pattern, Hy's law, stopping rules.

The definitions live in ``hepatorisk.clinical``; this module only applies them to one panel.
What each test is judged against is ``liver_events.reference``: the ULN, or the baseline when
the baseline is above ULN (CTCAE v5.0 abnormal-baseline rule, clinical-facts.md §2). The FDA
2009 stopping rules, the cholestatic trigger and the early-retest trigger use that reference;
Hy's law and the R ratio are defined on multiples of ULN and keep it.
"""

from __future__ import annotations

import numpy as np

from hepatorisk.assessment.inputs import LiverPanel
from hepatorisk.assessment.results import GuidelineFlags
from hepatorisk.clinical import dili
from hepatorisk.clinical.ctcae import ctcae_grade
from hepatorisk.clinical.liver_events import reference
from hepatorisk.clinical.stopping_rules import (
    ALT_AST_WITH_XULN,
    Multiple,
    cholestatic_trigger,
    recommendation,
    stopping_rules,
)

__all__ = ["elevated_aminotransferase", "guideline_flags", "judged"]


def judged(panel: LiverPanel, test: str) -> Multiple | None:
    """``test``'s latest value as a multiple of its reference; None when it was not given."""
    if test not in panel.values:
        return None
    uln = panel.ulns[test]
    baseline = panel.baseline.get(test)
    ref = float(reference(np.nan if baseline is None else baseline, uln))
    return Multiple(panel.values[test] / ref, "ULN" if ref == uln else "baseline")


def elevated_aminotransferase(panel: LiverPanel) -> str | None:
    """ALT or AST above 3x its reference (the FDA 2009 early-retest trigger) in words, or None."""
    above = [
        f"{test.upper()} {m} > {ALT_AST_WITH_XULN:g}x"
        for test in ("alt", "ast")
        if (m := judged(panel, test)) is not None and m.value > ALT_AST_WITH_XULN
    ]
    return "; ".join(above) or None


def guideline_flags(panel: LiverPanel) -> GuidelineFlags:
    """CTCAE grades, R ratio and pattern, Hy's law, the FDA 2009 stopping rules with what they
    recommend together, and the cholestatic-injury trigger."""
    grades = [
        ctcae_grade(test, panel.values[test], panel.ulns[test], panel.baseline.get(test))
        for test in ("alt", "ast", "alp", "bilirubin")
        if test in panel.values
    ]
    r = float(dili.r_ratio(np.array([panel.alt_xuln]), np.array([panel.alp_xuln]))[0])
    pattern = dili.injury_pattern(np.array([r]))[0]
    hys = bool(dili.hys_law(panel.alt_xuln, panel.bilirubin_xuln, panel.alp_xuln, panel.ast_xuln))
    alt, ast, alp, bilirubin = (judged(panel, t) for t in ("alt", "ast", "alp", "bilirubin"))
    rules = stopping_rules(alt, ast, bilirubin, panel.inr, panel.days_above_5x_uln, panel.symptoms)
    advice = recommendation(rules)
    return GuidelineFlags(
        grades,
        r,
        pattern,
        hys,
        rules,
        advice.verdict == "stop",
        cholestatic_trigger(alp, bilirubin),
        advice,
    )
