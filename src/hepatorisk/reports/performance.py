"""Held-out performance with 95% CIs (model, logistic baseline, oracle) and the curves' points.

The metrics are the run's own logged values (never recomputed); the ROC and precision-recall
points are computed from the logged test predictions, thinned to a few hundred per curve.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hepatorisk.figures.performance import curve_points, logged_interval
from hepatorisk.modeling import scores
from hepatorisk.monitoring.local_evaluation import PARENT

if TYPE_CHECKING:
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = [
    "IDEALS",
    "METRICS",
    "WHAT_IF_CHANGES",
    "curve_section",
    "ideal_statements",
    "performance_section",
]

# metric key -> (plain name, what better means)
METRICS = {
    "auroc": ("AUROC (discrimination)", "higher is better; 0.5 = chance"),
    "auprc": ("AUPRC (average precision)", "higher is better; chance = event rate"),
    "brier": ("Brier score", "lower is better"),
    "cal_slope": ("Calibration slope", "1 is ideal; < 1 predictions too extreme"),
    "cal_intercept": ("Calibration intercept (in the large)", "0 is ideal; > 0 under-predicts"),
    "ece": ("Expected calibration error", "lower is better"),
}

# metric key -> (reference value, what an interval above it means, below it means)
IDEALS = {
    "auroc": (0.5, "the model discriminates better than chance", "worse than chance"),
    "cal_slope": (
        1.0,
        "predictions are too moderate (high risks too low, low risks too high)",
        "predictions are too extreme (high risks too high, low risks too low)",
    ),
    "cal_intercept": (
        0.0,
        "the model under-predicts on average",
        "the model over-predicts on average",
    ),
}

# metric-key name of a dose change (``whatif_<name>_*``, logged on synthetic cohorts) -> words
WHAT_IF_CHANGES = {"stop": "kratom stopped", "half": "half the dose", "1p5x": "1.5x the dose"}


def performance_section(run: RunArtifacts) -> dict[str, Any]:
    m = run.metrics
    rows = []
    for key, (name, meaning) in METRICS.items():
        rows.append(
            {
                "metric": key,
                "name": name,
                "meaning": meaning,
                "model": logged_interval(m, f"test_{key}"),
                "baseline": logged_interval(m, f"baseline_test_{key}"),
                "oracle": logged_interval(m, f"oracle_{key}"),
                # a recalibrated version's parent, on the same local held-out rows
                PARENT.key: logged_interval(m, f"{PARENT.key}_test_{key}"),
            }
        )
    y = run.predictions["y"].to_numpy()
    return {
        "n": int(m.get("test_n", len(y))),
        "events": int(m.get("test_events", int(y.sum()))),
        "event_rate": float(y.mean()),
        "mean_predicted": float(run.predictions["p_model"].mean()),
        "statements": ideal_statements(rows, logged_interval(m, "auroc_minus_baseline")),
        "bootstrap": _int_param(run.params, "evaluation.bootstrap"),
        "rows": rows,
        "auroc_minus_baseline": logged_interval(m, "auroc_minus_baseline"),
        "auroc_minus_parent": logged_interval(m, f"auroc_minus_{PARENT.key}"),
        "auroc_vs_oracle": logged_interval(m, "auroc_vs_oracle"),
        "calibration": {
            "intercept": run.params.get("calibration_intercept"),
            "slope": run.params.get("calibration_slope"),
            "rows": run.params.get("calibration_rows"),
        },
        "what_if": what_if_rows(m),
    }


def ideal_statements(
    rows: list[dict[str, Any]], versus_baseline: dict[str, float] | None
) -> list[str]:
    """Each overall metric of the model whose 95% CI excludes its reference value, in words."""
    out = []
    for row in rows:
        ideal = IDEALS.get(row["metric"])
        interval = row["model"]
        if ideal is None or interval is None:
            continue
        value, above, below = ideal
        lo, hi, est = interval["lo"], interval["hi"], interval["estimate"]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        if lo > value or hi < value:
            out.append(
                f"{row['name']} {est:.2f} (95% CI {lo:.2f} to {hi:.2f}) excludes "
                f"{value:g}: {above if lo > value else below}."
            )
        elif row["metric"] != "auroc":
            out.append(
                f"{row['name']} {est:.2f} (95% CI {lo:.2f} to {hi:.2f}) includes the ideal "
                f"{value:g}."
            )
    if versus_baseline is not None and math.isfinite(versus_baseline["lo"]):
        lo, hi = versus_baseline["lo"], versus_baseline["hi"]
        verdict = (
            "the model discriminates better than the baseline"
            if lo > 0
            else "the baseline discriminates better"
            if hi < 0
            else "no difference in discrimination from the baseline is shown"
        )
        out.append(
            f"AUROC minus the baseline's {versus_baseline['estimate']:+.3f} (95% CI {lo:+.3f} to "
            f"{hi:+.3f}): {verdict}."
        )
    return out


def what_if_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """The dose what-if against the true effect, one row per dose change, from the run's
    ``whatif_*`` metrics (empty when the run logged none: real cohorts have no truth)."""
    rows = []
    for key, label in WHAT_IF_CHANGES.items():
        values = {
            part: _finite(metrics.get(f"whatif_{key}_{part}"))
            for part in ("n", "model_mean", "true_mean", "naive", "mae", "bias")
        }
        if values["mae"] is not None:
            rows.append({"change": key, "label": label, **values})
    return rows


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _int_param(params: dict[str, str], key: str) -> int | None:
    try:
        return int(float(params[key]))
    except (KeyError, ValueError):
        return None


def curve_section(run: RunArtifacts) -> dict[str, Any]:
    """ROC and PR points per score (a recalibrated version's parent too), the run's
    calibration deciles and its decision curve."""
    return curve_points(
        run.predictions,
        run.calibration_curve,
        run.decision_curve,
        run.metrics,
        scores.column_labels((*scores.SCORES, PARENT)),
    )
