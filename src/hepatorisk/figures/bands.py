"""Histogram of predicted risk by outcome, with the service's band cut-offs marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from hepatorisk.figures.style import HATCHES, Drawn, new_figure

__all__ = ["risk_histogram_figure"]


def risk_histogram_figure(section: dict[str, Any], outcome_label: str) -> Drawn:
    """Two panels (events, non-events) sharing the risk axis: share of each group per bin."""
    h = section["histogram"]
    edges = 100 * np.asarray(h["edges"], dtype=float)
    width = np.diff(edges)
    fig, axes = new_figure(7.0, 3.0, nrows=2, sharex=True)
    groups = (
        ("events", f"with the outcome ({outcome_label})", "0.3", ""),
        ("non_events", "without the outcome", "white", HATCHES[1]),
    )
    for ax, (key, name, colour, hatch) in zip(axes, groups, strict=True):
        counts = np.asarray(h[key], dtype=float)
        share = 100 * counts / max(counts.sum(), 1)
        ax.bar(
            edges[:-1],
            share,
            width,
            align="edge",
            color=colour,
            edgecolor="black",
            hatch=hatch,
            lw=0.5,
        )
        ax.set_title(f"{name}: n = {int(counts.sum()):,}", loc="left", fontsize=7.5)
        for cutoff in section["cutoffs"]:
            ax.axvline(100 * cutoff["cutoff"], color="black", ls="--", lw=0.9)
        ax.set_ylabel("% of group")
    for cutoff in section["cutoffs"]:
        axes[0].annotate(
            f"{100 * cutoff['cutoff']:g}%",
            xy=(100 * cutoff["cutoff"], 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            va="top",
            fontsize=6.5,
        )
    axes[1].set_xlabel("predicted risk (%)")
    axes[1].set_xlim(0, edges[-1])
    above = (
        f" ({h['above_last']} predictions above {edges[-1]:.1f}% drawn in the last bin)"
        if h["above_last"]
        else ""
    )
    cuts = " and ".join(f"{100 * c['cutoff']:g}%" for c in section["cutoffs"])
    caption = (
        f"Predicted risk of test patients with and without the outcome, each as a share of its "
        f"own group{above}. Dashed lines: the service's band cut-offs ({cuts}; "
        "defaults/service_policy.yaml). Overlap of the two shapes is what limits "
        "discrimination."
    )
    return fig, caption
