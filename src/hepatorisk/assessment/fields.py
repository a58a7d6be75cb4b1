"""Field builders shared by the patient-record models: ranges and levels from the data contract.

Ranges come from the synthetic cohort's data contract (``PATIENTS``), so the record accepts
exactly what the models were built on, and the OpenAPI document states those ranges.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hepatorisk.cohorts.synthetic.tables import PATIENTS

__all__ = ["COLUMNS", "StrictModel", "levels", "ranged"]

COLUMNS = {c.name: c for c in PATIENTS.columns}


def ranged(column: str, *, default: Any = ...) -> Any:
    """A Field bounded by the data contract's range for ``column``, described with its unit."""
    c = COLUMNS[column]
    unit = f" ({c.unit})" if c.unit else ""
    return Field(default, ge=c.min, le=c.max, description=f"{c.description}{unit}")


def levels(column: str) -> Any:
    """The contract's allowed values of a categorical column, as a ``Literal`` type."""
    return Literal[tuple(COLUMNS[column].allowed or ())]


class StrictModel(BaseModel):
    """Unknown fields refused, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
