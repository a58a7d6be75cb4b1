"""Drift measures and performance estimation on known cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from monitoring_support import SAMPLE, at_risk
from scipy.special import expit

from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.reference import REFERENCE_KEY
from hepatorisk.monitoring import drift, performance
from hepatorisk.monitoring.thresholds import MonitoringSpec

SPEC = MonitoringSpec()


def test_psi_of_known_shares() -> None:
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    # (0.7-0.5) ln(0.7/0.5) + (0.3-0.5) ln(0.3/0.5)
    expected = 0.2 * np.log(1.4) + 0.2 * np.log(5 / 3)
    assert drift.psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected)


def test_the_reference_population_is_stable(relapse_model: ModelBundle) -> None:
    records, _ = at_risk(SAMPLE, "relapse_12w")
    rows = records[1500:]  # the calibration rows the reference was taken on
    found, source = drift.input_drift(relapse_model, relapse_model.features.arrays(rows), SPEC)
    assert source.startswith("training reference")
    assert all(f.status == "stable" and f.psi < 1e-6 for f in found), found[:3]
    p = relapse_model.predict_proba(rows)
    assert drift.prediction_drift(relapse_model, p, SPEC).psi == pytest.approx(0.0, abs=1e-9)


def test_a_column_no_longer_sent_is_flagged(relapse_model: ModelBundle) -> None:
    records, _ = at_risk(SAMPLE, "relapse_12w")
    arrays = relapse_model.features.arrays(records[1500:])
    arrays["cows_entry"] = np.full(len(arrays["cows_entry"]), np.nan)
    found = {f.column: f for f in drift.input_drift(relapse_model, arrays, SPEC)[0]}
    assert found["cows_entry"].status == "flag" and "missing 100%" in found["cows_entry"].reason
    assert found["age"].status == "stable"


def test_without_a_stored_reference_the_marginals_are_used(relapse_model: ModelBundle) -> None:
    metadata = {k: v for k, v in relapse_model.metadata.items() if k != REFERENCE_KEY}
    bare = ModelBundle(relapse_model.features, relapse_model.model, metadata)
    records, _ = at_risk(SAMPLE, "relapse_12w")
    found, source = drift.input_drift(bare, bare.features.arrays(records[:1500]), SPEC)
    assert "marginals" in source
    assert max(f.psi for f in found) < SPEC.psi_warn  # the training rows match their marginals
    assert drift.prediction_drift(bare, bare.predict_proba(records), SPEC).status == "unknown"


def test_expected_auroc_is_the_mean_auroc_of_calibrated_outcomes() -> None:
    rng = np.random.default_rng(3)
    p = expit(rng.normal(-0.5, 1.0, 800))
    draws = [metrics.auroc((rng.random(800) < p).astype(int), p) for _ in range(400)]
    assert performance.expected_auroc(p) == pytest.approx(np.mean(draws), abs=0.004)
    est = performance.estimate_performance(p, seed=1)
    assert est.auroc_lo < np.mean(draws) < est.auroc_hi
    assert est.expected_events == pytest.approx(p.sum())


def test_realised_performance_of_calibrated_and_shifted_risks() -> None:
    rng = np.random.default_rng(4)
    p = expit(rng.normal(-1.0, 1.0, 3000))
    y = (rng.random(3000) < p).astype(int)
    fine = performance.realised(y, p, n_boot=200)
    assert fine.oe_lo < 1 < fine.oe_hi
    assert fine.cal_intercept.lo < 0 < fine.cal_intercept.hi
    y_more = (rng.random(3000) < expit(np.log(p / (1 - p)) + 0.5)).astype(int)
    off = performance.realised(y_more, p, n_boot=200)
    assert off.oe_lo > 1 and off.cal_intercept.lo > 0.3


def test_band_shares() -> None:
    assert drift.band_shares(["low", "high", "low", "low"]) == {"high": 0.25, "low": 0.75}
    assert pd.isna(performance.expected_auroc(np.array([0.5])))


def test_logistic_recalibration_recovers_a_known_intercept_and_slope() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(-1.5, 1.2, 20_000)
    y = (rng.random(len(z)) < expit(-0.4 + 0.7 * z)).astype(int)
    a, b = performance.logistic_recalibration(y, expit(z))
    assert a == pytest.approx(-0.4, abs=0.06) and b == pytest.approx(0.7, abs=0.04)
    assert np.isnan(performance.logistic_recalibration(np.zeros(50), expit(z[:50]))[1])


def test_flatter_ranking_here_biases_the_label_free_estimate_not_the_recalibrated_one() -> None:
    """Outcomes drawn with slope 0.6 on the served log-odds (the model ranks worse here than its
    probabilities claim): the label-free estimate is too high and its range misses the realised
    AUROC; with a third of the outcomes known, the estimate for the rest is recalibrated and
    its interval holds their realised AUROC."""
    rng = np.random.default_rng(6)
    n = 6000
    z = rng.normal(-2.0, 1.0, n)
    p = expit(z)
    y = (rng.random(n) < expit(-0.3 + 0.6 * z)).astype(int)
    label_free = performance.estimate_performance(p, seed=1)
    truth = metrics.auroc(y, p)
    assert label_free.auroc - truth > 0.03 and truth < label_free.auroc_lo
    known = rng.random(n) < 1 / 3
    awaiting = performance.estimate_awaiting(p, np.where(known, y, np.nan), seed=1)
    assert awaiting is not None and awaiting.n == (~known).sum()
    rest = metrics.auroc(y[~known], p[~known])
    assert awaiting.auroc_lo <= rest <= awaiting.auroc_hi
    assert abs(awaiting.auroc - rest) < abs(label_free.auroc - rest)
    # too few labelled events to refit: no estimate rather than a wild one
    few = np.where(np.arange(n) < 40, y, np.nan)
    assert performance.estimate_awaiting(p, few) is None
