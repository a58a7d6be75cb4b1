"""The latest laboratory results of a patient record, with units and the contract's ranges.

Bilirubin is accepted in mg/dL or umol/L; its range per unit is computed to the last float so
that the range the OpenAPI document states and the one enforced are the same.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from hepatorisk.assessment.fields import COLUMNS as _COL
from hepatorisk.assessment.fields import StrictModel as _Strict
from hepatorisk.assessment.fields import ranged as _ranged
from hepatorisk.clinical.units import BILIRUBIN_UMOL_L_PER_MG_DL, bilirubin_to_mg_dl

__all__ = ["LAB_COLUMNS", "Bilirubin", "Labs"]

EnzymeUnit = Literal["U/L", "IU/L"]


class Alt(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("alt_u_l")
    uln: float = _ranged("alt_uln_u_l")


class Ast(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("ast_u_l")
    uln: float = _ranged("ast_uln_u_l")


class Alp(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("alp_u_l")
    uln: float = _ranged("alp_uln_u_l")


class Ggt(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("ggt_u_l")
    uln: float = _ranged("ggt_uln_u_l")


BilirubinUnit = Literal["mg/dL", "umol/L"]


def _bilirubin_range(column: str, unit: str) -> tuple[float, float]:
    """The range of ``column`` (mg/dL in the data contract) in ``unit``, to the last float.

    Exactly the values whose conversion to mg/dL lies in the contract's range (the conversion is
    monotonic), so the range the OpenAPI document states and the one enforced are the same.
    """
    lo, hi = _COL[column].min or 0.0, _COL[column].max or 0.0
    if unit == "mg/dL":
        return lo, hi
    a, b = lo * BILIRUBIN_UMOL_L_PER_MG_DL, hi * BILIRUBIN_UMOL_L_PER_MG_DL
    while bilirubin_to_mg_dl(a, unit) < lo:
        a = math.nextafter(a, math.inf)
    while bilirubin_to_mg_dl(math.nextafter(a, 0.0), unit) >= lo:
        a = math.nextafter(a, 0.0)
    while bilirubin_to_mg_dl(b, unit) > hi:
        b = math.nextafter(b, 0.0)
    while bilirubin_to_mg_dl(math.nextafter(b, math.inf), unit) <= hi:
        b = math.nextafter(b, math.inf)
    return a, b


_BILIRUBIN_RANGES = {
    (field, unit): _bilirubin_range(column, unit)
    for field, column in (("value", "bilirubin_mg_dl"), ("uln", "bilirubin_uln_mg_dl"))
    for unit in ("mg/dL", "umol/L")
}


def _bilirubin_schema(schema: dict[str, Any]) -> None:
    """The ranges per unit in the JSON schema (one branch per unit)."""

    def bounded(field: str, unit: str) -> dict[str, Any]:
        lo, hi = _BILIRUBIN_RANGES[field, unit]
        return {"type": "number", "minimum": lo, "maximum": hi}

    schema["oneOf"] = [
        {
            "properties": {
                "unit": {"const": unit},
                "value": bounded("value", unit),
                "uln": {"anyOf": [bounded("uln", unit), {"type": "null"}]},
            }
        }
        for unit in ("mg/dL", "umol/L")
    ]


class Bilirubin(_Strict):
    """Total bilirubin; value and ULN in the same unit, mg/dL or umol/L (1 mg/dL = 17.1 umol/L)."""

    model_config = ConfigDict(json_schema_extra=_bilirubin_schema)

    unit: BilirubinUnit
    value: float = Field(gt=0, description="total bilirubin (LOINC 1975-2)")
    uln: float | None = Field(None, gt=0, description="lab ULN, same unit (required in labs)")

    @field_validator("value", "uln")
    @classmethod
    def _in_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        unit = info.data.get("unit")
        if v is None or unit is None:
            return v
        field = "value" if info.field_name == "value" else "uln"
        low, high = _BILIRUBIN_RANGES[field, unit]
        if not low <= v <= high:
            column = "bilirubin_mg_dl" if field == "value" else "bilirubin_uln_mg_dl"
            lo, hi = _COL[column].min or 0.0, _COL[column].max or 0.0
            f = BILIRUBIN_UMOL_L_PER_MG_DL
            raise ValueError(
                f"must be between {lo:g} and {hi:g} mg/dL ({lo * f:.3g}-{hi * f:.4g} umol/L); "
                f"got {v:g} {unit}"
            )
        return v

    def mg_dl(self) -> tuple[float, float | None]:
        uln = None if self.uln is None else bilirubin_to_mg_dl(self.uln, self.unit)
        return bilirubin_to_mg_dl(self.value, self.unit), uln


class Albumin(_Strict):
    unit: Literal["g/dL"]
    value: float = _ranged("albumin_g_dl")
    lln: float = _ranged("albumin_lln_g_dl")


class Inr(_Strict):
    value: float = _ranged("inr")
    uln: float = _ranged("inr_uln")


class Platelets(_Strict):
    unit: Literal["10^9/L"]
    value: float = _ranged("platelets_10e9_l")
    lln: float = _ranged("platelets_lln_10e9_l")


def _latest_bilirubin_needs_uln(schema: dict[str, Any]) -> None:
    """The latest bilirubin's ULN is required (``_uln_given``): say so in the JSON schema."""
    needs_uln = {"required": ["uln"], "properties": {"uln": {"type": "number"}}}
    schema["properties"]["bilirubin"] = {"allOf": [schema["properties"]["bilirubin"], needs_uln]}


class Labs(_Strict):
    """The latest labs. ALT, ALP and bilirubin are required: the guideline rules read them."""

    model_config = ConfigDict(json_schema_extra=_latest_bilirubin_needs_uln)

    alt: Alt
    alp: Alp
    bilirubin: Bilirubin
    ast: Ast | None = None
    ggt: Ggt | None = None
    albumin: Albumin | None = None
    inr: Inr | None = None
    platelets: Platelets | None = None

    @field_validator("bilirubin")
    @classmethod
    def _uln_given(cls, b: Bilirubin) -> Bilirubin:
        if b.uln is None:
            raise ValueError("uln is required for the latest bilirubin")
        return b


# record columns (value, limit) of each optional lab
LAB_COLUMNS = {
    "ast": ("ast_u_l", "ast_uln_u_l"),
    "ggt": ("ggt_u_l", "ggt_uln_u_l"),
    "albumin": ("albumin_g_dl", "albumin_lln_g_dl"),
    "inr": ("inr", "inr_uln"),
    "platelets": ("platelets_10e9_l", "platelets_lln_10e9_l"),
}
