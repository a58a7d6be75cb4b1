"""A served model: the registered bundle, asked in the shapes the service works with.

Everything goes through ``ModelBundle`` (feature builder, booster, calibration): the service
has no feature code of its own, so what it serves is exactly what was trained, registered and
reported. The service hands over columns (name -> values); this adapter makes the frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from hepatorisk.modeling.loading import LoadedModel

__all__ = ["Contributions", "ServedModel"]

Columns = Mapping[str, Any]  # column -> values (numbers, true/false, text or None)


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


class ServedModel:
    """Probability and contributions of one served model, for columns of patient records."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        bundle = loaded.bundle
        self.feature_names: list[str] = list(bundle.features.feature_names_out_)
        members = bundle.group_members()
        self.group_names = list(members)

    def inputs(self, columns: Columns) -> pd.DataFrame:
        """The model inputs the bundle builds from these records (derived ones included)."""
        return self.loaded.bundle.features.transform(pd.DataFrame(dict(columns)))

    def probability(self, columns: Columns) -> np.ndarray:
        return self.loaded.bundle.predict_proba(pd.DataFrame(dict(columns)))

    def contributions(self, columns: Columns) -> Contributions:
        e = self.loaded.bundle.explain(pd.DataFrame(dict(columns)))
        inputs = e.contributions[self.feature_names].to_numpy()
        groups = e.grouped[self.group_names].to_numpy()
        return Contributions(e.base_value, inputs, groups, e.log_odds, e.probability)


def _to_probability(c: Contributions, parts: np.ndarray) -> np.ndarray:
    total = c.log_odds - c.base
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[:, None] != 0, parts / total[:, None], 0.0)
    return (c.probability - expit(c.base))[:, None] * share
