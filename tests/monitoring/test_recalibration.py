"""Recalibration: the stated rule, exact SHAP kept, and a bundle the service loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from monitoring_support import SAMPLE, at_risk
from scipy.special import expit, logit

from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring.recalibration import fit_recalibration, recalibrated
from hepatorisk.monitoring.thresholds import RecalibrationSpec


def _outcomes(p: np.ndarray, a: float, b: float, seed: int) -> np.ndarray:
    """Outcomes whose true log-odds are ``a + b`` times the model's."""
    rng = np.random.default_rng(seed)
    return (rng.random(len(p)) < expit(a + b * logit(p))).astype(int)


def test_the_slope_is_refitted_only_when_the_rule_says_so(relapse_model: ModelBundle) -> None:
    records, _ = at_risk(SAMPLE, "relapse_12w")
    p = relapse_model.predict_proba(records)
    spec = RecalibrationSpec()
    shifted = fit_recalibration(relapse_model, records, _outcomes(p, 0.4, 1.0, 1), spec)
    assert shifted.method == "intercept" and "includes 1" in shifted.rule
    assert shifted.slope == 1.0 and shifted.intercept == pytest.approx(0.4, abs=0.2)
    flat = fit_recalibration(relapse_model, records, _outcomes(p, -0.3, 0.4, 2), spec)
    assert flat.method == "intercept+slope" and flat.slope_hi < 1
    assert flat.slope == pytest.approx(0.4, abs=0.2)
    few = fit_recalibration(relapse_model, records[:150], _outcomes(p[:150], -0.3, 0.4, 2), spec)
    assert few.method == "intercept" and "events" in few.rule


def test_shap_stays_exact_and_the_bundle_round_trips(
    relapse_model: ModelBundle, tmp_path: Path
) -> None:
    records, _ = at_risk(SAMPLE, "relapse_12w")
    rows = records[:40]  # missing-by-design fields included: averaged over plausible values
    rec = fit_recalibration(
        relapse_model, records, _outcomes(relapse_model.predict_proba(records), -0.3, 0.4, 2),
        RecalibrationSpec(),
    )  # fmt: skip
    new = recalibrated(relapse_model, rec, {"local_data_digest": "test"})
    loaded = ModelBundle.load(new.save(tmp_path / "recalibrated"))
    e = loaded.explain(rows)
    np.testing.assert_allclose(e.base_value + e.values.sum(axis=1), e.log_odds, atol=1e-9)
    np.testing.assert_allclose(e.probability, loaded.predict_proba(rows), atol=1e-9)
    complete = records.dropna(axis=0).head(30)  # every input known: the map is exactly affine
    assert len(complete) >= 10
    old, now = relapse_model.explain(complete), loaded.explain(complete)
    np.testing.assert_allclose(now.values, rec.slope * old.values, atol=1e-9)
    np.testing.assert_allclose(
        now.base_value, rec.intercept + rec.slope * old.base_value, atol=1e-9
    )
    assert loaded.metadata["recalibrations"][-1]["local_data_digest"] == "test"
