"""Declarative table schemas: what every column may hold, checked on write and on load.

A schema refuses a table with a message that names the table, the column and the offending rows,
so a corrupted or hand-edited file is caught where it enters, not three steps later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from hepatorisk.exceptions import DataContractError

__all__ = ["Column", "TableSchema"]

Kind = Literal["int", "float", "bool", "category", "str"]
# The dtype names Column.dtype returns (category columns return a CategoricalDtype instead).
DtypeName = Literal["Int64", "int64", "float64", "boolean", "bool", "string"]
_SHOWN_ROWS = 5


@dataclass(frozen=True)
class Column:
    """One column: its kind, whether it may be missing, its allowed range or values, its unit."""

    name: str
    kind: Kind
    description: str = ""
    unit: str | None = None
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind == "category" and not self.allowed:
            raise ValueError(f"category column {self.name!r} needs its allowed values")

    @property
    def dtype(self) -> DtypeName | pd.CategoricalDtype:
        """The pandas dtype a valid column is stored with."""
        if self.kind == "int":
            return "Int64" if self.nullable else "int64"
        if self.kind == "float":
            return "float64"
        if self.kind == "bool":
            return "boolean" if self.nullable else "bool"
        if self.kind == "category":
            return pd.CategoricalDtype(list(self.allowed or ()), ordered=False)
        return "string"

    def allowed_text(self) -> str:
        """A short statement of what the column accepts, for error messages and docs."""
        if self.allowed is not None:
            return "one of " + ", ".join(repr(v) for v in self.allowed)
        if self.min is not None or self.max is not None:
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            unit = f" {self.unit}" if self.unit else ""
            return f"values in [{lo}, {hi}]{unit}"
        return f"{self.kind} values"


@dataclass(frozen=True)
class TableSchema:
    """An ordered set of columns plus the key that identifies a row."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    def validate(self, frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
        """Return ``frame`` with exact column order and dtypes, or raise DataContractError.

        Every problem found is reported at once, each with up to five example row numbers.
        """
        where = source or self.name
        problems: list[str] = []
        present = list(frame.columns)
        missing = [c for c in self.column_names if c not in present]
        unexpected = [c for c in present if c not in self.column_names]
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected column(s): {', '.join(map(str, unexpected))}")
        if problems:
            raise DataContractError(_message(where, problems))

        frame = frame.reset_index(drop=True)
        out: dict[str, pd.Series] = {}
        for col in self.columns:
            series, col_problems = _check_column(frame[col.name], col)
            problems.extend(f"column {col.name!r}: {p}" for p in col_problems)
            out[col.name] = series
        if self.key and not problems:
            dup = frame.duplicated(subset=list(self.key), keep=False)
            if dup.any():
                problems.append(
                    f"key ({', '.join(self.key)}) is not unique: {int(dup.sum())} rows share a key "
                    f"(rows {_rows(dup)})"
                )
        if problems:
            raise DataContractError(_message(where, problems))
        return pd.DataFrame(out)


def _message(where: str, problems: Sequence[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{where} does not match its schema:\n{lines}"


def _rows(mask: pd.Series | np.ndarray) -> str:
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i) for i in idx[:_SHOWN_ROWS])
    more = f" and {len(idx) - _SHOWN_ROWS} more" if len(idx) > _SHOWN_ROWS else ""
    return shown + more


def _examples(series: pd.Series, mask: np.ndarray) -> str:
    values = series[mask].head(_SHOWN_ROWS).tolist()
    return ", ".join(repr(v) for v in values)


def _check_column(series: pd.Series, col: Column) -> tuple[pd.Series, list[str]]:
    problems: list[str] = []
    isna = series.isna().to_numpy()
    if not col.nullable and isna.any():
        problems.append(
            f"{int(isna.sum())} missing value(s) where none are allowed (rows {_rows(isna)})"
        )

    if col.kind in ("int", "float"):
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna().to_numpy() & ~isna
        if bad.any():
            problems.append(
                f"{int(bad.sum())} non-numeric value(s) "
                f"(rows {_rows(bad)}: {_examples(series, bad)})"
            )
            return series, problems
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        if col.kind == "int":
            frac = ~np.isnan(arr) & (arr != np.round(arr))
            if frac.any():
                problems.append(
                    f"{int(frac.sum())} non-integer value(s) (rows {_rows(frac)}: "
                    f"{_examples(series, frac)})"
                )
        out_of_range = np.zeros(len(arr), dtype=bool)
        with np.errstate(invalid="ignore"):
            if col.min is not None:
                out_of_range |= arr < col.min
            if col.max is not None:
                out_of_range |= arr > col.max
        if col.kind == "float":
            out_of_range |= np.isinf(arr)
        if out_of_range.any():
            problems.append(
                f"{int(out_of_range.sum())} value(s) outside the allowed {col.allowed_text()} "
                f"(rows {_rows(out_of_range)}: {_examples(series, out_of_range)})"
            )
        if problems:
            return series, problems
        return values.astype(col.dtype), problems

    if col.kind == "bool":
        if series.dtype == bool or str(series.dtype) == "boolean":
            return series.astype(col.dtype), problems
        mapped = series.map({True: True, False: False, "true": True, "false": False})
        bad = mapped.isna().to_numpy() & ~isna
        if bad.any():
            problems.append(
                f"{int(bad.sum())} value(s) that are not true/false (rows {_rows(bad)}: "
                f"{_examples(series, bad)})"
            )
            return series, problems
        return mapped.astype(col.dtype), problems

    text = series.astype("string")
    if col.allowed is not None:
        bad = ~text.isin(col.allowed).to_numpy() & ~isna
        if bad.any():
            problems.append(
                f"{int(bad.sum())} value(s) not {col.allowed_text()} (rows {_rows(bad)}: "
                f"{_examples(series, bad)})"
            )
            return series, problems
    return text.astype(col.dtype), problems
