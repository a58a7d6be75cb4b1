"""Exact path-dependent TreeSHAP of a LightGBM booster, vectorised over rows, leaves and nodes.

LightGBM's ``pred_contrib`` (what ``shap.TreeExplainer`` runs for LightGBM) walks every tree
once per row in C++, at about 35 microseconds a row for the tests' boosters; an assessment
explains every completion of a patient's unknown inputs (up to 64 rows), so it was the largest
cost of a batch (issue 20). The same values in a few array operations for a block of rows, about
three times faster from 64 rows on (``bench/stages.py`` shows the stage):

For one leaf with value ``v`` whose path splits on the distinct features ``P`` (``d`` of them),
path-dependent TreeSHAP is the Shapley value of the game ``f(S) = v * prod_{k in S} o_k *
prod_{k in P \\ S} z_k``, where ``o_k`` is 1 when the row takes the leaf's direction at every
split on feature ``k`` along the path and ``z_k`` is the share of training rows that did (the
product of the child/parent counts at those splits; Lundberg et al. 2020, Algorithm 2, with
repeated features merged as its ``unwind`` does). So

    phi_j += v * (o_j - z_j) * sum_s  s! (d - s - 1)! / d!  *  e_s,

with ``e_s`` the coefficient of ``t^s`` in ``prod_{k in P, k != j} (z_k + o_k t)``, and the base
value is ``sum_leaves v * count_leaf / count_root``. As ``o`` is 0 or 1, each leaf's values are
tabulated once for the ``2**d`` patterns of ``o``, and a row's contributions are looked up by its
pattern. A tree's split decisions are LightGBM's own (``tree.h``: ``NumericalDecision`` with its
missing types, ``CategoricalDecision``). The result equals ``pred_contrib`` to rounding (tests
compare them on rows with missing values, zeros, values on the thresholds and unseen
categories). Trees whose paths split on more than ``MAX_PATH_FEATURES`` features are refused
(the caller then uses ``pred_contrib``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["CompiledTrees", "compile_booster"]

#: LightGBM's ``kZeroThreshold``: |x| at most this is zero for a split with missing type Zero
ZERO_THRESHOLD = 1e-35
#: rows explained at a time
BLOCK_ROWS = 256
#: paths splitting on more distinct features are refused (a table of 2**d patterns per leaf;
#: the served boosters have at most 8 leaves a tree, so at most 7)
MAX_PATH_FEATURES = 8


@dataclass(frozen=True)
class _Depth:
    """The leaves whose paths split on ``d`` distinct features, as arrays."""

    steps: np.ndarray  # (steps,) the paths' splits (node indices), grouped by slot
    right: np.ndarray  # (steps,) True where the leaf lies right of the split
    starts: np.ndarray  # (leaves * d,) first step of each slot (leaf * d + feature position)
    repeats: list[tuple[np.ndarray, np.ndarray]]  # (further steps, their slots) per repeat
    offsets: np.ndarray  # (leaves, d, 1) int32: each slot's first entry in ``table``
    table: np.ndarray  # (leaves, d, 2**d) each path feature's contribution by pattern
    order: np.ndarray  # (leaves * d,) slots sorted by feature
    feature_starts: np.ndarray  # first sorted slot of each feature in ``features``
    features: np.ndarray  # the distinct features this group's paths split on


@dataclass(frozen=True)
class CompiledTrees:
    """A booster's splits and leaves as arrays (built once per booster)."""

    n_features: int
    base: float  # sum of the trees' expected values (the bias column of ``pred_contrib``)
    node_feature: np.ndarray  # (nodes,)
    node_threshold: np.ndarray  # (nodes,) numerical splits (NaN for categorical)
    node_missing: np.ndarray  # (nodes,) 0 None, 1 Zero, 2 NaN
    node_default_left: np.ndarray  # (nodes,)
    categorical_nodes: np.ndarray  # (categorical splits,) node indices
    categorical_left: np.ndarray  # (categorical splits, codes) True: the code goes left
    depths: list[_Depth]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(rows, features + 1): each feature's contribution, then the base value, on the
        booster's raw scale (as ``booster.predict(X, pred_contrib=True)``).

        Worked column-major (nodes, slots and features by rows) so that every reduction adds
        whole contiguous rows."""
        X = np.asarray(X, dtype=np.float64)
        if len(X) > BLOCK_ROWS:  # blocks of rows keep the working arrays in cache
            parts = [
                self.contributions(X[i : i + BLOCK_ROWS]) for i in range(0, len(X), BLOCK_ROWS)
            ]
            return np.concatenate(parts)
        XT = np.ascontiguousarray(X.T)
        n = XT.shape[1]
        out = np.zeros((self.n_features + 1, n))
        out[-1] = self.base
        if n == 0 or not self.depths:
            return out.T
        left = self.goes_left(XT)
        for g in self.depths:
            leaves, d, _ = g.table.shape
            # o: the row takes the leaf's way at every split on that feature along the path
            o = left[g.steps[g.starts]] != g.right[g.starts, None]
            for extra, slots in g.repeats:  # a feature split on again further down the path
                o[slots] &= left[g.steps[extra]] != g.right[extra, None]
            o = o.reshape(leaves, d, n)
            pattern = o[:, 0].astype(np.int32)
            for k in range(1, d):
                pattern += o[:, k].astype(np.int32) << k
            flat = g.offsets + pattern[:, None, :]
            phi = np.take(g.table, flat.reshape(leaves * d, n))
            out[g.features] += np.add.reduceat(phi[g.order], g.feature_starts, axis=0)
        return out.T

    def goes_left(self, XT: np.ndarray) -> np.ndarray:
        """(nodes, rows): whether each row (a column of ``XT``) goes left at each split, by
        LightGBM's rules."""
        x = XT[self.node_feature]
        nan = np.isnan(x)
        missing = self.node_missing[:, None]
        x = np.where(nan & (missing != 2), 0.0, x)
        default = ((missing == 1) & (np.abs(x) <= ZERO_THRESHOLD)) | ((missing == 2) & nan)
        with np.errstate(invalid="ignore"):
            left = np.where(
                default, self.node_default_left[:, None], x <= self.node_threshold[:, None]
            )
        if len(self.categorical_nodes):  # NaN and codes outside the left set go right
            value = XT[self.node_feature[self.categorical_nodes]]
            code = np.trunc(np.where(np.isnan(value), -1.0, value))
            inside = (code >= 0) & (code < self.categorical_left.shape[1])
            at = np.where(inside, code, 0).astype(np.int64)
            rows = np.arange(len(self.categorical_nodes))[:, None]
            left[self.categorical_nodes] = inside & self.categorical_left[rows, at]
        return left


def _table(value: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """(leaves, d, 2**d): each path feature's Shapley value of the leaf's game (module
    docstring) for every pattern of o (bit k: o_k)."""
    leaves, d = zero.shape
    bits = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(float)  # (P, d)
    o = np.broadcast_to(bits, (leaves, 2**d, d))
    z = zero[:, None, :]
    weight = [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)]
    table = np.empty((leaves, 2**d, d))
    for j in range(d):
        coef = [np.ones((leaves, 2**d))]  # prod_{k != j} (z_k + o_k t), lowest power first
        for k in range(d):
            if k == j:
                continue
            ok, zk = o[:, :, k], z[:, :, k]
            coef = [
                *([coef[0] * zk]),
                *(coef[s] * zk + coef[s - 1] * ok for s in range(1, len(coef))),
                coef[-1] * ok,
            ]
        total = sum(weight[s] * coef[s] for s in range(d))
        table[:, :, j] = value[:, None] * (o[:, :, j] - z[:, :, j]) * total
    return np.ascontiguousarray(table.transpose(0, 2, 1))


def compile_booster(booster: lgb.Booster) -> CompiledTrees:
    """The booster's trees as arrays (the trees ``predict`` uses: its best iteration if set)."""
    model = booster.dump_model()
    if model.get("num_tree_per_iteration", 1) != 1:
        raise ValueError("tree_shap explains single-output boosters only")
    n_features = int(model["max_feature_idx"]) + 1
    nodes: list[dict[str, Any]] = []
    leaves: list[tuple[float, list[tuple[int, bool, int]], float]] = []
    base = 0.0
    for info in model["tree_info"]:
        root = info["tree_structure"]
        if "leaf_value" in root:  # a tree of one leaf: a constant
            base += float(root["leaf_value"])
            continue
        total = float(root["internal_count"])
        stack: list[tuple[dict[str, Any], list[tuple[int, bool, int]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if "leaf_value" in node:
                value = float(node["leaf_value"])
                base += value * float(node["leaf_count"]) / total
                leaves.append((value, path, float(node["leaf_count"])))
                continue
            index = len(nodes)
            nodes.append(node)
            for child, right in ((node["left_child"], False), (node["right_child"], True)):
                stack.append((child, [*path, (index, right, _count(child))]))
    count = np.array([float(n["internal_count"]) for n in nodes] or [0.0])
    feature = np.array([int(n["split_feature"]) for n in nodes], dtype=np.int64)
    missing_code = {"None": 0, "Zero": 1, "NaN": 2}
    categorical: list[tuple[int, list[int]]] = []
    threshold = np.full(len(nodes), np.nan)
    for i, n in enumerate(nodes):
        if n["decision_type"] == "==":
            categorical.append((i, [int(c) for c in str(n["threshold"]).split("||")]))
        elif n["decision_type"] == "<=":
            threshold[i] = float(n["threshold"])
        else:
            raise ValueError(f"unsupported LightGBM split {n['decision_type']!r}")
    by_depth: dict[int, list[tuple[float, list[tuple[int, bool, int]], list[int]]]] = {}
    for value, path, _ in leaves:
        distinct = list(dict.fromkeys(int(feature[i]) for i, _, _ in path))
        by_depth.setdefault(len(distinct), []).append((value, path, distinct))
    depths = []
    for d, group in sorted(by_depth.items()):
        if d > MAX_PATH_FEATURES:
            raise ValueError(f"a path splits on {d} features (at most {MAX_PATH_FEATURES})")
        zero = np.ones((len(group), d))
        by_slot: list[list[tuple[int, bool]]] = [[] for _ in range(len(group) * d)]
        for li, (_, path, distinct) in enumerate(group):
            for at, is_right, child_count in path:
                k = distinct.index(int(feature[at]))
                zero[li, k] *= child_count / count[at]
                by_slot[li * d + k].append((at, is_right))
        sizes = np.array([len(steps) for steps in by_slot])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        slot_feature = np.array([f for g in group for f in g[2]], dtype=np.int64)
        order = np.argsort(slot_feature, kind="stable")
        features, feature_starts = np.unique(slot_feature[order], return_index=True)
        depths.append(
            _Depth(
                np.array([at for steps in by_slot for at, _ in steps], dtype=np.int64),
                np.array([right for steps in by_slot for _, right in steps], dtype=bool),
                starts,
                [
                    (starts[sizes > r] + r, np.flatnonzero(sizes > r))
                    for r in range(1, int(sizes.max()))
                ],
                (np.arange(len(group) * d, dtype=np.int32) * 2**d).reshape(len(group), d, 1),
                _table(np.array([v for v, _, _ in group]), zero),
                order,
                feature_starts.astype(np.int64),
                features,
            )
        )
    return CompiledTrees(
        n_features,
        base,
        feature,
        threshold,
        np.array([missing_code[n["missing_type"]] for n in nodes], dtype=np.int64),
        np.array([bool(n["default_left"]) for n in nodes], dtype=bool),
        np.array([i for i, _ in categorical], dtype=np.int64),
        _left_sets(categorical),
        depths,
    )


def _left_sets(categorical: list[tuple[int, list[int]]]) -> np.ndarray:
    """(categorical splits, codes): which category codes each categorical split sends left."""
    width = 1 + max((max(codes) for _, codes in categorical), default=0)
    table = np.zeros((len(categorical), width), dtype=bool)
    for k, (_, codes) in enumerate(categorical):
        table[k, codes] = True
    return table


def _count(node: dict[str, Any]) -> int:
    return int(node["leaf_count"] if "leaf_value" in node else node["internal_count"])
