"""A served model compiled for per-request speed, checked against the reference code path.

``ModelBundle.explain`` builds pandas frames and evaluates derived features with
``DataFrame.eval``: exact, but about 25 ms per call whatever the row count. ``CompiledModel``
reads the fitted ``FeatureBuilder``'s own state (kinds, category levels, derived expressions) and
builds the same matrix with numpy, then calls the same booster and calibration. It is only used
after it reproduces the reference path on probe rows (to 1e-9); otherwise the service falls back
to the reference path and says so in the log.
"""

from __future__ import annotations

import ast
import logging
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from hepatorisk.modeling.loading import LoadedModel

__all__ = ["CompiledModel", "Contributions"]

log = logging.getLogger(__name__)

Columns = Mapping[str, Any]  # column -> float ndarray (numeric) or sequence of str|None

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


@dataclass(frozen=True)
class Contributions:
    """Exact SHAP on the calibrated log-odds scale; ``base + inputs.sum(1) == log_odds``."""

    base: np.ndarray  # (n,)
    inputs: np.ndarray  # (n, k) per model input
    groups: np.ndarray  # (n, g) per clinical variable
    log_odds: np.ndarray
    probability: np.ndarray

    def probability_inputs(self) -> np.ndarray:
        """Each input's share of the move from base to predicted probability (sums exactly)."""
        return _to_probability(self, self.inputs)

    def probability_groups(self) -> np.ndarray:
        return _to_probability(self, self.groups)


class CompiledModel:
    """Feature matrix, probability and contributions of one served model, without pandas."""

    def __init__(self, loaded: LoadedModel, *, verify: bool = True) -> None:
        self.loaded = loaded
        bundle = loaded.bundle
        fb = bundle.features
        self.feature_names: list[str] = list(fb.feature_names_out_)
        self.levels = {
            c: {lvl: i for i, lvl in enumerate(fb.categories_[c])}
            for c in fb.columns
            if fb.kinds_[c] == "categorical"
        }
        self.derived = {n: ast.parse(e, mode="eval").body for n, e in (fb.derived or {}).items()}
        members = bundle.group_members()
        self.group_names = list(members)
        index = {n: i for i, n in enumerate(self.feature_names)}
        self.membership = np.zeros((len(self.feature_names), len(members)))
        for j, cols in enumerate(members.values()):
            for col in cols:
                self.membership[index[col], j] = 1.0
        self.intercept, self.slope = bundle.model.calibration_
        self.booster = bundle.model.booster_
        self.fast = True
        if verify:
            self.fast = self._matches_reference()

    def matrix(self, columns: Columns) -> np.ndarray:
        out = []
        for name in self.feature_names:
            if name in self.derived:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    values = np.asarray(_evaluate(self.derived[name], columns), dtype=float)
                out.append(np.where(np.isfinite(values), values, np.nan))
            elif name in self.levels:
                codes = self.levels[name]
                out.append(np.array([codes.get(v, np.nan) for v in columns[name]], dtype=float))
            else:
                out.append(np.asarray(columns[name], dtype=float))
        return np.column_stack(out)

    def probability(self, columns: Columns) -> np.ndarray:
        if not self.fast:
            return self.loaded.bundle.predict_proba(pd.DataFrame(dict(columns)))
        margin = self.booster.predict(self.matrix(columns), raw_score=True)
        return expit(self.intercept + self.slope * margin)

    def contributions(self, columns: Columns) -> Contributions:
        if self.fast:
            raw = self.booster.predict(self.matrix(columns), pred_contrib=True)
            inputs = self.slope * raw[:, :-1]
            base = self.intercept + self.slope * raw[:, -1]
        else:
            e = self.loaded.bundle.explain(pd.DataFrame(dict(columns)))
            inputs, base = e.contributions[self.feature_names].to_numpy(), e.base_value
        log_odds = base + inputs.sum(axis=1)
        return Contributions(base, inputs, inputs @ self.membership, log_odds, expit(log_odds))

    def _matches_reference(self) -> bool:
        probe = _probe_columns(self.loaded, rows=64)
        expected = self.loaded.bundle.explain(pd.DataFrame(probe))
        got = self.contributions(probe)
        ok = np.allclose(got.log_odds, expected.log_odds, rtol=0, atol=1e-9) and np.allclose(
            got.inputs, expected.contributions[self.feature_names].to_numpy(), rtol=0, atol=1e-9
        )
        if not ok:
            log.warning(
                "%s: compiled features differ from the reference; using the slow path",
                self.loaded.name,
            )
        return ok


def _evaluate(node: ast.AST, columns: Columns) -> Any:
    if isinstance(node, ast.Name):
        return np.asarray(columns[node.id], dtype=float)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left, columns), _evaluate(node.right, columns))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, columns)
    raise ValueError(f"derived feature uses unsupported syntax: {ast.dump(node)}")


def _probe_columns(loaded: LoadedModel, rows: int) -> dict[str, Any]:
    """Random rows over every input: each category level, missing values, zeros."""
    fb = loaded.bundle.features
    rng = np.random.default_rng(0)
    probe: dict[str, Any] = {}
    for col in fb.input_columns_:
        if fb.kinds_[col] == "categorical":
            levels = [*fb.categories_[col], None]
            probe[col] = [levels[i % len(levels)] for i in rng.permutation(rows)]
        else:
            values = rng.choice([0.0, 0.5, 1.0, 3.0, 20.0, 60.0, 150.0, np.nan], size=rows)
            probe[col] = values * rng.uniform(0.5, 1.5, size=rows)
    return probe


def _to_probability(c: Contributions, parts: np.ndarray) -> np.ndarray:
    total = c.log_odds - c.base
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[:, None] != 0, parts / total[:, None], 0.0)
    return (c.probability - expit(c.base))[:, None] * share
