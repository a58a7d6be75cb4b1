"""Feature builder, calibrated booster and model bundle: one code path, exact explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.exceptions import DataContractError, DataSourceError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster, SplineLogistic
from hepatorisk.modeling.features import FeatureBuilder

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
DERIVED = {
    "alt_xuln": "alt_u_l / alt_uln_u_l",
    "mitragynine_mg_day": "kratom_dose_g_day * mitragynine_mg_per_g",
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    cohort = load_cohort(SAMPLE)
    known = cohort.outcomes["liver_event_12w"].notna().to_numpy()  # prevalent: not at risk
    patients = cohort.patients[known].reset_index(drop=True)
    return patients, cohort.outcomes["liver_event_12w"][known].to_numpy(dtype=int)


@pytest.fixture(scope="module")
def bundle(data: tuple[pd.DataFrame, np.ndarray]) -> ModelBundle:
    patients, y = data
    columns = tuple(c for c in patients.columns if c != "patient_id")
    builder = FeatureBuilder(columns=columns, derived=DERIVED).fit(patients.iloc[:1200])
    X = builder.transform(patients)
    model = CalibratedBooster(n_estimators=80).fit(
        X.iloc[:1200], y[:1200], X.iloc[1200:1600], y[1200:1600]
    )
    return ModelBundle(
        builder,
        model,
        {"registered_model": "test"},
        groups={"ALT": ["alt_u_l", "alt_uln_u_l", "alt_xuln"]},
    )


def test_explanation_is_exact_and_grouping_preserves_the_sum(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    records = data[0].iloc[1600:]
    explanation = bundle.explain(records)
    total = explanation.base_value + explanation.contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(expit(total), bundle.predict_proba(records), atol=1e-12)
    np.testing.assert_allclose(
        explanation.grouped.sum(axis=1), explanation.contributions.sum(axis=1)
    )
    alt = explanation.contributions[["alt_u_l", "alt_uln_u_l", "alt_xuln"]].sum(axis=1)
    np.testing.assert_allclose(explanation.grouped["ALT"], alt)
    moved = explanation.probability_contributions().sum(axis=1)
    np.testing.assert_allclose(
        expit(explanation.base_value) + moved, explanation.probability, atol=1e-12
    )


def test_calibration_is_affine_so_shap_scales_by_its_slope(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X = bundle.features.transform(data[0].iloc[:50])
    raw = bundle.model.booster_.predict(X, pred_contrib=True)
    contrib, _ = bundle.model.contributions(X)
    np.testing.assert_allclose(contrib, bundle.model.calibration_[1] * raw[:, :-1])


def test_save_and_load_round_trip_is_identical(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    loaded = ModelBundle.load(bundle.save(tmp_path / "b"))
    records = data[0].iloc[1600:]
    np.testing.assert_array_equal(loaded.predict_proba(records), bundle.predict_proba(records))
    assert not list(tmp_path.glob("b/*.pkl")), "bundles hold no pickles"


def test_corrupt_bundle_is_a_clear_error(bundle: ModelBundle, tmp_path: Path) -> None:
    folder = bundle.save(tmp_path / "b")
    (folder / "booster.txt").write_text("not a model")
    with pytest.raises(DataSourceError, match="not a readable hepatorisk model"):
        ModelBundle.load(folder)


def test_records_are_checked_with_precise_messages(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    records = data[0].iloc[:3].drop(columns=["bmi", "age"])
    with pytest.raises(DataContractError, match=r"lack column\(s\) the model needs: age, bmi"):
        bundle.predict_proba(records)
    bad = data[0].iloc[:3].copy()
    bad["bmi"] = bad["bmi"].astype(object)
    bad.iloc[1, bad.columns.get_loc("bmi")] = "heavy"
    with pytest.raises(DataContractError, match="'bmi' must be numeric; got 'heavy'"):
        bundle.predict_proba(bad)


def test_unknown_category_is_treated_as_missing_not_an_error(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    records = data[0].iloc[:2].copy()
    records["kratom_product"] = records["kratom_product"].astype(str)
    records.iloc[0, records.columns.get_loc("kratom_product")] = "gummies"
    X = bundle.features.transform(records)
    assert pd.isna(X["kratom_product"].iloc[0])
    assert np.isfinite(bundle.predict_proba(records)).all()


def test_spline_logistic_baseline_learns(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    from sklearn.metrics import roc_auc_score

    patients, y = data
    builder = FeatureBuilder(
        columns=("alt_u_l", "alt_uln_u_l", "kratom_product", "audit_c"), derived=DERIVED
    ).fit(patients)
    X = builder.transform(patients)
    model = SplineLogistic().fit(X.iloc[:1500], y[:1500])
    assert roc_auc_score(y[1500:], model.predict_proba(X.iloc[1500:])[:, 1]) > 0.6


def test_matrix_is_what_lightgbm_builds_from_the_frame(
    bundle: ModelBundle, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from hepatorisk.modeling.estimators import _matrix

    records = data[0].iloc[:300]
    np.testing.assert_array_equal(
        bundle.features.matrix(records), _matrix(bundle.features.transform(records))
    )
    booster = bundle.model.booster_
    np.testing.assert_array_equal(
        booster.predict(bundle.features.transform(records), raw_score=True),
        booster.predict(bundle.features.matrix(records), raw_score=True),
    )
