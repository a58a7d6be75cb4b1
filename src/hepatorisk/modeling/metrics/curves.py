"""Curves over thresholds or bins: the decision curve (net benefit) and the calibration curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.metrics.counting import bin_index
from hepatorisk.modeling.metrics.inputs import check_outcomes

__all__ = ["calibration_curve", "net_benefit"]

Z95 = 1.959963984540054


def net_benefit(
    y: np.ndarray, p: np.ndarray, thresholds: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Decision curve: NB = TP/N - FP/N * pt/(1-pt), treating when p >= pt (clinical-facts §5)."""
    y, p = check_outcomes(y, p)
    pt = np.asarray(thresholds, dtype=float).ravel()
    if len(pt) == 0 or not ((pt > 0) & (pt < 1)).all():
        raise DataContractError(
            f"thresholds must be non-empty and strictly between 0 and 1; got {pt.tolist()[:10]}."
        )
    n = len(y)
    order = np.sort(p[y == 1]), np.sort(p[y == 0])
    tp = len(order[0]) - np.searchsorted(order[0], pt, side="left")
    fp = len(order[1]) - np.searchsorted(order[1], pt, side="left")
    odds = pt / (1 - pt)
    prevalence = y.mean()
    return pd.DataFrame(
        {
            "threshold": pt,
            "model": tp / n - fp / n * odds,
            "treat_all": prevalence - (1 - prevalence) * odds,
            "treat_none": np.zeros_like(pt),
        }
    )


def calibration_curve(
    y: np.ndarray,
    p: np.ndarray,
    bins: int = 10,
    strategy: Literal["quantile", "uniform"] = "quantile",
) -> pd.DataFrame:
    """Observed against predicted risk per bin, with a 95% Wilson interval of the observed rate.

    Quantile bins hold similar numbers of patients; tied quantiles merge bins. Empty bins are
    not listed.
    """
    y, p = check_outcomes(y, p)
    if bins < 1:
        raise DataContractError(f"bins must be a positive integer; got {bins}.")
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
        edges = edges if len(edges) > 1 else np.array([edges[0], edges[0]])
    elif strategy == "uniform":
        edges = np.linspace(0, 1, bins + 1)
    else:
        raise DataContractError(f"strategy must be 'quantile' or 'uniform'; got {strategy!r}.")
    idx = bin_index(p, edges)
    k = len(edges) - 1
    n = np.bincount(idx, minlength=k).astype(float)
    events = np.bincount(idx, weights=y, minlength=k)
    keep = n > 0
    n, events = n[keep], events[keep]
    rate = events / n
    z2 = Z95**2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * np.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(keep),
            "p_lo": edges[:-1][keep],
            "p_hi": edges[1:][keep],
            "n": n.astype(int),
            "events": events.astype(int),
            "mean_predicted": np.bincount(idx, weights=p, minlength=k)[keep] / n,
            "observed_rate": rate,
            "ci_lo": np.clip(centre - half, 0, 1),
            "ci_hi": np.clip(centre + half, 0, 1),
        }
    )
