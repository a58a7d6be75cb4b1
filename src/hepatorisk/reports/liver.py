"""Liver safety: eDISH (peak ALT against peak bilirubin, x ULN) and injury patterns by R ratio.

Thresholds come from ``hepatorisk.clinical.dili`` (one definition for the whole project):
Hy's law quadrant ALT >= 3x ULN and total bilirubin > 2x ULN (the plot's axes are ALT and
bilirubin); Hy's law itself on ALT or AST >= 3x ULN with ALP < 2x ULN (clinical-facts.md §2);
R >= 5 hepatocellular, R <= 2 cholestatic, mixed between (ACG 2014).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.clinical import dili

__all__ = ["EDISH_COLUMNS", "liver_section"]

EDISH_COLUMNS = ("alt_peak_xuln", "bili_peak_xuln")
PATTERNS = ("hepatocellular", "mixed", "cholestatic")


def _round(values: pd.Series) -> list[float | None]:
    arr = values.to_numpy(dtype=float)
    return [None if np.isnan(v) else round(float(v), 4) for v in arr]


def liver_section(records: pd.DataFrame, outcome: str = "liver_event_12w") -> dict[str, Any] | None:
    """None when the records do not carry peak liver tests (a real cohort without them)."""
    if not set(EDISH_COLUMNS) <= set(records.columns):
        return None
    test = records[records["split"] == "test"]
    event = test[outcome].astype(bool) if outcome in test else pd.Series(False, index=test.index)
    alt, bili = test["alt_peak_xuln"], test["bili_peak_xuln"]
    in_quadrant = (alt >= dili.ALT_EVENT_XULN) & (bili > dili.HYS_BILIRUBIN_ABOVE_XULN)
    hys = _hys_law(test)
    patterns: dict[str, dict[str, int]] = {}
    r_values: list[float | None] = []
    if "r_ratio_onset" in records:
        for split_name, part in (
            ("development", records[records["split"] != "test"]),
            ("test", test),
        ):
            pattern = pd.Series(dili.injury_pattern(part["r_ratio_onset"].to_numpy()))
            patterns[split_name] = {p: int((pattern == p).sum()) for p in PATTERNS}
            patterns[split_name]["no onset R (no event)"] = int(pattern.isna().sum())
        r_values = _round(test["r_ratio_onset"].dropna())
    return {
        "outcome": outcome,
        "beyond_horizon": _beyond_horizon(test, event, alt),
        "n": len(test),
        "alt_peak_xuln": _round(alt),
        "bili_peak_xuln": _round(bili),
        "event": event.to_numpy(dtype=bool).tolist(),
        "hys_law": hys.to_numpy(dtype=bool).tolist() if hys is not None else None,
        "quadrant_count": int(in_quadrant.sum()),
        "hys_law_count": int(hys.sum()) if hys is not None else None,
        "thresholds": {
            "alt_xuln": dili.ALT_EVENT_XULN,
            "bilirubin_xuln": dili.HYS_BILIRUBIN_ABOVE_XULN,
            "alp_below_xuln": dili.HYS_ALP_BELOW_XULN,
            "hys_alt_or_ast_xuln": dili.HYS_ALT_OR_AST_AT_LEAST_XULN,
            "r_hepatocellular_at_least": dili.R_HEPATOCELLULAR_AT_LEAST,
            "r_cholestatic_at_most": dili.R_CHOLESTATIC_AT_MOST,
        },
        "patterns": patterns,
        "r_ratio_test": r_values,
    }


def _beyond_horizon(test: pd.DataFrame, event: pd.Series, alt: pd.Series) -> dict[str, int]:
    """Patients without the outcome whose follow-up peak ALT is still >= 3x ULN, by reason: the
    peaks span the whole follow-up while the outcome stops at the horizon, and an abnormal entry
    value moves the reference from ULN to the entry value (CTCAE v5.0)."""
    right = (~event.to_numpy(dtype=bool)) & (alt.to_numpy(dtype=float) >= dili.ALT_EVENT_XULN)
    later = np.zeros(len(test), dtype=bool)
    if "liver_event_24w" in test:
        later = test["liver_event_24w"].fillna(False).to_numpy(dtype=bool) & right
    abnormal = np.zeros(len(test), dtype=bool)
    if {"alt_u_l", "alt_uln_u_l"} <= set(test.columns):
        entry = (test["alt_u_l"] > test["alt_uln_u_l"]).fillna(False).to_numpy(dtype=bool)
        abnormal = right & ~later & entry
    return {
        "total": int(right.sum()),
        "event_after_horizon": int(later.sum()),
        "abnormal_entry_reference": int(abnormal.sum()),
        "other": int((right & ~later & ~abnormal).sum()),
    }


def _hys_law(test: pd.DataFrame) -> pd.Series | None:
    """The cohort's own same-draw Hy's-law flag, else the laboratory criteria on the peaks
    (ALT or AST: AST's peak when the records carry it)."""
    if "hys_law" in test:
        return test["hys_law"].astype(bool)
    if "alp_peak_xuln" not in test:
        return None
    flags = dili.hys_law(
        test["alt_peak_xuln"].to_numpy(dtype=float),
        test["bili_peak_xuln"].to_numpy(dtype=float),
        test["alp_peak_xuln"].to_numpy(dtype=float),
        test["ast_peak_xuln"].to_numpy(dtype=float) if "ast_peak_xuln" in test else None,
    )
    return pd.Series(flags, index=test.index)
