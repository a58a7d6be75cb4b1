"""Table 1 of the development (train + calibration) and held-out test patients.

Rows are the model's own inputs (lab reference limits omitted: they describe the laboratory,
not the patient) and the outcome, typed from the records so any cohort kind works.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from hepatorisk.cohorts.table_one import Variable, table_one
from hepatorisk.reports.labels import human_text

if TYPE_CHECKING:
    from hepatorisk.modeling.bundle import ModelBundle
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = ["table_one_section", "table_one_variables"]

_LIMIT = re.compile(r"_(uln|lln)(_|$)")
_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)$")
_TRAILING_ZEROS = re.compile(r"\b(\d+)\.(\d*?[1-9])?0+\b")


def _integer_text(cell: str) -> str:
    """'5.00 [3.00-8.00]' -> '5 [3-8]': a whole-number score printed without decimals."""
    return _TRAILING_ZEROS.sub(
        lambda m: m.group(1) + (f".{m.group(2)}" if m.group(2) else ""), cell
    )


def _label_and_unit(bundle: ModelBundle, column: str) -> tuple[str, str]:
    label = bundle.label(column)
    match = _UNIT.match(label)
    if match:
        return match.group(1), match.group(2)
    return label, ""


def table_one_variables(bundle: ModelBundle, records: pd.DataFrame, outcome: str) -> list[Variable]:
    """One Table 1 variable per model input (typed from its data) plus the outcome."""
    out: list[Variable] = []
    for column in [*bundle.input_columns, outcome]:
        if column not in records or _LIMIT.search(column):
            continue
        dtype = records[column].dtype
        label, unit = _label_and_unit(bundle, column)
        kind: Literal["continuous", "binary", "categorical"]
        if pd.api.types.is_bool_dtype(dtype):
            kind = "binary"
        elif pd.api.types.is_numeric_dtype(dtype):
            values = records[column].dropna()
            binary = len(values) and set(values.unique()) <= {0, 1}
            kind = "binary" if binary else "continuous"
        else:
            kind = "categorical"
        if column == outcome:
            label = f"Outcome: {label}"
        out.append(Variable(label, column, kind, unit if kind == "continuous" else ""))
    return out


def table_one_section(run: RunArtifacts, outcome: str) -> dict[str, Any]:
    records = run.records
    variables = table_one_variables(run.bundle, records, outcome)
    # a recalibration's records are local: the rows it was fitted on and the held-out ones
    development, test = (
        ("Local: recalibration fit", "Local: held out")
        if run.local_evaluation
        else ("Development (train + calibration)", "Test (held out)")
    )
    frame = records.assign(
        _set=records["split"].map(lambda s: test if s == "test" else development)
    )
    table = table_one(frame, variables, by="_set")
    columns = ["Overall", development, test]
    table = table[[c for c in columns if c in table.columns]]
    counts = records["split"].value_counts()
    whole = tuple(
        v.label
        for v in variables
        if v.kind == "continuous" and pd.api.types.is_integer_dtype(records[v.column].dtype)
    )
    rows = []
    for index, row in zip(table.index, table.to_numpy(), strict=True):
        cells = [str(c) for c in row]
        if str(index).startswith(whole) and whole:
            cells = [_integer_text(c) for c in cells]
        rows.append([human_text(str(index)), *cells])
    return {
        "columns": list(table.columns),
        "rows": rows,
        "split_counts": {str(k): int(v) for k, v in counts.items()},
        "omitted": sorted(c for c in run.bundle.input_columns if _LIMIT.search(c)),
        "note": "Continuous: median [IQR] (missing counted); binary and categorical: n (%).",
    }
