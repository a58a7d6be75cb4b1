"""Calibration by landmark and the uncertainty range, on an in-memory landmark dataset whose
true risk is known (no cohort folder, no MLflow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from hepatorisk.cohorts.manifest import CohortManifest
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import (
    fit_logistic_calibration,
    fit_per_landmark_calibration,
    knot_affine,
    knots_from_saved,
)
from hepatorisk.training import steps
from hepatorisk.training.spec import PipelineSpec

FEATURES = ["age", "alt_u_l"]
WEEKS = (0, 4, 8)


def _spec(**model: Any) -> PipelineSpec:
    values: dict[str, Any] = {
        "name": "in_memory",
        "description": "landmark step test",
        "registered_model": "in-memory",
        "cohort": {"kind": "synthetic", "path": "unused"},
        "outcome": "event",
        "horizon_weeks": 12,
        "features": {"feature_set": "basic"},
        "split": {"test_size": 0.3, "calibration_size": 0.3, "seed": 3},
        "model": {
            "lightgbm": {"n_estimators": 60, "num_leaves": 4, "min_child_samples": 30},
            **model,
        },
        "evaluation": {"bootstrap": 100, "thresholds": [0.05, 0.5, 0.05]},
    }
    return PipelineSpec.model_validate(values)


def _dataset(patients: int = 3000, seed: int = 0) -> steps.Dataset:
    """Each patient at weeks 0, 4 and 8; ALT's effect on the true log-odds grows with the week,
    which one pooled calibration of a shared booster cannot follow."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(patients), len(WEEKS))
    week = np.tile(np.array(WEEKS, dtype=float), patients)
    age = np.repeat(rng.integers(18, 70, patients), len(WEEKS)).astype(float)
    alt = rng.lognormal(3.3, 0.5, len(ids))
    z = (alt - 30) / 15
    truth = expit(-1.5 + (0.3 + 0.12 * week) * z + 0.01 * (age - 40))
    y = (rng.random(len(ids)) < truth).astype(int)
    frame = pd.DataFrame(
        {"patient_id": ids.astype(str), "age": age, "alt_u_l": alt, "landmark_week": week}
    )
    frame["event"] = y
    manifest = CohortManifest(
        kind="synthetic",
        tables=["patients", "outcomes"],
        feature_sets={"basic": [*FEATURES, "landmark_week"]},
        outcomes=["event"],
    )
    return steps.Dataset(
        manifest, frame, "patient_id", y, truth, Path("in-memory"), "0" * 16,
        frozenset({"event"}), landmark=week,
    )  # fmt: skip


def _fit(spec: PipelineSpec, dataset: steps.Dataset) -> tuple[steps.Trained, steps.Split]:
    parts = steps.split(dataset, spec)
    return steps.calibrate(dataset, parts, steps.train(dataset, parts, spec)), parts


def _slopes(dataset: steps.Dataset, parts: steps.Split, bundle: ModelBundle) -> list[float]:
    test = dataset.frame.iloc[parts.test]
    p = bundle.predict_proba(test)
    y, week = dataset.y[parts.test], test["landmark_week"].to_numpy()
    return [metrics.calibration_slope_intercept(y[week == w], p[week == w])[0] for w in WEEKS]


def test_calibration_by_landmark_follows_a_slope_that_drifts_with_the_week() -> None:
    dataset = _dataset()
    pooled, parts = _fit(_spec(), dataset)
    by_week, _ = _fit(_spec(calibration="by_landmark"), dataset)
    (w0, _, b0), (w1, _, b1) = by_week.bundle.model.landmark_calibration_
    assert pooled.bundle.model.landmark_calibration_ == ()
    assert (w0, w1) == (0.0, 1.0) and b1 > b0  # the slope grows with the week, as the truth's
    pooled_error = max(abs(s - 1) for s in _slopes(dataset, parts, pooled.bundle))
    by_week_error = max(abs(s - 1) for s in _slopes(dataset, parts, by_week.bundle))
    assert by_week_error < pooled_error


def test_calibration_per_landmark_fits_each_week_on_its_own_rows(tmp_path: Path) -> None:
    """One knot per landmark week, each the logistic fit of that week's calibration rows
    alone; saved and read back as knots; a week with too few events takes the pooled fit."""
    dataset = _dataset()
    trained, parts = _fit(_spec(calibration="per_landmark"), dataset)
    model = trained.bundle.model
    knots = model.landmark_calibration_
    assert [k[0] for k in knots] == [float(w) for w in WEEKS]
    X = trained.bundle.features.transform(dataset.frame.iloc[parts.calibration])
    margin = model.booster_.predict(X, raw_score=True)
    week, y = dataset.landmark[parts.calibration], dataset.y[parts.calibration]
    for w, a, b in knots:
        assert (a, b) == pytest.approx(fit_logistic_calibration(margin[week == w], y[week == w]))
    loaded = ModelBundle.load(trained.bundle.save(tmp_path / "b"))
    assert loaded.model.landmark_calibration_ == knots
    test = dataset.frame.iloc[parts.test]
    np.testing.assert_array_equal(loaded.predict_proba(test), trained.bundle.predict_proba(test))
    few = y.copy()
    few[week == 8] = 0
    few[np.flatnonzero(week == 8)[:5]] = 1  # 5 events: too few for a fit of its own
    pooled, per_week = fit_per_landmark_calibration(margin, week, few)
    assert per_week[-1] == (8.0, *pooled)
    assert per_week[0][1:] == pytest.approx(
        fit_logistic_calibration(margin[week == 0], few[week == 0])
    )


def test_a_bundle_saved_with_the_earlier_linear_terms_reads_the_same() -> None:
    """Bundles saved before the knots held ``(c, d)`` of ``a + c L, b + d L``."""
    knots = knots_from_saved([0.2, -0.05], (-1.0, 0.9))
    a, b = knot_affine(knots, np.array([0.0, 4.0, 12.0]))
    np.testing.assert_allclose(a, [-1.0, -0.2, 1.4], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b, [0.9, 0.7, 0.3], rtol=0, atol=1e-12)
    assert knots_from_saved([0.0, 0.0], (-1.0, 0.9)) == ()
    assert knots_from_saved([[0, 1, 2], [4, 3, 4]], (0.0, 1.0)) == (
        (0.0, 1.0, 2.0),
        (4.0, 3.0, 4.0),
    )


def test_calibration_by_landmark_keeps_each_explanation_exact(tmp_path: Path) -> None:
    dataset = _dataset(patients=1500)
    trained, parts = _fit(_spec(calibration="by_landmark"), dataset)
    test = dataset.frame.iloc[parts.test]
    for bundle in (trained.bundle, ModelBundle.load(trained.bundle.save(tmp_path / "b"))):
        e = bundle.explain(test)
        np.testing.assert_allclose(e.log_odds, logit(bundle.predict_proba(test)), atol=1e-9)
        np.testing.assert_allclose(e.base_value + e.values.sum(axis=1), e.log_odds, atol=1e-9)


def test_a_week_between_landmarks_is_answered_by_the_latest_landmark_before_it() -> None:
    dataset = _dataset(patients=1500)
    trained, parts = _fit(_spec(calibration="by_landmark"), dataset)
    bundle = trained.bundle
    rows = dataset.frame.iloc[parts.test[:50]].copy()
    at_4 = bundle.predict_proba(rows.assign(landmark_week=4.0))
    np.testing.assert_array_equal(bundle.predict_proba(rows.assign(landmark_week=6.0)), at_4)
    assert [bundle.answering_landmark(w) for w in (0, 3, 4, 7, 8, 30)] == [0, 0, 4, 4, 8, 8]


def test_the_range_covers_the_true_risk_at_its_level_and_survives_saving(tmp_path: Path) -> None:
    dataset = _dataset()
    spec = _spec(calibration="by_landmark", uncertainty={"members": 12, "level": 0.9, "seed": 5})
    trained, parts = _fit(spec, dataset)
    ensemble = trained.bundle.ensemble
    assert ensemble is not None and len(ensemble.members) == 12
    assert ensemble.widening >= 1.0
    test = dataset.frame.iloc[parts.test]
    got = steps.evaluation.range_metrics(
        trained.bundle, test, dataset.oracle[parts.test], dataset.landmark[parts.test]
    )
    # coverage is fitted on the calibration rows (a factor per week) and measured on test rows
    assert set(ensemble.widening_by_week) == {float(w) for w in WEEKS}
    assert got["test_range_coverage"] == pytest.approx(0.9, abs=0.05)
    for week in WEEKS:
        assert got[f"test_range_coverage_w{week}"] == pytest.approx(0.9, abs=0.07)
    bounds = trained.bundle.predict_interval(test)
    p = trained.bundle.predict_proba(test)
    assert bounds is not None and ((bounds[:, 0] <= p) & (p <= bounds[:, 1])).all()
    loaded = ModelBundle.load(trained.bundle.save(tmp_path / "b"))
    np.testing.assert_array_equal(loaded.predict_interval(test), bounds)
    # the same seed gives the same members and the same range
    again, _ = _fit(spec, dataset)
    np.testing.assert_array_equal(again.bundle.predict_interval(test), bounds)


def test_a_model_without_an_ensemble_states_no_range() -> None:
    dataset = _dataset(patients=600)
    trained, parts = _fit(_spec(), dataset)
    assert trained.bundle.predict_interval(dataset.frame.iloc[parts.test]) is None


def test_too_few_members_are_refused_with_the_key() -> None:
    with pytest.raises(ValueError, match=r"uncertainty.members must be 0 .* at least 5"):
        _spec(uncertainty={"members": 3})


def test_a_calibration_bootstrap_always_holds_both_outcomes_or_is_refused() -> None:
    from hepatorisk.exceptions import ConfigError
    from hepatorisk.training.ensemble import calibrate_members, fit_members
    from hepatorisk.training.spec import UncertaintySpec

    dataset = _dataset(patients=400)
    spec = UncertaintySpec(members=5, seed=1)
    X = pd.DataFrame(dataset.frame[[*FEATURES, "landmark_week"]])
    groups = dataset.frame["patient_id"].to_numpy()
    template = steps.fitting.CalibratedBooster(n_estimators=10, num_leaves=3)
    members = fit_members(template.fit(X, dataset.y), X, dataset.y, groups, spec)
    # one event among 1,200 rows: a patient-level resample misses it about 37% of the time
    # (e^-1), so some of the five members' draws are repeated from the seeded stream
    rare = np.zeros(len(groups), dtype=int)
    rare[0] = 1
    calibrated = calibrate_members(members, X, rare, groups, spec)
    assert all(np.isfinite(m.calibration_).all() for m in calibrated)
    with pytest.raises(ConfigError, match="held no event or no non-event"):
        calibrate_members(members, X, np.zeros(len(groups), dtype=int), groups, spec)
