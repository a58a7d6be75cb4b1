"""Table 1: the description of a cohort every clinical paper opens with.

Continuous variables as median [IQR], binary ones as n (%), categorical ones as % per level,
overall and by a grouping column; with survey weights, percentages are weighted (n stays raw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["Variable", "table_one", "weighted_quantile"]


@dataclass(frozen=True)
class Variable:
    """One row (or block of rows) of a Table 1."""

    label: str
    column: str
    kind: Literal["continuous", "binary", "categorical"]
    unit: str = ""
    # False where missing means "not applicable" (the dose of non-users, say)
    count_missing: bool = True


def weighted_quantile(values: np.ndarray, q: Sequence[float], weights: np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` with ``weights`` (the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    quantiles: np.ndarray = np.interp(q, cdf, v)
    return quantiles


def table_one(
    frame: pd.DataFrame,
    variables: Sequence[Variable],
    by: str | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    """Rows = variables (categorical: one row per level), columns = Overall then each group."""
    groups: list[tuple[str, pd.DataFrame]] = [("Overall", frame)]
    if by is not None:
        levels = frame[by].astype("string").fillna("missing")
        groups += [(str(level), frame[levels == level]) for level in sorted(levels.unique())]
    rows: dict[str, list[str]] = {"N": [f"{len(g):,}" for _, g in groups]}
    for var in variables:
        for label, cells in _rows(var, groups, weights).items():
            rows[label] = cells
    return pd.DataFrame.from_dict(rows, orient="index", columns=[name for name, _ in groups])


def _weights(group: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(group))
    return group[weights].to_numpy(dtype=float)


def _rows(
    var: Variable, groups: list[tuple[str, pd.DataFrame]], weights: str | None
) -> dict[str, list[str]]:
    unit = f", {var.unit}" if var.unit else ""
    if var.kind == "continuous":
        cells = []
        for _, g in groups:
            values = g[var.column].to_numpy(dtype=float)
            keep = ~np.isnan(values)
            if not keep.any():
                cells.append("-")
                continue
            q = weighted_quantile(values[keep], [0.25, 0.5, 0.75], _weights(g, weights)[keep])
            missing = f" ({(~keep).sum()} missing)" if var.count_missing and (~keep).any() else ""
            cells.append(f"{_fmt(q[1])} [{_fmt(q[0])}-{_fmt(q[2])}]{missing}")
        return {f"{var.label}{unit}, median [IQR]": cells}
    if var.kind == "binary":
        cells = []
        for _, g in groups:
            flags = g[var.column].astype("boolean")
            known = flags.notna().to_numpy()
            w = _weights(g, weights)[known]
            hits = flags[known].to_numpy(dtype=bool)
            share = (w * hits).sum() / w.sum() if known.any() else np.nan
            cells.append(f"{int(hits.sum()):,} ({100 * share:.1f}%)")
        return {f"{var.label}, n (%)": cells}
    levels = sorted(groups[0][1][var.column].astype("string").dropna().unique())
    out: dict[str, list[str]] = {}
    for level in levels:
        cells = []
        for _, g in groups:
            text = g[var.column].astype("string")
            known = text.notna().to_numpy()
            w = _weights(g, weights)[known]
            hits = (text[known] == level).to_numpy(dtype=bool)
            share = (w * hits).sum() / w.sum() if known.any() else np.nan
            cells.append(f"{int(hits.sum()):,} ({100 * share:.1f}%)")
        out[f"{var.label}: {level}, n (%)"] = cells
    return out


def _fmt(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"
