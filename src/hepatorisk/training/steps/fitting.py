"""Steps ``train`` and ``calibrate``: features, the booster and the baseline on the training
rows, then the booster's calibration on the calibration rows, as a new model."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterSampler, StratifiedGroupKFold, StratifiedKFold

from hepatorisk.cohorts.catalog import column_labels
from hepatorisk.cohorts.history import HISTORY_COLUMNS, HISTORY_LABELS
from hepatorisk.exceptions import ConfigError
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster, SplineLogistic
from hepatorisk.modeling.features import FeatureBuilder, expression_sources
from hepatorisk.modeling.uncertainty import Ensemble, fit_widenings
from hepatorisk.training.ensemble import calibrate_members, fit_members
from hepatorisk.training.spec import PipelineSpec, UncertaintySpec
from hepatorisk.training.steps.ingestion import Dataset
from hepatorisk.training.steps.scenario_models import fit_scenario_models
from hepatorisk.training.steps.splitting import Split

__all__ = ["Trained", "booster_params", "calibrate", "derived_features", "feature_columns", "train"]


@dataclass(frozen=True)
class Trained:
    """The fitted models: the served bundle (features + booster) and the logistic baseline."""

    bundle: ModelBundle
    baseline: SplineLogistic
    booster_params: dict[str, Any]
    search: pd.DataFrame = field(default_factory=pd.DataFrame)
    uncertainty: UncertaintySpec = field(default_factory=UncertaintySpec)  # ensemble recipe


def feature_columns(dataset: Dataset, spec: PipelineSpec) -> list[str]:
    sets = dataset.manifest.feature_sets
    if spec.features.feature_set not in sets:
        raise ConfigError(
            f"features.feature_set {spec.features.feature_set!r} is not one of {', '.join(sets)}"
        )
    columns = [c for c in sets[spec.features.feature_set] if c not in spec.features.exclude]
    if spec.landmarks is not None:  # the history known by the landmark week
        columns += [c for c in HISTORY_COLUMNS if c not in spec.features.exclude]
    _refuse_outcome_columns(dataset, spec, columns)
    return columns


def _refuse_outcome_columns(dataset: Dataset, spec: PipelineSpec, columns: list[str]) -> None:
    """No model input may read the outcomes table: it holds what happened after entry."""
    outcome_columns = dataset.outcome_columns
    reads = {c: [c] for c in columns}
    reads |= {name: expression_sources(e) for name, e in derived_features(spec).items()}
    leaks = sorted(
        {
            f"{name} (reads {src})"
            for name, srcs in reads.items()
            for src in srcs
            if src in outcome_columns
        }
    )
    if leaks:
        raise ConfigError(
            "features read post-outcome columns of the outcomes table: "
            + ", ".join(leaks)
            + "; remove them from the feature set or the derived features"
        )


def train(dataset: Dataset, parts: Split, spec: PipelineSpec) -> Trained:
    """Fit features on the training rows, tune (optionally, by CV on training rows only) and
    train the booster on them, and fit the logistic baseline on training + calibration rows.

    The booster is not calibrated yet (identity calibration): that is the ``calibrate`` step."""
    exclude = set(spec.features.exclude)
    derived = {k: v for k, v in derived_features(spec).items() if k not in exclude}
    builder = FeatureBuilder(columns=tuple(feature_columns(dataset, spec)), derived=derived)
    records = dataset.frame
    builder.fit(records.iloc[parts.train])
    X = builder.transform(records)
    y = dataset.y
    params = booster_params(spec)
    search = pd.DataFrame()
    if spec.model.search.trials > 0:
        groups = None  # landmark rows: a patient's rows stay in one fold
        if dataset.landmark is not None:
            groups = records[dataset.id_column].astype(str).to_numpy()[parts.train]
        params, search = _search(X.iloc[parts.train], y[parts.train], params, spec, groups)
    if spec.model.engine == "dask":  # lightgbm.dask across workers (training/dask_fitting.py)
        from hepatorisk.training.dask_fitting import fit_on_dask

        booster = fit_on_dask(CalibratedBooster(**params), X.iloc[parts.train], y[parts.train],
                              spec.model.dask)  # fmt: skip
    else:
        booster = CalibratedBooster(**params).fit(X.iloc[parts.train], y[parts.train])
    ensemble = None
    if spec.model.uncertainty.members:
        members = fit_members(
            booster, X.iloc[parts.train], y[parts.train], _groups(dataset)[parts.train],
            spec.model.uncertainty,
        )  # fmt: skip
        ensemble = Ensemble(members, level=spec.model.uncertainty.level)
    baseline_rows = np.concatenate([parts.train, parts.calibration])
    baseline = SplineLogistic(n_knots=spec.baseline.n_knots, C=spec.baseline.C).fit(
        X.iloc[baseline_rows], y[baseline_rows]
    )
    bundle = ModelBundle(
        features=builder,
        model=booster,
        metadata={
            "registered_model": spec.registered_model,
            "pipeline": spec.name,
            "outcome": spec.outcome,
            "horizon_weeks": spec.horizon_weeks,
            "description": spec.description,
            "cohort_kind": spec.cohort.kind,
            "dataset_digest": dataset.digest,
            "trained_rows": len(parts.train),
            "calibration_rows": len(parts.calibration),
            **_landmark_metadata(spec),
        },
        labels=column_labels(dataset.manifest) | _history_labels(spec) | dict(spec.labels),
        groups={k: list(v) for k, v in spec.groups.items()},
        ensemble=ensemble,
        # issue 13 item 4: the same recipe on the cohort under other scenarios (None when off)
        scenarios=fit_scenario_models(dataset, parts, spec, builder, booster),
    )
    return Trained(bundle, baseline, params, search, spec.model.uncertainty)


def booster_params(spec: PipelineSpec) -> dict[str, Any]:
    """The ``CalibratedBooster`` parameters of the pipeline (before any search)."""
    params: dict[str, Any] = {k: _as_int_if_whole(v) for k, v in spec.model.lightgbm.items()}
    params["calibrate_by_landmark"] = spec.model.calibration in ("by_landmark", "per_landmark")
    params["landmark_form"] = (
        "per_landmark" if spec.model.calibration == "per_landmark" else "linear"
    )
    return params


def _groups(dataset: Dataset) -> np.ndarray:
    """Each row's patient (bootstrap and search resample patients, not rows)."""
    return dataset.frame[dataset.id_column].astype(str).to_numpy()


def calibrate(dataset: Dataset, parts: Split, trained: Trained) -> Trained:
    """A new ``Trained`` whose booster's log-odds are calibrated (logistic) on the calibration
    rows, never trained on; an affine map, so the served model's SHAP values stay exact.

    ``trained`` is left as it was; the new booster shares its fitted trees (never changed)."""
    rows = dataset.frame.iloc[parts.calibration]
    X = trained.bundle.features.transform(rows)
    y = dataset.y[parts.calibration]
    booster = copy.copy(trained.bundle.model).calibrate(X, y)
    bundle = replace(trained.bundle, model=booster)
    if trained.bundle.ensemble is not None:
        members = calibrate_members(
            list(trained.bundle.ensemble.members), X, y, _groups(dataset)[parts.calibration],
            trained.uncertainty,
        )  # fmt: skip
        ensemble = replace(trained.bundle.ensemble, members=members)
        bundle = replace(bundle, ensemble=ensemble)
        truth = dataset.oracle[parts.calibration] if dataset.oracle is not None else None
        if truth is not None and np.isfinite(truth).any():
            known = np.flatnonzero(np.isfinite(truth))
            known_rows = rows.iloc[known]
            served, spread = bundle.served_and_members(known_rows)
            weeks = bundle.answering_weeks(known_rows)
            widened = fit_widenings(ensemble, served, spread, truth[known], weeks)
            bundle = replace(bundle, ensemble=widened)
    return replace(trained, bundle=bundle)


def derived_features(spec: PipelineSpec) -> dict[str, str]:
    """The pipeline's derived features; with landmarks, also the history x baseline ones."""
    extra = spec.landmarks.derived if spec.landmarks is not None else {}
    return dict(spec.features.derived) | dict(extra)


def _landmark_metadata(spec: PipelineSpec) -> dict[str, Any]:
    if spec.landmarks is None:
        return {}
    return {
        "landmark_weeks": sorted(set(spec.landmarks.weeks)),
        "landmark_design": spec.landmarks.design,
    }


def _history_labels(spec: PipelineSpec) -> dict[str, str]:
    return dict(HISTORY_LABELS) if spec.landmarks is not None else {}


def _as_int_if_whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _search(
    X: pd.DataFrame,
    y: np.ndarray,
    fixed: dict[str, Any],
    spec: PipelineSpec,
    groups: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Seeded random search by stratified K-fold AUROC on the training rows only (grouped by
    patient when ``groups`` is given)."""
    space = {k: _range(k, lo, hi) for k, (lo, hi) in spec.model.search.space.items()}
    sampler = ParameterSampler(space, n_iter=spec.model.search.trials, random_state=spec.split.seed)
    k, seed = spec.model.search.folds, spec.split.seed
    folds = (
        StratifiedKFold(k, shuffle=True, random_state=seed)
        if groups is None
        else StratifiedGroupKFold(k, shuffle=True, random_state=seed)
    )
    rows = []
    for trial, candidate in enumerate(sampler):
        params = {
            **fixed,
            **{
                k: _as_int_if_whole(round(v, 6)) if k != "learning_rate" else v
                for k, v in candidate.items()
            },
        }
        scores = []
        for fit_rows, val_rows in folds.split(X, y, groups):
            model = CalibratedBooster(**params).fit(X.iloc[fit_rows], y[fit_rows])
            scores.append(metrics.auroc(y[val_rows], model.predict_proba(X.iloc[val_rows])[:, 1]))
        rows.append({"trial": trial, **params, "cv_auroc": float(np.mean(scores))})
    table = pd.DataFrame(rows).sort_values("cv_auroc", ascending=False)
    best = table.iloc[0].drop(["trial", "cv_auroc"]).to_dict()
    return {str(k): _as_int_if_whole(v) for k, v in best.items()}, table


def _range(name: str, low: float, high: float) -> object:
    from scipy.stats import loguniform, randint, uniform

    if name in ("n_estimators", "num_leaves", "min_child_samples"):
        return randint(int(low), int(high) + 1)
    if name == "learning_rate":
        return loguniform(low, high)
    return uniform(low, high - low)
