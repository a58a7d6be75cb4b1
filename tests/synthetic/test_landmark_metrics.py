"""Per-landmark metrics: each landmark's keys are the headline metrics on that landmark's rows
alone, with the oracle ratio only where the truth is known on every row of it."""

from __future__ import annotations

import numpy as np
import pytest

from hepatorisk.modeling import metrics


def test_landmark_metrics_are_the_metrics_of_each_landmarks_rows() -> None:
    rng = np.random.default_rng(3)
    n = 1200
    landmark = np.repeat([0, 4, 12], n // 3)
    truth = rng.uniform(0.02, 0.6, n)
    y = (rng.random(n) < truth).astype(int)
    p = np.clip(truth + rng.normal(0, 0.05, n), 0.01, 0.99)
    oracle = np.where(landmark == 12, np.nan, truth)  # truth unknown at week 12
    out = metrics.landmark_metrics(y, p, landmark, oracle=oracle, n_boot=200, seed=1)
    for week in (0, 4, 12):
        rows = landmark == week
        assert out[f"test_n_w{week}"] == rows.sum()
        assert out[f"test_events_w{week}"] == y[rows].sum()
        assert out[f"test_auroc_w{week}"] == pytest.approx(metrics.auroc(y[rows], p[rows]))
        slope, _intercept = metrics.calibration_slope_intercept(y[rows], p[rows])
        assert out[f"test_cal_slope_w{week}"] == pytest.approx(slope)
        lo, hi = out[f"test_auroc_w{week}_lo"], out[f"test_auroc_w{week}_hi"]
        assert lo < out[f"test_auroc_w{week}"] < hi
    ratio = metrics.auroc(y[landmark == 4], p[landmark == 4]) / metrics.auroc(
        y[landmark == 4], truth[landmark == 4]
    )
    assert out["auroc_vs_oracle_w4"] == pytest.approx(ratio)
    assert "auroc_vs_oracle_w12" not in out and "oracle_auroc_w12" not in out
    assert metrics.landmark_weeks(out) == [0, 4, 12]
    # a landmark with one outcome only: counts, no metric
    y_flat = np.where(landmark == 12, 0, y)
    flat = metrics.landmark_metrics(y_flat, p, landmark, n_boot=100)
    assert flat["test_events_w12"] == 0 and "test_auroc_w12" not in flat
