"""Pipeline steps as plain typed functions: ingest, split, train, evaluate.

The runner wires them and logs them; nothing here knows about MLflow, so each step can be
tested on its own (Kedro's separation of node code from wiring).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterSampler, StratifiedKFold, train_test_split

from hepatorisk.cohorts.catalog import column_labels, id_column, modelling_frame
from hepatorisk.cohorts.manifest import CohortManifest
from hepatorisk.exceptions import ConfigError, DataContractError
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster, SplineLogistic
from hepatorisk.modeling.features import FeatureBuilder, expression_sources
from hepatorisk.training.spec import PipelineSpec

__all__ = [
    "Dataset",
    "Evaluation",
    "Split",
    "Trained",
    "calibrate",
    "evaluate",
    "ingest",
    "internal_external",
    "split",
    "train",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """One row per patient: the record, the outcome and (synthetic cohorts) the true risk."""

    manifest: CohortManifest
    frame: pd.DataFrame
    id_column: str
    y: np.ndarray
    oracle: np.ndarray | None
    source: Path
    digest: str
    outcome_columns: frozenset[str]


def ingest(spec: PipelineSpec, root: Path) -> Dataset:
    """Load the cohort named by the pipeline (making it first if its folder is absent)."""
    folder = (root / spec.cohort.path).resolve()
    if not (folder / "cohort.json").is_file():
        _make_cohort(spec, folder)
    manifest, frame, outcome_columns = modelling_frame(folder)
    if manifest.kind != spec.cohort.kind:
        raise ConfigError(
            f"{folder} holds a {manifest.kind} cohort, the pipeline expects {spec.cohort.kind}"
        )
    if spec.outcome not in frame.columns:
        raise ConfigError(
            f"outcome {spec.outcome!r} is not in {folder}; it has {', '.join(manifest.outcomes)}"
        )
    known = frame[spec.outcome].notna().to_numpy()
    if not known.all():
        log.info("dropping %d patients with unknown %s", int((~known).sum()), spec.outcome)
        frame = frame[known].reset_index(drop=True)
    oracle = None
    if spec.oracle is not None:
        oracle = frame[spec.oracle].to_numpy(dtype=float)
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values).hexdigest()
    return Dataset(
        manifest,
        frame,
        id_column(manifest),
        frame[spec.outcome].to_numpy(dtype=int),
        oracle,
        folder,
        digest[:16],
        frozenset(outcome_columns),
    )


def _make_cohort(spec: PipelineSpec, folder: Path) -> None:
    if spec.cohort.kind == "synthetic" and spec.cohort.generate:
        from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config

        gen = spec.cohort.generate
        log.info("generating the synthetic cohort into %s", folder)
        generate_cohort(gen["patients"], seed=gen["seed"], config=load_generator_config()).write(
            folder
        )
    elif spec.cohort.kind != "synthetic" and spec.cohort.build_if_missing:
        from hepatorisk.cohorts.public import build_public_cohort

        log.info("building the %s cohort into %s", spec.cohort.kind, folder)
        build_public_cohort(spec.cohort.kind, folder)
    else:
        raise DataContractError(f"{folder}: no cohort there, and the pipeline may not make one")


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray


def split(dataset: Dataset, spec: PipelineSpec) -> Split:
    """Patient-level stratified split: test rows are set aside before anything is fitted."""
    rows = np.arange(len(dataset.y))
    s = spec.split
    rest, test = train_test_split(
        rows, test_size=s.test_size, stratify=dataset.y, random_state=s.seed
    )
    train_rows, calibration = train_test_split(
        rest,
        test_size=s.calibration_size / (1 - s.test_size),
        stratify=dataset.y[rest],
        random_state=s.seed + 1,
    )
    return Split(np.sort(train_rows), np.sort(calibration), np.sort(test))


@dataclass
class Trained:
    bundle: ModelBundle
    baseline: SplineLogistic
    booster_params: dict
    search: pd.DataFrame = field(default_factory=pd.DataFrame)


def feature_columns(dataset: Dataset, spec: PipelineSpec) -> list[str]:
    sets = dataset.manifest.feature_sets
    if spec.features.feature_set not in sets:
        raise ConfigError(
            f"features.feature_set {spec.features.feature_set!r} is not one of {', '.join(sets)}"
        )
    columns = [c for c in sets[spec.features.feature_set] if c not in spec.features.exclude]
    _refuse_outcome_columns(dataset, spec, columns)
    return columns


def _refuse_outcome_columns(dataset: Dataset, spec: PipelineSpec, columns: list[str]) -> None:
    """No model input may read the outcomes table: it holds what happened after entry."""
    outcome_columns = dataset.outcome_columns
    reads = {c: [c] for c in columns}
    reads |= {name: expression_sources(e) for name, e in spec.features.derived.items()}
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
    """Fit features on training rows, tune (optionally, by CV on training rows only), train the
    booster, calibrate it on the calibration rows, and fit the logistic baseline."""
    exclude = set(spec.features.exclude)
    derived = {k: v for k, v in spec.features.derived.items() if k not in exclude}
    builder = FeatureBuilder(columns=tuple(feature_columns(dataset, spec)), derived=derived)
    records = dataset.frame
    builder.fit(records.iloc[parts.train])
    X = builder.transform(records)
    y = dataset.y
    params = {k: _as_int_if_whole(v) for k, v in spec.model.lightgbm.items()}
    search = pd.DataFrame()
    if spec.model.search.trials > 0:
        params, search = _search(X.iloc[parts.train], y[parts.train], params, spec)
    booster = CalibratedBooster(**params).fit(X.iloc[parts.train], y[parts.train])
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
        },
        labels=column_labels(dataset.manifest) | dict(spec.labels),
        groups={k: list(v) for k, v in spec.groups.items()},
    )
    return Trained(bundle, baseline, params, search)


def calibrate(dataset: Dataset, parts: Split, trained: Trained) -> tuple[float, float]:
    """Logistic calibration of the booster's log-odds on the calibration rows (never trained on);
    an affine map, so the served model's SHAP values stay exact."""
    X = trained.bundle.features.transform(dataset.frame.iloc[parts.calibration])
    trained.bundle.model.calibrate(X, dataset.y[parts.calibration])
    return trained.bundle.model.calibration_


def _as_int_if_whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _search(
    X: pd.DataFrame, y: np.ndarray, fixed: dict, spec: PipelineSpec
) -> tuple[dict, pd.DataFrame]:
    """Seeded random search by stratified K-fold AUROC on the training rows only."""
    space = {k: _range(k, lo, hi) for k, (lo, hi) in spec.model.search.space.items()}
    sampler = ParameterSampler(space, n_iter=spec.model.search.trials, random_state=spec.split.seed)
    folds = StratifiedKFold(spec.model.search.folds, shuffle=True, random_state=spec.split.seed)
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
        for fit_rows, val_rows in folds.split(X, y):
            model = CalibratedBooster(**params).fit(X.iloc[fit_rows], y[fit_rows])
            scores.append(metrics.auroc(y[val_rows], model.predict_proba(X.iloc[val_rows])[:, 1]))
        rows.append({"trial": trial, **params, "cv_auroc": float(np.mean(scores))})
    table = pd.DataFrame(rows).sort_values("cv_auroc", ascending=False)
    best = table.iloc[0].drop(["trial", "cv_auroc"]).to_dict()
    return {k: _as_int_if_whole(v) for k, v in best.items()}, table


def _range(name: str, low: float, high: float) -> object:
    from scipy.stats import loguniform, randint, uniform

    if name in ("n_estimators", "num_leaves", "min_child_samples"):
        return randint(int(low), int(high) + 1)
    if name == "learning_rate":
        return loguniform(low, high)
    return uniform(low, high - low)


@dataclass
class Evaluation:
    """Everything the run logs and the report reads, computed on held-out rows only."""

    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    predictions: pd.DataFrame
    decision_curve: pd.DataFrame
    calibration_curve: pd.DataFrame
    subgroups: pd.DataFrame
    internal_external: pd.DataFrame = field(default_factory=pd.DataFrame)


def evaluate(dataset: Dataset, parts: Split, trained: Trained, spec: PipelineSpec) -> Evaluation:
    ev = spec.evaluation
    test = dataset.frame.iloc[parts.test]
    y = dataset.y[parts.test]
    p = trained.bundle.predict_proba(test)
    X_test = trained.bundle.features.transform(test)
    p_base = trained.baseline.predict_proba(X_test)[:, 1]
    oracle = dataset.oracle[parts.test] if dataset.oracle is not None else None
    ci = metrics.bootstrap_metrics(y, p, n_boot=ev.bootstrap, seed=ev.seed, oracle=oracle)
    ci_base = metrics.bootstrap_metrics(y, p_base, n_boot=ev.bootstrap, seed=ev.seed)
    diff = metrics.paired_auroc_difference(y, p, p_base, n_boot=ev.bootstrap, seed=ev.seed)
    flat = _flatten("test_", ci)
    flat |= {
        "auroc_minus_baseline": diff.estimate,
        "auroc_minus_baseline_lo": diff.lo,
        "auroc_minus_baseline_hi": diff.hi,
        "test_n": float(len(y)),
        "test_events": float(y.sum()),
    }
    lo, hi, step = ev.thresholds
    thresholds = np.round(np.arange(lo, hi + step / 2, step), 6)
    curve = metrics.net_benefit(y, p, thresholds)
    curve["baseline"] = metrics.net_benefit(y, p_base, thresholds)["model"].to_numpy()
    predictions = pd.DataFrame(
        {
            dataset.id_column: test[dataset.id_column].to_numpy(),
            "y": y,
            "p_model": p,
            "p_baseline": p_base,
        }
    )
    if oracle is not None:
        predictions["p_oracle"] = oracle
    subgroup_frame = predictions.copy()
    for column in ev.subgroups:
        subgroup_frame[column] = _subgroup_column(test, column)
    subgroups = metrics.subgroup_metrics(
        subgroup_frame,
        "y",
        "p_model",
        ev.subgroups,
        n_boot=min(ev.bootstrap, 500),
        seed=ev.seed,
        min_n=ev.subgroup_min_n,
    )
    return Evaluation(
        metrics=flat,
        baseline_metrics=_flatten("baseline_test_", ci_base),
        predictions=predictions,
        decision_curve=curve,
        calibration_curve=metrics.calibration_curve(y, p),
        subgroups=subgroups,
    )


def _subgroup_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column == "age_band":
        return metrics.age_band(frame["age"]).reset_index(drop=True)
    if column not in frame.columns:
        raise ConfigError(f"evaluation.subgroups: {column!r} is not a column of the cohort")
    return frame[column].astype("string").fillna("missing").reset_index(drop=True)


def _flatten(prefix: str, intervals: dict[str, metrics.Interval]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, interval in intervals.items():
        key = name if name.startswith(("oracle_", "auroc_vs_oracle")) else f"{prefix}{name}"
        out[key] = interval.estimate
        out[f"{key}_lo"] = interval.lo
        out[f"{key}_hi"] = interval.hi
    return out


def internal_external(dataset: Dataset, spec: PipelineSpec) -> pd.DataFrame:
    """Leave one group out (a trial, a site): train and calibrate on the others, test on it."""
    column = spec.internal_external
    if column is None:
        return pd.DataFrame()
    groups = dataset.frame[column].astype("string")
    rows = []
    for level in sorted(groups.dropna().unique()):
        held = np.flatnonzero((groups == level).to_numpy())
        others = np.flatnonzero((groups != level).fillna(True).to_numpy())
        fit_rows, calibration = train_test_split(
            others,
            test_size=spec.split.calibration_size,
            stratify=dataset.y[others],
            random_state=spec.split.seed,
        )
        parts = Split(np.sort(fit_rows), np.sort(calibration), held)
        trained = train(dataset, parts, spec)
        calibrate(dataset, parts, trained)
        y = dataset.y[held]
        p = trained.bundle.predict_proba(dataset.frame.iloc[held])
        X = trained.bundle.features.transform(dataset.frame.iloc[held])
        p_base = trained.baseline.predict_proba(X)[:, 1]
        ci = metrics.bootstrap_metrics(
            y, p, n_boot=min(spec.evaluation.bootstrap, 500), seed=spec.evaluation.seed
        )
        base_auroc = metrics.auroc(y, p_base)
        rows.append(
            {
                "held_out": f"{column}={level}",
                "n": len(held),
                "events": int(y.sum()),
                "auroc": ci["auroc"].estimate,
                "auroc_lo": ci["auroc"].lo,
                "auroc_hi": ci["auroc"].hi,
                "cal_slope": ci["cal_slope"].estimate,
                "cal_intercept": ci["cal_intercept"].estimate,
                "baseline_auroc": base_auroc,
            }
        )
    return pd.DataFrame(rows)
