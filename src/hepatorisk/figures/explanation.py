"""SHAP figures: shap's own beeswarm and dependence (scatter) plots drawn from the bundle's exact
contributions (report data, handed over as a ``shap.Explanation``), the bar chart of mean
importance, and a waterfall per example patient drawn here so that every bar and every value
label stays inside the figure.

Colour is the one departure from greys: a value scale needs one, so the beeswarm uses viridis
(lightness rises monotonically, so a greyscale print keeps the order) and shap's grey for a
value that is not recorded. Every figure names its scale (log-odds of the calibrated model).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from scipy.special import expit

from hepatorisk.figures.style import HATCHES, Drawn, new_figure

__all__ = [
    "SHAP_AXIS",
    "bar_figure",
    "beeswarm_figure",
    "dependence_figure",
    "shap_explanation",
    "waterfall_figure",
]

SHAP_AXIS = "SHAP value (log-odds of the calibrated model)"
TEXT_PT = 7.5


def _sample_note(shap: dict[str, Any]) -> str:
    return (
        f"Exact TreeSHAP of the served model on {shap['sample']:,} randomly chosen test patients "
        f"(of {shap['n_test']:,}; seed {shap['seed']}), grouped by clinical variable"
    )


@contextmanager
def _shap_colormaps(seed: int | None = None) -> Iterator[None]:
    """shap's colour maps call matplotlib's set_bad/set_over, which matplotlib now marks as
    pending deprecation: shap's to fix, not a fault of this report, so only that is silenced.
    shap's plots shuffle and jitter with numpy's global generator: with ``seed``, it is seeded
    for the drawing (so a rebuild draws the same figure) and restored afterwards."""
    state = np.random.get_state() if seed is not None else None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"The set_\w+ function", category=PendingDeprecationWarning
            )
            if seed is not None:
                np.random.seed(seed)  # shap draws from the global generator
            yield
    finally:
        if state is not None:
            np.random.set_state(state)


def _shap() -> Any:
    """shap, imported on first use."""
    with _shap_colormaps():
        import shap
    return shap


def shap_explanation(values: np.ndarray, data: np.ndarray, names: list[str]) -> Any:
    """A ``shap.Explanation`` of exact contributions computed elsewhere (never re-explained)."""
    return _shap().Explanation(values=values, data=data, feature_names=names)


def _pyplot_figure(width: float, height: float) -> Figure:
    """shap's plots draw through pyplot: a pyplot figure, closed by the caller after encoding."""
    fig: Figure = plt.figure(figsize=(width, height), layout="constrained")
    return fig


def bar_figure(shap: dict[str, Any]) -> Drawn:
    rows = shap["global"][::-1]
    fig, ax = new_figure(7.0, 0.24 * len(rows) + 0.9)
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
        f"{_sample_note(shap)}. Scale: log-odds; the table gives the same on the probability "
        "scale. Importance to the model is not importance for the patient's outcome."
    )
    return fig, caption


def _row_label(row: dict[str, Any]) -> str:
    if row["categories"]:
        return f"{row['label']} (category)"
    unit = row["unit"]
    if row["shown_by"] == "mitragynine_mg_day":
        return f"{row['label']} (daily mitragynine), {unit}"
    return f"{row['label']}, {unit}" if unit else row["label"]


def beeswarm_figure(shap: dict[str, Any]) -> Drawn:
    """shap's beeswarm: every sampled patient is one dot in every row; a value that is not
    recorded is drawn grey (shap's convention), never left out."""
    shap_lib = _shap()
    rows = shap["beeswarm"]
    values = np.column_stack([np.asarray(r["shap"], dtype=float) for r in rows])
    data = np.column_stack(
        [np.asarray([np.nan if v is None else v for v in r["value"]], dtype=float) for r in rows]
    )
    explanation = shap_explanation(values, data, [_row_label(r) for r in rows])
    fig = _pyplot_figure(7.0, 0.36 * len(rows) + 1.2)
    ax = fig.add_subplot()
    with _shap_colormaps(shap["seed"]):
        shap_lib.plots.beeswarm(
            explanation,
            max_display=len(rows),
            ax=ax,
            show=False,
            color=colormaps["viridis"],
            plot_size=None,
            s=5,
            color_bar_label="value of the variable (grey: not recorded)",
            group_remaining_features=False,
        )
    ax.set_xlabel(SHAP_AXIS, fontsize=TEXT_PT + 0.5)
    ax.tick_params("y", labelsize=TEXT_PT, length=4)
    ax.tick_params("x", labelsize=TEXT_PT)
    for other in fig.axes[1:]:  # shap's colour bar
        other.tick_params(labelsize=TEXT_PT)
        other.yaxis.label.set_fontsize(TEXT_PT)
    orders = [f"{r['label']}: {' < '.join(r['categories'])}" for r in rows if r["categories"]]
    none_note = (
        " Kratom exposure is coloured by daily mitragynine: a non-user's is 0 mg/day (none), "
        "the lowest colour, not a missing value."
        if any(r["variable"] == "kratom exposure" for r in rows)
        else ""
    )
    caption = (
        "Beeswarm (shap.plots.beeswarm): each dot is one patient in every row; position = "
        "contribution to the log-odds, colour = the variable's value (dark low, yellow high; "
        f"grey = not recorded; yes/no variables: yellow = yes).{none_note}"
        + (f" Categories are coloured in the order {'; '.join(orders)}." if orders else "")
        + f" {_sample_note(shap)}."
    )
    return fig, caption


def dependence_figure(shap: dict[str, Any]) -> Drawn:
    """shap's scatter (dependence) plot of each clinical variable's contribution against the
    value a clinician acts on; kratom non-users sit at 0 ('none')."""
    shap_lib = _shap()
    panels = shap["dependence"]
    fig = _pyplot_figure(7.0, 2.6)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        y = np.asarray(panel["shap"], dtype=float)
        x = np.asarray([np.nan if v is None else v for v in panel["x"]], dtype=float)
        explanation = shap_explanation(y[:, None], x[:, None], [panel["x_label"]])
        with _shap_colormaps(shap["seed"]):
            shap_lib.plots.scatter(
                explanation[:, 0], ax=ax, show=False, color="#222222", dot_size=4, alpha=0.5
            )
        ax.set_xlabel(panel["x_label"], fontsize=TEXT_PT)
        ax.set_ylabel(f"SHAP of {panel['label']}\n(log-odds)", fontsize=TEXT_PT)
        ax.tick_params(labelsize=TEXT_PT - 0.5)
        ax.axhline(0, color="0.5", lw=0.6)
    for ax in fig.axes:  # shap's histogram twin axes: keep their ticks small
        ax.tick_params(labelsize=TEXT_PT - 0.5)
    caption = (
        "Dependence (shap.plots.scatter) on the values a clinician acts on: daily kratom dose, "
        "daily mitragynine and ALT as a multiple of its upper limit of normal, each against the "
        "contribution of its clinical variable (kratom exposure sums product, dose and content). "
        "Grey bars behind the dots: how many patients have each value. Non-users are at 0 "
        f"(none). {_sample_note(shap)}."
    )
    return fig, caption


def waterfall_items(example: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(label with value and unit, log-odds, percentage points) per bar, top to bottom."""
    items = [
        (f"{c['label']}: {c['value']}", c["log_odds"], 100 * c["probability"])
        for c in example["contributions"]
    ]
    other = example["other"]
    if other["count"]:
        items.append(
            (f"{other['count']} other variables", other["log_odds"], 100 * other["probability"])
        )
    return items


def waterfall_figure(example: dict[str, Any], shap: dict[str, Any]) -> Drawn:
    """Bars from the model's average log-odds to this patient's; the values sit in a column of
    their own on the right, so no text crosses a bar or a label, and the x range holds every
    bar with a margin."""
    items = waterfall_items(example)
    fig, ax = new_figure(7.0, 0.27 * len(items) + 1.35)
    position = example["base_value"]
    ends = [position]
    for i, (_label, value, _pp) in enumerate(items):
        y = len(items) - 1 - i
        ax.barh(
            y,
            value,
            left=position,
            color="0.3" if value > 0 else "white",
            edgecolor="black",
            hatch="" if value > 0 else HATCHES[1],
            lw=0.7,
            height=0.62,
        )
        position += value
        ends.append(position)
    lo, hi = min(ends), max(ends)
    pad = 0.08 * max(hi - lo, 0.2)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-0.7, len(items) - 0.3)
    ax.set_yticks(range(len(items)), [label for label, _, _ in items][::-1])
    right = ax.secondary_yaxis("right")
    right.set_yticks(range(len(items)), [f"{v:+.2f} ({pp:+.1f} pp)" for _, v, pp in items][::-1])
    right.tick_params(length=0)
    right.set_ylabel("log-odds (percentage points)", fontsize=TEXT_PT)
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
        f"{example['percentile']:.0f}th percentile of predicted risk): from the model's average "
        f"output, log-odds {base:.2f} (dotted; {100 * expit(base):.1f}%), to this patient's "
        f"{final:.2f} ({100 * example['probability']:.1f}%, dashed). Dark bars: inputs that moved "
        "the model's output up for this patient; hatched white bars: down. Right: each "
        "contribution in log-odds and in percentage points of probability."
    )
    return fig, caption


def _logit_pct(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float) / 100, 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))
