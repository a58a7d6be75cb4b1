"""One patient-level bootstrap for the report's own intervals (bands, fairness contrasts).

Each resample is a row of counts (how often each test patient was drawn), so every metric of
every group, and every difference between groups, is read from the same resamples: a contrast's
interval then reflects the correlation of its two sides. Percentile 95% intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Resamples", "auroc", "interval"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Resamples:
    """``counts`` (resamples x patients): how often each patient is drawn in each resample."""

    counts: np.ndarray
    seed: int

    @classmethod
    def draw(cls, n: int, resamples: int, seed: int) -> Resamples:
        rng = np.random.default_rng(seed)
        counts = np.empty((resamples, n), dtype=np.float32)
        for b in range(resamples):
            counts[b] = np.bincount(rng.integers(0, n, n), minlength=n)
        return cls(counts, seed)

    @property
    def size(self) -> int:
        return int(self.counts.shape[0])

    def totals(self, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Each column's sum over the test patients (the estimate) and per resample (one matrix
        product for all): a 0/1 mask counts patients, a masked risk sums expected events."""
        matrix = np.column_stack([c.astype(np.float32) for c in columns])
        draws: np.ndarray = (self.counts @ matrix).astype(float)
        return matrix.astype(float).sum(axis=0), draws.T


def interval(estimate: float, draws: np.ndarray) -> dict[str, float | None]:
    """The estimate with the 2.5th and 97.5th percentiles of its finite resampled values."""
    finite = draws[np.isfinite(draws)]
    if not np.isfinite(estimate) or len(finite) < 20:
        return {
            "estimate": float(estimate) if np.isfinite(estimate) else None,
            "lo": None,
            "hi": None,
            "se": None,
        }
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return {
        "estimate": float(estimate),
        "lo": float(lo),
        "hi": float(hi),
        "se": float(np.std(finite, ddof=1)),
    }


def auroc(p: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC per row of ``weights`` (resamples x patients; a row of ones: the estimate), ties
    counted one half (the Mann-Whitney statistic)."""
    order = np.argsort(p, kind="stable")
    p, y, w = p[order], y[order].astype(np.float32), weights[:, order]
    _, start = np.unique(p, return_index=True)
    group = np.searchsorted(start, np.arange(len(p)), side="right") - 1
    neg = w * (1 - y)
    pos = w * y
    neg_by_value = np.add.reduceat(neg, start, axis=1)
    below = np.cumsum(neg_by_value, axis=1) - neg_by_value
    score = below[:, group] + 0.5 * neg_by_value[:, group]
    with np.errstate(divide="ignore", invalid="ignore"):
        result: np.ndarray = (pos * score).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))
    return result.astype(float)
