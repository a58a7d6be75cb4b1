"""CTCAE v5.0 grades of the liver tests, so a lab result reads in the oncology-trial scale.

Normal baseline: grades are multiples of the upper limit of normal (clinical-facts.md §2):
ALT/AST G1 >ULN-3, G2 >3-5, G3 >5-20, G4 >20; ALP G1 >ULN-2.5, G2 >2.5-5, G3 >5-20, G4 >20;
bilirubin G1 >ULN-1.5, G2 >1.5-3, G3 >3-10, G4 >10.
Abnormal baseline (baseline above ULN): CTCAE v5.0 grades multiples of the baseline instead
(clinical-facts.md §2 states the rule; the cut-offs below are from the CTCAE v5.0 table, NCI 2017,
https://ctep.cancer.gov/protocoldevelopment/electronic_applications/ctc.htm, and should be checked
against it): ALT/AST G1 1.5-3, G2 >3-5, G3 >5-20, G4 >20 x baseline; ALP G1 2-2.5, G2 >2.5-5,
G3 >5-20, G4 >20 x baseline; bilirubin G1 >1-1.5, G2 >1.5-3, G3 >3-10, G4 >10 x baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["GRADE_2_ABOVE", "CtcaeGrade", "Grade", "ctcae_grade"]

# Lower bound (exclusive) of grades 2, 3 and 4, as multiples of ULN (normal baseline).
_NORMAL_BASELINE = {
    "alt": (3.0, 5.0, 20.0),
    "ast": (3.0, 5.0, 20.0),
    "alp": (2.5, 5.0, 20.0),
    "bilirubin": (1.5, 3.0, 10.0),
}
# Grade-1 floor and grades 2-4 lower bounds as multiples of an abnormal baseline.
_ABNORMAL_BASELINE_G1_FLOOR = {"alt": 1.5, "ast": 1.5, "alp": 2.0, "bilirubin": 1.0}
# Grade >= 2 starts above this multiple of the reference (ULN, or an abnormal baseline): the same
# cut-offs apply to both references in CTCAE v5.0, so the outcome definitions read them here.
GRADE_2_ABOVE = {test: bounds[0] for test, bounds in _NORMAL_BASELINE.items()}


Grade = Literal[0, 1, 2, 3, 4]


@dataclass(frozen=True)
class CtcaeGrade:
    """A grade (0-4) with what it was measured against."""

    test: str
    grade: Grade
    multiple: float
    reference: Literal["ULN", "baseline"]


def ctcae_grade(test: str, value: float, uln: float, baseline: float | None = None) -> CtcaeGrade:
    """CTCAE v5.0 grade of ``test`` ('alt', 'ast', 'alp', 'bilirubin') for ``value``.

    ``baseline`` (same unit) switches to the abnormal-baseline rule when it is above ``uln``.
    """
    if test not in _NORMAL_BASELINE:
        raise ValueError(
            f"CTCAE liver test must be one of {sorted(_NORMAL_BASELINE)}, got {test!r}"
        )
    g2, g3, g4 = _NORMAL_BASELINE[test]
    if baseline is not None and baseline > uln:
        multiple = value / baseline
        floor = _ABNORMAL_BASELINE_G1_FLOOR[test]
        return CtcaeGrade(
            test,
            _grade(multiple, floor, g2, g3, g4, floor_inclusive=test != "bilirubin"),
            multiple,
            "baseline",
        )
    multiple = value / uln
    return CtcaeGrade(
        test, _grade(multiple, 1.0, g2, g3, g4, floor_inclusive=False), multiple, "ULN"
    )


def _grade(
    multiple: float, floor: float, g2: float, g3: float, g4: float, *, floor_inclusive: bool
) -> Grade:
    if multiple > g4:
        return 4
    if multiple > g3:
        return 3
    if multiple > g2:
        return 2
    if multiple > floor or (floor_inclusive and multiple >= floor):
        return 1
    return 0
