"""Step ``evaluate``: held-out metrics with intervals, curves and subgroups, the dose what-if
against the true effect (synthetic cohorts), and the optional leave-one-group-out check (train,
calibrate and test once per group)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from hepatorisk.cohorts.synthetic.generate import load_cohort
from hepatorisk.exceptions import ConfigError
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.scores import BASELINE, MODEL, ORACLE
from hepatorisk.training.spec import PipelineSpec
from hepatorisk.training.steps.fitting import Trained, calibrate, train
from hepatorisk.training.steps.ingestion import Dataset
from hepatorisk.training.steps.splitting import Split
from hepatorisk.training.what_if_truth import what_if_metrics, what_if_truth

__all__ = [
    "Evaluation",
    "evaluate",
    "flatten_intervals",
    "internal_external",
    "per_landmark_design",
    "range_metrics",
    "subgroup_column",
]


@dataclass(frozen=True)
class Evaluation:
    """Everything the run logs and the report reads, computed on held-out rows only."""

    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    predictions: pd.DataFrame
    decision_curve: pd.DataFrame
    calibration_curve: pd.DataFrame
    subgroups: pd.DataFrame
    internal_external: pd.DataFrame = field(default_factory=pd.DataFrame)
    what_if: pd.DataFrame = field(default_factory=pd.DataFrame)  # synthetic: vs the truth


def evaluate(dataset: Dataset, parts: Split, trained: Trained, spec: PipelineSpec) -> Evaluation:
    ev = spec.evaluation
    test = dataset.frame.iloc[parts.test]
    y = dataset.y[parts.test]
    p = trained.bundle.predict_proba(test)
    X_test = trained.bundle.features.transform(test)
    p_base = trained.baseline.predict_proba(X_test)[:, 1]
    oracle = dataset.oracle[parts.test] if dataset.oracle is not None else None
    pooled_oracle = oracle if oracle is not None and np.isfinite(oracle).all() else None
    ci = metrics.bootstrap_metrics(y, p, n_boot=ev.bootstrap, seed=ev.seed, oracle=pooled_oracle)
    if pooled_oracle is None:
        ci |= _oracle_where_known(y, p, oracle, ev.bootstrap, ev.seed)
    ci_base = metrics.bootstrap_metrics(y, p_base, n_boot=ev.bootstrap, seed=ev.seed)
    diff = metrics.paired_auroc_difference(y, p, p_base, n_boot=ev.bootstrap, seed=ev.seed)
    flat = flatten_intervals("test_", ci)
    flat |= {
        "auroc_minus_baseline": diff.estimate,
        "auroc_minus_baseline_lo": diff.lo,
        "auroc_minus_baseline_hi": diff.hi,
        "test_n": float(len(y)),
        "test_events": float(y.sum()),
    }
    if oracle is not None:  # share of test rows whose true risk is known (1: every row)
        flat["oracle_known_share"] = float(np.isfinite(oracle).mean())
    landmark = dataset.landmark[parts.test] if dataset.landmark is not None else None
    if landmark is not None:
        flat |= metrics.landmark_metrics(
            y, p, landmark, oracle=oracle, n_boot=ev.bootstrap, seed=ev.seed
        )
        if spec.landmarks is not None and spec.landmarks.compare_designs:
            flat |= per_landmark_design(dataset, parts, trained, spec)
    if trained.bundle.ensemble is not None:
        flat |= range_metrics(trained.bundle, test, oracle, landmark)
    lo, hi, step = ev.thresholds
    thresholds = np.round(np.arange(lo, hi + step / 2, step), 6)
    curve = metrics.net_benefit(y, p, thresholds)
    curve["baseline"] = metrics.net_benefit(y, p_base, thresholds)["model"].to_numpy()
    predictions = pd.DataFrame(
        {
            dataset.id_column: test[dataset.id_column].to_numpy(),
            "y": y,
            MODEL.column: p,
            BASELINE.column: p_base,
        }
    )
    if pooled_oracle is not None:
        predictions[ORACLE.column] = pooled_oracle
    elif oracle is not None:  # known at some landmarks only (week 0 without the landmark oracle)
        predictions[f"{ORACLE.column}_where_known"] = oracle
    if landmark is not None:
        predictions["landmark_week"] = landmark
    subgroup_frame = predictions.copy()
    for column in ev.subgroups:
        subgroup_frame[column] = subgroup_column(test, column)
    subgroups = metrics.subgroup_metrics(
        subgroup_frame,
        "y",
        MODEL.column,
        ev.subgroups,
        n_boot=min(ev.bootstrap, 500),
        seed=ev.seed,
        min_n=ev.subgroup_min_n,
    )
    what_if = pd.DataFrame()
    if spec.cohort.kind == "synthetic" and spec.oracle is not None:
        config = load_cohort(dataset.source).config
        entry = np.ones(len(y), dtype=bool) if landmark is None else landmark == 0
        # the true effect is known for a dose set from entry on: the week-0 rows
        what_if = what_if_truth(
            trained.bundle, test[entry].reset_index(drop=True), y[entry], config, spec.oracle
        )
        flat |= what_if_metrics(what_if)
    return Evaluation(
        metrics=flat,
        baseline_metrics=flatten_intervals("baseline_test_", ci_base),
        predictions=predictions,
        decision_curve=curve,
        calibration_curve=metrics.calibration_curve(y, p),
        subgroups=subgroups,
        what_if=what_if,
    )


def range_metrics(
    bundle: ModelBundle,
    test: pd.DataFrame,
    oracle: np.ndarray | None,
    landmark: np.ndarray | None,
) -> dict[str, float]:
    """The uncertainty range on the test rows: its median width (percentage points) and, where
    the true probability is known, the share of rows whose range covers it (``test_range_*``,
    and per landmark ``_w<L>``), against the nominal ``range_level``."""
    ensemble = bundle.ensemble
    assert ensemble is not None
    bounds = bundle.predict_interval(test)
    assert bounds is not None
    width = (bounds[:, 1] - bounds[:, 0]) * 100
    out = {
        "range_level": ensemble.level,
        "range_widening": ensemble.widening,
        "test_range_width_median": float(np.median(width)),
    }
    if oracle is None:
        return out
    known = np.isfinite(oracle)
    covered = (bounds[:, 0] <= oracle) & (oracle <= bounds[:, 1])
    if known.any():
        out["test_range_coverage"] = float(covered[known].mean())
    if landmark is not None:
        for week in np.unique(landmark):
            rows = known & (landmark == week)
            if rows.any():
                out[f"test_range_coverage_w{int(week)}"] = float(covered[rows].mean())
    return out


def _oracle_where_known(
    y: np.ndarray, p: np.ndarray, oracle: np.ndarray | None, n_boot: int, seed: int
) -> dict[str, metrics.Interval]:
    """The oracle metrics (``oracle_auroc``, ``auroc_vs_oracle``...) on the test rows whose
    truth is known, when it is not known on all (landmark rows without the landmark oracle:
    week 0 only); ``oracle_known_share`` says how many rows that is."""
    if oracle is None:
        return {}
    rows = np.isfinite(oracle)
    if rows.sum() == 0 or y[rows].min() == y[rows].max():
        return {}
    ci = metrics.bootstrap_metrics(y[rows], p[rows], n_boot=n_boot, seed=seed, oracle=oracle[rows])
    return {k: v for k, v in ci.items() if k.startswith(("oracle_", "auroc_vs_oracle"))}


def per_landmark_design(
    dataset: Dataset, parts: Split, trained: Trained, spec: PipelineSpec
) -> dict[str, float]:
    """The other design, on the same rows: one booster per landmark week (same features and
    settings as the super-model), trained on that week's training rows, calibrated on its
    calibration rows, scored on its test rows. Keys ``perlm_test_<metric>_w<L>`` and the pooled
    ``perlm_test_auroc`` / ``perlm_test_cal_slope`` over every test row."""
    assert dataset.landmark is not None
    ev = spec.evaluation
    X = trained.bundle.features.transform(dataset.frame)
    y, lm = dataset.y, dataset.landmark
    p = np.full(len(y), np.nan)
    for week in np.unique(lm):
        fit = parts.train[lm[parts.train] == week]
        cal = parts.calibration[lm[parts.calibration] == week]
        test = parts.test[lm[parts.test] == week]
        if min(y[fit].sum(), y[cal].sum()) < 1 or len(test) == 0:
            continue
        model = CalibratedBooster(**trained.booster_params).fit(X.iloc[fit], y[fit])
        model = model.calibrate(X.iloc[cal], y[cal])
        p[test] = model.predict_proba(X.iloc[test])[:, 1]
    rows = parts.test[np.isfinite(p[parts.test])]
    oracle = dataset.oracle[rows] if dataset.oracle is not None else None
    out = metrics.landmark_metrics(
        y[rows], p[rows], lm[rows], oracle=oracle, n_boot=ev.bootstrap, seed=ev.seed,
        prefix="perlm_test_",
    )  # fmt: skip
    out = {
        (k if k.startswith("perlm_") else f"perlm_{k}"): v
        for k, v in out.items()
        if not k.startswith("oracle_")
    }
    slope, _ = metrics.calibration_slope_intercept(y[rows], p[rows])
    out["perlm_test_auroc"] = metrics.auroc(y[rows], p[rows])
    out["perlm_test_cal_slope"] = slope
    return out


def subgroup_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column == "age_band":
        return metrics.age_band(frame["age"]).reset_index(drop=True)
    if column not in frame.columns:
        raise ConfigError(f"evaluation.subgroups: {column!r} is not a column of the cohort")
    return frame[column].astype("string").fillna("missing").reset_index(drop=True)


def flatten_intervals(prefix: str, intervals: dict[str, metrics.Interval]) -> dict[str, float]:
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
        trained = calibrate(dataset, parts, train(dataset, parts, spec))
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
