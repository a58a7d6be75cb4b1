"""Logistic recalibration on local labelled data: a new calibration, the same trees.

The served log-odds are ``a + b * margin`` (``CalibratedBooster``); recalibration fits
``c + d * (a + b * margin)`` to local outcomes, so the new model is the old booster with the
calibration ``(c + d * a, d * b)``: again an affine map of the booster's log-odds, hence every
exact SHAP contribution is the old one times ``d`` and the base value ``c + d * base`` (the
explanation stays exact). The fit is by maximum likelihood of the *served* probability: where an
input is unknown the service averages the calibrated probability over its plausible values, so
the likelihood averages ``expit(c + d * l_k)`` over those completions too.

Rule (stated, and recorded with the model): intercept and slope are refitted when the fitting
rows hold at least ``min_events_for_slope`` events and non-events and the slope's 95% Wald CI
excludes 1; otherwise only the intercept (calibration in the large, ``d = 1``), which needs far
fewer events and cannot make the ranking worse.

The local rows are split (stratified, seeded) into fitting rows and held-out rows; the local
gate compares the challenger with the champion on the held-out rows only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.model_selection import train_test_split

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling import metrics
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.reference import with_reference
from hepatorisk.monitoring.thresholds import RecalibrationSpec

__all__ = [
    "GATE_BOOTSTRAP",
    "LocalGate",
    "Recalibration",
    "data_digest",
    "fit_recalibration",
    "local_gate",
    "local_split",
    "recalibrated",
]


#: bootstrap draws of the local gate's intervals (and of the recalibrated version's report)
GATE_BOOTSTRAP = 500


@dataclass(frozen=True)
class Recalibration:
    method: str  # "intercept" | "intercept+slope"
    intercept: float  # c
    slope: float  # d
    slope_lo: float  # 95% Wald CI of d in the intercept+slope fit
    slope_hi: float
    rows: int
    events: int
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_digest(records: pd.DataFrame, y: np.ndarray) -> str:
    """SHA-256 (first 16 hex) of the local rows and outcomes: the lineage of a recalibration."""
    hashed = pd.util.hash_pandas_object(records.reset_index(drop=True), index=False)
    h = hashlib.sha256(hashed.to_numpy().tobytes())
    h.update(np.asarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()[:16]


def local_split(y: np.ndarray, spec: RecalibrationSpec) -> tuple[np.ndarray, np.ndarray]:
    """Fitting and held-out row indices, stratified by outcome and seeded."""
    rows = np.arange(len(y))
    fit, held = train_test_split(rows, test_size=spec.held_out, stratify=y, random_state=spec.seed)
    return np.sort(fit), np.sort(held)


def _served_log_odds(
    bundle: ModelBundle, records: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-completion calibrated log-odds, their owner row and weight (one completion per row
    when nothing is averaged)."""
    completion = bundle.complete(records)
    if completion is None:
        z = bundle.model.decision_function(bundle.features.matrix(records))
        return z, np.arange(len(z)), np.ones(len(z)), len(z)
    z = bundle.model.decision_function(bundle.features.matrix(completion.columns))
    return z, completion.owner, completion.weight, completion.n


def _nll(
    theta: np.ndarray, y: np.ndarray, z: np.ndarray, owner: np.ndarray, w: np.ndarray, n: int
) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of the served probability and its gradient in (c, d)."""
    c, d = theta
    s = expit(c + d * z)
    p = np.clip(np.bincount(owner, w * s, minlength=n), 1e-12, 1 - 1e-12)
    ds = w * s * (1 - s)
    dc = np.bincount(owner, ds, minlength=n)
    dd = np.bincount(owner, ds * z, minlength=n)
    r = y / p - (1 - y) / (1 - p)
    value = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(value), np.array([-np.sum(r * dc), -np.sum(r * dd)])


def _fit(
    y: np.ndarray, z: np.ndarray, owner: np.ndarray, w: np.ndarray, n: int, slope: bool
) -> tuple[np.ndarray, np.ndarray]:
    """MLE of (c, d) (d fixed at 1 without ``slope``) and the covariance of the free ones."""
    if slope:
        done = minimize(_nll, np.array([0.0, 1.0]), args=(y, z, owner, w, n), jac=True,
                        method="BFGS")  # fmt: skip
        theta = done.x
        free = [0, 1]
    else:

        def one(c: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = _nll(np.array([c[0], 1.0]), y, z, owner, w, n)
            return value, grad[:1]

        done = minimize(one, np.array([0.0]), jac=True, method="BFGS")
        theta = np.array([done.x[0], 1.0])
        free = [0]
    hessian = np.zeros((len(free), len(free)))
    step = 1e-5
    for a, k in enumerate(free):
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        g_up = _nll(up, y, z, owner, w, n)[1][free]
        g_down = _nll(down, y, z, owner, w, n)[1][free]
        hessian[:, a] = (g_up - g_down) / (2 * step)
    try:
        cov = np.linalg.inv((hessian + hessian.T) / 2)
    except np.linalg.LinAlgError:
        cov = np.full((len(free), len(free)), np.nan)
    return theta, cov


def fit_recalibration(
    bundle: ModelBundle, records: pd.DataFrame, y: np.ndarray, spec: RecalibrationSpec
) -> Recalibration:
    """Fit the recalibration of ``bundle`` to local outcomes ``y`` by the stated rule."""
    y = np.asarray(y, dtype=float)
    if len(y) != len(records):
        raise DataContractError(f"{len(records)} records but {len(y)} outcomes")
    events = int(y.sum())
    if events == 0 or events == len(y):
        raise DataContractError(
            f"recalibration needs events and non-events; the fitting rows have {events} events "
            f"in {len(y)}"
        )
    z, owner, w, n = _served_log_odds(bundle, records)
    theta, cov = _fit(y, z, owner, w, n, slope=True)
    se = math.sqrt(cov[1, 1]) if np.isfinite(cov[1, 1]) and cov[1, 1] > 0 else math.nan
    lo, hi = theta[1] - 1.96 * se, theta[1] + 1.96 * se
    enough = min(events, len(y) - events) >= spec.min_events_for_slope
    excludes = math.isfinite(se) and not lo <= 1 <= hi
    if enough and excludes:
        method = "intercept+slope"
        rule = (
            f"slope {theta[1]:.2f} [{lo:.2f}, {hi:.2f}] excludes 1 with "
            f"{min(events, len(y) - events)} >= {spec.min_events_for_slope} events: "
            "intercept and slope refitted"
        )
    else:
        why = (
            f"only {min(events, len(y) - events)} < {spec.min_events_for_slope} events"
            if not enough
            else f"slope {theta[1]:.2f} [{lo:.2f}, {hi:.2f}] includes 1"
        )
        method, rule = "intercept", f"{why}: intercept only (calibration in the large)"
        theta, _ = _fit(y, z, owner, w, n, slope=False)
    return Recalibration(
        method, float(theta[0]), float(theta[1]), float(lo), float(hi), len(y), events, rule
    )


def recalibrated(
    bundle: ModelBundle,
    recalibration: Recalibration,
    lineage: dict[str, Any],
    reference_rows: pd.DataFrame | None = None,
) -> ModelBundle:
    """The bundle with the recalibration composed into its calibration, and its lineage.

    ``reference_rows`` (the local fitting rows) become its monitoring reference: drift is
    watched from the population it was recalibrated on."""
    c, d = recalibration.intercept, recalibration.slope
    ensemble = bundle.ensemble
    if ensemble is not None:  # the members move with the served model: the range follows it
        members = [_composed(m, c, d) for m in ensemble.members]
        ensemble = replace(ensemble, members=members)
    history = [*bundle.metadata.get("recalibrations", []), recalibration.as_dict() | lineage]
    metadata = bundle.metadata | {"recalibrations": history}
    out = replace(bundle, model=_composed(bundle.model, c, d), metadata=metadata, ensemble=ensemble)
    return with_reference(out, reference_rows) if reference_rows is not None else out


def _composed(model: CalibratedBooster, c: float, d: float) -> CalibratedBooster:
    """``model`` with ``c + d * log-odds`` composed into its calibration (and into its
    per-landmark terms), the trees shared: still affine, so SHAP stays exact."""
    a, b = model.calibration_
    knots = model.__dict__.get("landmark_calibration_", ())
    composed = tuple((week, c + d * ka, d * kb) for week, ka, kb in knots)
    return model.with_calibration((c + d * a, d * b), composed)


@dataclass(frozen=True)
class LocalGate:
    passed: bool
    reasons: list[str]
    champion: dict[str, float]
    challenger: dict[str, float]


def _measures(y: np.ndarray, p: np.ndarray, seed: int) -> dict[str, float]:
    ci = metrics.bootstrap_metrics(y, p, n_boot=GATE_BOOTSTRAP, seed=seed)
    out: dict[str, float] = {}
    for name in ("auroc", "brier", "cal_slope", "cal_intercept"):
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = (
            ci[name].estimate,
            ci[name].lo,
            ci[name].hi,
        )
    return out


def local_gate(
    y: np.ndarray, p_champion: np.ndarray, p_challenger: np.ndarray, spec: RecalibrationSpec
) -> LocalGate:
    """Challenger vs champion on the held-out local rows: calibration no worse in the large,
    slope within range, Brier no worse, ranking kept."""
    champ = _measures(y, p_champion, spec.seed)
    chall = _measures(y, p_challenger, spec.seed)
    reasons: list[str] = []
    passed = True

    def check(ok: bool, text: str) -> None:
        nonlocal passed
        reasons.append(f"{'pass' if ok else 'FAIL'}: {text}")
        passed = passed and ok

    check(
        abs(chall["cal_intercept"]) <= abs(champ["cal_intercept"])
        or chall["cal_intercept_lo"] <= 0 <= chall["cal_intercept_hi"],
        f"calibration intercept {chall['cal_intercept']:+.2f} [{chall['cal_intercept_lo']:+.2f}, "
        f"{chall['cal_intercept_hi']:+.2f}] (champion {champ['cal_intercept']:+.2f}): its CI "
        "holds 0 or it is closer to 0",
    )
    low, high = spec.slope_range
    check(
        low <= chall["cal_slope"] <= high,
        f"calibration slope {chall['cal_slope']:.2f} [{chall['cal_slope_lo']:.2f}, "
        f"{chall['cal_slope_hi']:.2f}] within [{low}, {high}] (champion {champ['cal_slope']:.2f})",
    )
    check(
        chall["brier"] <= champ["brier"] + 1e-9,
        f"Brier {chall['brier']:.4f} <= champion's {champ['brier']:.4f}",
    )
    check(
        chall["auroc"] >= champ["auroc"] - 0.01,
        f"AUROC {chall['auroc']:.3f} >= champion's {champ['auroc']:.3f} - 0.01 (ranking kept)",
    )
    return LocalGate(passed, reasons, champ, chall)
