"""The drivers of a risk: its largest exact SHAP contributions by clinical variable, in words.

A variable the caller gave none of the inputs of is marked ``provided=False`` and worded as
unknown ("injection drug use: not provided, and knowing it could change the relapse risk by up to
12.0 percentage points"): the risk is averaged over its plausible values, and its contribution
is not a statement about the patient.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from hepatorisk.assessment.results import NOT_PROVIDED, Driver, Outcome
from hepatorisk.modeling.bundle import Explanation, ModelBundle, Reach
from hepatorisk.modeling.unknowns import field_of

__all__ = ["top_drivers"]

_NOUN = {"liver": "liver-injury", "relapse": "relapse"}


def top_drivers(
    bundle: ModelBundle,
    c: Explanation,
    top: int,
    outcome: Outcome,
    columns: dict[str, Any],
    reach: list[Reach] | None = None,
) -> list[list[Driver]]:
    """The ``top`` clinical variables by size of contribution, in words, for every row;
    ``reach``: each row's unknown fields' risk ranges (``ModelBundle.reach``)."""
    n = c.group_values.shape[0]
    points = c.on_probability_scale(c.group_values) * 100
    order = np.argsort(-np.abs(c.group_values), axis=1, kind="stable")[:, :top]
    sources = bundle.group_sources()
    masks: dict[str, np.ndarray] = {}  # record column -> rows lacking it, built when asked

    def given(row: int, group: str) -> bool:
        for col in sources[group]:
            if col not in masks:
                masks[col] = _missing_rows(columns[col], n)
            if not masks[col][row]:
                return True
        return False

    names = c.group_names
    labels = [bundle.label(g) for g in names]
    noun = _NOUN[outcome]
    result = []
    for row in range(n):
        drivers = []
        for j in order[row]:
            lo = float(c.group_values[row, j])
            if lo == 0:
                continue
            pp, provided = float(points[row, j]), given(row, names[j])
            direction: Literal["raises", "lowers"] = "raises" if lo > 0 else "lowers"
            if provided:
                text = f"{labels[j]} {direction} the {noun} risk by {abs(pp):.1f} percentage points"
            else:
                spans = (reach or [{}] * n)[row]
                ranges = [spans[f] for f in {field_of(s) for s in sources[names[j]]} if f in spans]
                width = max((hi - lo for lo, hi in ranges), default=0.0) * 100
                text = (
                    f"{labels[j]}: not provided, and knowing it could change the {noun} risk by up "
                    f"to {width:.1f} percentage points{NOT_PROVIDED}"
                    if math.isfinite(width)
                    else f"{labels[j]}: not provided, and knowing it could change the {noun} "
                    f"risk{NOT_PROVIDED}"
                )
            drivers.append(Driver(names[j], labels[j], direction, lo, pp, text, provided))
        result.append(drivers)
    return result


def _missing_rows(values: Any, n: int) -> np.ndarray:
    """Which of the first ``n`` records lack this column (None, or NaN for numbers)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return np.isnan(values[:n])
    return np.array([_missing(v) for v in values[:n]], dtype=bool)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
