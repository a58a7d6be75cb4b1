"""The run's diagnostic plots (the review-board report draws its own, richer set)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

__all__ = ["calibration_figure", "decision_curve_figure", "roc_figure"]


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Figure:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for (name, p), style in zip(scores.items(), ("-", "--", ":"), strict=False):
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, style, color="black", label=name)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.set(
        xlabel="1 - specificity (false-positive rate)",
        ylabel="sensitivity (true-positive rate)",
        title="ROC, held-out test set",
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def calibration_figure(curve: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    top = float(max(curve["mean_predicted"].max(), curve["ci_hi"].max())) * 1.05
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.errorbar(
        curve["mean_predicted"],
        curve["observed_rate"],
        yerr=np.clip(
            [curve["observed_rate"] - curve["ci_lo"], curve["ci_hi"] - curve["observed_rate"]],
            0,
            None,
        ),
        fmt="o",
        color="black",
        capsize=2,
    )
    ax.set(
        xlabel="predicted probability",
        ylabel="observed proportion (95% CI)",
        title="Calibration by decile, test set",
    )
    fig.tight_layout()
    return fig


def decision_curve_figure(curve: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(curve["threshold"], curve["model"], "-", color="black", label="model")
    if "baseline" in curve:
        ax.plot(curve["threshold"], curve["baseline"], "--", color="black", label="baseline")
    ax.plot(curve["threshold"], curve["treat_all"], ":", color="grey", label="treat all")
    ax.axhline(0, color="grey", lw=0.8, label="treat none")
    low = min(-0.01, float(curve[["model"]].min().min()))
    ax.set_ylim(low, float(curve[["model", "treat_all"]].max().max()) * 1.1 + 1e-3)
    ax.set(xlabel="threshold probability", ylabel="net benefit", title="Decision curve, test set")
    ax.legend()
    fig.tight_layout()
    return fig
