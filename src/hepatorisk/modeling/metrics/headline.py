"""The headline metrics of one set of predictions: discrimination (AUROC, AUPRC), accuracy
(Brier) and calibration (slope, intercept, ECE), each as a point estimate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.metrics.counting import ALL_METRICS, on_all_rows
from hepatorisk.modeling.metrics.inputs import check_outcomes

__all__ = [
    "MetricSet",
    "auprc",
    "auroc",
    "brier",
    "calibration_slope_intercept",
    "ece",
    "metric_set",
]


@dataclass(frozen=True)
class MetricSet:
    """The headline metrics of one set of predictions."""

    auroc: float
    auprc: float
    brier: float
    cal_slope: float
    cal_intercept: float
    ece: float


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count 1/2); NaN if only one outcome."""
    y, p = check_outcomes(y, p)
    return on_all_rows(y, p, ["auroc"])["auroc"]


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (scikit-learn's definition); NaN without events."""
    y, p = check_outcomes(y, p)
    return on_all_rows(y, p, ["auprc"])["auprc"]


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the predicted probabilities."""
    y, p = check_outcomes(y, p)
    return float(np.mean((y - p) ** 2))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large intercept (clinical-facts §5).

    Slope: coefficient of logit(p) in a logistic regression of y. Intercept: intercept of a
    logistic regression of y with logit(p) as offset (slope fixed at 1), so 0 means the
    average risk is right. p is clipped to [1e-6, 1 - 1e-6]. NaN when the fit has no finite
    solution (one outcome only, constant p, perfect separation).
    """
    y, p = check_outcomes(y, p)
    fit = on_all_rows(y, p, ["cal_slope"])
    return fit["cal_slope"], fit["cal_intercept"]


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |observed - predicted| over equal-width bins, size-weighted."""
    y, p = check_outcomes(y, p)
    if bins < 1:
        raise DataContractError(f"bins must be a positive integer; got {bins}.")
    return on_all_rows(y, p, ["ece"], bins)["ece"]


def metric_set(y: np.ndarray, p: np.ndarray) -> MetricSet:
    """All headline metrics in one pass."""
    y, p = check_outcomes(y, p)
    return MetricSet(**on_all_rows(y, p, ALL_METRICS))
