"""Guideline flags of the latest labs: CTCAE grades, R ratio and pattern, Hy's law, stopping rules.

The definitions live in ``hepatorisk.clinical``; this module only applies them to one panel.
"""

from __future__ import annotations

import numpy as np

from hepatorisk.assessment.inputs import LiverPanel
from hepatorisk.assessment.results import GuidelineFlags
from hepatorisk.clinical import dili
from hepatorisk.clinical.ctcae import ctcae_grade
from hepatorisk.clinical.stopping_rules import stopping_rules

__all__ = ["guideline_flags"]


def guideline_flags(panel: LiverPanel) -> GuidelineFlags:
    """CTCAE grades, R ratio and pattern, Hy's law and the FDA 2009 stopping rules."""
    grades = [
        ctcae_grade(test, panel.values[test], panel.ulns[test], panel.baseline.get(test))
        for test in ("alt", "ast", "alp", "bilirubin")
        if test in panel.values
    ]
    r = float(dili.r_ratio(np.array([panel.alt_xuln]), np.array([panel.alp_xuln]))[0])
    pattern = dili.injury_pattern(np.array([r]))[0]
    hys = bool(dili.hys_law(panel.alt_xuln, panel.bilirubin_xuln, panel.alp_xuln))
    rules = stopping_rules(
        panel.alt_xuln,
        panel.ast_xuln,
        panel.bilirubin_xuln,
        panel.inr,
        panel.days_above_5x_uln,
        panel.symptoms,
    )
    stop = any(rule.status == "met" for rule in rules)
    return GuidelineFlags(grades, r, pattern, hys, rules, stop)
