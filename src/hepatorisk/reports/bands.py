"""Performance at the service's own risk bands: what flagging at each cut-off would do.

The cut-offs are read from the service policy (``clinical.monitoring.load_policy``: liver 5% and
15%, relapse 30% and 60% by default), the one source the service itself reads. At each cut-off a
patient is flagged when the predicted risk is at or above it (the service's band rule). Share
flagged, sensitivity, specificity, PPV, NPV and events missed per 1,000 patients, overall and by
subgroup, with Wilson 95% CIs (events missed per 1,000: the Wilson interval of the missed
share, times 1,000).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.reports.calibration import wilson

if TYPE_CHECKING:
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = [
    "BAND_METRICS",
    "band_metrics",
    "band_section",
    "family",
    "landmark_rows",
    "range_summary",
]

# key -> (plain name, what it counts)
BAND_METRICS = {
    "share_flagged": ("Share flagged", "patients at or above the cut-off"),
    "sensitivity": ("Sensitivity", "events flagged / all events"),
    "specificity": ("Specificity", "non-events not flagged / all non-events"),
    "ppv": ("PPV", "events among the flagged"),
    "npv": ("NPV", "non-events among the not flagged"),
    "missed_per_1000": ("Events missed per 1,000", "events not flagged, per 1,000 patients"),
}
HISTOGRAM_BINS = 40


def family(outcome: str) -> str:
    return "liver" if outcome.startswith("liver") else "relapse"


def _proportion(events: int, n: int, scale: float = 1.0) -> dict[str, float | None]:
    """A proportion with its Wilson 95% interval (never degenerate at 0 or 1, unlike a
    percentile bootstrap of a subgroup with no flagged events); None when ``n`` is 0."""
    if n == 0:
        return {"estimate": None, "lo": None, "hi": None}
    lo, hi = wilson(events, n)
    return {"estimate": scale * events / n, "lo": scale * lo, "hi": scale * hi}


def band_metrics(
    y: np.ndarray, flagged: np.ndarray, masks: dict[str, np.ndarray]
) -> dict[str, dict[str, Any]]:
    """Each band metric of each group of patients (``masks``) with its Wilson interval."""
    out = {}
    for name, mask in masks.items():
        n, f = int(mask.sum()), int((mask & flagged).sum())
        tp, fn = int((mask & flagged & y).sum()), int((mask & ~flagged & y).sum())
        tn = int((mask & ~flagged & ~y).sum())
        out[name] = {
            "n": n,
            "events": tp + fn,
            "share_flagged": _proportion(f, n),
            "sensitivity": _proportion(tp, tp + fn),
            "specificity": _proportion(tn, n - tp - fn),
            "ppv": _proportion(tp, f),
            "npv": _proportion(tn, n - f),
            "missed_per_1000": _proportion(fn, n, 1000.0),
        }
    return out


def band_section(run: RunArtifacts, outcome: str, groups: dict[str, np.ndarray]) -> dict[str, Any]:
    """``groups``: 'variable: level' -> mask of test patients (the fairness section's groups)."""
    policy = load_policy()
    name = family(outcome)
    bands = policy.bands[name]
    y = run.predictions["y"].to_numpy(dtype=bool)
    p = run.predictions["p_model"].to_numpy(dtype=float)
    everyone = np.ones(len(y), dtype=bool)
    cutoffs = []
    for i, cutoff in enumerate(bands.cutoffs):
        table = band_metrics(y, p >= cutoff, {"": everyone} | groups)
        cutoffs.append(
            {
                "cutoff": cutoff,
                "flags": f"{bands.names[i + 1]} band or above",
                "overall": table.pop(""),
                "groups": [{"group": g, **row} for g, row in table.items()],
            }
        )
    edges = np.linspace(0.0, float(np.quantile(p, 0.999)) * 1.02, HISTOGRAM_BINS + 1)
    clipped = np.minimum(p, edges[-1] - 1e-12)
    return {
        "family": name,
        "names": bands.names,
        "cutoffs": cutoffs,
        "source": policy.sources.get(f"bands.{name}", ""),
        "histogram": {
            "edges": edges.tolist(),
            "events": np.histogram(clipped[y], edges)[0].tolist(),
            "non_events": np.histogram(clipped[~y], edges)[0].tolist(),
            "above_last": int((p > edges[-1]).sum()),
        },
        "landmarks": landmark_rows(run.metrics),
        "range": range_summary(run.metrics),
    }


# per-landmark metric (``<prefix><name>_w<L>``, modeling.metrics.landmarks) -> column
LANDMARK_COLUMNS = {
    "auroc": "AUROC",
    "cal_slope": "Calibration slope",
    "cal_intercept": "Calibration intercept",
    "brier": "Brier score",
}
# the run's two designs: one pooled model scored at each landmark, and one model per landmark
LANDMARK_DESIGNS = {"test_": "pooled model", "perlm_test_": "one model per landmark"}


def landmark_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Per-landmark metrics the run logged (landmark-suffixed keys, ``test_auroc_w4``), one
    row per design and landmark week; empty for a run without landmarks."""
    from hepatorisk.modeling.metrics import landmark_weeks

    rows = []
    for prefix, design in LANDMARK_DESIGNS.items():
        for week in landmark_weeks(metrics, f"{prefix}auroc"):
            row: dict[str, Any] = {
                "design": design,
                "week": week,
                "n": metrics.get(f"{prefix}n_w{week}"),
                "events": metrics.get(f"{prefix}events_w{week}"),
            }
            for name in LANDMARK_COLUMNS:
                key = f"{prefix}{name}_w{week}"
                row[name] = {
                    "estimate": metrics.get(key),
                    "lo": metrics.get(f"{key}_lo"),
                    "hi": metrics.get(f"{key}_hi"),
                }
            vs = metrics.get(f"auroc_vs_oracle_w{week}") if prefix == "test_" else None
            row["auroc_vs_oracle"] = vs
            # share of test rows whose uncertainty range holds the true risk (served model)
            served = prefix == "test_"
            row["range_coverage"] = metrics.get(f"test_range_coverage_w{week}") if served else None
            rows.append(row)
    return rows


def range_summary(metrics: dict[str, float]) -> dict[str, float] | None:
    """The served model's uncertainty range as the run measured it (``test_range_*``,
    training.steps.evaluation.range_metrics); None for a model without one."""
    if "range_level" not in metrics:
        return None
    return {
        "level": metrics["range_level"],
        "coverage": metrics.get("test_range_coverage", float("nan")),
        "width_median": metrics.get("test_range_width_median", float("nan")),
        "widening": metrics.get("range_widening", float("nan")),
    }
