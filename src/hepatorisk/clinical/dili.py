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
    "HYS_ALT_OR_AST_AT_LEAST_XULN",
    "HYS_BILIRUBIN_ABOVE_XULN",
    "R_CHOLESTATIC_AT_MOST",
    "R_HEPATOCELLULAR_AT_LEAST",
    "hys_law",
    "injury_pattern",
    "r_ratio",
]

# CTCAE v5: ALT > 3x ULN is grade >= 2 (clinical-facts.md §2): the old raw outcome (ALT > 3x ULN at
# any draw) and the ALT axis of the eDISH plot. The new-onset outcome, graded against an abnormal
# baseline and counting AST and ALP too, is ``liver_events.new_onset_elevation``.
ALT_EVENT_XULN = 3.0
# R ratio = (ALT/ULN)/(ALP/ULN); ACG 2014: R >= 5 hepatocellular, R <= 2 cholestatic, else mixed
# (clinical-facts.md §2).
R_HEPATOCELLULAR_AT_LEAST = 5.0
R_CHOLESTATIC_AT_MOST = 2.0
# Hy's law: ALT or AST >= 3x ULN with total bilirubin > 2x ULN, without cholestasis
# (ALP < 2x ULN) (clinical-facts.md §2; FDA 2009 guidance).
HYS_ALT_OR_AST_AT_LEAST_XULN = 3.0
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
def hys_law(
    alt_xuln: float, bilirubin_xuln: float, alp_xuln: float, ast_xuln: float | None = None
) -> np.bool_: ...
@overload
def hys_law(
    alt_xuln: np.ndarray,
    bilirubin_xuln: np.ndarray,
    alp_xuln: np.ndarray,
    ast_xuln: np.ndarray | None = None,
) -> np.ndarray: ...
def hys_law(
    alt_xuln: np.ndarray | float,
    bilirubin_xuln: np.ndarray | float,
    alp_xuln: np.ndarray | float,
    ast_xuln: np.ndarray | float | None = None,
) -> np.ndarray | np.bool_:
    """Hy's law laboratory criteria met in the same draw (other causes are a clinician's call).

    ALT **or** AST >= 3x ULN, total bilirubin > 2x ULN, ALP < 2x ULN (clinical-facts.md §2), all
    against the ULN. Element-wise: arrays give an array of flags, one patient's values give one
    flag. A missing value (NaN, or ``ast_xuln=None``) meets nothing: AST left out leaves ALT to
    decide, and a missing ALP never passes as "below 2x ULN"."""
    with np.errstate(invalid="ignore"):
        aminotransferase = np.asarray(alt_xuln, dtype=float) >= HYS_ALT_OR_AST_AT_LEAST_XULN
        if ast_xuln is not None:
            ast = np.asarray(ast_xuln, dtype=float)
            aminotransferase = aminotransferase | (ast >= HYS_ALT_OR_AST_AT_LEAST_XULN)
        return (
            aminotransferase
            & (np.asarray(bilirubin_xuln, dtype=float) > HYS_BILIRUBIN_ABOVE_XULN)
            & (np.asarray(alp_xuln, dtype=float) < HYS_ALP_BELOW_XULN)
        )
