"""Subgroup forest plot, eDISH and R-ratio pattern figures, drawn from the report data only."""

from __future__ import annotations

from typing import Any

import numpy as np

from hepatorisk.figures.style import HATCHES, MARKERS, Drawn, new_figure

__all__ = ["edish_figure", "pattern_figure", "subgroup_figure"]


def subgroup_figure(section: dict[str, Any]) -> Drawn:
    rows = [r for r in section["rows"] if r["reported"]][::-1]
    fig, (left, right) = new_figure(7.0, 0.26 * len(rows) + 1.3, ncols=2, sharey=True)
    y = np.arange(len(rows))
    labels = [
        f"{r.get('variable_label', r['variable'])}: {r.get('level_label', r['level'])} "
        f"(n={r['n']:,})"
        for r in rows
    ]
    variables = list(dict.fromkeys(r["variable"] for r in rows))
    for i, r in enumerate(rows):
        marker = MARKERS[variables.index(r["variable"]) % len(MARKERS)]
        left.errorbar(
            r["auroc"],
            i,
            xerr=[[r["auroc"] - r["auroc_lo"]], [r["auroc_hi"] - r["auroc"]]],
            fmt=marker,
            color="black",
            ms=4,
            capsize=2,
        )
        lo, hi = r.get("cal_intercept_lo"), r.get("cal_intercept_hi")
        if r["cal_intercept"] is None:
            continue
        err = [[r["cal_intercept"] - lo], [hi - r["cal_intercept"]]] if lo is not None else None
        right.errorbar(r["cal_intercept"], i, xerr=err, fmt=marker, color="black", ms=4, capsize=2)
    overall = section["overall"]["auroc"]
    left.axvline(overall, color="0.4", ls="--", lw=1, label=f"overall {overall:.3f}")
    right.axvline(0, color="0.4", ls="--", lw=1, label="ideal 0")
    left.set_yticks(y, labels)
    left.set_xlabel("AUROC (95% CI; 0.5 = chance)")
    right.set_xlabel("calibration intercept, logit scale (95% CI)")
    for ax in (left, right):
        ax.legend(loc="lower right")
        ax.grid(axis="y", visible=False)
    caption = (
        "Subgroups of the test set: discrimination (AUROC, left) and calibration-in-the-large "
        "(right; above 0 the model under-predicts, below 0 it over-predicts). Marker shape "
        "distinguishes the grouping variable. AUROC: the run's bootstrap 95% CIs (up to "
        f"{section['n_boot']} resamples); intercept: Wald 95% CIs."
    )
    return fig, caption


def edish_figure(liver: dict[str, Any]) -> Drawn:
    alt = np.asarray([np.nan if v is None else v for v in liver["alt_peak_xuln"]], dtype=float)
    bili = np.asarray([np.nan if v is None else v for v in liver["bili_peak_xuln"]], dtype=float)
    event = np.asarray(liver["event"], dtype=bool)
    fig, ax = new_figure(4.6, 4.0)
    ax.scatter(
        alt[~event],
        bili[~event],
        s=4,
        c="0.6",
        marker="o",
        edgecolors="none",
        label=f"no event by week {liver.get('horizon_weeks', 12)}",
        rasterized=True,
    )
    ax.scatter(
        alt[event],
        bili[event],
        s=10,
        facecolors="none",
        edgecolors="black",
        lw=0.6,
        marker="^",
        label=f"new-onset liver event by week {liver.get('horizon_weeks', 12)}",
        rasterized=True,
    )
    if liver.get("hys_law") is not None:
        hys = np.asarray(liver["hys_law"], dtype=bool)
        ax.scatter(
            alt[hys],
            bili[hys],
            s=18,
            c="black",
            marker="s",
            label="Hy's law laboratory criteria met",
            rasterized=True,
        )
    t = liver["thresholds"]
    ax.axvline(t["alt_xuln"], color="black", ls="--", lw=0.9)
    ax.axhline(t["bilirubin_xuln"], color="black", ls="--", lw=0.9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    xmax, ymax = np.nanmax(alt) * 1.5, np.nanmax(bili) * 1.5
    ax.set_xlim(np.nanmin(alt) / 1.3, max(xmax, 10))
    ax.set_ylim(np.nanmin(bili) / 1.3, max(ymax, 5))
    ax.text(
        0.98,
        0.98,
        "Hy's law quadrant",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=7.5,
        fontweight="bold",
    )
    ax.text(
        0.98,
        0.02,
        "Temple's corollary\n(ALT only)",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
    )
    ax.text(
        0.02,
        0.98,
        "hyperbilirubinaemia\n(cholestasis, Gilbert's)",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=7,
    )
    ax.set(
        xlabel="peak ALT during follow-up (x ULN, log scale)",
        ylabel="peak total bilirubin (x ULN, log scale)",
    )
    ax.legend(loc="lower left", fontsize=6.5)
    hys_text = (
        f"; {liver['hys_law_count']} meet Hy's law laboratory criteria (ALP < "
        f"{t['alp_below_xuln']:g}x ULN in the same draw)"
        if liver.get("hys_law_count") is not None
        else ""
    )
    caption = (
        f"eDISH plot of the {liver['n']:,} test patients: peak ALT against peak total bilirubin, "
        f"both as multiples of the upper limit of normal on log axes. Dashed lines: ALT "
        f"{t['alt_xuln']:g}x ULN and bilirubin {t['bilirubin_xuln']:g}x ULN. "
        f"{liver['quadrant_count']} patients fall in the Hy's law quadrant{hys_text}. "
        "Peaks are over the whole follow-up, while the outcome counts events only up to week "
        f"{liver.get('horizon_weeks', 12)}." + _beyond_text(liver)
    )
    return fig, caption


def _beyond_text(liver: dict[str, Any]) -> str:
    b = liver.get("beyond_horizon")
    if not b or not b["total"]:
        return ""
    return (
        f" {b['total']} patients without an event by the horizon have a peak ALT at or above "
        f"3x ULN: {b['event_after_horizon']} had their event after the horizon, "
        f"{b['abnormal_entry_reference']} entered with ALT above ULN (graded against their entry "
        f"value, CTCAE v5.0), and {b['other']} for neither reason (the outcome needs ALT above "
        "3x the reference at an attended protocol draw; the quadrant includes exactly 3x)."
    )


def pattern_figure(liver: dict[str, Any]) -> Drawn:
    fig, (left, right) = new_figure(7.0, 3.0, ncols=2)
    names = ["hepatocellular", "mixed", "cholestatic"]
    splits = list(liver["patterns"])
    width = 0.8 / max(1, len(splits))
    for i, split in enumerate(splits):
        counts = liver["patterns"][split]
        total = sum(counts[n] for n in names) or 1
        shares = [100 * counts[n] / total for n in names]
        x = np.arange(len(names)) + (i - (len(splits) - 1) / 2) * width
        bars = left.bar(
            x,
            shares,
            width,
            color="white" if i else "0.45",
            edgecolor="black",
            hatch=HATCHES[2] if i else "",
            label=f"{split} (n = {total:,} events)",
        )
        left.bar_label(bars, [f"{counts[n]}" for n in names], fontsize=6.5, padding=1)
    left.set_xticks(range(len(names)), names)
    left.set(ylabel="share of liver events with an onset R (%)", xlabel="injury pattern at onset")
    left.legend(loc="upper right", fontsize=6.5)
    r = np.asarray(liver["r_ratio_test"], dtype=float)
    t = liver["thresholds"]
    if len(r):
        bins = np.logspace(np.log10(max(r.min(), 0.05)), np.log10(r.max() * 1.01), 30)
        right.hist(r, bins=bins, color="0.75", edgecolor="black", lw=0.5)
        right.set_xscale("log")
    right.axvline(t["r_cholestatic_at_most"], color="black", ls="--", lw=0.9)
    right.axvline(t["r_hepatocellular_at_least"], color="black", ls=":", lw=0.9)
    right.set(
        xlabel="R ratio at onset, (ALT/ULN)/(ALP/ULN) (log scale)",
        ylabel="test-set liver events (count)",
    )
    caption = (
        "Injury pattern of liver events by R ratio at onset (ACG 2014): R <= "
        f"{t['r_cholestatic_at_most']:g} cholestatic (dashed), R >= "
        f"{t['r_hepatocellular_at_least']:g} hepatocellular (dotted), mixed between. Left: "
        "shares (bar labels: counts) in the development and test sets; right: the test set's "
        "R distribution."
    )
    return fig, caption
