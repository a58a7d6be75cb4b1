"""The report's scenario table (issue 13 item 4): on the test rows, the served model's mean
predicted risk beside the scenario models' (the same recipe refitted on the cohort generated
under the low and high scenarios of kratom's effects), for kratom users and non-users."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.modeling.bundle import ModelBundle

__all__ = ["scenario_section"]


def scenario_section(
    bundle: ModelBundle, test: pd.DataFrame, p_model: np.ndarray
) -> dict[str, Any] | None:
    """Mean risks by kratom use at entry (None when the model carries no scenario models, or
    the records do not say who uses kratom)."""
    scenarios = getattr(bundle, "scenarios", None)
    if scenarios is None or not scenarios.models or "kratom_product" not in test.columns:
        return None
    risks = {scenarios.served: np.asarray(p_model, dtype=float)}
    risks |= bundle.scenario_probabilities(test)
    user = (test["kratom_product"].astype("string") != "none").fillna(True).to_numpy(dtype=bool)
    rows = []
    for group, mask in (("kratom users", user), ("non-users", ~user)):
        if mask.any():
            mean = {name: float(p[mask].mean()) for name, p in risks.items()}
            rows.append({"group": group, "n": int(mask.sum()), "mean": mean})
    order = [s for s in ("low", "central", "high") if s in risks]
    return {
        "served": scenarios.served,
        "scenarios": order,
        "rows": rows,
        "noise_points": scenarios.noise_points,
    }
