"""Field builders shared by the patient-record models: ranges and levels from the data contract.

Ranges come from the synthetic cohort's data contract (``PATIENTS``), so the record accepts
exactly what the models were built on, and the OpenAPI document states those ranges.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hepatorisk.cohorts.synthetic.tables import PATIENTS

__all__ = ["COLUMNS", "Integer", "OptionalInteger", "StrictModel", "levels", "ranged"]

COLUMNS = {c.name: c for c in PATIENTS.columns}


def ranged(column: str, *, default: Any = ...) -> Any:
    """A Field bounded by the data contract's range for ``column``, described with its unit."""
    c = COLUMNS[column]
    unit = f" ({c.unit})" if c.unit else ""
    return Field(default, ge=c.min, le=c.max, description=f"{c.description}{unit}")


def levels(column: str) -> Any:
    """The contract's allowed values of a categorical column, as a ``Literal`` type."""
    return Literal[tuple(COLUMNS[column].allowed or ())]


def _whole_number(value: Any) -> Any:
    """``41.0`` as 41 (JSON Schema's ``integer`` includes it); anything else unchanged, for the
    strict check (so ``41.5``, ``true`` and ``"41"`` are refused)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


#: an integer field: a JSON integer, or a number with no fractional part (the validator wraps
#: the whole type, optional or not, so that the field's range stays in the JSON schema)
Integer = Annotated[int, BeforeValidator(_whole_number)]
OptionalInteger = Annotated[int | None, BeforeValidator(_whole_number)]


class StrictModel(BaseModel):
    """Unknown fields refused, instances immutable, strict types: a number is a JSON number
    (an integer is a number, but ``"48"`` or ``true`` is not), finite (no NaN, Infinity or
    1e400), a boolean is ``true`` or ``false`` (not ``1``, ``"true"``, ``"no"`` or ``"Y"``), a
    string a string: nothing is converted, so nothing is read with a meaning it did not have."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
