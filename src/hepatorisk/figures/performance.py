"""Discrimination, calibration and clinical-utility figures, and the curve points they draw.

``curve_points`` turns a run's held-out predictions, calibration deciles and decision curve into
plain data (the report's ``curves`` section); the figures read only that data. The training run
logs these figures and the review-board report shows them: one drawing, one set of points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from hepatorisk.figures.style import GREYS, LINES, MARKERS, Drawn, new_figure

__all__ = [
    "calibration_figure",
    "curve_points",
    "decision_figure",
    "logged_interval",
    "pr_figure",
    "roc_figure",
]

_MAX_POINTS = 300


def logged_interval(metrics: Mapping[str, float], key: str) -> dict[str, float] | None:
    """A logged metric with its interval (``KEY``, ``KEY_lo``, ``KEY_hi``), None if not logged."""
    if key not in metrics:
        return None
    return {
        "estimate": metrics[key],
        "lo": metrics.get(f"{key}_lo", float("nan")),
        "hi": metrics.get(f"{key}_hi", float("nan")),
    }


def _thin(*arrays: np.ndarray) -> list[list[float]]:
    n = len(arrays[0])
    if n > _MAX_POINTS:
        keep = np.unique(np.linspace(0, n - 1, _MAX_POINTS).round().astype(int))
        arrays = tuple(a[keep] for a in arrays)
    return [np.round(a.astype(float), 5).tolist() for a in arrays]


def curve_points(
    predictions: pd.DataFrame,
    calibration_curve: pd.DataFrame,
    decision_curve: pd.DataFrame,
    metrics: Mapping[str, float],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """ROC and PR points per score (thinned to a few hundred), the calibration deciles and the
    decision curve. ``labels``: prediction column -> display label, the served model's first;
    the curves are keyed by label, in that order (columns absent from ``predictions`` skipped)."""
    y = predictions["y"].to_numpy().astype(int)
    roc, pr = {}, {}
    for column, label in labels.items():
        if column not in predictions:
            continue
        p = predictions[column].to_numpy(dtype=float)
        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        roc[label] = dict(zip(("fpr", "tpr"), _thin(fpr, tpr), strict=True))
        pr[label] = dict(
            zip(("recall", "precision"), _thin(recall[::-1], precision[::-1]), strict=True)
        )
    return {
        "roc": roc,
        "pr": pr,
        "event_rate": float(y.mean()),
        "calibration": calibration_curve.to_dict(orient="list"),
        "calibration_slope": logged_interval(metrics, "test_cal_slope"),
        "calibration_intercept": logged_interval(metrics, "test_cal_intercept"),
        "decision": decision_curve.to_dict(orient="list"),
        "prediction_quantiles": np.quantile(
            predictions[next(iter(labels))].to_numpy(dtype=float), [0.05, 0.25, 0.5, 0.75, 0.95]
        ).tolist(),
    }


def _ci(interval: dict[str, Any] | None, digits: int = 2) -> str:
    if not interval or interval.get("estimate") is None:
        return "not logged"
    e, lo, hi = interval["estimate"], interval.get("lo"), interval.get("hi")
    if lo is None or hi is None:
        return f"{e:.{digits}f}"
    return f"{e:.{digits}f} (95% CI {lo:.{digits}f} to {hi:.{digits}f})"


def roc_figure(
    curves: dict[str, Any], auroc: Mapping[str, float | None], n: int, events: int
) -> Drawn:
    """``auroc``: each curve's test AUROC, by its label (None: not logged)."""
    fig, ax = new_figure(3.5, 3.4)
    for i, (name, points) in enumerate(curves["roc"].items()):
        value = auroc.get(name)
        label = f"{name}, AUROC {value:.3f}" if value is not None else name
        ax.plot(points["fpr"], points["tpr"], LINES[i], color=GREYS[i], lw=1.4, label=label)
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, label="chance")
    ax.set(
        xlabel="1 - specificity (false-positive rate)",
        ylabel="sensitivity (true-positive rate)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="lower right")
    caption = (
        f"ROC curves on the held-out test set (n = {n:,}, "
        f"{events:,} events). Solid: the calibrated LightGBM model; dashed: the "
        "spline-logistic baseline; dotted: the oracle (true simulated risk, where available)."
    )
    return fig, caption


def pr_figure(curves: dict[str, Any], performance: dict[str, Any]) -> Drawn:
    fig, ax = new_figure(3.5, 3.4)
    for i, (name, points) in enumerate(curves["pr"].items()):
        ax.step(
            points["recall"],
            points["precision"],
            LINES[i],
            color=GREYS[i],
            lw=1.4,
            where="post",
            label=name,
        )
    rate = curves["event_rate"]
    ax.axhline(rate, color="0.6", lw=0.8, label=f"event rate {100 * rate:.1f}% (chance)")
    ax.set(
        xlabel="recall (sensitivity)",
        ylabel="precision (positive predictive value)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="upper right")
    auprc = next(r for r in performance["rows"] if r["metric"] == "auprc")
    caption = (
        "Precision-recall curves on the test set. Model AUPRC "
        f"{_ci(auprc['model'], 3)}; baseline {_ci(auprc['baseline'], 3)}. The horizontal line "
        "is the precision of flagging everyone."
    )
    return fig, caption


def calibration_figure(curves: dict[str, Any]) -> Drawn:
    """Observed against predicted risk: the report's quantile bins (top decile split) and
    smoothed curve with its band when present, else the run's logged decile bins."""
    bins = curves.get("calibration_bins")
    if bins:
        pred = np.asarray([b["mean_predicted"] for b in bins], dtype=float)
        obs = np.asarray([b["observed_rate"] for b in bins], dtype=float)
        lo = np.asarray([b["ci_lo"] for b in bins], dtype=float)
        hi = np.asarray([b["ci_hi"] for b in bins], dtype=float)
        what = "quantile bin of predicted risk (top decile split)"
    else:
        cal = curves["calibration"]
        pred = np.asarray(cal["mean_predicted"], dtype=float)
        obs = np.asarray(cal["observed_rate"], dtype=float)
        lo, hi = np.asarray(cal["ci_lo"], dtype=float), np.asarray(cal["ci_hi"], dtype=float)
        what = "bin of predicted risk"
    smooth = curves.get("calibration_smooth")
    fig, ax = new_figure(3.5, 3.4)
    top = float(max(pred.max(), hi.max())) * 1.08
    ax.plot([0, 100 * top], [0, 100 * top], ":", color="0.5", lw=1, label="perfect calibration")
    if smooth:
        x = 100 * np.asarray(smooth["predicted"], dtype=float)
        ax.fill_between(
            x,
            100 * np.asarray(smooth["lo"], dtype=float),
            100 * np.asarray(smooth["hi"], dtype=float),
            color="0.85",
            lw=0,
            label="smoothed curve, 95% band",
        )
        ax.plot(x, 100 * np.asarray(smooth["observed"], dtype=float), "-", color="0.3", lw=1.2)
    ax.errorbar(
        100 * pred,
        100 * obs,
        yerr=100 * np.clip([obs - lo, hi - obs], 0, None),
        fmt="o",
        color="black",
        ms=3.5,
        capsize=2,
        label=what,
    )
    ax.set(
        xlabel="mean predicted risk in the bin (%)",
        ylabel="observed event rate (%, 95% Wilson CI)",
        xlim=(0, 100 * top),
        ylim=(0, 100 * top),
    )
    ax.legend(loc="upper left", fontsize=6.5)
    detail = (
        f"{len(bins)} bins of equal patient count by rank of predicted risk (ties split), the "
        "top decile split further at the 95th and 99th percentiles where each part keeps 50 "
        "patients; grey: smoothed calibration curve (logistic regression on a restricted cubic "
        "spline of the predicted log-odds) with its pointwise 95% band"
        if bins
        else "bins as logged by the training run"
    )
    caption = (
        f"Calibration on the test set: observed against predicted risk; {detail}. Calibration "
        f"slope {_ci(curves['calibration_slope'])} (ideal 1); intercept (calibration-in-the-"
        f"large) {_ci(curves['calibration_intercept'])} (ideal 0); both on the logit scale."
    )
    return fig, caption


def decision_figure(curves: dict[str, Any], labels: Mapping[str, str]) -> Drawn:
    """``labels``: decision-curve column (``model``, ``baseline``) -> display label."""
    d = curves["decision"]
    t = 100 * np.asarray(d["threshold"], dtype=float)
    fig, ax = new_figure(3.5, 3.4)
    for i, (key, label) in enumerate(labels.items()):
        if key in d:
            ax.plot(
                t,
                d[key],
                LINES[i],
                color=GREYS[i],
                lw=1.5,
                label=label,
                marker=MARKERS[i],
                markevery=max(1, len(t) // 10),
                ms=3.5,
            )
    ax.plot(t, d["treat_all"], LINES[2], color="0.45", lw=1.2, label="treat (monitor) all")
    ax.plot(t, d["treat_none"], LINES[3], color="0.6", lw=1.0, label="treat none")
    values = np.asarray([d["model"], d["treat_all"]], dtype=float)
    top = float(np.nanmax(values))
    ax.set_ylim(-0.1 * max(top, 1e-3), top * 1.1 + 1e-3)
    ax.set(
        xlabel="threshold probability (%)",
        ylabel="net benefit (per patient)",
    )
    ax.legend(loc="upper right", fontsize=6.5)
    caption = (
        f"Decision curve over thresholds {t.min():.0f}% to {t.max():.0f}% (the pipeline's "
        "clinically sensible range; the threshold is the risk at which one would act). "
        "Net benefit = TP/N - FP/N x pt/(1 - pt), per patient. The model is "
        "useful where its curve lies above both treat-all and treat-none."
    )
    return fig, caption
