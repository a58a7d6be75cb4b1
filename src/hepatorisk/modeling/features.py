"""The one feature code path: from a patient record to the model's input matrix.

``FeatureBuilder`` follows the scikit-learn contract. It learns, at fit time, which inputs are
numeric and which categorical (with their levels), and it computes derived features from
declared expressions (for instance ``alt_u_l / alt_uln_u_l``). Training, batch scoring, the
service and the MLflow model all call it, so no second implementation of a feature exists.
It also records which clinical variables feed each model input, so that explanations can be
grouped back to the variables a clinician knows.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from hepatorisk.exceptions import DataContractError

__all__ = ["FeatureBuilder", "expression_sources"]

log = logging.getLogger(__name__)


def expression_sources(expression: str) -> list[str]:
    """Column names an expression reads, in order of first use."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise DataContractError(f"derived feature expression {expression!r}: {exc.msg}") from None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    return names


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Select, type and derive model inputs from patient records.

    Parameters
    ----------
    columns : sequence of str
        Record columns used as model inputs as they are.
    derived : mapping of str to str
        Name -> pandas expression over record columns (arithmetic only), evaluated per row.
    """

    def __init__(self, columns: Sequence[str] = (), derived: Mapping[str, str] | None = None):
        self.columns = columns
        self.derived = derived

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureBuilder:
        derived = dict(self.derived or {})
        sources = {name: [name] for name in self.columns}
        for name, expression in derived.items():
            sources[name] = expression_sources(expression)
        required = list(dict.fromkeys(c for cols in sources.values() for c in cols))
        _require(X, required)
        self.kinds_: dict[str, str] = {}
        self.categories_: dict[str, list[str]] = {}
        for col in required:
            kind = _kind(X[col])
            self.kinds_[col] = kind
            if kind == "categorical":
                levels = X[col].astype("string").dropna().unique()
                self.categories_[col] = sorted(str(v) for v in levels)
        for name in derived:
            if any(self.kinds_[c] == "categorical" for c in sources[name]):
                raise DataContractError(
                    f"derived feature {name!r} reads a categorical column; expressions may only "
                    "use numeric or true/false columns"
                )
        self.input_columns_ = required
        self.sources_ = sources
        self.feature_names_out_ = [*self.columns, *derived]
        self.categorical_features_ = [c for c in self.columns if self.kinds_[c] == "categorical"]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Model inputs: float64 for numeric and true/false, fixed-level categoricals otherwise."""
        check_is_fitted(self, "input_columns_")
        _require(X, self.input_columns_)
        typed: dict[str, pd.Series] = {}
        for col in self.input_columns_:
            series = X[col]
            if self.kinds_[col] == "categorical":
                typed[col] = self._categorical(series, col)
            else:
                typed[col] = _numeric(series, col)
        frame = pd.DataFrame(typed, index=X.index)
        out = {name: frame[name] for name in self.columns}
        for name, expression in (self.derived or {}).items():
            with np.errstate(divide="ignore", invalid="ignore"):
                values = frame.eval(expression, engine="python")
            values = pd.Series(values, index=X.index, dtype="float64")
            out[name] = values.where(np.isfinite(values))
        return pd.DataFrame(out, index=X.index)[self.feature_names_out_]

    def _categorical(self, series: pd.Series, col: str) -> pd.Series:
        """Fixed training levels; a level never seen in training becomes missing (logged)."""
        levels = self.categories_[col]
        values = series.astype("string")
        unseen = values.notna() & ~values.isin(levels)
        if unseen.any():
            log.warning(
                "%s: %d value(s) not seen in training treated as missing", col, int(unseen.sum())
            )
            values = values.where(~unseen)
        raw = values.to_numpy(dtype=object, na_value=None)
        return pd.Series(pd.Categorical(raw, categories=levels), index=series.index)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        return np.asarray(self.feature_names_out_, dtype=object)

    def to_dict(self) -> dict:
        """Everything needed to rebuild the fitted builder, as plain JSON-able data."""
        check_is_fitted(self, "input_columns_")
        return {
            "columns": list(self.columns),
            "derived": dict(self.derived or {}),
            "kinds": self.kinds_,
            "categories": self.categories_,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> FeatureBuilder:
        builder = cls(columns=tuple(data["columns"]), derived=dict(data["derived"]))
        sources = {name: [name] for name in builder.columns}
        sources |= {n: expression_sources(e) for n, e in builder.derived.items()}
        builder.kinds_ = dict(data["kinds"])
        builder.categories_ = {k: list(v) for k, v in data["categories"].items()}
        builder.input_columns_ = list(dict.fromkeys(c for cols in sources.values() for c in cols))
        builder.sources_ = sources
        builder.feature_names_out_ = [*builder.columns, *builder.derived]
        builder.categorical_features_ = [
            c for c in builder.columns if builder.kinds_[c] == "categorical"
        ]
        return builder


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "categorical"


def _numeric(series: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Float64").astype("float64")
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        rows = ", ".join(str(i) for i in series.index[bad][:5])
        raise DataContractError(
            f"column {name!r} must be numeric; got {series[bad].iloc[0]!r} (rows {rows})"
        )
    return values.astype("float64")


def _require(X: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(X, pd.DataFrame):
        raise DataContractError(
            f"expected patient records as a pandas DataFrame, got {type(X).__name__}"
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise DataContractError(
            f"patient records lack column(s) the model needs: {', '.join(missing)}"
        )
