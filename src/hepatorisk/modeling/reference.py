"""The training reference a deployed model is monitored against, stored in its bundle.

At training time (after calibration) each input column's distribution on the calibration rows
(rows the booster never saw, drawn from the training population) is summarised as bins of the
reference: numeric columns by their deciles (at most ``BINS`` bins, fewer when values repeat),
categorical ones by their levels, each with the share of missing values; and the served
probabilities by their deciles and mean. Only these shares are kept (no row, no identifier), in
``bundle.metadata["monitoring_reference"]``; ``hepatorisk monitor`` compares served inputs and
predictions with them (``monitoring.drift``).

A bundle trained before this existed has no such entry; the monitor then falls back to the
marginal distributions the feature builder keeps for unknown inputs (``unknowns``: at most 8
support points per column and the missing share) and says so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.unknowns import is_missing

__all__ = ["BINS", "REFERENCE_KEY", "profile_column", "reference_profile", "with_reference"]

REFERENCE_KEY = "monitoring_reference"
#: bins of a numeric column (its deciles) and of the predicted probabilities
BINS = 10


def profile_column(values: np.ndarray, kind: str, bins: int = BINS) -> dict[str, Any]:
    """One column's reference: bin edges (numeric) or levels (categorical), each bin's share of
    the known values, and the share missing."""
    miss = is_missing(values)
    known = values[~miss]
    out: dict[str, Any] = {"kind": kind, "missing": float(miss.mean()) if len(values) else 0.0}
    if kind == "categorical":
        levels, counts = np.unique(known.astype(str), return_counts=True)
        out["levels"] = [str(v) for v in levels]
        out["shares"] = (counts / max(counts.sum(), 1)).tolist()
        return out
    x = known.astype(float)
    edges = np.unique(np.quantile(x, np.arange(1, bins) / bins)) if len(x) else np.array([])
    out["edges"] = edges.tolist()
    out["shares"] = _shares(x, edges).tolist()
    return out


def _shares(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``x`` in each bin (-inf, e1], (e1, e2], ..., (ek, inf)."""
    counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def reference_profile(bundle: ModelBundle, records: pd.DataFrame) -> dict[str, Any]:
    """The reference of ``bundle`` on ``records`` (the calibration rows): inputs, predictions."""
    arrays = bundle.features.arrays(records)
    kinds = bundle.features.kinds_
    p = bundle.predict_proba(records)
    return {
        "rows": len(records),
        "source": "calibration rows",
        "features": {col: profile_column(arrays[col], kinds[col]) for col in arrays},
        "prediction": profile_column(p, "numeric") | {"mean": float(np.mean(p))},
    }


def with_reference(bundle: ModelBundle, records: pd.DataFrame) -> ModelBundle:
    """The bundle with its monitoring reference in its metadata (the training hook)."""
    metadata = bundle.metadata | {REFERENCE_KEY: reference_profile(bundle, records)}
    return replace(bundle, metadata=metadata)
