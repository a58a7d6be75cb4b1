"""The bootstrap ensemble behind each probability's uncertainty range (``modeling.uncertainty``).

Resampling is by patient: a landmark dataset repeats a patient at every week still at risk, and
those rows are not independent, so a member draws patients with replacement and takes all of
each drawn patient's rows. Each member repeats the served recipe (parameters, calibration form)
on its own resample of the training patients and of the calibration patients; every draw is
seeded from ``model.uncertainty.seed``.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from hepatorisk.exceptions import ConfigError
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.training.spec import UncertaintySpec

__all__ = ["bootstrap_rows", "calibrate_members", "fit_members"]


def bootstrap_rows(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one patient-level bootstrap resample (a drawn patient's rows repeated as
    often as the patient was drawn)."""
    codes, uniques = pd.factorize(pd.Series(groups, dtype="string"))
    draws = rng.integers(0, len(uniques), len(uniques))
    times = np.bincount(draws, minlength=len(uniques))[codes]
    return np.repeat(np.arange(len(groups)), times)


def fit_members(
    template: CalibratedBooster,
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    spec: UncertaintySpec,
) -> list[CalibratedBooster]:
    """``spec.members`` boosters with ``template``'s parameters, each trained on a bootstrap of
    the training patients (not calibrated yet: ``calibrate_members``)."""
    rng = np.random.default_rng([spec.seed, 0])
    members = []
    for k in range(spec.members):
        rows = bootstrap_rows(groups, rng)
        params = template.get_params() | {"random_state": template.random_state + 1 + k}
        members.append(CalibratedBooster(**params).fit(X.iloc[rows], y[rows]))
    return members


def calibrate_members(
    members: list[CalibratedBooster],
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    spec: UncertaintySpec,
) -> list[CalibratedBooster]:
    """Each member calibrated (in the served form) on its own bootstrap of the calibration
    patients; new objects, the fitted trees shared."""
    rng = np.random.default_rng([spec.seed, 1])
    out = []
    for member in members:
        rows = _with_both_outcomes(groups, y, rng)
        out.append(copy.copy(member).calibrate(X.iloc[rows], y[rows]))
    return out


#: resamples drawn before a calibration bootstrap without an event (or without a non-event)
#: is refused: with so few events the range would say nothing
MAX_DRAWS = 50


def _with_both_outcomes(groups: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A patient-level bootstrap of the calibration rows holding events and non-events (a
    logistic calibration needs both; with few events a draw can miss them all), redrawn from
    the same seeded stream, so the result is still reproducible."""
    for _ in range(MAX_DRAWS):
        rows = bootstrap_rows(groups, rng)
        if 0 < y[rows].sum() < len(rows):
            return rows
    raise ConfigError(
        f"model.uncertainty: {MAX_DRAWS} bootstrap resamples of the calibration rows "
        f"({int(y.sum())} events in {len(y)} rows) held no event or no non-event; too few "
        "events for an uncertainty range: set model.uncertainty.members=0 or use more patients"
    )
