"""Input checks shared by every metric: outcomes coded 0/1 and probabilities in [0, 1],
refused in scikit-learn style with a message that says how to fix the call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.exceptions import DataContractError

__all__ = ["as_1d", "check_outcomes", "check_probabilities"]


def as_1d(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index) and pd.api.types.is_numeric_dtype(values.dtype):
        values = values.to_numpy(dtype=float, na_value=np.nan)  # nullable Int64/boolean too
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataContractError(
            f"{name} must be 1-D (one value per patient); got shape {arr.shape}. "
            "For predict_proba output pass predict_proba(X)[:, 1]."
        )
    if arr.dtype.kind not in "biuf":
        raise DataContractError(
            f"{name} must be numeric or boolean; got dtype {arr.dtype}. Encode it as 0/1 or floats."
        )
    return arr.astype(float)


def check_probabilities(p: Any, n: int, name: str = "p") -> np.ndarray:
    arr = as_1d(p, name)
    if len(arr) != n:
        raise DataContractError(
            f"y and {name} must have the same length; got {n} outcomes and {len(arr)} predictions."
        )
    if np.isnan(arr).any():
        raise DataContractError(
            f"{name} has {int(np.isnan(arr).sum())} missing (NaN) values; "
            "every patient needs a predicted probability."
        )
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        raise DataContractError(
            f"{name} must be probabilities in [0, 1]; got {int(bad.sum())} values outside "
            f"(min {arr.min():.4g}, max {arr.max():.4g}). Pass predict_proba(X)[:, 1], "
            "not decision_function(X) or logits."
        )
    return arr


def check_outcomes(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate in scikit-learn style; return y as 0/1 ints and p as floats."""
    ya = as_1d(y, "y")
    if len(ya) == 0:
        raise DataContractError("y is empty; metrics need at least one patient.")
    values = np.unique(ya[~np.isnan(ya)])
    if np.isnan(ya).any() or not np.isin(values, (0.0, 1.0)).all():
        shown = values[:10].tolist() + (["nan"] if np.isnan(ya).any() else [])
        raise DataContractError(
            f"y must be a binary outcome coded 0/1 (or False/True) without missing values; "
            f"got values {shown}."
        )
    return ya.astype(np.int64), check_probabilities(p, len(ya))
