"""The two model families, trained and reported side by side.

``CalibratedBooster``: LightGBM on pandas categoricals (native splits, so TreeSHAP stays exact),
then logistic calibration of its log-odds on rows it was not trained on. The calibrated log-odds
are ``a + b * margin``, an affine map of the booster's, so every SHAP contribution scales by the
same ``b`` and the explanation remains exact for the model that is served. A landmark model may
calibrate by landmark (``calibrate_by_landmark``): the intercept and slope at week L are read
from knots ``(week, intercept, slope)``, linear between knots and beyond the outer ones. Two
knots at weeks 0 and 1 are the form linear in L (``landmark_form="linear"``), one knot per
landmark week fits each landmark on its own rows (``"per_landmark"``). Still affine per row, so
each row's explanation stays exact.

``SplineLogistic``: the clinical baseline, a penalised logistic regression on scaled inputs with
natural-cubic-like B-splines for continuous predictors and one-hot categories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from hepatorisk.modeling.tree_shap import CompiledTrees, compile_booster

__all__ = [
    "CalibratedBooster",
    "Knots",
    "SplineLogistic",
    "calibration_from_saved",
    "fit_landmark_calibration",
    "fit_logistic_calibration",
    "fit_per_landmark_calibration",
    "knot_affine",
    "knots_from_saved",
    "saved_calibration",
]

#: the model input holding the landmark week (``cohorts.history``)
LANDMARK = "landmark_week"
#: a landmark week's calibration rows need this many events and as many non-events for a
#: per-landmark fit of their own (fewer: the pooled fit); a project choice, about the events
#: under which a two-parameter logistic fit is unstable
MIN_LANDMARK_EVENTS = 20
#: landmark calibration knots: (week, intercept, slope), sorted by week; () when pooled
Knots = tuple[tuple[float, float, float], ...]


def fit_logistic_calibration(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of y ~ logistic(a + b * margin), unpenalised (Platt scaling)."""
    model = LogisticRegression(C=np.inf, max_iter=1000)
    model.fit(np.asarray(margin, dtype=float).reshape(-1, 1), np.asarray(y, dtype=int))
    return float(model.intercept_[0]), float(model.coef_[0, 0])


def fit_landmark_calibration(margin: np.ndarray, week: np.ndarray, y: np.ndarray) -> Knots:
    """Knots of y ~ logistic((a + c L) + (b + d L) * margin), unpenalised: ``(0, a, b)`` and
    ``(1, a + c, b + d)``, read linearly beyond them.

    Why linear in L: a super-model's trees share one scale across landmarks, and measured on
    the synthetic cohort the per-landmark calibration slopes drift steadily with the week
    (liver 0.86 at week 0 to 1.38 at week 12; relapse 1.24 to 0.85); two more parameters follow
    that drift without a separate fit per landmark on few events."""
    m = np.asarray(margin, dtype=float)
    w = np.asarray(week, dtype=float)
    model = LogisticRegression(C=np.inf, max_iter=1000)
    model.fit(np.column_stack([m, w, w * m]), np.asarray(y, dtype=int))
    b, c, d = (float(v) for v in model.coef_[0])
    return _linear_knots((float(model.intercept_[0]), b), c, d)


def _linear_knots(calibration: tuple[float, float], c: float, d: float) -> Knots:
    """The knots of intercept ``a + c L`` and slope ``b + d L`` (``calibration`` = ``(a, b)``)."""
    a, b = calibration
    return ((0.0, a, b), (1.0, a + c, b + d))


def fit_per_landmark_calibration(
    margin: np.ndarray, week: np.ndarray, y: np.ndarray
) -> tuple[tuple[float, float], Knots]:
    """The pooled ``(a, b)`` and one knot per landmark week, each fitted on that week's rows
    alone (a week with fewer than ``MIN_LANDMARK_EVENTS`` events or non-events takes the
    pooled fit).

    Why: measured on 120,000 synthetic patients, the form linear in L left the test slopes of
    the relapse super-model at 1.21 (week 0) and 0.87 (week 4); a fit per landmark gave
    0.93-1.05 at every landmark (issue 13)."""
    m = np.asarray(margin, dtype=float)
    w = np.asarray(week, dtype=float)
    y = np.asarray(y, dtype=int)
    pooled = fit_logistic_calibration(m, y)
    knots = []
    for value in np.unique(w):
        at = w == value
        events = int(y[at].sum())
        enough = min(events, int(at.sum()) - events) >= MIN_LANDMARK_EVENTS
        a, b = fit_logistic_calibration(m[at], y[at]) if enough else pooled
        knots.append((float(value), a, b))
    return pooled, tuple(knots)


def knot_affine(knots: Knots, week: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's calibration intercept and slope at its landmark ``week``: linear between
    the knots and beyond the outer ones (one knot: constant)."""
    w = np.array([k[0] for k in knots])
    a = np.array([k[1] for k in knots])
    b = np.array([k[2] for k in knots])
    week = np.asarray(week, dtype=float)
    if len(w) == 1:
        return np.full(week.shape, a[0]), np.full(week.shape, b[0])
    i = np.clip(np.searchsorted(w, week, side="right") - 1, 0, len(w) - 2)
    t = (week - w[i]) / (w[i + 1] - w[i])
    return a[i] + t * (a[i + 1] - a[i]), b[i] + t * (b[i + 1] - b[i])


def saved_calibration(model: CalibratedBooster) -> dict[str, list[Any]]:
    """An ensemble member's or scenario model's calibration as its bundle saves it (read back
    by ``calibration_from_saved``)."""
    return {
        "calibration": list(model.calibration_),
        "landmark_calibration": [list(k) for k in model.__dict__.get("landmark_calibration_", ())],
    }


def calibration_from_saved(saved: Mapping[str, Any]) -> tuple[tuple[float, float], Knots]:
    """``(intercept, slope)`` and knots of a ``saved_calibration`` (or of the earlier format,
    ``knots_from_saved``)."""
    a, b = (float(v) for v in saved["calibration"])
    return (a, b), knots_from_saved(saved["landmark_calibration"], (a, b))


def knots_from_saved(saved: Sequence[Any] | None, calibration: tuple[float, float]) -> Knots:
    """Knots as saved (a list of ``[week, intercept, slope]``), or from the earlier format
    ``[c, d]`` of the form linear in L around ``calibration`` (``(0, 0)``: pooled)."""
    values = list(saved or [])
    if values and all(isinstance(v, list | tuple) for v in values):
        return tuple((float(w), float(a), float(b)) for w, a, b in values)
    c, d = (float(v) for v in values) if values else (0.0, 0.0)
    return () if (c, d) == (0.0, 0.0) else _linear_knots(calibration, c, d)


class CalibratedBooster(ClassifierMixin, BaseEstimator):
    """LightGBM binary classifier with logistic calibration of its log-odds.

    ``calibrate_by_landmark``: when the inputs include ``landmark_week``, the calibration's
    intercept and slope change with the landmark, linearly (``landmark_form="linear"``,
    ``fit_landmark_calibration``) or fitted per landmark week (``"per_landmark"``,
    ``fit_per_landmark_calibration``); ``landmark_calibration_`` holds the knots, ``()`` when
    pooled."""

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        random_state: int = 0,
        num_threads: int = 2,
        calibrate_by_landmark: bool = False,
        landmark_form: str = "linear",
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.num_threads = num_threads  # training threads: pipeline key model.lightgbm.num_threads
        self.calibrate_by_landmark = calibrate_by_landmark
        self.landmark_form = landmark_form  # "linear" or "per_landmark"

    def lightgbm_params(self) -> dict[str, Any]:
        """LightGBM's own parameters for this estimator (also those of ``lightgbm.dask``)."""
        return self._params()

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_calibration: pd.DataFrame | None = None,
        y_calibration: np.ndarray | None = None,
    ) -> CalibratedBooster:
        """Train on (X, y); calibrate on the held-apart calibration rows when given."""
        y = np.asarray(y, dtype=int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        data = lgb.Dataset(X, label=y, categorical_feature="auto", free_raw_data=False)
        self.booster_ = lgb.train(self._params(), data, num_boost_round=self.n_estimators)
        self.calibration_ = (0.0, 1.0)
        self.landmark_calibration_: Knots = ()
        if X_calibration is not None and y_calibration is not None:
            self.calibrate(X_calibration, y_calibration)
        return self

    def calibrate(self, X: pd.DataFrame, y: np.ndarray) -> CalibratedBooster:
        """Fit the logistic calibration on rows the booster was not trained on."""
        check_is_fitted(self, "booster_")
        matrix = _matrix(X)
        margin = _predict(self.booster_, matrix, raw_score=True)
        column = self._landmark_column()
        if self.calibrate_by_landmark and column is not None:
            week = matrix[:, column]
            if self.landmark_form == "per_landmark":
                pooled, knots = fit_per_landmark_calibration(margin, week, np.asarray(y))
                self.calibration_, self.landmark_calibration_ = pooled, knots
            elif self.landmark_form == "linear":
                knots = fit_landmark_calibration(margin, week, np.asarray(y))
                self.calibration_, self.landmark_calibration_ = knots[0][1:], knots
            else:
                raise ValueError(
                    f"landmark_form {self.landmark_form!r}: expected 'linear' or 'per_landmark'"
                )
        else:
            self.calibration_ = fit_logistic_calibration(margin, np.asarray(y))
            self.landmark_calibration_ = ()
        return self

    def with_calibration(
        self,
        calibration: tuple[float, float],
        landmark_calibration: Knots = (),
        booster: lgb.Booster | None = None,
    ) -> CalibratedBooster:
        """A new estimator with these parameters and fitted trees (``booster``, or this one's,
        shared, never changed) under another calibration: a recalibration, or an ensemble
        member read back from its bundle."""
        out = CalibratedBooster(**self.get_params())
        out.booster_ = self.booster_ if booster is None else booster
        out.classes_ = self.classes_
        out.feature_names_in_ = self.feature_names_in_
        out.calibration_ = calibration
        out.landmark_calibration_ = landmark_calibration
        return out

    def _landmark_column(self) -> int | None:
        names = list(getattr(self, "feature_names_in_", ()))
        return names.index(LANDMARK) if LANDMARK in names else None

    def _affine(self, matrix: np.ndarray) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Each row's calibration intercept and slope (one pair unless by landmark)."""
        a, b = self.calibration_
        knots: Knots = self.__dict__.get("landmark_calibration_", ())
        column = self._landmark_column()
        if not knots or column is None:
            return a, b
        return knot_affine(knots, matrix[:, column])

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Calibrated log-odds."""
        check_is_fitted(self, "booster_")
        matrix = _matrix(X)
        a, b = self._affine(matrix)
        out: np.ndarray = a + b * _predict(self.booster_, matrix, raw_score=True)
        return out

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    def contributions(self, X: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact TreeSHAP contributions on the calibrated log-odds scale, and the base values.

        LightGBM's own ``pred_contrib`` (what ``shap.TreeExplainer`` calls for LightGBM), scaled
        by the calibration slope: ``base + contributions.sum(1)`` equals ``decision_function``.
        """
        check_is_fitted(self, "booster_")
        matrix = _matrix(X)
        a, b = self._affine(matrix)
        trees = self._compiled_trees()
        raw = (
            _predict(self.booster_, matrix, pred_contrib=True)
            if trees is None
            else trees.contributions(matrix)
        )
        scale = np.asarray(b, dtype=float).reshape(-1, 1) if np.ndim(b) else b
        return scale * raw[:, :-1], a + b * raw[:, -1]

    def _compiled_trees(self) -> CompiledTrees | None:
        """The booster's trees for ``tree_shap`` (the same values as LightGBM's ``pred_contrib``
        at a third of its cost), built once per booster; None for trees too deep for it."""
        cached = self.__dict__.get("_compiled_trees_cache")
        if cached is None or cached[0] is not self.booster_:
            try:
                trees: CompiledTrees | None = compile_booster(self.booster_)
            except ValueError:
                trees = None  # paths on more than MAX_PATH_FEATURES features: LightGBM's own
            cached = self.__dict__["_compiled_trees_cache"] = (self.booster_, trees)
        return cached[1]


# Rows below which prediction runs on one thread: for a few patients OpenMP's fork-join costs
# more than the trees (about 10x per call on a busy 2-core machine); results are identical.
SINGLE_THREAD_ROWS = 5_000


def _predict(booster: lgb.Booster, X: np.ndarray, **kind: bool) -> np.ndarray:
    threads = 1 if len(X) < SINGLE_THREAD_ROWS else 0  # 0: LightGBM's default (all cores)
    return np.asarray(booster.predict(X, num_threads=threads, **kind))


def _matrix(X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The numeric matrix LightGBM builds from a DataFrame, built directly.

    Categorical columns become their category codes (missing -> NaN), exactly what LightGBM's
    own pandas conversion does for the fixed levels the feature builder guarantees; skipping
    that conversion saves most of the per-call cost for one patient.
    """
    if isinstance(X, np.ndarray):  # already the matrix (FeatureBuilder.matrix)
        return X
    out = np.empty((len(X), X.shape[1]), dtype=np.float64)
    for j, col in enumerate(X.columns):
        values = X[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


class SplineLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression on scaled inputs, B-splines for continuous ones, one-hot categories."""

    def __init__(self, n_knots: int = 5, C: float = 1.0, min_unique_for_spline: int = 10):
        self.n_knots = n_knots
        self.C = C
        self.min_unique_for_spline = min_unique_for_spline

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> SplineLogistic:
        categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        numeric = [c for c in X.columns if c not in categorical]
        continuous = [c for c in numeric if X[c].nunique() >= self.min_unique_for_spline]
        simple = [c for c in numeric if c not in continuous]
        transformers = []
        if continuous:
            transformers.append(
                (
                    "spline",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        StandardScaler(),
                        SplineTransformer(n_knots=self.n_knots, degree=3, extrapolation="linear"),
                    ),
                    continuous,
                )
            )
        if simple:
            transformers.append(
                (
                    "scaled",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        StandardScaler(),
                    ),
                    simple,
                )
            )
        if categorical:
            transformers.append(
                (
                    "onehot",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="missing"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                )
            )
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.pipeline_ = Pipeline(
            [
                ("design", ColumnTransformer(transformers, sparse_threshold=0)),
                ("logistic", LogisticRegression(C=self.C, max_iter=5000)),
            ]
        )
        self.pipeline_.fit(_object_categories(X), np.asarray(y, dtype=int))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        probabilities: np.ndarray = self.pipeline_.predict_proba(_object_categories(X))
        return probabilities

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _object_categories(X: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as object columns with NaN, which scikit-learn's imputers expect."""
    out = X.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), np.nan)
    return out
