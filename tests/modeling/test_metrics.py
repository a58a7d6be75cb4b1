"""Metrics: agreement with scikit-learn, hand-computed examples, bootstrap and subgroup rules."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling import metrics


def _cohort(n: int, seed: int, rounding: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Binary outcome drawn from a true risk; a noisy, miscalibrated model of that risk."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (rng.random(n) < expit(-1.5 + x)).astype(int)
    p = expit(-1.2 + 0.8 * x + rng.normal(0, 0.4, n))
    return y, (np.round(p, rounding) if rounding is not None else p)


@pytest.fixture(scope="module")
def cohort() -> tuple[np.ndarray, np.ndarray]:
    return _cohort(2000, seed=7)


# ---------------------------------------------------------------------------- point metrics
@pytest.mark.parametrize(("seed", "rounding"), [(0, None), (1, 2), (2, 1)])
def test_metrics_match_scikit_learn(seed: int, rounding: int | None) -> None:
    y, p = _cohort(1500, seed, rounding)  # rounding creates ties
    assert metrics.auroc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert metrics.auprc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert metrics.brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_metric_set_agrees_with_single_metrics(cohort: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = cohort
    ms = metrics.metric_set(y, p)
    slope, intercept = metrics.calibration_slope_intercept(y, p)
    assert (ms.auroc, ms.auprc, ms.brier, ms.ece) == pytest.approx(
        (metrics.auroc(y, p), metrics.auprc(y, p), metrics.brier(y, p), metrics.ece(y, p))
    )
    assert (ms.cal_slope, ms.cal_intercept) == pytest.approx((slope, intercept))


def test_auroc_is_nan_with_one_outcome() -> None:
    assert np.isnan(metrics.auroc(np.zeros(5), np.linspace(0.1, 0.5, 5)))


def test_calibration_slope_matches_unpenalised_logistic_regression(
    cohort: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = cohort
    z = logit(np.clip(p, 1e-6, 1 - 1e-6))[:, None]
    # C=inf is scikit-learn 1.9's spelling of penalty=None (penalty= is deprecated).
    fit = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    slope, _ = metrics.calibration_slope_intercept(y, p)
    assert slope == pytest.approx(fit.fit(z, y).coef_[0, 0], abs=1e-6)


def test_calibration_intercept_solves_the_offset_score_equation(
    cohort: tuple[np.ndarray, np.ndarray],
) -> None:
    y, p = cohort
    z = logit(p)
    expected = brentq(lambda c: np.sum(y - expit(c + z)), -5, 5, xtol=1e-12)
    _, intercept = metrics.calibration_slope_intercept(y, p)
    assert intercept == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("shift", [0.0, 0.7, -0.5])
def test_shifted_logits_give_intercept_equal_to_the_shift(shift: float) -> None:
    rng = np.random.default_rng(3)
    risk = expit(rng.normal(-1.0, 1.2, 100_000))
    y = (rng.random(len(risk)) < risk).astype(int)
    slope, intercept = metrics.calibration_slope_intercept(y, expit(logit(risk) - shift))
    assert slope == pytest.approx(1.0, abs=0.03)
    assert intercept == pytest.approx(shift, abs=0.03)


def test_calibration_is_nan_without_a_finite_fit() -> None:
    separated = np.array([0, 0, 0, 1, 1, 1]), np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert np.isnan(metrics.calibration_slope_intercept(*separated)[0])
    constant = np.array([0, 1, 0, 1]), np.full(4, 0.4)
    assert np.isnan(metrics.calibration_slope_intercept(*constant)[0])


def test_ece_hand_computed() -> None:
    # bin [0, 0.1): observed 1/2, predicted 0.05; bin [0.9, 1]: observed 1, predicted 0.95
    y, p = np.array([0, 1, 1, 1]), np.array([0.05, 0.05, 0.95, 0.95])
    assert metrics.ece(y, p) == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)
    assert metrics.ece(np.array([1, 0, 0, 0]), np.full(4, 0.25)) == pytest.approx(0.0)


def test_net_benefit_hand_computed() -> None:
    y = np.array([1, 1, 0, 0, 1])
    p = np.array([0.9, 0.4, 0.6, 0.1, 0.2])
    curve = metrics.net_benefit(y, p, [0.2, 0.25, 0.5])
    assert list(curve.columns) == ["threshold", "model", "treat_all", "treat_none"]
    # pt=0.2 treats p >= 0.2: TP 3, FP 1; pt=0.25: TP 2, FP 1; pt=0.5: TP 1, FP 1
    assert curve["model"].tolist() == pytest.approx([3 / 5 - 1 / 5 / 4, 2 / 5 - 1 / 5 / 3, 0.0])
    assert curve["treat_all"].tolist() == pytest.approx([3 / 5 - 2 / 5 / 4, 3 / 5 - 2 / 5 / 3, 0.2])
    assert (curve["treat_none"] == 0).all()


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_calibration_curve_matches_scikit_learn(
    cohort: tuple[np.ndarray, np.ndarray], strategy: str
) -> None:
    y, p = cohort
    curve = metrics.calibration_curve(y, p, bins=8, strategy=strategy)  # type: ignore[arg-type]
    prob_true, prob_pred = sk_calibration_curve(y, p, n_bins=8, strategy=strategy)
    assert curve["observed_rate"].to_numpy() == pytest.approx(prob_true)
    assert curve["mean_predicted"].to_numpy() == pytest.approx(prob_pred)
    assert curve["n"].sum() == len(y)
    assert (
        (curve["ci_lo"] <= curve["observed_rate"]) & (curve["observed_rate"] <= curve["ci_hi"])
    ).all()


def test_wilson_interval_hand_computed() -> None:
    curve = metrics.calibration_curve(np.zeros(10, dtype=int), np.full(10, 0.1), bins=1)
    z2 = 1.959963984540054**2
    assert curve.loc[0, "ci_lo"] == pytest.approx(0.0)
    assert curve.loc[0, "ci_hi"] == pytest.approx(z2 / (10 + z2))


# ---------------------------------------------------------------------------- bootstrap
def test_bootstrap_is_deterministic_per_seed(cohort: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = cohort
    first = metrics.bootstrap_metrics(y, p, n_boot=200, seed=1)
    assert first == metrics.bootstrap_metrics(y, p, n_boot=200, seed=1)
    other = metrics.bootstrap_metrics(y, p, n_boot=200, seed=2)
    assert first["auroc"].lo != other["auroc"].lo
    assert first["auroc"].estimate == other["auroc"].estimate


def test_bootstrap_intervals_contain_the_estimate_and_include_oracle() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=3000)
    oracle = expit(-1.5 + x)
    y = (rng.random(3000) < oracle).astype(int)
    p = expit(-1.2 + 0.8 * x + rng.normal(0, 0.4, 3000))
    ci = metrics.bootstrap_metrics(y, p, n_boot=300, seed=0, oracle=oracle)
    assert set(ci) == {
        "auroc",
        "auprc",
        "brier",
        "cal_slope",
        "cal_intercept",
        "ece",
        "oracle_auroc",
        "oracle_brier",
        "auroc_vs_oracle",
    }
    for name, interval in ci.items():
        assert interval.lo <= interval.estimate <= interval.hi, name
    ratio = metrics.auroc(y, p) / metrics.auroc(y, oracle)
    assert ci["auroc_vs_oracle"].estimate == pytest.approx(ratio)
    assert ci["cal_slope"].estimate == pytest.approx(metrics.calibration_slope_intercept(y, p)[0])


def test_bootstrap_interval_narrows_with_more_patients() -> None:
    width = {}
    for n in (400, 6400):
        ci = metrics.bootstrap_metrics(*_cohort(n, seed=11), n_boot=200)
        width[n] = ci["auroc"].hi - ci["auroc"].lo
    assert width[6400] < width[400] / 2


def test_bootstrap_needs_both_outcomes() -> None:
    with pytest.raises(DataContractError, match="needs both outcomes; got 0 events in 20 patients"):
        metrics.bootstrap_metrics(np.zeros(20), np.full(20, 0.3))


def test_paired_auroc_difference(cohort: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = cohort
    p_b = expit(logit(p) + np.random.default_rng(0).normal(0, 1.0, len(p)))
    diff = metrics.paired_auroc_difference(y, p, p_b, n_boot=300, seed=3)
    assert diff.estimate == pytest.approx(metrics.auroc(y, p) - metrics.auroc(y, p_b))
    assert diff.lo <= diff.estimate <= diff.hi
    assert diff == metrics.paired_auroc_difference(y, p, p_b, n_boot=300, seed=3)
    same = metrics.paired_auroc_difference(y, p, p, n_boot=50)
    assert (same.estimate, same.lo, same.hi) == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------- subgroups
def test_age_band() -> None:
    bands = metrics.age_band(pd.Series([18, 29.9, 30, 45, 50, 83, np.nan], name="age"))
    assert isinstance(bands.dtype, pd.CategoricalDtype)
    assert bands.astype(str).tolist() == [
        "18-29",
        "18-29",
        "30-39",
        "40-49",
        "50+",
        "50+",
        "missing",
    ]


def test_subgroups_keep_small_groups_with_a_reason() -> None:
    y, p = _cohort(1200, seed=4)
    sex = np.where(np.arange(1200) % 2 == 0, "F", "M").astype(object)
    sex[:30] = None
    site = np.array(["a"] * 1180 + ["b"] * 20, dtype=object)
    frame = pd.DataFrame({"y": y, "p": p, "sex": sex, "site": site})
    frame.loc[1100:1179, "y"] = 0
    frame.loc[1100:1179, "site"] = "c"  # 80 patients, no events
    table = metrics.subgroup_metrics(frame, "y", "p", ["sex", "site"], n_boot=100, seed=0)
    rows = table.set_index(["variable", "level"])
    assert rows.index.tolist() == [
        ("sex", "F"),
        ("sex", "M"),
        ("sex", "missing"),
        ("site", "a"),
        ("site", "b"),
        ("site", "c"),
    ]
    assert table.groupby("variable")["n"].sum().tolist() == [1200, 1200]
    assert rows.loc[("sex", "missing"), "reason"] == "fewer than 50 patients (30)"
    assert rows.loc[("site", "c"), "reason"] == "fewer than 10 events (0)"
    for key in [("sex", "missing"), ("site", "b"), ("site", "c")]:
        assert not rows.loc[key, "reported"]
        assert rows.loc[key, ["auroc", "auroc_lo", "auroc_hi", "cal_slope"]].isna().all()
    female = frame["sex"] == "F"
    expected = metrics.auroc(frame.loc[female, "y"], frame.loc[female, "p"])
    assert rows.loc[("sex", "F"), "auroc"] == pytest.approx(expected)
    assert rows.loc[("sex", "F"), "auroc_lo"] < expected < rows.loc[("sex", "F"), "auroc_hi"]
    assert rows.loc[("sex", "F"), "reported"]


def test_subgroups_name_missing_columns() -> None:
    frame = pd.DataFrame({"y": [0, 1], "p": [0.2, 0.8]})
    with pytest.raises(DataContractError, match=r"columns \['sex'\] are not in the frame"):
        metrics.subgroup_metrics(frame, "y", "p", ["sex"])


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "same length; got 3 outcomes and 2 predictions"),
        ([0, 1], [-0.1, 1.2], r"probabilities in \[0, 1\]; got 2 values outside"),
        ([0, 1, 2], [0.1, 0.2, 0.3], r"binary outcome coded 0/1.*got values \[0.0, 1.0, 2.0\]"),
        ([0, 1, np.nan], [0.1, 0.2, 0.3], r"got values \[0.0, 1.0, 'nan'\]"),
        ([0, 1], [0.1, np.nan], r"1 missing \(NaN\) values"),
        ([0, 1], [[0.9, 0.1], [0.2, 0.8]], r"1-D .*got shape \(2, 2\).*predict_proba\(X\)\[:, 1\]"),
        (["no", "yes"], [0.1, 0.2], "numeric or boolean; got dtype <U3"),
        ([], [], "y is empty"),
    ],
)
def test_validation_messages(y: list, p: list, message: str) -> None:
    with pytest.raises(DataContractError, match=message) as caught:
        metrics.auroc(np.asarray(y), np.asarray(p))
    assert isinstance(caught.value, ValueError)


def test_boolean_outcomes_and_series_are_accepted(cohort: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = cohort
    assert metrics.brier(pd.Series(y.astype(bool)), pd.Series(p)) == pytest.approx(
        metrics.brier(y, p)
    )


def test_net_benefit_rejects_thresholds_outside_open_interval() -> None:
    with pytest.raises(DataContractError, match=r"strictly between 0 and 1; got \[0.0, 0.5\]"):
        metrics.net_benefit(np.array([0, 1]), np.array([0.2, 0.7]), [0.0, 0.5])


def test_public_api_is_all() -> None:
    """The package exports exactly its user-facing modules' APIs (and the interval type);
    the engine modules (inputs, counting, bootstrap) stay behind them."""
    user_facing = ("headline", "curves", "intervals", "subgroups", "landmarks")
    exported = {
        name
        for module in user_facing
        for name in importlib.import_module(f"{metrics.__name__}.{module}").__all__
    }
    assert set(metrics.__all__) == exported | {"Interval"}
    assert all(callable(getattr(metrics, name)) for name in metrics.__all__)
