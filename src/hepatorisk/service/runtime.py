"""A served model: the registered bundle, asked in the shapes the service works with.

Everything goes through ``ModelBundle`` (feature builder, booster, calibration): the service
has no feature code of its own, so what it serves is exactly what was trained, registered and
reported. The service hands over columns (name -> values), which the bundle reads as they are:
no DataFrame is built per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.modeling.bundle import Explanation
from hepatorisk.modeling.loading import LoadedModel

__all__ = ["Explanation", "ServedModel"]

Columns = Mapping[str, Any]  # column -> values (numbers, true/false, text or None)


class ServedModel:
    """Probability and contributions of one served model, for columns of patient records."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        bundle = loaded.bundle
        self.feature_names: list[str] = list(bundle.features.feature_names_out_)
        members = bundle.group_members()
        self.group_names = list(members)
        self.group_labels = [bundle.label(g) for g in self.group_names]
        # record columns each clinical variable is computed from (a derived input's sources)
        sources = bundle.features.sources_
        self.group_sources = {
            g: sorted({s for m in cols for s in sources[m]}) for g, cols in members.items()
        }

    def inputs(self, columns: Columns) -> pd.DataFrame:
        """The model inputs the bundle builds from these records (derived ones included)."""
        return self.loaded.bundle.features.transform(columns)

    def probability(self, columns: Columns) -> np.ndarray:
        return self.loaded.bundle.predict_proba(columns)

    def contributions(self, columns: Columns) -> Explanation:
        """Exact SHAP on the calibrated log-odds scale; ``base + inputs.sum(1) == log_odds``."""
        return self.loaded.bundle.explain(columns)

    def explain_then_predict(
        self, columns: Columns, explained: int
    ) -> tuple[Explanation, np.ndarray]:
        """The first ``explained`` rows explained, the rest only predicted, from one feature
        build (an assessment's patients, then their what-if records)."""
        bundle = self.loaded.bundle
        X = bundle.features.matrix(columns)
        return bundle.explain_matrix(X[:explained]), bundle.model.predict_proba(X[explained:])[:, 1]
