"""Discrimination, calibration and clinical-utility metrics, with bootstrap intervals.

Definitions follow clinical-facts §5: calibration slope and calibration-in-the-large intercept
(Van Calster 2019, no Hosmer-Lemeshow), net benefit = TP/N - FP/N * pt/(1-pt), and
performance reported with confidence intervals, also per subgroup (TRIPOD+AI 20-24).

    inputs       outcome and probability checks shared by every metric
    counting     the count engine: every metric from counts over the distinct predictions
    headline     point estimates (AUROC, AUPRC, Brier, calibration slope/intercept, ECE)
    curves       decision curve (net benefit) and calibration curve
    bootstrap    paired percentile-bootstrap resamples and intervals
    intervals    headline metrics with intervals; paired AUROC difference
    subgroups    per-level AUROC and calibration; age bands
    landmarks    the headline metrics at each landmark week, landmark-suffixed keys
"""

from hepatorisk.modeling.metrics.bootstrap import Interval
from hepatorisk.modeling.metrics.curves import calibration_curve, net_benefit
from hepatorisk.modeling.metrics.headline import (
    MetricSet,
    auprc,
    auroc,
    brier,
    calibration_slope_intercept,
    ece,
    metric_set,
)
from hepatorisk.modeling.metrics.intervals import bootstrap_metrics, paired_auroc_difference
from hepatorisk.modeling.metrics.landmarks import landmark_metrics, landmark_weeks
from hepatorisk.modeling.metrics.subgroups import age_band, subgroup_metrics

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
    "landmark_metrics",
    "landmark_weeks",
    "metric_set",
    "net_benefit",
    "paired_auroc_difference",
    "subgroup_metrics",
]
