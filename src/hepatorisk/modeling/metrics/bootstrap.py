"""Percentile-bootstrap intervals: several scores on the same (paired) resamples of patients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.metrics.counting import distinct_codes, metrics_from_counts, row_counts

__all__ = ["CELLS_PER_CHUNK", "Interval", "paired_resamples", "percentile_interval"]

CELLS_PER_CHUNK = 2_000_000  # bounds memory: resamples are evaluated in blocks of this size


@dataclass(frozen=True)
class Interval:
    """A point estimate on the full data with a percentile-bootstrap interval."""

    estimate: float
    lo: float
    hi: float


def paired_resamples(
    y: np.ndarray, named_scores: dict[str, tuple[np.ndarray, Sequence[str]]], n_boot: int, seed: int
) -> dict[str, dict[str, np.ndarray]]:
    """Bootstrap distributions of several scores on the same (paired) resamples.

    Ordinary (not outcome-stratified) resampling: the number of events varies between resamples
    as it would between samples, so prevalence-dependent metrics (calibration-in-the-large,
    Brier, AUPRC) get honest intervals. A resample without both classes yields NaN for the
    metrics that need both, and percentiles use the finite draws. Resamples are evaluated in
    blocks to bound memory.
    """
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0:
        raise DataContractError(
            f"the bootstrap needs both outcomes; got {len(pos)} events in {len(y)} patients."
        )
    if n_boot < 1:
        raise DataContractError(f"n_boot must be a positive integer; got {n_boot}.")
    rng = np.random.default_rng(seed)
    block = max(1, CELLS_PER_CHUNK // len(y))
    prepared = {key: distinct_codes(p) for key, (p, _) in named_scores.items()}
    parts: dict[str, list[dict[str, np.ndarray]]] = {key: [] for key in named_scores}
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        rows = rng.integers(0, len(y), (b, len(y)))
        events = y[rows].astype(float)
        for key, (u, code) in prepared.items():
            total = row_counts(code, len(u), rows)
            cpos = row_counts(code, len(u), rows, weights=events)
            parts[key].append(metrics_from_counts(u, cpos, total - cpos, named_scores[key][1]))
    return {
        key: {m: np.concatenate([x[m] for x in xs]) for m in xs[0]} for key, xs in parts.items()
    }


def percentile_interval(estimate: float, draws: np.ndarray, alpha: float) -> Interval:
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return Interval(estimate, np.nan, np.nan)
    lo, hi = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(lo), float(hi))
