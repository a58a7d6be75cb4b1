"""Held-out performance with 95% CIs (model, logistic baseline, oracle) and the curves' points.

The metrics are the run's own logged values (never recomputed); the ROC and precision-recall
points are computed from the logged test predictions, thinned to a few hundred per curve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

if TYPE_CHECKING:
    from hepatorisk.reports.gather import RunArtifacts

__all__ = ["METRICS", "curve_section", "performance_section"]

# metric key -> (plain name, what better means)
METRICS = {
    "auroc": ("AUROC (discrimination)", "higher is better; 0.5 = chance"),
    "auprc": ("AUPRC (average precision)", "higher is better; chance = event rate"),
    "brier": ("Brier score", "lower is better"),
    "cal_slope": ("Calibration slope", "1 is ideal; < 1 predictions too extreme"),
    "cal_intercept": ("Calibration intercept (in the large)", "0 is ideal; > 0 under-predicts"),
    "ece": ("Expected calibration error", "lower is better"),
}
SCORES = {
    "p_model": "LightGBM (calibrated)",
    "p_baseline": "spline logistic baseline",
    "p_oracle": "oracle (true risk)",
}
_MAX_POINTS = 300


def _interval(metrics: dict[str, float], key: str) -> dict[str, float] | None:
    if key not in metrics:
        return None
    return {
        "estimate": metrics[key],
        "lo": metrics.get(f"{key}_lo", float("nan")),
        "hi": metrics.get(f"{key}_hi", float("nan")),
    }


def performance_section(run: RunArtifacts) -> dict[str, Any]:
    m = run.metrics
    rows = []
    for key, (name, meaning) in METRICS.items():
        rows.append(
            {
                "metric": key,
                "name": name,
                "meaning": meaning,
                "model": _interval(m, f"test_{key}"),
                "baseline": _interval(m, f"baseline_test_{key}"),
                "oracle": _interval(m, f"oracle_{key}"),
            }
        )
    y = run.predictions["y"].to_numpy()
    return {
        "n": int(m.get("test_n", len(y))),
        "events": int(m.get("test_events", int(y.sum()))),
        "event_rate": float(y.mean()),
        "bootstrap": _int_param(run.params, "evaluation.bootstrap"),
        "rows": rows,
        "auroc_minus_baseline": _interval(m, "auroc_minus_baseline"),
        "auroc_vs_oracle": _interval(m, "auroc_vs_oracle"),
        "calibration": {
            "intercept": run.params.get("calibration_intercept"),
            "slope": run.params.get("calibration_slope"),
            "rows": run.params.get("calibration_rows"),
        },
    }


def _int_param(params: dict[str, str], key: str) -> int | None:
    try:
        return int(float(params[key]))
    except (KeyError, ValueError):
        return None


def _thin(*arrays: np.ndarray) -> list[list[float]]:
    n = len(arrays[0])
    if n > _MAX_POINTS:
        keep = np.unique(np.linspace(0, n - 1, _MAX_POINTS).round().astype(int))
        arrays = tuple(a[keep] for a in arrays)
    return [np.round(a.astype(float), 5).tolist() for a in arrays]


def curve_section(run: RunArtifacts) -> dict[str, Any]:
    """ROC and PR points per score, the run's calibration deciles and its decision curve."""
    pred = run.predictions
    y = pred["y"].to_numpy().astype(int)
    roc, pr = {}, {}
    for column, label in SCORES.items():
        if column not in pred:
            continue
        p = pred[column].to_numpy(dtype=float)
        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        roc[label] = dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True))
        pr[label] = dict(
            zip(("recall", "precision"), _thin(recall[::-1], precision[::-1]), strict=True)
        )
    m = run.metrics
    return {
        "roc": roc,
        "pr": pr,
        "event_rate": float(y.mean()),
        "calibration": run.calibration_curve.to_dict(orient="list"),
        "calibration_slope": _interval(m, "test_cal_slope"),
        "calibration_intercept": _interval(m, "test_cal_intercept"),
        "decision": run.decision_curve.to_dict(orient="list"),
        "prediction_quantiles": np.quantile(
            pred["p_model"].to_numpy(dtype=float), [0.05, 0.25, 0.5, 0.75, 0.95]
        ).tolist(),
    }
