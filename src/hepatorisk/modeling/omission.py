"""How an omitted field is scored, measured: against the average over its plausible values.

For each optional field and each evaluated record where the field is known:

* ``omitted``: the bundle's risk with the field left out (a lab with its reference limit);
* ``plausible``: the mean risk over the field's values in the ``donors`` reference rows nearest
  to the record on the field's parents (``unknowns.GIVEN``, the cohort's generating structure;
  numeric parents scaled by their interquartile range, categories by mismatch), the rest of the
  record as given. For a field without parents, donors are random reference rows: its
  empirical marginal (housing and employment are independent of the rest by construction).
  This is deliberately not the bundle's own stored quantiles, so that the check is not circular;
* ``false``: the risk with the field set to false/0 (yes/no and count fields).

The report gives per field the mean and largest |omitted - plausible| in percentage points, and
how often the omitted answer equals the false/0 answer where that differs from the plausible
average by more than 2 points. ``raw=True`` measures the trees alone (before issue 13's fix).

Run on a bigger cohort without a script::

    python -m hepatorisk.modeling.omission COHORT_DIR [--rows 400] [--donors 20]

which fits both synthetic outcomes' bundles on 75% of the patients and measures on the rest.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.unknowns import GIVEN, LIMIT_OF, OPTIONAL_FIELDS

__all__ = ["kratom_user_checks", "omission_report"]

_NO_ZERO = {"bmi", "ast_u_l", "ggt_u_l", "albumin_g_dl", "inr", "platelets_10e9_l"}
_LIMITS = {lab: limit for limit, lab in LIMIT_OF.items()}


def _predict(bundle: ModelBundle, records: pd.DataFrame, raw: bool) -> np.ndarray:
    if raw:
        return bundle.model.predict_proba(bundle.features.matrix(records))[:, 1]
    return bundle.predict_proba(records)


def raw_bundle(bundle: ModelBundle) -> ModelBundle:
    """The same trees without unknown-input handling (what format 1 served)."""
    out = copy.copy(bundle)
    out.features = copy.copy(bundle.features)
    out.features.plausible_ = None
    return out


def omission_report(
    bundle: ModelBundle,
    records: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    *,
    fields: Sequence[str] | None = None,
    donors: int = 60,
    max_rows: int = 300,
    seed: int = 0,
    raw: bool = False,
) -> pd.DataFrame:
    """One row per optional field the model reads (see the module's docstring)."""
    reference = records if reference is None else reference
    inputs = set(bundle.input_columns)
    wanted = [f for f in (fields or OPTIONAL_FIELDS) if f in inputs and f in records.columns]
    rng = np.random.default_rng(seed)
    rows = []
    for f in wanted:
        cols = [f] + ([_LIMITS[f]] if f in _LIMITS and _LIMITS[f] in records.columns else [])
        known = records[records[f].notna()]
        if known.empty:
            continue
        if len(known) > max_rows:
            known = known.iloc[np.sort(rng.choice(len(known), max_rows, replace=False))]
        known = known.reset_index(drop=True)
        pool = reference[reference[f].notna()].reset_index(drop=True)
        parents = [g for g in GIVEN.get(f, ()) if g in records]
        chosen = _donors(known, pool, parents, donors, rng)
        plausible = _plausible(bundle, known, pool, chosen, cols, raw)
        m = len(known)
        omitted_records = known.copy()
        for c in cols:
            omitted_records[c] = None
        omitted = _predict(bundle, omitted_records, raw)
        diff = (omitted - plausible) * 100
        row = {
            "field": f,
            "rows": m,
            "mean_abs_points": float(np.abs(diff).mean()),
            "max_abs_points": float(np.abs(diff).max()),
            "mean_signed_points": float(diff.mean()),
            "far_from_false": 0,
            "equal_to_false": 0,
        }
        if f not in _NO_ZERO and _zero_allowed(records[f]):
            zero = known.copy()
            zero[f] = _zero(records[f], m)
            false = _predict(bundle, zero, raw)
            far = np.abs(plausible - false) * 100 > 2
            row["far_from_false"] = int(far.sum())
            row["equal_to_false"] = int((far & (np.abs(omitted - false) < 1e-9)).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _plausible(
    bundle: ModelBundle,
    known: pd.DataFrame,
    pool: pd.DataFrame,
    chosen: np.ndarray,
    cols: list[str],
    raw: bool,
) -> np.ndarray:
    """Each row's mean risk over its donors' values of the field, each distinct value
    predicted once and weighted by how many donors have it."""
    donor_values = pool[cols].astype(object).to_numpy()
    rows, picks, weights = [], [], []
    for i, donors in enumerate(chosen):
        keys = [repr(tuple(v)) for v in donor_values[donors]]
        values, counts = np.unique(np.array(keys), return_counts=True)
        first = {key: d for d, key in zip(donors, keys, strict=True)}
        for key, c in zip(values, counts, strict=True):
            rows.append(i)
            picks.append(first[key])
            weights.append(c / len(donors))
    varied = known.loc[rows].reset_index(drop=True)
    for c in cols:
        varied[c] = pool[c].to_numpy()[picks]
    p = _predict(bundle, varied, raw)
    return np.bincount(np.asarray(rows), np.asarray(weights) * p, minlength=len(known))


def kratom_user_checks(
    bundle: ModelBundle, records: pd.DataFrame, raw: bool = False
) -> dict[str, int]:
    """Kratom users (a product and a dose > 0) with their content omitted, or their product
    omitted: how many are scored exactly as the same record with kratom stopped, among those
    whose risk as given differs from it by more than half a point."""
    users = records[
        (records["kratom_product"].astype(str) != "none") & (records["kratom_dose_g_day"] > 0)
    ]
    users = users.reset_index(drop=True)
    stopped = users.copy()
    stopped["kratom_product"] = "none"
    stopped["kratom_dose_g_day"] = 0.0
    for c in ("mitragynine_mg_per_g", "kratom_use_weeks"):
        if c in stopped:
            stopped[c] = None
    p_none = _predict(bundle, stopped, raw)
    differs = np.abs(_predict(bundle, users, raw) - p_none) > 0.005
    out = {"users": len(users), "users_kratom_moves_risk": int(differs.sum())}
    for name, cols in (
        ("content_unknown", ["mitragynine_mg_per_g"]),
        ("product_unknown", ["kratom_product"]),
        ("product_and_content_unknown", ["kratom_product", "mitragynine_mg_per_g"]),
    ):
        unknown = users.copy()
        for c in cols:
            unknown[c] = pd.Series([None] * len(unknown), dtype=object)
        p = _predict(bundle, unknown, raw)
        # read as a non-user: the unknown went down the trees' missing branch (not averaged)
        # and landed on the non-user's risk; an average over plausible values that happens to
        # equal it (small trees put every plausible content in the non-user's leaves) is not
        completion = None if raw else bundle.complete(unknown)
        averaged = np.zeros(len(unknown), dtype=bool)
        if completion is not None:
            for c in cols:
                averaged |= completion.marginalised.get(c, np.zeros(len(unknown), dtype=bool))
        same = differs & (np.abs(p - p_none) < 1e-9) & ~averaged
        out[f"{name}_scored_as_non_user"] = int(same.sum())
    return out


def _categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
        series.dtype
    )


def _zero_allowed(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype)


def _zero(series: pd.Series, m: int) -> list[bool] | np.ndarray:
    return [False] * m if pd.api.types.is_bool_dtype(series.dtype) else np.zeros(m)


def _donors(
    rows: pd.DataFrame, pool: pd.DataFrame, parents: list[str], k: int, rng: np.random.Generator
) -> np.ndarray:
    """(rows x k) indices into ``pool``: the nearest on the parents (random ties), or random."""
    k = min(k, len(pool))
    distance = rng.random((len(rows), len(pool))) * 1e-6
    for g in parents:
        a, b = rows[g], pool[g]
        if isinstance(a.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(a.dtype):
            x = a.astype("string").to_numpy(dtype=object)
            y = b.astype("string").to_numpy(dtype=object)
            known = pd.notna(x)[:, None] & pd.notna(y)[None, :]
            # a different level weighs more than any numeric distance: same levels first
            distance += np.where(known, 10.0 * (x[:, None] != y[None, :]), 0.5)
        else:
            x = pd.to_numeric(a.astype(object), errors="coerce").to_numpy(dtype=float)
            y = pd.to_numeric(b.astype(object), errors="coerce").to_numpy(dtype=float)
            q1, q3 = np.nanquantile(y, [0.25, 0.75])
            scale = (q3 - q1) or (np.nanstd(y) or 1.0)
            d = np.abs(x[:, None] - y[None, :]) / scale
            distance += np.where(np.isnan(d), 0.5, np.minimum(d, 1.0))
    return np.argpartition(distance, k - 1, axis=1)[:, :k]


def _fit(
    records: pd.DataFrame, y: np.ndarray, registered: str, derived: dict[str, str]
) -> ModelBundle:
    """A bundle with a synthetic pipeline's derived features and a small booster, for the report."""
    from hepatorisk.modeling.estimators import CalibratedBooster
    from hepatorisk.modeling.features import FeatureBuilder

    n_fit = int(len(records) * 0.8)
    features = FeatureBuilder(columns=tuple(records.columns), derived=derived).fit(
        records.iloc[:n_fit]
    )
    X = features.transform(records)
    model = CalibratedBooster(
        n_estimators=120, learning_rate=0.05, num_leaves=4, min_child_samples=50, random_state=7
    )
    model.fit(X.iloc[:n_fit], y[:n_fit], X.iloc[n_fit:], y[n_fit:])
    return ModelBundle(features, model, {"registered_model": registered})


def main(argv: Sequence[str] | None = None) -> None:
    from hepatorisk.cohorts.synthetic import load_cohort

    parser = argparse.ArgumentParser(prog="python -m hepatorisk.modeling.omission")
    parser.add_argument("cohort")
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--donors", type=int, default=60)
    parser.add_argument(
        "--pipeline",
        default="pipelines/_synthetic_base.yaml",
        help="pipeline file whose features.derived the bundles use",
    )
    args = parser.parse_args(argv)
    from pathlib import Path

    import yaml

    derived = yaml.safe_load(Path(args.pipeline).read_text())["features"]["derived"]
    cohort = load_cohort(Path(args.cohort))
    pd.set_option("display.width", 200)
    for outcome in ("liver_event_12w", "relapse_12w"):
        at_risk = cohort.outcomes[outcome].notna().to_numpy()
        records = cohort.patients[at_risk].drop(columns="patient_id").reset_index(drop=True)
        y = cohort.outcomes[outcome][at_risk].to_numpy(dtype=int)
        cut = int(len(records) * 0.75)
        bundle = _fit(records.iloc[:cut], y[:cut], outcome, derived)
        test, train = records.iloc[cut:].reset_index(drop=True), records.iloc[:cut]
        for label, raw in (("trees alone (before)", True), ("with unknown handling", False)):
            report = omission_report(
                bundle, test, train, donors=args.donors, max_rows=args.rows, raw=raw
            )
            checks = kratom_user_checks(bundle, test.iloc[: args.rows * 2], raw=raw)
            sys.stdout.write(
                f"\n{outcome}: {label}, {len(test)} test patients\n"
                f"{report.round(2).to_string(index=False)}\n{checks}\n"
            )


if __name__ == "__main__":
    main()
