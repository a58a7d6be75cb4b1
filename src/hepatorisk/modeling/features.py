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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.unknowns import PlausibleValues

__all__ = ["FeatureBuilder", "expression_sources"]

log = logging.getLogger(__name__)

# Patient records: a DataFrame, or column name -> values (numbers/None, or text/None)
Records = pd.DataFrame | Mapping[str, Sequence[object] | np.ndarray]
#: the record column holding the week of treatment of an assessment (``cohorts.history``)
LANDMARK = "landmark_week"


_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_UNARY = {ast.USub: np.negative, ast.UAdd: np.positive}


def _parse(expression: str) -> ast.Expression:
    """Parse an arithmetic expression over column names; anything else is refused."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise DataContractError(f"derived feature expression {expression!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        allowed = (
            ast.Expression,
            ast.Name,
            ast.Load,
            ast.BinOp,
            ast.UnaryOp,
            ast.Constant,
            *_BINARY,
            *_UNARY,
        )
        if not isinstance(node, allowed) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, int | float)
        ):
            raise DataContractError(
                f"derived feature expression {expression!r}: only column names, numbers and "
                "+ - * / ** are allowed"
            )
    return tree


def _evaluate(node: ast.AST, columns: Mapping[str, np.ndarray]) -> np.ndarray | np.float64:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, columns)
    if isinstance(node, ast.Name):
        return columns[node.id]
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # _parse admits numbers only
        return np.float64(node.value)
    result: np.ndarray
    if isinstance(node, ast.UnaryOp):
        result = _UNARY[type(node.op)](_evaluate(node.operand, columns))
        return result
    assert isinstance(node, ast.BinOp)
    result = _BINARY[type(node.op)](_evaluate(node.left, columns), _evaluate(node.right, columns))
    return result


def expression_sources(expression: str) -> list[str]:
    """Column names an expression reads, in order of first use."""
    names: list[str] = []
    for node in ast.walk(_parse(expression)):
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
        # each input column's plausible values given its parents, for unknown inputs; a landmark
        # model's rows repeat each patient at every week still at risk (later weeks keep the
        # lower-risk patients), so the baseline record's distribution is taken from the
        # week-0 rows: one per patient, the population a week-0 assessment comes from
        entry = X
        if LANDMARK in X.columns and (X[LANDMARK] == 0).any():
            entry = X[X[LANDMARK] == 0]
        self.plausible_: PlausibleValues | None = PlausibleValues.fit(entry, required, self.kinds_)
        self.landmarks_: list[float] | None = (
            sorted(float(w) for w in pd.to_numeric(X[LANDMARK]).dropna().unique())
            if LANDMARK in required
            else None
        )
        return self

    def answering_landmark(self, weeks: np.ndarray) -> np.ndarray:
        """The trained landmark that answers an assessment at each week of treatment: the
        latest landmark at or before it (van Houwelingen's landmark model is fitted only at its
        landmarks; its history inputs still cover every week up to the assessment). Weeks
        before the first landmark, and models without landmarks, keep the week as given."""
        weeks = np.asarray(weeks, dtype=float)
        if not self.__dict__.get("landmarks_"):
            return weeks
        marks = np.asarray(self.landmarks_, dtype=float)
        at = np.searchsorted(marks, weeks, side="right") - 1
        return np.where(np.isfinite(weeks) & (at >= 0), marks[np.clip(at, 0, None)], weeks)

    def arrays(self, X: Records) -> dict[str, np.ndarray]:
        """The record columns the model reads as writable arrays: float (NaN missing) for
        numeric ones, object (str, or None missing) for categorical ones."""
        if not hasattr(self, "input_columns_"):
            check_is_fitted(self, "input_columns_")
        _require(X, self.input_columns_)
        out: dict[str, np.ndarray] = {}
        for col in self.input_columns_:
            values = X[col]
            if self.kinds_[col] == "categorical":
                raw: Iterable[object] = (
                    values.to_numpy(dtype=object)
                    if isinstance(values, pd.Series)
                    else _iterable(values)
                )
                out[col] = np.array([None if _is_missing(v) else str(v) for v in raw], dtype=object)
            else:
                out[col] = _numeric(values, col)
        if LANDMARK in out:
            out[LANDMARK] = self.answering_landmark(out[LANDMARK])
        return out

    def transform(self, X: Records) -> pd.DataFrame:
        """Model inputs: float64 for numeric and true/false, fixed-level categoricals otherwise."""
        frame = {
            name: pd.Categorical.from_codes(values, dtype=self._dtype(name))
            if name in self.categories_
            else values
            for name, values in self._inputs(X).items()
        }
        return pd.DataFrame(frame, index=X.index if isinstance(X, pd.DataFrame) else None)

    def matrix(self, X: Records) -> np.ndarray:
        """The same inputs as one float matrix, categoricals as their level codes (missing NaN):
        what LightGBM builds from ``transform``'s frame, without building the frame."""
        inputs = self._inputs(X)
        n = _n_rows(X, self.input_columns_)
        out = np.empty((n, len(inputs)), dtype=np.float64)
        for j, (name, values) in enumerate(inputs.items()):
            out[:, j] = values
            if name in self.categories_:
                out[values < 0, j] = np.nan
        return out

    def _inputs(self, X: Records) -> dict[str, np.ndarray]:
        """Each model input as a numpy array in output order: float64 for numeric ones, level
        codes (-1 missing) for categorical ones.

        ``X`` is a DataFrame or a mapping of column name -> values (what the service holds), and
        the work is column by column on numpy arrays, so one patient costs about as little as
        the booster itself (the service calls this per request).
        """
        if not hasattr(self, "input_columns_"):
            check_is_fitted(self, "input_columns_")  # raises sklearn's NotFittedError
        _require(X, self.input_columns_)
        n = _n_rows(X, self.input_columns_)
        numeric: dict[str, np.ndarray] = {}
        out: dict[str, np.ndarray] = {}
        kinds = self.kinds_
        for col in self.input_columns_:
            if kinds[col] == "categorical":
                out[col] = self._codes(X[col], col)
            else:
                numeric[col] = out[col] = _numeric(X[col], col)
        if LANDMARK in numeric:
            numeric[LANDMARK] = out[LANDMARK] = self.answering_landmark(numeric[LANDMARK])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for name, tree in self._trees().items():
                values = np.asarray(_evaluate(tree, numeric), dtype="float64")
                if values.shape != (n,):
                    values = np.broadcast_to(values, (n,))
                out[name] = np.where(np.isfinite(values), values, np.nan)
        return {name: out[name] for name in self.feature_names_out_}

    def _codes(self, values: object, col: str) -> np.ndarray:
        """Codes of the fixed training levels; a level never seen in training becomes missing
        (logged)."""
        if isinstance(values, pd.Series):
            raw = values.to_numpy(dtype=object)
        elif isinstance(values, np.ndarray):
            raw = values.astype(object, copy=False).reshape(-1)
        else:
            raw = np.asarray(list(_iterable(values)), dtype=object).reshape(-1)
        # one hash lookup for the whole column (a completed batch has many rows); a value that
        # is neither a level nor missing is looked up by its text, as the API may send 1 for "1"
        codes = np.asarray(
            self._level_index(col).get_indexer(pd.Index(raw, dtype=object, copy=False)),
            dtype=np.int64,
        )
        other = np.flatnonzero(codes < 0)
        if len(other):
            other = other[~np.asarray(pd.isna(raw[other]), dtype=bool)]  # missing stays -1
            lookup = self._lookup(col)
            for i in other:
                codes[i] = lookup.get(str(raw[i]), -2)
        unseen = codes == -2
        if unseen.any():
            log.warning(
                "%s: %d value(s) not seen in training treated as missing", col, int(unseen.sum())
            )
            codes[unseen] = -1
        return codes

    def _trees(self) -> dict[str, ast.Expression]:
        """Derived-feature expressions, parsed once."""
        cache: dict[str, ast.Expression] = self.__dict__.setdefault("_tree_cache", {})
        if not cache:
            cache.update({n: _parse(e) for n, e in (self.derived or {}).items()})
        return cache

    def _lookup(self, col: str) -> dict[str, int]:
        cache: dict[str, dict[str, int]] = self.__dict__.setdefault("_lookup_cache", {})
        if col not in cache:
            cache[col] = {level: code for code, level in enumerate(self.categories_[col])}
        return cache[col]

    def _level_index(self, col: str) -> pd.Index:
        """The column's training levels as an index (position = code), built once."""
        cache: dict[str, pd.Index] = self.__dict__.setdefault("_level_index_cache", {})
        if col not in cache:
            cache[col] = pd.Index(list(self.categories_[col]), dtype=object)
        return cache[col]

    def _dtype(self, col: str) -> pd.CategoricalDtype:
        """The column's categorical dtype, built once (validating levels costs per call)."""
        cache: dict[str, pd.CategoricalDtype] = self.__dict__.setdefault("_dtype_cache", {})
        if col not in cache:
            cache[col] = pd.CategoricalDtype(self.categories_[col])
        return cache[col]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        return np.asarray(self.feature_names_out_, dtype=object)

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the fitted builder, as plain JSON-able data."""
        check_is_fitted(self, "input_columns_")
        return {
            "columns": list(self.columns),
            "derived": dict(self.derived or {}),
            "kinds": self.kinds_,
            "categories": self.categories_,
            "plausible": None if self.plausible_ is None else self.plausible_.to_dict(),
            "landmarks": self.__dict__.get("landmarks_"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureBuilder:
        derived: dict[str, str] = dict(data["derived"])
        builder = cls(columns=tuple(data["columns"]), derived=derived)
        sources = {name: [name] for name in builder.columns}
        sources |= {n: expression_sources(e) for n, e in derived.items()}
        builder.kinds_ = dict(data["kinds"])
        builder.categories_ = {k: list(v) for k, v in data["categories"].items()}
        builder.input_columns_ = list(dict.fromkeys(c for cols in sources.values() for c in cols))
        builder.sources_ = sources
        builder.feature_names_out_ = [*builder.columns, *derived]
        builder.categorical_features_ = [
            c for c in builder.columns if builder.kinds_[c] == "categorical"
        ]
        plausible = data.get("plausible")
        builder.plausible_ = None if plausible is None else PlausibleValues(plausible)
        builder.landmarks_ = data.get("landmarks")  # absent in bundles before issue 13's item 6
        return builder


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "categorical"


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _numeric(values: object, name: str) -> np.ndarray:
    if not isinstance(values, pd.Series):  # a column of a mapping: numbers, or None for missing
        try:
            return np.asarray(values, dtype="float64")
        except (TypeError, ValueError):
            return _numeric(pd.Series(values, dtype=object), name)
    series = values
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return series.to_numpy(dtype="float64")
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        rows = ", ".join(str(i) for i in series.index[bad][:5])
        raise DataContractError(
            f"column {name!r} must be numeric; got {series[bad].iloc[0]!r} (rows {rows})"
        )
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _n_rows(X: Records, columns: Sequence[str]) -> int:
    if isinstance(X, pd.DataFrame):
        return len(X)
    lengths = {len(X[c]) for c in columns}
    if len(lengths) > 1:
        raise DataContractError(f"record columns differ in length: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def _require(X: Records, columns: Sequence[str]) -> None:
    if not isinstance(X, pd.DataFrame | Mapping):
        raise DataContractError(
            "expected patient records as a pandas DataFrame or a mapping of columns, got "
            f"{type(X).__name__}"
        )
    present = X.columns if isinstance(X, pd.DataFrame) else X.keys()
    missing = [c for c in columns if c not in present]
    if missing:
        raise DataContractError(
            f"patient records lack column(s) the model needs: {', '.join(missing)}"
        )


def _iterable(values: object) -> Iterable[object]:
    """A column given as a plain sequence (the service's columns) or an array."""
    if not isinstance(values, Iterable):
        kind = type(values).__name__
        raise DataContractError(f"a column must be a sequence of values, got {kind}")
    return values
