"""Unit conversions for liver tests, so a lab in SI units is graded exactly like one in US units."""

from __future__ import annotations

__all__ = ["BILIRUBIN_UMOL_L_PER_MG_DL", "bilirubin_to_mg_dl", "bilirubin_to_umol_l"]

# Bilirubin molar mass 584.66 g/mol: 1 mg/dL = 10 mg/L / 584.66 g/mol = 17.1 umol/L (the factor
# used by clinical laboratories; clinical-facts.md §2 quotes bilirubin in mg/dL).
BILIRUBIN_UMOL_L_PER_MG_DL = 17.1


def bilirubin_to_mg_dl(value: float, unit: str) -> float:
    """Total bilirubin in mg/dL from a value in ``mg/dL`` or ``umol/L``."""
    if unit == "mg/dL":
        return value
    if unit == "umol/L":
        return value / BILIRUBIN_UMOL_L_PER_MG_DL
    raise ValueError(f"bilirubin unit must be 'mg/dL' or 'umol/L', got {unit!r}")


def bilirubin_to_umol_l(value_mg_dl: float) -> float:
    """Total bilirubin in umol/L from mg/dL."""
    return value_mg_dl * BILIRUBIN_UMOL_L_PER_MG_DL
