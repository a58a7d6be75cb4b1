"""SHAP figures drawn with matplotlib from the bundle's exact contributions (report data).

The scale is named on every axis: log-odds of the calibrated model, whose values add up to the
predicted log-odds; the waterfalls also mark the probability at both ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator
from scipy.special import expit

from hepatorisk.figures.style import HATCHES, Drawn, new_figure

__all__ = ["bar_figure", "beeswarm_figure", "dependence_figure", "waterfall_figure"]

SHAP_AXIS = "SHAP value (log-odds of the calibrated model)"


def _sample_note(shap: dict[str, Any]) -> str:
    return (
        f"Exact TreeSHAP of the served model on {shap['sample']:,} randomly chosen test patients "
        f"(of {shap['n_test']:,}; seed {shap['seed']}), grouped by clinical variable"
    )


def bar_figure(shap: dict[str, Any]) -> Drawn:
    rows = shap["global"][::-1]
    fig, ax = new_figure(5.6, 0.28 * len(rows) + 1.0)
    y = np.arange(len(rows))
    ax.barh(
        y,
        [r["mean_abs_log_odds"] for r in rows],
        color="0.55",
        edgecolor="black",
        hatch=HATCHES[1],
        lw=0.6,
    )
    ax.set_yticks(y, [r["label"] for r in rows])
    ax.set_xlabel("mean |SHAP value| (log-odds of the calibrated model)")
    ax.grid(axis="y", visible=False)
    caption = (
        "Global importance: mean absolute contribution per clinical variable. "
        f"{_sample_note(shap)}. "
        "Scale: log-odds; the table gives the same on the probability scale."
    )
    return fig, caption


def beeswarm_figure(shap: dict[str, Any]) -> Drawn:
    rows = shap["beeswarm"][::-1]
    fig, ax = new_figure(6.4, 0.38 * len(rows) + 1.2)
    rng = np.random.default_rng(shap["seed"])
    scatter = None
    for i, row in enumerate(rows):
        values = np.asarray(row["shap"], dtype=float)
        jitter = _swarm_offsets(values, rng)
        colour = row["colour"]
        if colour is None:
            ax.scatter(values, i + jitter, s=3, c="0.5", marker="x", lw=0.5, rasterized=True)
            continue
        c = np.asarray([np.nan if v is None else v for v in colour], dtype=float)
        scatter = ax.scatter(
            values,
            i + jitter,
            s=3,
            c=c,
            cmap="Greys",
            vmin=-0.15,
            vmax=1,
            edgecolors="none",
            rasterized=True,
            plotnonfinite=True,
        )
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(range(len(rows)), [r["label"] for r in rows])
    ax.set_xlabel(SHAP_AXIS)
    ax.grid(axis="y", visible=False)
    if scatter is not None:
        bar = fig.colorbar(scatter, ax=ax, pad=0.01, aspect=30)
        bar.set_ticks([0, 1], labels=["low", "high"])
        bar.set_label("value of the variable (percentile within sample)")
    caption = (
        f"Beeswarm: each dot is one patient; position = contribution to the log-odds, shade = "
        f"the variable's value (light low, dark high; grey crosses = categorical). "
        f"{_sample_note(shap)}."
    )
    return fig, caption


def _swarm_offsets(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vertical spread proportional to local density (a cheap, deterministic beeswarm)."""
    finite = values[np.isfinite(values)]
    if len(finite) < 2 or np.ptp(finite) == 0:
        return rng.uniform(-0.3, 0.3, len(values))
    hist, edges = np.histogram(finite, bins=60)
    density = hist / hist.max()
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(hist) - 1)
    jitter: np.ndarray = rng.uniform(-0.38, 0.38, len(values)) * density[idx]
    return jitter


def dependence_figure(shap: dict[str, Any]) -> Drawn:
    panels = shap["dependence"]
    cols = 3
    nrows = int(np.ceil(len(panels) / cols))
    fig, axes = new_figure(7.2, 2.5 * nrows, nrows=nrows, ncols=cols, squeeze=False)
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        y = np.asarray(panel["shap"], dtype=float)
        if panel["kind"] == "categorical":
            levels = sorted(set(panel["x"]))
            data = [y[np.asarray(panel["x"]) == level] for level in levels]
            ax.boxplot(
                data, vert=False, widths=0.6, showfliers=False, medianprops={"color": "black"}
            )
            ax.set_yticks(range(1, len(levels) + 1), [s.replace("_", " ") for s in levels])
            ax.set_xlabel(SHAP_AXIS, fontsize=7)
            ax.set_ylabel(panel["x_label"], fontsize=7)
        else:
            x = np.asarray([np.nan if v is None else v for v in panel["x"]], dtype=float)
            ax.scatter(x, y, s=3, c="black", alpha=0.35, edgecolors="none", rasterized=True)
            if panel.get("log_x"):
                ax.set_xscale("log")
            ax.set_xlabel(panel["x_label"], fontsize=7)
            ax.set_ylabel("SHAP (log-odds)", fontsize=7)
            ax.axhline(0, color="0.5", lw=0.6)
        ax.set_title(panel["label"], fontsize=8)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    caption = (
        f"Dependence of the {len(panels)} most important clinical variables: the variable's "
        "value (or category) against its contribution on the log-odds scale; for variables "
        "made of several inputs, the x axis shows the input carrying most of the attribution. "
        f"{_sample_note(shap)}."
    )
    return fig, caption


def waterfall_figure(example: dict[str, Any], shap: dict[str, Any]) -> Drawn:
    items = [(f"{c['label']} = {c['value']}", c["log_odds"]) for c in example["contributions"]]
    if example["other"]["count"]:
        items.append((f"{example['other']['count']} other variables", example["other"]["log_odds"]))
    fig, ax = new_figure(6.4, 0.34 * len(items) + 1.5)
    position = example["base_value"]
    for i, (_label, value) in enumerate(items):
        y = len(items) - 1 - i
        ax.barh(
            y,
            value,
            left=position,
            color="0.25" if value > 0 else "white",
            edgecolor="black",
            hatch="" if value > 0 else HATCHES[1],
            lw=0.7,
            height=0.6,
        )
        ax.text(
            position + value + (0.02 if value >= 0 else -0.02),
            y,
            f"{value:+.2f}",
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=7,
        )
        position += value
    ax.set_yticks(range(len(items)), [label for label, _ in items][::-1])
    base, final = example["base_value"], example["log_odds"]
    ax.axvline(base, color="0.4", ls=":", lw=1)
    ax.axvline(final, color="black", ls="--", lw=1)
    ax.set_xlabel(SHAP_AXIS)
    ax.grid(axis="y", visible=False)
    top = ax.secondary_xaxis("top", functions=(lambda z: 100 * expit(z), _logit_pct))
    top.set_xlabel("predicted probability (%)")
    top.xaxis.set_major_locator(MaxNLocator(5))
    top.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    caption = (
        f"{example['name'].capitalize()}-risk example (patient {example['patient']}, nearest the "
        f"{example['percentile']:.0f}th percentile of predicted risk): from the average patient's "
        f"log-odds {base:.2f} (probability {100 * expit(base):.1f}%, dotted) to this patient's "
        f"{final:.2f} ({100 * example['probability']:.1f}%, dashed). Dark bars raise the risk, "
        "hatched white bars lower it; scale: log-odds (top axis: probability)."
    )
    return fig, caption


def _logit_pct(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float) / 100, 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))
