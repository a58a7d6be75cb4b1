"""Performance before labels arrive, and once they are in.

**Before labels** (confidence-based performance estimation, the idea of NannyML's CBPE): if the
served probabilities are calibrated in this population, each patient's outcome is a Bernoulli
draw with its probability, so the expected AUROC follows from the probabilities alone: every
(positive, negative) pair weighted by ``p_i (1 - p_j)``, ranked by the model (ties half). The
interval is the 2.5-97.5 percentile of the AUROC over outcomes drawn from the probabilities
(seeded): where the realised AUROC should fall if calibration holds. The expected event count
is ``sum(p)`` (Poisson-binomial standard deviation ``sqrt(sum p(1-p))``). The estimate is only
as good as the calibration it assumes: under a shift that breaks calibration the realised
numbers (below) are the arbiter, and the monitor says so.

Implemented here (about 40 lines) rather than with NannyML or Evidently (both Apache-2.0):
either would add a large dependency tree to the service image (Evidently: a web UI and its
stack; NannyML: plotting and its own pandas pins) for one formula and the PSI.

**While outcomes come in** (some rows labelled, the rest awaiting theirs): the labelled rows
measure how calibration moved here, so the awaiting rows' AUROC is estimated after a logistic
recalibration ``logit q = a + b logit p`` fitted on the labelled rows (the slope matters: a
served ranking that is flatter here than its probabilities claim, b < 1, is what makes the
label-free estimate too high). The interval re-fits (a, b) on bootstrap resamples of the
labelled rows and draws the awaiting rows' outcomes from each refit, so it is as wide as few
labels make it. Importance weighting from the training reference would not help here: it
corrects a change of case mix under an unchanged ``P(outcome | inputs)``, the very assumption
the label-free estimate already makes; a shifted laboratory breaks it.

**Once outcomes are in**: AUROC, Brier, calibration slope and calibration-in-the-large intercept
with percentile-bootstrap 95% CIs (``modeling.metrics``), and observed vs expected events with
the O/E ratio's 95% CI (log scale, Poisson on the observed count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling import metrics

__all__ = [
    "Estimated",
    "Realised",
    "estimate_awaiting",
    "estimate_performance",
    "expected_auroc",
    "logistic_recalibration",
    "realised",
]

#: outcome draws for the interval of the expected AUROC
DRAWS = 200


@dataclass(frozen=True)
class Estimated:
    """Performance expected from the probabilities alone (no outcome needed)."""

    auroc: float
    auroc_lo: float
    auroc_hi: float
    expected_events: float
    expected_events_sd: float
    n: int


@dataclass(frozen=True)
class Realised:
    """Performance measured against the outcomes that came back, with 95% CIs."""

    n: int
    events: int
    expected_events: float
    oe_ratio: float
    oe_lo: float
    oe_hi: float
    auroc: metrics.Interval
    brier: metrics.Interval
    cal_slope: metrics.Interval
    cal_intercept: metrics.Interval


def expected_auroc(p: np.ndarray) -> float:
    """AUROC expected when each outcome is Bernoulli(p): pairs weighted p_i (1 - p_j), i != j."""
    p = np.asarray(p, dtype=float)
    if len(p) < 2:
        return math.nan
    values, counts = np.unique(p, return_counts=True)  # ascending
    pos = values * counts  # expected events at each distinct probability
    neg = (1 - values) * counts
    below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])  # negatives strictly below
    self_pairs = counts * values * (1 - values)  # i == j is not a pair
    numerator = np.sum(pos * below) + 0.5 * np.sum(pos * neg - self_pairs)
    denominator = pos.sum() * neg.sum() - np.sum(self_pairs)
    return float(numerator / denominator) if denominator > 0 else math.nan


def estimate_performance(p: np.ndarray, *, seed: int = 0, draws: int = DRAWS) -> Estimated:
    """Expected AUROC with the range of realised AUROCs a calibrated model would show here."""
    p = np.asarray(p, dtype=float)
    if len(p) and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or np.isnan(p).any()):
        raise DataContractError("probabilities must lie in [0, 1] and not be missing")
    rng = np.random.default_rng(seed)
    simulated = []
    for _ in range(draws if len(p) >= 2 else 0):
        y = rng.random(len(p)) < p
        if 0 < y.sum() < len(p):
            simulated.append(metrics.auroc(y.astype(int), p))
    lo, hi = np.percentile(simulated, [2.5, 97.5]) if simulated else (math.nan, math.nan)
    return Estimated(
        expected_auroc(p),
        float(lo),
        float(hi),
        float(p.sum()),
        float(np.sqrt(np.sum(p * (1 - p)))),
        len(p),
    )


def realised(y: np.ndarray, p: np.ndarray, *, seed: int = 0, n_boot: int = 500) -> Realised:
    """Realised performance of probabilities ``p`` against outcomes ``y`` (0/1)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    ci = metrics.bootstrap_metrics(y, p, n_boot=n_boot, seed=seed)
    observed, expected = int(y.sum()), float(p.sum())
    ratio = observed / expected if expected > 0 else math.nan
    half = 1.96 / math.sqrt(observed) if observed > 0 else math.inf
    lo = ratio * math.exp(-half) if observed > 0 else 0.0
    hi = ratio * math.exp(half) if observed > 0 else math.inf
    return Realised(
        len(y),
        observed,
        expected,
        ratio,
        lo,
        hi,
        ci["auroc"],
        ci["brier"],
        ci["cal_slope"],
        ci["cal_intercept"],
    )


def logistic_recalibration(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(a, b) of ``logit P(y=1) = a + b logit p`` by maximum likelihood (Newton; p clipped to
    [1e-6, 1 - 1e-6]); NaN when the fit has no finite solution (one class, separation)."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0 or y.min() == y.max():
        return math.nan, math.nan
    z = _logit(p)
    design = np.column_stack([np.ones_like(z), z])
    theta = np.array([0.0, 1.0])
    for _ in range(50):
        q = 1 / (1 + np.exp(-(design @ theta)))
        w = q * (1 - q)
        hessian = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(hessian, design.T @ (y - q))
        except np.linalg.LinAlgError:
            return math.nan, math.nan
        theta = theta + step
        if not np.isfinite(theta).all() or np.abs(theta).max() > 1e3:
            return math.nan, math.nan
        if np.abs(step).max() < 1e-9:
            return float(theta[0]), float(theta[1])
    return math.nan, math.nan  # no convergence: separation


def estimate_awaiting(
    p: np.ndarray, y: np.ndarray, *, seed: int = 0, draws: int = DRAWS
) -> Estimated | None:
    """Expected AUROC of the rows whose outcome is not known yet (``y`` NaN), after a logistic
    recalibration fitted on the rows whose outcome is known, with a 95% interval covering both
    the refit (labelled rows resampled) and the outcomes still to come (drawn). None when the
    labelled rows hold fewer than 10 events or non-events, or no row awaits its outcome."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    known = ~np.isnan(y)
    yk, pk, pu = y[known].astype(int), p[known], p[~known]
    if len(pu) < 2 or min(yk.sum(), len(yk) - yk.sum()) < 10:
        return None
    a, b = logistic_recalibration(yk, pk)
    if not math.isfinite(b):
        return None
    zu = _logit(pu)
    q = 1 / (1 + np.exp(-(a + b * zu)))
    rng = np.random.default_rng(seed)
    simulated = []
    for _ in range(draws):
        rows = rng.integers(0, len(yk), len(yk))
        ab, bb = logistic_recalibration(yk[rows], pk[rows])
        if not math.isfinite(bb):
            continue
        outcome = rng.random(len(pu)) < 1 / (1 + np.exp(-(ab + bb * zu)))
        if 0 < outcome.sum() < len(pu):
            simulated.append(metrics.auroc(outcome.astype(int), pu))  # ranked as served
    lo, hi = np.percentile(simulated, [2.5, 97.5]) if simulated else (math.nan, math.nan)
    # b < 0 would reverse the ranking: the served order is what is scored
    point = expected_auroc(q) if b >= 0 else 1 - expected_auroc(q)
    return Estimated(
        point,
        float(lo),
        float(hi),
        float(q.sum()),
        float(np.sqrt(np.sum(q * (1 - q)))),
        len(pu),
    )


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(clipped / (1 - clipped)))
