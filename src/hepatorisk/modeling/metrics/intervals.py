"""Metrics with bootstrap intervals: the model's (and the oracle's), and paired differences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.metrics.bootstrap import (
    Interval,
    paired_resamples,
    percentile_interval,
)
from hepatorisk.modeling.metrics.counting import ALL_METRICS, on_all_rows
from hepatorisk.modeling.metrics.inputs import check_outcomes, check_probabilities

__all__ = ["bootstrap_metrics", "paired_auroc_difference"]


def bootstrap_metrics(
    y: np.ndarray,
    p: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    oracle: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Metrics with percentile-bootstrap intervals (ordinary resampling of patients).

    With ``oracle`` (the true risk of a synthetic cohort) also ``oracle_auroc``,
    ``oracle_brier`` and ``auroc_vs_oracle``: the model/oracle AUROC ratio on the same
    resample, so its interval is paired. Same inputs and seed give identical output.
    """
    y, p = check_outcomes(y, p)
    if not 0 < alpha < 1:
        raise DataContractError(f"alpha must be strictly between 0 and 1; got {alpha}.")
    scores: dict[str, tuple[np.ndarray, Sequence[str]]] = {"model": (p, ALL_METRICS)}
    if oracle is not None:
        scores["oracle"] = (check_probabilities(oracle, len(y), "oracle"), ("auroc", "brier"))
    draws = paired_resamples(y, scores, n_boot, seed)
    full = {key: on_all_rows(y, q, names) for key, (q, names) in scores.items()}
    out = {m: percentile_interval(full["model"][m], draws["model"][m], alpha) for m in ALL_METRICS}
    if oracle is not None:
        for m in ("auroc", "brier"):
            out[f"oracle_{m}"] = percentile_interval(full["oracle"][m], draws["oracle"][m], alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = draws["model"]["auroc"] / draws["oracle"]["auroc"]
        estimate = full["model"]["auroc"] / full["oracle"]["auroc"]
        out["auroc_vs_oracle"] = percentile_interval(estimate, ratio, alpha)
    return out


def paired_auroc_difference(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> Interval:
    """AUROC(a) - AUROC(b), with a 95% interval from the same resamples for both models."""
    y, p_a = check_outcomes(y, p_a)
    p_b = check_probabilities(p_b, len(y), "p_b")
    draws = paired_resamples(y, {"a": (p_a, ["auroc"]), "b": (p_b, ["auroc"])}, n_boot, seed)
    estimate = on_all_rows(y, p_a, ["auroc"])["auroc"] - on_all_rows(y, p_b, ["auroc"])["auroc"]
    return percentile_interval(estimate, draws["a"]["auroc"] - draws["b"]["auroc"], 0.05)
