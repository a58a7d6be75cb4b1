"""Input and prediction drift against the model's training reference.

Measure: the population stability index (PSI) over the reference's bins, with missing values as
a bin of their own: ``sum((c - r) * ln(c / r))`` over bins, where ``r`` and ``c`` are the
reference's and the window's shares, each floored at ``FLOOR`` so that an empty bin counts as
rare, not impossible. Numeric columns are binned at the reference's deciles (the bundle's
``monitoring_reference``, written at training on the calibration rows) and categorical columns
by level (a level the reference never saw is a bin of its own). PSI is symmetric, needs no
tuning beyond the bins, is comparable across columns of any kind, and its conventional reading
(< 0.1 stable, 0.1-0.25 moderate, >= 0.25 large shift) is what the thresholds default to.
The missing share is also compared on its own: a column that stops being sent is a data
problem even when its known values look alike.

A bundle without a reference (trained before it existed) is compared with the marginal
distributions its feature builder keeps for unknown inputs (at most 8 support points: bins
between their midpoints), and the report says which reference was used.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.reference import REFERENCE_KEY
from hepatorisk.modeling.unknowns import is_missing
from hepatorisk.monitoring.thresholds import MonitoringSpec

__all__ = [
    "FLOOR",
    "FeatureDrift",
    "PredictionDrift",
    "band_shares",
    "input_drift",
    "prediction_drift",
    "psi",
    "reference_of",
]

#: smallest share a bin is given in the PSI (an empty bin is rare, not impossible)
FLOOR = 1e-4


@dataclass(frozen=True)
class FeatureDrift:
    column: str
    kind: str
    psi: float
    missing_reference: float
    missing_now: float
    n: int
    status: str  # stable | warn | flag
    reason: str


@dataclass(frozen=True)
class PredictionDrift:
    psi: float | None  # None: the bundle has no prediction reference
    mean_reference: float | None
    mean_now: float
    n: int
    status: str
    reason: str


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index of two share vectors over the same bins."""
    r = np.maximum(np.asarray(reference, dtype=float), FLOOR)
    c = np.maximum(np.asarray(current, dtype=float), FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def reference_of(bundle: ModelBundle) -> tuple[dict[str, Any], str]:
    """The bundle's training reference and where it came from."""
    stored = bundle.metadata.get(REFERENCE_KEY)
    if stored:
        return stored, f"training reference ({stored.get('rows', '?')} {stored.get('source')})"
    plausible = bundle.features.plausible_
    features: dict[str, Any] = {}
    for col, table in (plausible.tables if plausible else {}).items():
        marginal = table["strata"][0].get("") if table["strata"] else None
        if marginal is None:
            continue
        w = np.asarray(marginal["w"], dtype=float)
        w = w / w.sum() if w.sum() else w
        if table["kind"] == "categorical":
            features[col] = {
                "kind": "categorical",
                "levels": [str(v) for v in marginal["v"]],
                "shares": w.tolist(),
                "missing": float(marginal["missing"]),
            }
        else:
            v = np.asarray(marginal["v"], dtype=float)
            features[col] = {
                "kind": "numeric",
                "edges": ((v[1:] + v[:-1]) / 2).tolist(),
                "shares": w.tolist(),
                "missing": float(marginal["missing"]),
            }
    return {"features": features}, "feature builder's marginals (no training reference stored)"


def _binned(values: np.ndarray, ref: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """Reference and current shares over the reference's bins plus the missing bin."""
    miss = is_missing(values)
    known = values[~miss]
    n = max(len(values), 1)
    m_ref = float(ref["missing"])
    ref_known = [s * (1 - m_ref) for s in ref["shares"]]
    if ref["kind"] == "categorical":
        counts = Counter(str(v) for v in known)
        levels = list(ref["levels"])
        current = [counts.pop(level, 0) / n for level in levels]
        other = sum(counts.values()) / n  # levels the reference never saw
        return [*ref_known, 0.0, m_ref], [*current, other, float(miss.sum()) / n]
    edges = np.asarray(ref["edges"], dtype=float)
    idx = np.searchsorted(edges, known.astype(float), side="left")
    counts_num = np.bincount(idx, minlength=len(edges) + 1) / n
    return [*ref_known, m_ref], [*counts_num.tolist(), float(miss.sum()) / n]


def input_drift(
    bundle: ModelBundle, arrays: Mapping[str, np.ndarray], spec: MonitoringSpec
) -> tuple[list[FeatureDrift], str]:
    """Each input column's PSI and missing shares against the reference, largest PSI first."""
    reference, source = reference_of(bundle)
    out = []
    for col, ref in reference["features"].items():
        if col not in arrays:
            continue
        values = np.asarray(arrays[col])
        r, c = _binned(values, ref)
        value = psi(r, c)
        missing_now = c[-1]
        change = missing_now - float(ref["missing"])
        reasons = []
        status = "stable"
        if value >= spec.psi_flag:
            status, reasons = "flag", [f"PSI {value:.2f} >= {spec.psi_flag}"]
        elif value >= spec.psi_warn:
            status, reasons = "warn", [f"PSI {value:.2f} >= {spec.psi_warn}"]
        if abs(change) >= spec.missing_change:
            status = "flag"
            reasons.append(
                f"missing {missing_now:.0%} vs {float(ref['missing']):.0%} in the reference"
            )
        out.append(
            FeatureDrift(
                col,
                ref["kind"],
                value,
                float(ref["missing"]),
                missing_now,
                len(values),
                status,
                "; ".join(reasons) or "stable",
            )
        )
    return sorted(out, key=lambda d: -d.psi), source


def prediction_drift(
    bundle: ModelBundle, probabilities: np.ndarray, spec: MonitoringSpec
) -> PredictionDrift:
    """PSI of the served probabilities over the reference's probability deciles."""
    p = np.asarray(probabilities, dtype=float)
    ref = (bundle.metadata.get(REFERENCE_KEY) or {}).get("prediction")
    mean_now = float(p.mean()) if len(p) else math.nan
    if not ref:
        return PredictionDrift(
            None, None, mean_now, len(p), "unknown", "the model stores no prediction reference"
        )
    r, c = _binned(p, ref)
    value = psi(r, c)
    flagged = value >= spec.prediction_psi_flag
    return PredictionDrift(
        value,
        float(ref["mean"]),
        mean_now,
        len(p),
        "flag" if flagged else "stable",
        f"PSI {value:.2f} {'>=' if flagged else '<'} {spec.prediction_psi_flag}; mean predicted "
        f"{mean_now:.3f} vs {float(ref['mean']):.3f} in the reference",
    )


def band_shares(bands: Sequence[str]) -> dict[str, float]:
    """Share of predictions in each risk band."""
    counts = Counter(bands)
    total = max(sum(counts.values()), 1)
    return {band: counts[band] / total for band in sorted(counts)}
