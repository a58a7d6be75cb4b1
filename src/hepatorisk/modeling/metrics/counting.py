"""The count engine: every metric from per-row counts over the distinct predicted values.

The point estimate and each bootstrap resample share one code path: a resample is just another
row of counts, and many resamples are evaluated as one matrix (no Python loop over resamples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit

__all__ = [
    "ALL_METRICS",
    "EPS",
    "bin_index",
    "distinct_codes",
    "metrics_from_counts",
    "on_all_rows",
    "row_counts",
]

EPS = 1e-6  # probabilities are clipped to [EPS, 1-EPS] before the logit (calibration fits)
ALL_METRICS = ("auroc", "auprc", "brier", "cal_slope", "cal_intercept", "ece")


def distinct_codes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sorted predictions and each row's index into them."""
    u, code = np.unique(p, return_inverse=True)
    return u, code.ravel()


def row_counts(
    code: np.ndarray, k: int, rows: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """(B, K) (weighted) count of each distinct prediction among each row of ``rows``."""
    b = rows.shape[0]
    keys = (code[rows] + np.arange(b)[:, None] * k).ravel()
    w = None if weights is None else weights.ravel()
    return np.bincount(keys, weights=w, minlength=b * k).reshape(b, k).astype(float)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges[1:-1], values, side="right")


def _calibration(
    u: np.ndarray, cpos: np.ndarray, cneg: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Slope (y ~ a + b*logit p) and intercept (y ~ a + offset(logit p)), Newton per row.

    All rows are fitted at once. A row without a finite maximum-likelihood fit gets NaN, not
    an arbitrary large number: one outcome only, constant p, or (slope only) outcomes
    separated by a threshold on p.
    """
    q = np.clip(u, EPS, 1 - EPS)
    z = np.log(q / (1 - q))
    w = cpos + cneg
    design = np.column_stack([np.ones_like(z), z, z * z])
    a, s, c = np.zeros(len(w)), np.ones(len(w)), np.zeros(len(w))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(max_iter):
            mu = expit(a[:, None] + s[:, None] * z)
            grad = (cpos - w * mu) @ design[:, :2]
            h = (w * mu * (1 - mu)) @ design
            det = h[:, 0] * h[:, 2] - h[:, 1] ** 2
            da = np.clip((h[:, 2] * grad[:, 0] - h[:, 1] * grad[:, 1]) / det, -5, 5)
            ds = np.clip((h[:, 0] * grad[:, 1] - h[:, 1] * grad[:, 0]) / det, -5, 5)
            mu = expit(c[:, None] + z)
            dc = np.clip((cpos - w * mu).sum(axis=1) / (w * mu * (1 - mu)).sum(axis=1), -5, 5)
            a, s, c = a + da, s + ds, c + dc
            done_s = np.abs(da) + np.abs(ds) < 1e-10 * (1 + np.abs(a) + np.abs(s))
            done_c = np.abs(dc) < 1e-10 * (1 + np.abs(c))
            if (done_s | ~np.isfinite(ds)).all() and (done_c | ~np.isfinite(dc)).all():
                break
    one_class = (cpos.sum(axis=1) == 0) | (cneg.sum(axis=1) == 0)
    zpos_lo, zpos_hi = np.where(cpos > 0, z, np.inf).min(1), np.where(cpos > 0, z, -np.inf).max(1)
    zneg_lo, zneg_hi = np.where(cneg > 0, z, np.inf).min(1), np.where(cneg > 0, z, -np.inf).max(1)
    separated = (zneg_hi <= zpos_lo) | (zpos_hi <= zneg_lo)
    return (
        np.where(done_s & ~separated & ~one_class, s, np.nan),
        np.where(done_c & ~one_class, c, np.nan),
    )


def metrics_from_counts(
    u: np.ndarray, cpos: np.ndarray, cneg: np.ndarray, names: Sequence[str], bins: int = 10
) -> dict[str, np.ndarray]:
    """The requested metrics for each row of counts; NaN where undefined (one outcome)."""
    n1, n0 = cpos.sum(axis=1), cneg.sum(axis=1)
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        if "auroc" in names:  # Mann-Whitney: negatives ranked strictly below, ties count 1/2
            below = np.cumsum(cneg, axis=1) - cneg
            out["auroc"] = (cpos * (below + 0.5 * cneg)).sum(axis=1) / (n1 * n0)
        if "auprc" in names:  # scikit-learn: sum over distinct thresholds of (R_k - R_k-1) P_k
            tp = np.cumsum(cpos[:, ::-1], axis=1)[:, ::-1]
            flagged = tp + np.cumsum(cneg[:, ::-1], axis=1)[:, ::-1]
            precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
            out["auprc"] = (cpos * precision).sum(axis=1) / n1
    if "brier" in names:
        out["brier"] = (cpos @ (1 - u) ** 2 + cneg @ u**2) / (n1 + n0)
    if "ece" in names:  # u is sorted, so each equal-width bin is a contiguous block of columns
        idx = bin_index(u, np.linspace(0, 1, bins + 1))
        starts = np.flatnonzero(np.r_[True, np.diff(idx) != 0])
        gap = np.add.reduceat(cpos - (cpos + cneg) * u, starts, axis=1)
        out["ece"] = np.abs(gap).sum(axis=1) / (n1 + n0)
    if "cal_slope" in names or "cal_intercept" in names:
        out["cal_slope"], out["cal_intercept"] = _calibration(u, cpos, cneg)
    return out


def on_all_rows(
    y: np.ndarray, p: np.ndarray, names: Sequence[str], bins: int = 10
) -> dict[str, float]:
    u, code = distinct_codes(p)
    cpos, cneg = (row_counts(code, len(u), np.flatnonzero(y == o)[None, :]) for o in (1, 0))
    return {k: float(v[0]) for k, v in metrics_from_counts(u, cpos, cneg, names, bins).items()}
