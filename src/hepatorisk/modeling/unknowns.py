"""Unknown inputs: a value the caller did not give is unknown, not a value (issue 13, item 3).

LightGBM sends a missing value down whichever branch training chose for it. For a field that was
missing in training (cohort v2: housing, employment and injection history missing together *by
design* at some sites, pain, INR, GGT, albumin, platelets) the trees learned that branch from
data. For a field that was never missing in training (heroin days, cocaine, prior treatments,
withdrawal and craving scores, hepatitis, medications, kratom content for a kratom user...) the
branch is arbitrary, and an omitted field silently meant "no" or 0.

``PlausibleValues`` is fitted with the feature builder on the training rows. For every record
column it stores the column's distribution given the columns the cohort makes it depend on
(``GIVEN``: kratom content given the product, injection history given hepatitis C and the
primary opioid, AST given ALT, ...) as at most ``SUPPORT`` weighted support points per stratum
(the exact distribution when a column has few values, else equal-probability quantiles), with
the stratum's share of missing values in training. At prediction a missing value is

* **marginalised**: the row is completed with each plausible value (sequentially in ``ORDER``,
  each column given the values already completed, so that an unknown product is drawn before
  its content) and the prediction is the weighted average of the completions' calibrated
  probabilities. When the full product of a patient's plausible values could exceed
  ``MAX_COMPLETIONS``, the patient gets ``MAX_COMPLETIONS`` equally weighted completions
  instead, each field drawn from its distribution (given the fields completed before it) at
  the coordinate of a scrambled Sobol' point, one dimension per column: a joint
  low-discrepancy design over all unknown fields (issue 20: the earlier design enumerated the
  first fields and drew the rest from one shared Weyl sequence, which locked the later fields
  together; with 15 unknown fields the served risk moved by up to 3 points between caps);
* **left to the trees** only where the value does not apply: the row's stratum had at least
  ``NOT_APPLICABLE`` of the column missing in training (a non-user's kratom content).

This includes the fields missing in training, whose missing branch the trees learned (housing,
employment and injection history missing *by design* at some sites, pain, GGT, INR, albumin,
platelets): ``omission.py`` measured that branch against the average over plausible values and
found it off by more than a point for some of them (on the committed sample: injection history
6.0 points on average, housing 2.0 and exactly the "not housed" answer for every patient), so
one rule for every unknown is the more faithful one. Missing *by design* (a question not asked)
and unknown (not answered) are scored alike: both leave the value unknown to the model; the
response names every unknown input and how far it could move each risk.

A kratom user with unknown content (or with an unknown product and a dose > 0) is therefore
averaged over users' contents, never scored as a non-user. ``omission_report`` measures how
close an omitted field's answer is to the average over its plausible values given the rest,
with plausible values drawn independently of this module's tables: the nearest rows of a
reference table on the field's parents (``python -m hepatorisk.modeling.unknowns COHORT``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

__all__ = [
    "GIVEN",
    "LIMIT_OF",
    "OPTIONAL_FIELDS",
    "ORDER",
    "Completion",
    "PlausibleValues",
    "field_of",
    "is_missing",
]

#: support points per stratum (numeric columns with more distinct values: quantile midpoints)
SUPPORT = 8
#: a stratum with at least this share missing in training has no value to average over: the
#: column does not apply there (a non-user's kratom content), and the trees' branch is kept
NOT_APPLICABLE = 0.99
#: strata with fewer training rows fall back to fewer given columns
MIN_ROWS = 30
#: completions per patient beyond which unknown fields are drawn jointly by a quasi-random design
MAX_COMPLETIONS = 64
#: the scrambling seed of the Sobol' design (fixed: the same record gets the same risk)
DESIGN_SEED = 20_261_201

#: What each column's plausible values are conditioned on: the synthetic cohort's generating
#: structure (cohorts/synthetic/population.py), parents that are never missing first (strata are
#: prefixes: an unknown parent ends the prefix). Columns absent here, or
#: absent from a model, are drawn from their marginal; columns a model lacks are skipped.
GIVEN: dict[str, tuple[str, ...]] = {
    "primary_opioid": ("heroin_days_30", "injection_drug_use"),
    "injection_drug_use": ("hcv_antibody", "primary_opioid", "hiv", "hbv_surface_antigen"),
    "hcv_antibody": ("primary_opioid", "injection_drug_use"),
    "hbv_surface_antigen": ("primary_opioid", "injection_drug_use"),
    "hiv": ("primary_opioid", "injection_drug_use"),
    "heroin_days_30": ("primary_opioid", "uds_opioid_entry"),
    "uds_opioid_entry": ("heroin_days_30",),
    "bmi": ("diabetes", "sex"),
    "diabetes": ("bmi", "age"),
    "kratom_product": ("kratom_dose_g_day",),
    "kratom_dose_g_day": ("kratom_product",),
    "mitragynine_mg_per_g": ("kratom_product",),
    "kratom_use_weeks": ("kratom_product",),
    "chronic_pain": ("kratom_product",),
    "cows_entry": ("kratom_product", "craving_entry"),
    "craving_entry": ("kratom_product", "cows_entry"),
    "ast_u_l": ("alt_u_l", "sex"),
    "ggt_u_l": ("alt_u_l", "audit_c"),
    "albumin_g_dl": ("alt_u_l",),
    "inr": ("albumin_g_dl",),
    "platelets_10e9_l": ("hcv_antibody",),
    "alt_uln_u_l": ("sex",),
    "ast_uln_u_l": ("sex",),
    "alp_uln_u_l": ("sex",),
    "bilirubin_uln_mg_dl": ("sex",),
    "ggt_uln_u_l": ("sex",),
    "albumin_lln_g_dl": ("sex",),
    "inr_uln": ("sex",),
    "platelets_lln_10e9_l": ("sex",),
}
#: Completion order: parents before children; columns not listed come after, in record order.
ORDER: tuple[str, ...] = (
    "sex", "age", "race_ethnicity", "primary_opioid", "hcv_antibody", "injection_drug_use",
    "hbv_surface_antigen", "hiv", "heroin_days_30", "uds_opioid_entry", "bmi", "diabetes",
    "kratom_dose_g_day", "kratom_product", "mitragynine_mg_per_g", "kratom_use_weeks",
    "chronic_pain", "cows_entry", "craving_entry", "alt_u_l", "ast_u_l", "audit_c", "ggt_u_l",
    "albumin_g_dl", "inr", "platelets_10e9_l",
)  # fmt: skip
#: a lab's reference limit -> its value: unknown together, reported as one field
LIMIT_OF: dict[str, str] = {
    "alt_uln_u_l": "alt_u_l",
    "ast_uln_u_l": "ast_u_l",
    "alp_uln_u_l": "alp_u_l",
    "bilirubin_uln_mg_dl": "bilirubin_mg_dl",
    "ggt_uln_u_l": "ggt_u_l",
    "albumin_lln_g_dl": "albumin_g_dl",
    "inr_uln": "inr",
    "platelets_lln_10e9_l": "platelets_10e9_l",
}
#: The record columns a caller of the API may leave out (``assessment.request``), plus the
#: product (required by the API, but a batch record may lack it).
OPTIONAL_FIELDS: tuple[str, ...] = (
    "race_ethnicity", "bmi", "diabetes", "hcv_antibody", "hbv_surface_antigen", "hiv",
    "audit_c", "injection_drug_use", "primary_opioid", "heroin_days_30", "cocaine_use",
    "stable_housing", "employed", "prior_treatments", "chronic_pain", "uds_opioid_entry",
    "cows_entry", "craving_entry", "mitragynine_mg_per_g", "kratom_use_weeks",
    "med_acetaminophen", "med_statin", "med_other_hepatotoxic", "med_cyp_interacting",
    "ast_u_l", "ggt_u_l", "albumin_g_dl", "inr", "platelets_10e9_l",
)  # fmt: skip


def field_of(column: str) -> str:
    """The field a record column belongs to (a lab's limit belongs to the lab's value)."""
    return LIMIT_OF.get(column, column)


@dataclass(frozen=True)
class _Dist:
    values: np.ndarray  # float (numeric) or object (categorical levels)
    weights: np.ndarray
    missing: float  # share of the stratum's training rows missing this column


@dataclass
class Completion:
    """Records completed over their unknown fields: row ``i`` of ``columns`` belongs to patient
    ``owner[i]`` with weight ``weight[i]`` (each patient's weights sum to 1)."""

    columns: dict[str, np.ndarray]
    owner: np.ndarray
    weight: np.ndarray
    marginalised: dict[str, np.ndarray]  # column -> patients whose unknown value was averaged
    n: int

    def head(self, n: int) -> Completion:
        """The completions of the first ``n`` patients: a prefix of the rows, since each
        patient's completions follow the previous patient's (``PlausibleValues.complete``)."""
        m = int(np.searchsorted(self.owner, n))
        return Completion(
            {k: v[:m] for k, v in self.columns.items()},
            self.owner[:m],
            self.weight[:m],
            {k: v[:n] for k, v in self.marginalised.items() if v[:n].any()},
            n,
        )

    def average(self, values: np.ndarray) -> np.ndarray:
        """Each patient's weighted average of per-completion ``values`` (1-D or 2-D)."""
        if values.ndim == 1:
            return np.bincount(self.owner, self.weight * values, minlength=self.n)
        weighted = self.weight[:, None] * values
        counts = np.bincount(self.owner, minlength=self.n)
        if self.n and counts.all() and (np.diff(self.owner) >= 0).all():
            # each patient's rows are contiguous (``complete``): one sum per block, about
            # twice as fast as the scattered add (explanations of a batch: 264,000 x 51)
            return np.add.reduceat(weighted, np.cumsum(counts) - counts, axis=0)
        out = np.zeros((self.n, values.shape[1]))
        np.add.at(out, self.owner, weighted)
        return out


class PlausibleValues:
    """Each column's distribution given its parents, by stratum, from the training rows."""

    def __init__(self, tables: Mapping[str, Any]):
        self.tables: dict[str, Any] = dict(tables)
        self._dists: dict[str, list[dict[str, _Dist]]] = {
            col: [
                {
                    key: _Dist(
                        np.asarray(d["v"], dtype=object if t["kind"] == "categorical" else float),
                        np.asarray(d["w"], dtype=float),
                        float(d["missing"]),
                    )
                    for key, d in level.items()
                }
                for level in t["strata"]
            ]
            for col, t in self.tables.items()
        }

    # -- fitting ------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls, X: pd.DataFrame, columns: Sequence[str], kinds: Mapping[str, str]
    ) -> PlausibleValues:
        present = [c for c in columns if c in X.columns]
        raw = {c: _column(X[c], kinds[c]) for c in present}
        edges = {c: _edges(raw[c]) for c in present if kinds[c] != "categorical" and _many(raw[c])}
        tables: dict[str, Any] = {}
        for col in present:
            given = [g for g in GIVEN.get(col, ()) if g in raw and g != col]
            tokens = [_tokens(raw[g], edges.get(g)) for g in given]
            kind = kinds[col]
            strata: list[dict[str, Any]] = []
            for depth in range(len(given) + 1):
                keys = _keys(tokens[:depth], len(X))
                level: dict[str, Any] = {}
                for key in pd.unique(keys[keys != None]):  # noqa: E711 - elementwise
                    rows = keys == key
                    if rows.sum() >= MIN_ROWS:
                        level[str(key)] = _distribution(raw[col][rows], kind)
                strata.append(level)
            tables[col] = {
                "kind": kind,
                "given": given,
                "edges": {g: edges[g] for g in given if g in edges},
                "strata": strata,
            }
        return cls(tables)

    def to_dict(self) -> dict[str, Any]:
        return self.tables

    # -- lookup -------------------------------------------------------------------------------

    def columns(self) -> list[str]:
        """Columns in completion order."""
        rank = {c: i for i, c in enumerate(ORDER)}
        return sorted(
            self.tables, key=lambda c: (rank.get(c, len(rank)), list(self.tables).index(c))
        )

    def lookup(
        self, col: str, columns: Mapping[str, np.ndarray], rows: np.ndarray
    ) -> list[_Dist | None]:
        """The distribution of ``col`` for each of ``rows``, given the values known there: the
        deepest stratum of known parents with enough training rows."""
        codes, dists = self.lookup_codes(col, columns, rows)
        return [dists[c] if c >= 0 else None for c in codes]

    def lookup_codes(
        self, col: str, columns: Mapping[str, np.ndarray], rows: np.ndarray
    ) -> tuple[np.ndarray, list[_Dist]]:
        """``lookup`` as codes into a list of distinct distributions (-1: none), vectorised: the
        stratum keys are built once per distinct combination of parent values, not per row."""
        t = self.tables[col]
        given: list[str] = [g for g in t["given"] if g in columns]
        levels = self._dists[col]
        dists: list[_Dist] = []
        index: dict[int, int] = {}

        def code_of(d: _Dist | None) -> int:
            if d is None:
                return -1
            code = index.get(id(d))
            if code is None:
                code = index[id(d)] = len(dists)
                dists.append(d)
            return code

        found = np.full(len(rows), code_of(levels[0].get("")) if levels else -1, dtype=np.int64)
        key_id = np.zeros(len(rows), dtype=np.int64)  # -1: a parent unknown, prefix ended
        key_str: list[str] = [""]
        for depth, g in enumerate(given, start=1):
            if depth >= len(levels):
                break
            tok, tok_str = _token_codes(np.asarray(columns[g])[rows], t["edges"].get(g))
            live = (key_id >= 0) & (tok >= 0)
            key_id = np.where(live, key_id, -1)
            if not live.any():
                break
            pair = key_id[live] * len(tok_str) + tok[live]
            combos, inverse = np.unique(pair, return_inverse=True)
            level = levels[depth]
            strs = []
            hit = np.empty(len(combos), dtype=np.int64)
            for j, c in enumerate(combos):
                k, tk = key_str[int(c) // len(tok_str)], tok_str[int(c) % len(tok_str)]
                key = tk if depth == 1 else f"{k}|{tk}"
                strs.append(key)
                hit[j] = code_of(level.get(key))
            row_hit = hit[inverse]
            got = row_hit >= 0
            live_rows = np.flatnonzero(live)
            found[live_rows[got]] = row_hit[got]
            new_id = np.full(len(rows), -1, dtype=np.int64)
            new_id[live_rows[got]] = inverse[got]
            key_id, key_str = new_id, strs
        return found, dists

    # -- completion ---------------------------------------------------------------------------

    def complete(
        self,
        columns: Mapping[str, np.ndarray],
        n: int,
        *,
        cap: int | np.ndarray = MAX_COMPLETIONS,
    ) -> Completion:
        """Every patient's completions over its unknown fields (a patient with none is its own
        single completion). ``cap``: one for all, or each patient's (records completed in one
        call get exactly the completions they get alone: the design's first points)."""
        caps = np.broadcast_to(np.asarray(cap, dtype=np.int64), (n,))
        base = {k: np.asarray(v) for k, v in columns.items()}
        order = self.columns()
        # the largest full product of plausible values each patient could need; beyond the
        # cap, the patient's completions follow the joint quasi-random design instead
        bound = np.ones(n)
        for col in order:
            if col in base:
                bound[is_missing(base[col])] *= self._largest_support(col)
        design = bound > caps
        rows_so_far = _Rows(base, n, np.where(design, caps, 1))
        weight = np.where(design, 1.0 / caps, 1.0)[rows_so_far.owner]
        points = (
            _sobol(len(order), int(caps[design].max()))
            if design.any()
            else np.empty((0, len(order)))
        )
        marginalised: dict[str, np.ndarray] = {}
        for dimension, col in enumerate(order):
            if col not in rows_so_far.base:
                continue
            miss = is_missing(rows_so_far.get(col))
            if not miss.any():
                continue
            rows = np.flatnonzero(miss)
            given = [g for g in self.tables[col]["given"] if g in rows_so_far.base]
            codes, dists = self.lookup_codes(col, {g: rows_so_far.get(g) for g in given}, rows)
            usable = np.array(
                [d.missing < NOT_APPLICABLE and len(d.values) > 0 for d in dists], dtype=bool
            )
            ok = codes >= 0
            ok[ok] = usable[codes[ok]]
            if not ok.any():
                continue
            rows, codes = rows[ok], codes[ok]
            marg = np.zeros(n, dtype=bool)
            marg[np.unique(rows_so_far.owner[rows])] = True
            marginalised[col] = marg
            u = points[rows_so_far.point[rows], dimension] if len(points) else None
            weight = _expand(rows_so_far, weight, col, rows, codes, dists, u)
        # a patient of the design whose unknowns all turned out not applicable: one row
        averaged = np.zeros(n, dtype=bool)
        for marg in marginalised.values():
            averaged |= marg
        copies = (rows_so_far.point > 0) & ~averaged[rows_so_far.owner]
        if copies.any():
            keep = np.flatnonzero(~copies)
            rows_so_far.take(keep)
            weight = np.where(averaged[rows_so_far.owner], weight[keep], 1.0)
        return Completion(rows_so_far.columns(), rows_so_far.owner, weight, marginalised, n)

    def _largest_support(self, col: str) -> int:
        """The most plausible values ``col`` has in any stratum (1 when it has none)."""
        cache: dict[str, int] = self.__dict__.setdefault("_largest_support_cache", {})
        if col not in cache:
            sizes = [len(d.values) for level in self._dists[col] for d in level.values()]
            cache[col] = max([1, *sizes])
        return cache[col]

    def support(
        self, col: str, columns: Mapping[str, np.ndarray], rows: np.ndarray
    ) -> list[_Dist | None]:
        """Plausible values of ``col`` for each of ``rows`` (for the reach of an unknown)."""
        return self.lookup(col, columns, rows)


class _Rows:
    """The completions so far: row ``r`` is patient ``owner[r]``'s record with the columns in
    ``filled`` completed; every other column is gathered from the records only when read, so
    that each expansion copies the completed columns, not the whole record."""

    def __init__(self, base: dict[str, np.ndarray], n: int, copies: np.ndarray):
        self.base = base
        self.owner = np.repeat(np.arange(n), copies)
        # a row of the quasi-random design: its point; -1: a row of the full product
        first = np.concatenate([[0], np.cumsum(copies)[:-1]])
        within = np.arange(len(self.owner)) - first[self.owner]
        self.point = np.where(copies[self.owner] > 1, within, -1)
        self.filled: dict[str, np.ndarray] = {}

    def get(self, col: str) -> np.ndarray:
        return self.filled[col] if col in self.filled else self.base[col][self.owner]

    def take(self, index: np.ndarray) -> None:
        self.owner = self.owner[index]
        self.point = self.point[index]
        self.filled = {k: v[index] for k, v in self.filled.items()}

    def columns(self) -> dict[str, np.ndarray]:
        return {k: self.get(k) for k in self.base}


def _expand(
    rows_so_far: _Rows,
    weight: np.ndarray,
    col: str,
    rows: np.ndarray,
    codes: np.ndarray,
    dists: Sequence[_Dist],
    u: np.ndarray | None,
) -> np.ndarray:
    """Replace each of ``rows`` of the full product by one row per plausible value of its
    distribution ``dists[codes]`` (weights multiplied), and give each row of the quasi-random
    design the value at its coordinate ``u`` (inverse distribution); returns the new weights."""
    grow = rows_so_far.point[rows] < 0
    sizes = np.array([len(d.values) for d in dists], dtype=np.int64)[codes]
    repeat = np.ones(len(rows_so_far.owner), dtype=np.int64)
    repeat[rows[grow]] = sizes[grow]
    index = np.repeat(np.arange(len(rows_so_far.owner)), repeat)
    starts = np.concatenate([[0], np.cumsum(repeat)[:-1]])
    current = rows_so_far.get(col)[index]
    values = current.astype(object) if current.dtype == object else current.astype(float)
    new_weight = weight[index].astype(float)
    for key, d in enumerate(dists):
        mine = codes == key
        k = len(d.values)
        g = rows[mine & grow]
        if len(g):
            at = (starts[g][:, None] + np.arange(k)[None, :]).ravel()
            values[at] = np.tile(d.values, len(g))
            new_weight[at] *= np.tile(d.weights / d.weights.sum(), len(g))
        drawn = mine & ~grow
        if drawn.any():
            assert u is not None
            cdf = np.cumsum(d.weights)
            pick = np.searchsorted(cdf, u[drawn] * cdf[-1], side="right")
            values[starts[rows[drawn]]] = d.values[np.minimum(pick, k - 1)]
    rows_so_far.take(index)
    rows_so_far.filled[col] = values
    nonzero = new_weight > 0
    if not nonzero.all():
        rows_so_far.take(np.flatnonzero(nonzero))
    return new_weight[nonzero]


def _sobol(dimensions: int, n: int) -> np.ndarray:
    """(n, dimensions) points of a scrambled Sobol' sequence, the same for the same arguments
    (seeded), built once per size."""
    key = (dimensions, n)
    cached = _SOBOL.get(key)
    if cached is None:
        engine = qmc.Sobol(
            d=max(dimensions, 1), scramble=True, rng=np.random.default_rng(DESIGN_SEED)
        )
        with warnings.catch_warnings():  # a size not a power of 2 loses balance, not validity
            warnings.simplefilter("ignore", UserWarning)
            cached = _SOBOL[key] = engine.random(n)
    return cached


_SOBOL: dict[tuple[int, int], np.ndarray] = {}


# -- helpers ----------------------------------------------------------------------------------


def _is_na(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def is_missing(values: np.ndarray) -> np.ndarray:
    """Which entries of a record array are unknown (NaN, or None for categories)."""
    if values.dtype == object:
        missing: np.ndarray = np.asarray(pd.isna(values), dtype=bool)
    else:
        missing = np.isnan(values.astype(float))
    return missing


def _column(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "categorical":
        return np.array(
            [None if _is_na(v) else str(v) for v in series.to_numpy(dtype=object)], dtype=object
        )
    return pd.to_numeric(series.astype(object), errors="coerce").to_numpy(dtype=float)


def _many(values: np.ndarray) -> bool:
    return len(np.unique(values[~np.isnan(values)])) > 4


def _edges(values: np.ndarray) -> list[float]:
    observed = values[~np.isnan(values)]
    return [float(e) for e in np.unique(np.quantile(observed, np.arange(1, 10) / 10))]


def _tokens(values: np.ndarray, edges: Sequence[float] | None) -> list[str | None]:
    """A parent column's stratum tokens: its level, 0/1, or its decile bin; None if unknown."""
    if values.dtype == object:
        return [None if _is_na(v) else str(v) for v in values]
    x = values.astype(float)
    if edges is not None:
        bins = np.searchsorted(np.asarray(edges), x, side="left")
        return [None if math.isnan(v) else f"b{b}" for v, b in zip(x, bins, strict=True)]
    return [None if math.isnan(v) else f"{v:g}" for v in x]


def _token_codes(values: np.ndarray, edges: Sequence[float] | None) -> tuple[np.ndarray, list[str]]:
    """``_tokens`` as codes (-1: unknown) and each code's token, one string per distinct value."""
    if values.dtype == object:
        levels, labels = pd.factorize(values, use_na_sentinel=True)
        return np.asarray(levels, dtype=np.int64), [str(u) for u in labels]
    x = values.astype(float)
    nan = np.isnan(x)
    if edges is not None:
        bins = np.searchsorted(np.asarray(edges), x, side="left")
        return np.where(nan, -1, bins).astype(np.int64), [f"b{b}" for b in range(len(edges) + 1)]
    found, distinct = pd.factorize(x, use_na_sentinel=True)
    return np.asarray(found, dtype=np.int64), [f"{v:g}" for v in distinct]


def _keys(tokens: Sequence[Sequence[str | None]], n: int) -> np.ndarray:
    keys = np.empty(n, dtype=object)
    for i in range(n):
        parts = [t[i] for t in tokens]
        keys[i] = None if any(p is None for p in parts) else "|".join(parts)  # type: ignore[arg-type]
    return keys


def _distribution(values: np.ndarray, kind: str) -> dict[str, Any]:
    missing = is_missing(values)
    observed = values[~missing]
    share = float(missing.mean()) if len(values) else 0.0
    if len(observed) == 0:
        return {"v": [], "w": [], "missing": share}
    if kind == "categorical":
        levels, counts = np.unique(observed.astype(str), return_counts=True)
        return {"v": levels.tolist(), "w": (counts / counts.sum()).tolist(), "missing": share}
    x = observed.astype(float)
    levels, counts = np.unique(x, return_counts=True)
    if len(levels) > SUPPORT:
        q = np.quantile(x, (np.arange(SUPPORT) + 0.5) / SUPPORT, method="inverted_cdf")
        levels, counts = np.unique(q, return_counts=True)
    return {
        "v": [float(v) for v in levels],
        "w": (counts / counts.sum()).tolist(),
        "missing": share,
    }
