"""SHAP section: exact contributions of the served (calibrated) model, grouped by clinical variable.

Values come from ``ModelBundle.explain`` (LightGBM's own exact TreeSHAP on the calibrated
log-odds, summing to each prediction), never from shap's tree parser, which mishandles
LightGBM categorical splits; the figures hand these exact values to shap's own plots as a
``shap.Explanation``. Everything is on the log-odds scale unless labelled otherwise.

Each clinical variable is coloured and labelled by one value with its unit: a lab by its
multiple of the upper limit of normal, kratom exposure by the daily mitragynine dose (a
non-user's is 0 mg/day, "none": not using kratom is a known value, not a missing one); any
other variable by the model input carrying most of its attribution.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit

from hepatorisk.reports.labels import human

if TYPE_CHECKING:
    from hepatorisk.modeling.bundle import Explanation, ModelBundle

__all__ = ["CAVEAT", "DEPENDENCE", "EXAMPLE_PERCENTILES", "SCALE", "axis_label", "shap_section"]

SCALE = "log-odds of the calibrated model (SHAP values add up to the predicted log-odds)"
CAVEAT = (
    "SHAP values describe the model, not the effect of changing a value: a contribution says "
    "how much this input moved the model's output for this patient, given the rest of the "
    "record. It is an association learned from data, not what a change in treatment, dose or "
    "laboratory value would do."
)
EXAMPLE_PERCENTILES = {"low": 5.0, "middle": 50.0, "high": 95.0}
TOP_GLOBAL, TOP_BEESWARM, TOP_WATERFALL = 15, 12, 8
# Dependence plots on the variables a clinician acts on: (clinical variable, x input, x axis)
DEPENDENCE = (
    ("kratom exposure", "kratom_dose_g_day", "kratom dose (g/day; 0 = none)"),
    ("kratom exposure", "mitragynine_mg_day", "mitragynine (mg/day; 0 = none)"),
    ("ALT", "alt_xuln", "ALT (x upper limit of normal)"),
)
# A non-user's kratom amounts are 0 ("none"), not unknown; content per gram stays not applicable.
_NONE_FOR_NON_USERS = ("kratom_dose_g_day", "mitragynine_mg_day", "kratom_use_weeks")
# The input that stands for a clinical variable in colours and value labels.
_STANDS_FOR = {
    "kratom exposure": "mitragynine_mg_day",
    "ALT": "alt_xuln",
    "AST": "ast_xuln",
    "ALP": "alp_xuln",
    "total bilirubin": "bilirubin_xuln",
    "GGT": "ggt_xuln",
}
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


def _unit(bundle: ModelBundle, column: str) -> str:
    return _name_and_unit(bundle, column)[1]


def _name_and_unit(bundle: ModelBundle, column: str) -> tuple[str, str]:
    """The label without its unit, and the unit ('' when it has none)."""
    label = bundle.label(column)
    if column.endswith("_xuln"):
        return label, "x ULN"
    match = _UNIT.match(label)
    if match and not match.group(2).startswith(("LOINC", "users", "VAS")):
        return match.group(1), match.group(2)
    if ", " in label and "/" in label.rsplit(", ", 1)[1]:
        words, unit = label.rsplit(", ", 1)
        return words, unit
    return label, ""


def _plain(bundle: ModelBundle, group: str) -> str:
    """A clinical variable's name without a unit (the unit is shown with its value)."""
    return _name_and_unit(bundle, group)[0]


def shown_values(bundle: ModelBundle, records: pd.DataFrame) -> pd.DataFrame:
    """The model inputs as shown to a reader: a non-user's kratom amounts are 0 (none)."""
    X = bundle.features.transform(records)
    if "kratom_product" in X:
        non_user = (X["kratom_product"].astype("string") == "none").to_numpy(dtype=bool)
        for column in _NONE_FOR_NON_USERS:
            if column in X:
                X.loc[non_user, column] = 0.0
    return X


def _representatives(bundle: ModelBundle, explanation: Explanation) -> dict[str, str]:
    """For each clinical variable, the input whose value it is shown by."""
    strength = explanation.contributions.abs().mean()
    inputs = set(explanation.input_names)
    return {
        group: _STANDS_FOR[group]
        if _STANDS_FOR.get(group) in inputs
        else max(members, key=lambda m: float(strength[m]))
        for group, members in bundle.group_members().items()
    }


def _numeric(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Values as numbers for a colour scale (NaN = not recorded) and, for a category, the
    order of its codes (their words)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy(dtype=float)
        codes[codes < 0] = np.nan
        return codes, [human(c) for c in values.cat.categories]
    return values.to_numpy(dtype=float), None


def value_text(bundle: ModelBundle, column: str, value: object) -> str:
    """One value in words with its unit: 'none' for a non-user's kratom dose, 'not recorded'
    for a missing value, never a bare code."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "not recorded"
    if column in (*_NONE_FOR_NON_USERS, "kratom_product") and (value == 0 or value == "none"):
        return "none (no kratom use)"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating | int | np.integer):
        number = float(value)
        unit = _unit(bundle, column)
        if not unit and number in (0.0, 1.0):
            return "yes" if number else "no"
        text = f"{number:.0f}" if number.is_integer() else f"{number:.3g}"
        scale = _UNIT.match(bundle.label(column))
        if not unit and scale and scale.group(2).startswith("VAS"):
            return f"{text} ({scale.group(2)})"  # a score: its scale, not a unit
        return f"{text} {unit}".strip()
    return human(value)


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
    X = shown_values(bundle, records)
    in_sample = np.arange(len(rows))
    grouped = explanation.grouped.iloc[in_sample]
    prob_grouped = _grouped_probability(bundle, explanation).iloc[in_sample]
    reps = _representatives(bundle, explanation)
    order = grouped.abs().mean().sort_values(ascending=False)
    top = list(order.index)
    sampled = X.iloc[in_sample]
    global_rows = [
        {
            "variable": g,
            "label": bundle.label(g),
            "inputs": [bundle.label(m) for m in bundle.group_members()[g]],
            "mean_abs_log_odds": float(order[g]),
            "mean_abs_probability": float(prob_grouped[g].abs().mean()),
        }
        for g in top[:TOP_GLOBAL]
    ]
    beeswarm = []
    for g in top[:TOP_BEESWARM]:
        numbers, categories = _numeric(sampled[reps[g]])
        beeswarm.append(
            {
                "variable": g,
                "label": _plain(bundle, g),
                "shown_by": reps[g],
                "unit": _unit(bundle, reps[g]),
                "categories": categories,
                "shap": np.round(grouped[g].to_numpy(), 4).tolist(),
                "value": [None if np.isnan(v) else round(float(v), 4) for v in numbers],
            }
        )
    dependence = [
        _dependence(bundle, g, x, axis, sampled, grouped[g])
        for g, x, axis in DEPENDENCE
        if g in grouped and x in sampled
    ]
    waterfalls = []
    for offset, (name, row) in enumerate(examples.items()):
        at = len(rows) + offset
        waterfalls.append(_waterfall(bundle, explanation, X, reps, at, name, row, test))
    return {
        "scale": SCALE,
        "caveat": CAVEAT,
        "sample": len(rows),
        "n_test": n,
        "seed": seed,
        "base_value": float(explanation.base_value[0]),
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
    bundle: ModelBundle, group: str, column: str, axis: str, X: pd.DataFrame, shap: pd.Series
) -> dict[str, Any]:
    numbers = X[column].to_numpy(dtype=float)
    return {
        "variable": group,
        "label": _plain(bundle, group),
        "input": column,
        "x_label": axis,
        "none_at_zero": column in _NONE_FOR_NON_USERS,
        "shap": np.round(shap.to_numpy(), 4).tolist(),
        "x": [None if np.isnan(v) else round(float(v), 5) for v in numbers],
    }


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
    moved = _grouped_probability(bundle, explanation).iloc[at]
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
                "label": _plain(bundle, str(g)),
                "input": reps[str(g)],
                "value": value_text(bundle, reps[str(g)], X.iloc[at][reps[str(g)]]),
                "log_odds": float(v),
                "probability": float(moved[str(g)]),
            }
            for g, v in shown.items()
        ],
        "other": {
            "count": len(rest),
            "log_odds": float(rest.sum()),
            "probability": float(moved[rest.index].sum()),
        },
        "base_probability": float(expit(explanation.base_value[at])),
    }
