"""Liver-enzyme outcome definitions on lab series: one place for the generator, models and report.

* **Reference** of a test: its ULN when the baseline value is normal (or unknown), the baseline
  value when it is above ULN (CTCAE v5.0 abnormal-baseline rule, clinical-facts.md §2).
* **New-onset liver-enzyme elevation**: CTCAE v5.0 grade >= 2 of ALT, AST or ALP at a
  post-baseline draw, graded against the reference (ALT/AST > 3x, ALP > 2.5x; cut-offs from
  ``ctcae.py``). ALP-led (cholestatic) injury, kratom's usual pattern, counts.
* **Prevalent abnormality**: the entry value already meets grade >= 2 against ULN; such a patient
  is not at risk for the new-onset outcome.
* **Severe**: a new-onset elevation with total bilirubin > 2x its reference or INR > 1.5 in the
  same draw (Aithal 2011 severity >= 2 "moderate": jaundice or coagulopathy; FDA 2009 rule 3;
  clinical-facts.md §2).

All functions are element-wise over numpy arrays: values and baselines in the same unit as the
ULN; a missing value (NaN) meets nothing, so it can never create an event.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hepatorisk.clinical.ctcae import GRADE_2_ABOVE
from hepatorisk.clinical.dili import HYS_BILIRUBIN_ABOVE_XULN
from hepatorisk.clinical.stopping_rules import INR_WITH

__all__ = [
    "ENZYMES",
    "SEVERE_INR_ABOVE",
    "grade2_or_worse",
    "new_onset_elevation",
    "prevalent_abnormality",
    "reference",
    "severe_elevation",
]

# The enzymes whose grade >= 2 defines the outcome (ALT, AST: hepatocellular; ALP: cholestatic).
ENZYMES = ("alt", "ast", "alp")
# Severity: INR > 1.5 (Aithal 2011 coagulopathy; FDA 2009 rule 3, clinical-facts.md §2).
SEVERE_INR_ABOVE = INR_WITH

Array = np.ndarray


def reference(baseline: Array | float, uln: Array | float) -> Array:
    """What a later value is graded against: ULN, or the baseline when it is above ULN."""
    b = np.asarray(baseline, dtype=float)
    u = np.asarray(uln, dtype=float)
    return np.where(np.isfinite(b) & (b > u), b, u)


def grade2_or_worse(test: str, value: Array, uln: Array, baseline: Array | None = None) -> Array:
    """CTCAE v5.0 grade >= 2 of ``test`` ('alt', 'ast', 'alp', 'bilirubin'), element-wise."""
    ref = np.asarray(uln, dtype=float) if baseline is None else reference(baseline, uln)
    with np.errstate(invalid="ignore"):
        above: Array = np.asarray(value, dtype=float) > GRADE_2_ABOVE[test] * ref
    return above


def prevalent_abnormality(baseline: Mapping[str, Array], uln: Mapping[str, Array]) -> Array:
    """Entry ALT, AST or ALP already at grade >= 2 against ULN (unknown values meet nothing)."""
    prevalent: Array = np.logical_or.reduce(
        [grade2_or_worse(t, baseline[t], uln[t]) for t in ENZYMES]
    )
    return prevalent


def new_onset_elevation(
    values: Mapping[str, Array], baseline: Mapping[str, Array], uln: Mapping[str, Array]
) -> Array:
    """Grade >= 2 of ALT, AST or ALP against each test's reference, at each draw.

    ``values[t]`` may have one more dimension than ``baseline[t]`` (patients x draws); baselines
    and ULNs then broadcast along the draws."""

    def column(a: Array, like: Array) -> Array:
        a = np.asarray(a, dtype=float)
        return a[:, None] if np.ndim(like) == 2 and a.ndim == 1 else a

    onset: Array = np.logical_or.reduce(
        [
            grade2_or_worse(t, values[t], column(uln[t], values[t]), column(baseline[t], values[t]))
            for t in ENZYMES
        ]
    )
    return onset


def severe_elevation(
    values: Mapping[str, Array], baseline: Mapping[str, Array], uln: Mapping[str, Array]
) -> Array:
    """A new-onset elevation with bilirubin > 2x its reference or INR > 1.5 in the same draw."""
    onset = new_onset_elevation(values, baseline, uln)
    bili = np.asarray(values["bilirubin"], dtype=float)
    b_uln = np.asarray(uln["bilirubin"], dtype=float)
    b_base = np.asarray(baseline["bilirubin"], dtype=float)
    if bili.ndim == 2 and b_uln.ndim == 1:
        b_uln, b_base = b_uln[:, None], b_base[:, None]
    with np.errstate(invalid="ignore"):
        jaundice = bili > HYS_BILIRUBIN_ABOVE_XULN * reference(b_base, b_uln)
        coagulopathy = np.asarray(values["inr"], dtype=float) > SEVERE_INR_ABOVE
    severe: Array = onset & (jaundice | coagulopathy)
    return severe
