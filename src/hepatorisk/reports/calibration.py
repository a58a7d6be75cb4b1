"""Calibration on the test set: quantile bins that split the top tail, and a smoothed curve.

Bins are quantiles of the predicted-risk rank (ties broken by order, so no bin swallows a block
of tied predictions): deciles, with the top decile split at the 95th and 99th percentiles while
each part keeps at least ``MIN_BIN`` patients, so calibration is visible where the high-risk
decisions are made. The smoothed curve is a logistic regression of the outcome on a restricted
cubic spline of the predicted log-odds (Harrell's flexible calibration curve), with a pointwise
Wald 95% band.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from scipy.special import expit, logit

__all__ = ["MIN_BIN", "calibration_bins", "smoothed_calibration", "wilson"]

MIN_BIN = 50
_Z = 1.959963984540054


def calibration_bins(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    n = len(p)
    levels = [i / 10 for i in range(10)]
    levels += [q for q in (0.95, 0.99) if n * (1 - q) >= MIN_BIN]
    levels.append(1.0)
    rank = np.empty(n)
    rank[np.argsort(p, kind="stable")] = np.arange(n) / n
    out = []
    for lo, hi in pairwise(levels):
        mask = (rank >= lo) & (rank < hi)
        if not mask.any():
            continue
        events, size = int(y[mask].sum()), int(mask.sum())
        ci_lo, ci_hi = wilson(events, size)
        out.append(
            {
                "quantiles": [lo, hi],
                "n": size,
                "events": events,
                "p_min": float(p[mask].min()),
                "p_max": float(p[mask].max()),
                "mean_predicted": float(p[mask].mean()),
                "observed_rate": events / size,
                "ci_lo": float(ci_lo),
                "ci_hi": float(ci_hi),
            }
        )
    return out


def wilson(events: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion."""
    share = events / n
    centre = (share + _Z**2 / (2 * n)) / (1 + _Z**2 / n)
    half = _Z * np.sqrt(share * (1 - share) / n + _Z**2 / (4 * n * n)) / (1 + _Z**2 / n)
    lo = 0.0 if events == 0 else max(0.0, centre - half)  # exact at the boundaries
    hi = 1.0 if events == n else min(1.0, centre + half)
    return float(lo), float(hi)


def _rcs(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis (Harrell): intercept, x and k - 2 non-linear terms."""
    k = len(knots)
    scale = (knots[-1] - knots[0]) ** 2
    cols = [np.ones_like(x), x]
    for j in range(k - 2):
        term = (
            np.clip(x - knots[j], 0, None) ** 3
            - np.clip(x - knots[-2], 0, None) ** 3
            * (knots[-1] - knots[j])
            / (knots[-1] - knots[-2])
            + np.clip(x - knots[-1], 0, None) ** 3
            * (knots[-2] - knots[j])
            / (knots[-1] - knots[-2])
        )
        cols.append(term / scale)
    return np.column_stack(cols)


def smoothed_calibration(y: np.ndarray, p: np.ndarray, points: int = 120) -> dict[str, Any]:
    """The flexible calibration curve on a grid from the 1st to the 99.5th percentile of p."""
    z = logit(np.clip(p, 1e-6, 1 - 1e-6))
    knots = np.quantile(z, [0.05, 0.35, 0.65, 0.95])
    X = _rcs(z, knots)
    beta = np.zeros(X.shape[1])
    beta[0] = logit(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    for _ in range(50):
        mu = expit(X @ beta)
        w = mu * (1 - mu)
        info = X.T @ (X * w[:, None]) + 1e-8 * np.eye(X.shape[1])
        step = np.linalg.solve(info, X.T @ (y - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    cov = np.linalg.inv(info)
    grid_p = np.quantile(p, np.linspace(0.01, 0.995, points))
    G = _rcs(logit(np.clip(grid_p, 1e-6, 1 - 1e-6)), knots)
    eta = G @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, cov, G))
    return {
        "predicted": grid_p.tolist(),
        "observed": expit(eta).tolist(),
        "lo": expit(eta - _Z * se).tolist(),
        "hi": expit(eta + _Z * se).tolist(),
        "knots": expit(knots).tolist(),
    }
