"""The vectorised TreeSHAP (issue 20) against LightGBM's own ``pred_contrib``: the same values on
the served models and on boosters built to exercise every split rule."""

from __future__ import annotations

import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.history import at_entry
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.tree_shap import MAX_PATH_FEATURES, compile_booster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_support import SAMPLE, build_bundle


def _same(booster: lgb.Booster, X: np.ndarray) -> None:
    expected = booster.predict(X, pred_contrib=True)
    got = compile_booster(booster).contributions(X)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("target", ["liver_event_12w", "relapse_12w"])
def test_the_served_models_contributions_equal_lightgbms(target: str) -> None:
    """The tests' models (7 leaves a tree, categorical splits) on the sample's records with
    their missing values, and on the same records with a fifth of the inputs blanked."""
    bundle = build_bundle(target, "m")
    patients = load_cohort(SAMPLE).patients.drop(columns="patient_id").reset_index(drop=True)
    records = patients.join(pd.DataFrame(at_entry(len(patients)), index=patients.index))
    X = bundle.features.matrix(records.iloc[:600])
    holes = X.copy()
    holes[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    booster = bundle.model.booster_
    assert any(n["decision_type"] == "==" for n in _nodes(booster)), "no categorical split"
    _same(booster, np.vstack([X, holes]))


def test_every_split_rule_and_edge_value() -> None:
    """Missing types None, Zero and NaN with both default directions, categorical splits with
    missing, negative and unseen codes, values exactly on the thresholds, one-leaf trees."""
    rng = np.random.default_rng(1)
    n = 4000
    X = rng.normal(size=(n, 6))
    X[:, 4] = rng.integers(0, 6, size=n)  # a category
    X[rng.random(n) < 0.15, 1] = np.nan  # learned missing branch (missing type NaN)
    X[rng.random(n) < 0.3, 2] = 0.0  # zeros as missing (missing type Zero)
    y = (X[:, 0] + np.nan_to_num(X[:, 1], nan=1.5) + (X[:, 4] % 2) > 0.5).astype(float)
    y += rng.normal(scale=0.5, size=n) * (X[:, 2] == 0)
    for params in ({"zero_as_missing": False}, {"zero_as_missing": True}):
        booster = lgb.train(
            {"objective": "regression", "num_leaves": 8, "verbose": -1, "min_data_in_leaf": 5,
             "cat_smooth": 1, "min_data_per_group": 5, **params},
            lgb.Dataset(X, y, categorical_feature=[4]),
            num_boost_round=30,
        )  # fmt: skip
        nodes = _nodes(booster)
        kinds = {(nd["decision_type"], nd["missing_type"]) for nd in nodes}
        assert ("==", "None") in kinds or ("==", "NaN") in kinds
        assert any(m in {"Zero", "NaN"} for _, m in kinds), kinds
        edge = np.repeat(X[:1], len(nodes), axis=0)
        for i, nd in enumerate(nodes):  # each row sits exactly on one split's threshold
            if nd["decision_type"] == "<=":
                edge[i, nd["split_feature"]] = nd["threshold"]
        odd = X[:40].copy()
        odd[:10, 4] = [np.nan, -1, -0.5, 6, 9, 2.7, 1e9, -1e9, 0, 5]  # missing, unseen, negative
        odd[10:20, 1] = np.nan
        odd[20:30, 2] = [0.0, -0.0, 1e-36, -1e-36, 1e-30, np.nan, 0.0, 0.0, 0.0, 0.0]
        _same(booster, np.vstack([X[:500], edge, odd]))
    constant = lgb.train(
        {"objective": "regression", "verbose": -1, "min_data_in_leaf": n},
        lgb.Dataset(X, y),
        num_boost_round=3,
    )  # no split possible: every tree is one leaf
    _same(constant, X[:50])


def test_deeper_trees_fall_back_to_lightgbm() -> None:
    """A booster whose paths split on more than MAX_PATH_FEATURES features is refused by the
    compiler, and the estimator then explains with LightGBM's own ``pred_contrib``."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 12))
    y = (np.sin(X).sum(axis=1) > 0).astype(int)
    model = CalibratedBooster(n_estimators=5, num_leaves=64, min_child_samples=5, random_state=7)
    model.fit(pd.DataFrame(X, columns=[f"x{i}" for i in range(12)]), y)
    with pytest.raises(ValueError, match=f"at most {MAX_PATH_FEATURES}"):
        compile_booster(model.booster_)
    contributions, base = model.contributions(X[:20])
    raw = model.booster_.predict(X[:20], pred_contrib=True)
    a, b = model.calibration_
    np.testing.assert_allclose(contributions, b * raw[:, :-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(base, a + b * raw[:, -1], rtol=0, atol=1e-12)


def _nodes(booster: lgb.Booster) -> list[dict]:  # type: ignore[type-arg]
    out, stack = [], [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" in node:
            out.append(node)
            stack += [node["left_child"], node["right_child"]]
    return out
