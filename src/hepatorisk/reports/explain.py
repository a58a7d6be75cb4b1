"""SHAP section: exact contributions of the served (calibrated) model, grouped by clinical variable.

Values come from ``ModelBundle.explain`` (LightGBM's own exact TreeSHAP on the calibrated
log-odds, summing to each prediction), never from shap's tree parser, which mishandles
LightGBM categorical splits. Everything is on the log-odds scale unless labelled otherwise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit

if TYPE_CHECKING:
    from hepatorisk.modeling.bundle import Explanation, ModelBundle

__all__ = ["EXAMPLE_PERCENTILES", "SCALE", "axis_label", "shap_section"]

SCALE = "log-odds of the calibrated model (SHAP values add up to the predicted log-odds)"
EXAMPLE_PERCENTILES = {"low": 5.0, "middle": 50.0, "high": 95.0}
TOP_GLOBAL, TOP_BEESWARM, TOP_DEPENDENCE, TOP_WATERFALL = 15, 12, 6, 8
_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)$")


def axis_label(bundle: ModelBundle, column: str, values: pd.Series) -> str:
    """The input's plain name with its unit (a plot axis needs one)."""
    label = bundle.label(column)
    if _UNIT.match(label):
        return label
    if ", " in label and "/" in label.rsplit(", ", 1)[1]:
        words, unit = label.rsplit(", ", 1)
        return f"{words} ({unit})"
    if column.endswith("_xuln"):
        return f"{label} (x ULN)"
    if isinstance(values.dtype, pd.CategoricalDtype):
        return f"{label} (category)"
    if set(pd.unique(values.dropna())) <= {0.0, 1.0}:
        return f"{label} (0 = no, 1 = yes)"
    return f"{label} (as recorded)"


def _representatives(bundle: ModelBundle, explanation: Explanation) -> dict[str, str]:
    """For each clinical variable, the model input carrying most of its attribution."""
    strength = explanation.contributions.abs().mean()
    return {
        group: max(members, key=lambda m: float(strength[m]))
        for group, members in bundle.group_members().items()
    }


def _value_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "not recorded"
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def _colour_value(values: pd.Series) -> list[float | None] | None:
    """Feature value as a within-sample percentile in [0, 1] (None: categorical or missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return None
    ranks = values.rank(pct=True)
    return [None if np.isnan(v) else round(float(v), 3) for v in ranks.to_numpy(dtype=float)]


def shap_section(
    bundle: ModelBundle, test: pd.DataFrame, *, sample: int, seed: int, p_model: np.ndarray
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = len(test)
    rows = np.sort(rng.choice(n, size=min(n, sample), replace=False))
    examples = {
        name: int(np.argsort(np.abs(p_model - np.percentile(p_model, q)), kind="stable")[0])
        for name, q in EXAMPLE_PERCENTILES.items()
    }
    wanted = np.concatenate([rows, list(examples.values())])
    records = test.iloc[wanted].reset_index(drop=True)
    explanation = bundle.explain(records)
    X = bundle.features.transform(records)
    in_sample = np.arange(len(rows))
    grouped = explanation.grouped.iloc[in_sample]
    prob_grouped = _grouped_probability(bundle, explanation).iloc[in_sample]
    reps = _representatives(bundle, explanation)
    order = grouped.abs().mean().sort_values(ascending=False)
    top = list(order.index)
    global_rows = [
        {
            "variable": g,
            "label": bundle.label(g),
            "inputs": bundle.group_members()[g],
            "mean_abs_log_odds": float(order[g]),
            "mean_abs_probability": float(prob_grouped[g].abs().mean()),
        }
        for g in top[:TOP_GLOBAL]
    ]
    beeswarm = [
        {
            "variable": g,
            "label": bundle.label(g),
            "shap": np.round(grouped[g].to_numpy(), 4).tolist(),
            "colour": _colour_value(X[reps[g]].iloc[in_sample]),
        }
        for g in top[:TOP_BEESWARM]
    ]
    dependence = [
        _dependence(bundle, g, reps[g], X.iloc[in_sample], grouped[g]) for g in top[:TOP_DEPENDENCE]
    ]
    waterfalls = []
    for offset, (name, row) in enumerate(examples.items()):
        at = len(rows) + offset
        waterfalls.append(_waterfall(bundle, explanation, X, reps, at, name, row, test))
    return {
        "scale": SCALE,
        "sample": len(rows),
        "n_test": n,
        "seed": seed,
        "base_value": float(explanation.base_value[0]),
        "base_probability": float(expit(explanation.base_value[0])),
        "variables": len(order),
        "global": global_rows,
        "beeswarm": beeswarm,
        "dependence": dependence,
        "examples": waterfalls,
        "example_percentiles": EXAMPLE_PERCENTILES,
    }


def _grouped_probability(bundle: ModelBundle, explanation: Explanation) -> pd.DataFrame:
    contrib = explanation.probability_contributions()
    return pd.DataFrame(
        {g: contrib[m].sum(axis=1) for g, m in bundle.group_members().items()},
        index=contrib.index,
    )


def _dependence(
    bundle: ModelBundle, group: str, member: str, X: pd.DataFrame, shap: pd.Series
) -> dict[str, Any]:
    values = X[member]
    out: dict[str, Any] = {
        "variable": group,
        "label": bundle.label(group),
        "input": member,
        "x_label": axis_label(bundle, member, values),
        "shap": np.round(shap.to_numpy(), 4).tolist(),
    }
    if isinstance(values.dtype, pd.CategoricalDtype):
        text = values.astype("string").fillna("missing")
        out |= {"kind": "categorical", "x": text.tolist()}
    else:
        numbers = values.to_numpy(dtype=float)
        out |= {
            "kind": "numeric",
            "x": [None if np.isnan(v) else round(float(v), 5) for v in numbers],
            "log_x": bool(np.nanmin(numbers) > 0 and np.nanmax(numbers) / np.nanmin(numbers) > 50),
        }
    return out


def _waterfall(
    bundle: ModelBundle,
    explanation: Explanation,
    X: pd.DataFrame,
    reps: dict[str, str],
    at: int,
    name: str,
    test_row: int,
    test: pd.DataFrame,
) -> dict[str, Any]:
    contrib = explanation.grouped.iloc[at]
    ranked = contrib.reindex(contrib.abs().sort_values(ascending=False).index)
    shown, rest = ranked.iloc[:TOP_WATERFALL], ranked.iloc[TOP_WATERFALL:]
    id_col = test.columns[0]
    return {
        "name": name,
        "percentile": EXAMPLE_PERCENTILES[name],
        "patient": str(test.iloc[test_row][id_col]),
        "base_value": float(explanation.base_value[at]),
        "log_odds": float(explanation.log_odds[at]),
        "probability": float(explanation.probability[at]),
        "contributions": [
            {
                "variable": g,
                "label": bundle.label(str(g)),
                "input": reps[str(g)],
                "value": _value_text(X.iloc[at][reps[str(g)]]),
                "log_odds": float(v),
            }
            for g, v in shown.items()
        ],
        "other": {"count": len(rest), "log_odds": float(rest.sum())},
    }
