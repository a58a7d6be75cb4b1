"""Discrimination, calibration and clinical-utility metrics, with bootstrap intervals.

Definitions follow clinical-facts §5: calibration slope and calibration-in-the-large intercept
(Van Calster 2019, no Hosmer-Lemeshow), net benefit = TP/N - FP/N * pt/(1-pt), and
performance reported with confidence intervals, also per subgroup (TRIPOD+AI 20-24).

Every metric is computed from per-row counts over the distinct predicted values, so the point
estimate and each bootstrap resample share one code path: a resample is just another row of
counts, and 1,000 resamples are evaluated as one matrix (no Python loop over resamples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from hepatorisk.exceptions import DataContractError

__all__ = [
    "Interval",
    "MetricSet",
    "age_band",
    "auprc",
    "auroc",
    "bootstrap_metrics",
    "brier",
    "calibration_curve",
    "calibration_slope_intercept",
    "ece",
    "metric_set",
    "net_benefit",
    "paired_auroc_difference",
    "subgroup_metrics",
]

_EPS = 1e-6  # probabilities are clipped to [EPS, 1-EPS] before the logit (calibration fits)
_CELLS_PER_CHUNK = 2_000_000  # bounds memory: resamples are evaluated in blocks of this size
_Z95 = 1.959963984540054
_ALL = ("auroc", "auprc", "brier", "cal_slope", "cal_intercept", "ece")


@dataclass(frozen=True)
class MetricSet:
    """The headline metrics of one set of predictions."""

    auroc: float
    auprc: float
    brier: float
    cal_slope: float
    cal_intercept: float
    ece: float


@dataclass(frozen=True)
class Interval:
    """A point estimate on the full data with a percentile-bootstrap interval."""

    estimate: float
    lo: float
    hi: float


# ---------------------------------------------------------------------------- validation
def _as_1d(values: Any, name: str) -> np.ndarray:
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


def _check_p(p: Any, n: int, name: str = "p") -> np.ndarray:
    arr = _as_1d(p, name)
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


def _check(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate in scikit-learn style; return y as 0/1 ints and p as floats."""
    ya = _as_1d(y, "y")
    if len(ya) == 0:
        raise DataContractError("y is empty; metrics need at least one patient.")
    values = np.unique(ya[~np.isnan(ya)])
    if np.isnan(ya).any() or not np.isin(values, (0.0, 1.0)).all():
        shown = values[:10].tolist() + (["nan"] if np.isnan(ya).any() else [])
        raise DataContractError(
            f"y must be a binary outcome coded 0/1 (or False/True) without missing values; "
            f"got values {shown}."
        )
    return ya.astype(np.int64), _check_p(p, len(ya))


# ---------------------------------------------------------------------------- count engine
def _codes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sorted predictions and each row's index into them."""
    u, code = np.unique(p, return_inverse=True)
    return u, code.ravel()


def _counts(
    code: np.ndarray, k: int, rows: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """(B, K) (weighted) count of each distinct prediction among each row of ``rows``."""
    b = rows.shape[0]
    keys = (code[rows] + np.arange(b)[:, None] * k).ravel()
    w = None if weights is None else weights.ravel()
    return np.bincount(keys, weights=w, minlength=b * k).reshape(b, k).astype(float)


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges[1:-1], values, side="right")


def _calibration(
    u: np.ndarray, cpos: np.ndarray, cneg: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Slope (y ~ a + b*logit p) and intercept (y ~ a + offset(logit p)), Newton per row.

    All rows are fitted at once. A row without a finite maximum-likelihood fit gets NaN, not
    an arbitrary large number: one outcome only, constant p, or (slope only) outcomes
    separated by a threshold on p.
    """
    q = np.clip(u, _EPS, 1 - _EPS)
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


def _from_counts(
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
        idx = _bin_index(u, np.linspace(0, 1, bins + 1))
        starts = np.flatnonzero(np.r_[True, np.diff(idx) != 0])
        gap = np.add.reduceat(cpos - (cpos + cneg) * u, starts, axis=1)
        out["ece"] = np.abs(gap).sum(axis=1) / (n1 + n0)
    if "cal_slope" in names or "cal_intercept" in names:
        out["cal_slope"], out["cal_intercept"] = _calibration(u, cpos, cneg)
    return out


def _full(y: np.ndarray, p: np.ndarray, names: Sequence[str], bins: int = 10) -> dict[str, float]:
    u, code = _codes(p)
    cpos, cneg = (_counts(code, len(u), np.flatnonzero(y == o)[None, :]) for o in (1, 0))
    return {k: float(v[0]) for k, v in _from_counts(u, cpos, cneg, names, bins).items()}


def _boot(
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
    block = max(1, _CELLS_PER_CHUNK // len(y))
    prepared = {key: _codes(p) for key, (p, _) in named_scores.items()}
    parts: dict[str, list[dict[str, np.ndarray]]] = {key: [] for key in named_scores}
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        rows = rng.integers(0, len(y), (b, len(y)))
        events = y[rows].astype(float)
        for key, (u, code) in prepared.items():
            total = _counts(code, len(u), rows)
            cpos = _counts(code, len(u), rows, weights=events)
            parts[key].append(_from_counts(u, cpos, total - cpos, named_scores[key][1]))
    return {
        key: {m: np.concatenate([x[m] for x in xs]) for m in xs[0]} for key, xs in parts.items()
    }


def _interval(estimate: float, draws: np.ndarray, alpha: float) -> Interval:
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return Interval(estimate, np.nan, np.nan)
    lo, hi = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(lo), float(hi))


# ---------------------------------------------------------------------------- public metrics
def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count 1/2); NaN if only one outcome."""
    y, p = _check(y, p)
    return _full(y, p, ["auroc"])["auroc"]


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (scikit-learn's definition); NaN without events."""
    y, p = _check(y, p)
    return _full(y, p, ["auprc"])["auprc"]


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the predicted probabilities."""
    y, p = _check(y, p)
    return float(np.mean((y - p) ** 2))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large intercept (clinical-facts §5).

    Slope: coefficient of logit(p) in a logistic regression of y. Intercept: intercept of a
    logistic regression of y with logit(p) as offset (slope fixed at 1), so 0 means the
    average risk is right. p is clipped to [1e-6, 1 - 1e-6]. NaN when the fit has no finite
    solution (one outcome only, constant p, perfect separation).
    """
    y, p = _check(y, p)
    fit = _full(y, p, ["cal_slope"])
    return fit["cal_slope"], fit["cal_intercept"]


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |observed - predicted| over equal-width bins, size-weighted."""
    y, p = _check(y, p)
    if bins < 1:
        raise DataContractError(f"bins must be a positive integer; got {bins}.")
    return _full(y, p, ["ece"], bins)["ece"]


def metric_set(y: np.ndarray, p: np.ndarray) -> MetricSet:
    """All headline metrics in one pass."""
    y, p = _check(y, p)
    return MetricSet(**_full(y, p, _ALL))


def net_benefit(
    y: np.ndarray, p: np.ndarray, thresholds: Sequence[float] | np.ndarray
) -> pd.DataFrame:
    """Decision curve: NB = TP/N - FP/N * pt/(1-pt), treating when p >= pt (clinical-facts §5)."""
    y, p = _check(y, p)
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
    y, p = _check(y, p)
    if bins < 1:
        raise DataContractError(f"bins must be a positive integer; got {bins}.")
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
        edges = edges if len(edges) > 1 else np.array([edges[0], edges[0]])
    elif strategy == "uniform":
        edges = np.linspace(0, 1, bins + 1)
    else:
        raise DataContractError(f"strategy must be 'quantile' or 'uniform'; got {strategy!r}.")
    idx = _bin_index(p, edges)
    k = len(edges) - 1
    n = np.bincount(idx, minlength=k).astype(float)
    events = np.bincount(idx, weights=y, minlength=k)
    keep = n > 0
    n, events = n[keep], events[keep]
    rate = events / n
    z2 = _Z95**2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * np.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
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
    y, p = _check(y, p)
    if not 0 < alpha < 1:
        raise DataContractError(f"alpha must be strictly between 0 and 1; got {alpha}.")
    scores: dict[str, tuple[np.ndarray, Sequence[str]]] = {"model": (p, _ALL)}
    if oracle is not None:
        scores["oracle"] = (_check_p(oracle, len(y), "oracle"), ("auroc", "brier"))
    draws = _boot(y, scores, n_boot, seed)
    full = {key: _full(y, q, names) for key, (q, names) in scores.items()}
    out = {m: _interval(full["model"][m], draws["model"][m], alpha) for m in _ALL}
    if oracle is not None:
        for m in ("auroc", "brier"):
            out[f"oracle_{m}"] = _interval(full["oracle"][m], draws["oracle"][m], alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = draws["model"]["auroc"] / draws["oracle"]["auroc"]
        estimate = full["model"]["auroc"] / full["oracle"]["auroc"]
        out["auroc_vs_oracle"] = _interval(estimate, ratio, alpha)
    return out


def paired_auroc_difference(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> Interval:
    """AUROC(a) - AUROC(b), with a 95% interval from the same resamples for both models."""
    y, p_a = _check(y, p_a)
    p_b = _check_p(p_b, len(y), "p_b")
    draws = _boot(y, {"a": (p_a, ["auroc"]), "b": (p_b, ["auroc"])}, n_boot, seed)
    estimate = _full(y, p_a, ["auroc"])["auroc"] - _full(y, p_b, ["auroc"])["auroc"]
    return _interval(estimate, draws["a"]["auroc"] - draws["b"]["auroc"], 0.05)


# ---------------------------------------------------------------------------- subgroups
def age_band(age: pd.Series) -> pd.Series:
    """Age bands for subgroup analysis; missing ages become the level "missing", never dropped."""
    labels = ["<18", "18-29", "30-39", "40-49", "50+"]
    banded = pd.cut(
        pd.to_numeric(age), [-np.inf, 18, 30, 40, 50, np.inf], right=False, labels=labels
    )
    return banded.cat.add_categories("missing").fillna("missing").rename(age.name)


def _levels(column: pd.Series) -> tuple[pd.Series, list[str]]:
    """Levels as text in display order (categories first), "missing" last."""
    as_text = column.astype("string").fillna("missing")
    present = set(as_text.unique())
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    known = [str(c) for c in column.cat.categories] if categorical else sorted(present)
    order = [c for c in known if c in present and c != "missing"]
    return as_text, order + ["missing"] * ("missing" in present)


def subgroup_metrics(
    frame: pd.DataFrame,
    y_col: str,
    p_col: str,
    by: Sequence[str],
    *,
    n_boot: int = 500,
    seed: int = 0,
    min_n: int = 50,
    min_events: int = 10,
) -> pd.DataFrame:
    """One row per (variable, level), with AUROC interval and calibration (TRIPOD+AI 20).

    Groups with fewer than ``min_n`` patients or fewer than ``min_events`` events (or
    non-events) keep their row with ``reported=False``, NaN metrics and the reason.
    """
    missing = [c for c in [y_col, p_col, *by] if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"subgroup_metrics: columns {missing} are not in the frame; "
            f"available: {list(frame.columns)}."
        )
    y, p = _check(frame[y_col], frame[p_col])
    rows: list[dict[str, Any]] = []
    for variable in by:
        levels, order = _levels(frame[variable])
        for level in order:
            mask = (levels == level).to_numpy(dtype=bool)
            head = {"variable": variable, "level": level}
            rows.append(head | _subgroup_row(y[mask], p[mask], n_boot, seed, min_n, min_events))
    return pd.DataFrame(rows)


def _subgroup_row(
    y: np.ndarray, p: np.ndarray, n_boot: int, seed: int, min_n: int, min_events: int
) -> dict[str, Any]:
    n, events = len(y), int(y.sum())
    reason = ""
    if n < min_n:
        reason = f"fewer than {min_n} patients ({n})"
    elif min(events, n - events) < min_events:
        kind, count = ("events", events) if events < min_events else ("non-events", n - events)
        reason = f"fewer than {min_events} {kind} ({count})"
    row: dict[str, Any] = {"n": n, "events": events, "observed_rate": events / n}
    row["mean_predicted"] = float(p.mean())
    if reason:
        metrics = dict.fromkeys(["auroc", "cal_slope", "cal_intercept"], np.nan)
        ci = Interval(np.nan, np.nan, np.nan)
    else:
        metrics = _full(y, p, ["auroc", "cal_slope"])
        ci = _interval(
            metrics["auroc"], _boot(y, {"m": (p, ["auroc"])}, n_boot, seed)["m"]["auroc"], 0.05
        )
    row |= {"auroc": ci.estimate, "auroc_lo": ci.lo, "auroc_hi": ci.hi}
    row |= {"cal_slope": metrics["cal_slope"], "cal_intercept": metrics["cal_intercept"]}
    return row | {"reported": not reason, "reason": reason}
