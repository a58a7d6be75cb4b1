"""Drug-induced liver injury definitions, each with its guideline source.

Shared by the synthetic generator, the models' outcome definitions and the service's rule flags,
so that every part of hepatorisk applies one definition of each.
All inputs are multiples of the upper limit of normal (x ULN).
"""

from __future__ import annotations

from typing import overload

import numpy as np

__all__ = [
    "ALT_EVENT_XULN",
    "HYS_ALP_BELOW_XULN",
    "HYS_BILIRUBIN_ABOVE_XULN",
    "R_CHOLESTATIC_AT_MOST",
    "R_HEPATOCELLULAR_AT_LEAST",
    "hys_law",
    "injury_pattern",
    "r_ratio",
]

# CTCAE v5: ALT > 3x ULN is grade >= 2 (clinical-facts.md §2); the outcome liver_event_12w.
ALT_EVENT_XULN = 3.0
# R ratio = (ALT/ULN)/(ALP/ULN); ACG 2014: R >= 5 hepatocellular, R <= 2 cholestatic, else mixed
# (clinical-facts.md §2).
R_HEPATOCELLULAR_AT_LEAST = 5.0
R_CHOLESTATIC_AT_MOST = 2.0
# Hy's law: ALT >= 3x ULN with total bilirubin > 2x ULN, without cholestasis (ALP < 2x ULN)
# (clinical-facts.md §2; FDA 2009 guidance).
HYS_BILIRUBIN_ABOVE_XULN = 2.0
HYS_ALP_BELOW_XULN = 2.0


def r_ratio(alt_xuln: np.ndarray, alp_xuln: np.ndarray) -> np.ndarray:
    """The R ratio at injury onset: which of hepatocellular or cholestatic damage dominates."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: np.ndarray = np.asarray(alt_xuln, dtype=float) / np.asarray(alp_xuln, dtype=float)
    return ratio


def injury_pattern(r: np.ndarray) -> np.ndarray:
    """'hepatocellular', 'mixed' or 'cholestatic' for each R; None where R is missing."""
    r = np.asarray(r, dtype=float)
    out = np.full(r.shape, None, dtype=object)
    known = ~np.isnan(r)
    out[known & (r >= R_HEPATOCELLULAR_AT_LEAST)] = "hepatocellular"
    out[known & (r <= R_CHOLESTATIC_AT_MOST)] = "cholestatic"
    out[known & (r > R_CHOLESTATIC_AT_MOST) & (r < R_HEPATOCELLULAR_AT_LEAST)] = "mixed"
    return out


@overload
def hys_law(alt_xuln: float, bilirubin_xuln: float, alp_xuln: float) -> np.bool_: ...
@overload
def hys_law(
    alt_xuln: np.ndarray, bilirubin_xuln: np.ndarray, alp_xuln: np.ndarray
) -> np.ndarray: ...
def hys_law(
    alt_xuln: np.ndarray | float, bilirubin_xuln: np.ndarray | float, alp_xuln: np.ndarray | float
) -> np.ndarray | np.bool_:
    """Hy's law laboratory criteria met in the same draw (other causes are a clinician's call).

    Element-wise: arrays give an array of flags, one patient's values give one flag."""
    return (
        (np.asarray(alt_xuln) >= ALT_EVENT_XULN)
        & (np.asarray(bilirubin_xuln) > HYS_BILIRUBIN_ABOVE_XULN)
        & (np.asarray(alp_xuln) < HYS_ALP_BELOW_XULN)
    )
