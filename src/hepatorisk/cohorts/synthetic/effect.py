"""The true effect of changing the kratom dose, beside what a naive look at the cohort suggests.

The generator knows its mechanism, so it can answer the counterfactual exactly: each user's risk
had the dose been set to a multiple of the recorded one from entry on (``true_risks`` with an
``Intervention``: latents integrated out as for the oracle). A naive analysis compares people
who take different doses; because kratom use and dose follow withdrawal, craving, pain and failed
treatment (confounding by indication), that association is not the effect. This table is the
ground truth the product's dose what-if is measured against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from hepatorisk.cohorts.synthetic.generate import Intervention, SyntheticCohort, true_risks

__all__ = ["DOSE_CHANGES", "dose_effects"]

DOSE_CHANGES = {"stop": 0.0, "half": 0.5, "1.5x": 1.5}
_OUTCOMES = {"liver_event_24w": "p_liver_24w_true", "relapse_24w": "p_relapse_24w_true"}


def dose_effects(cohort: SyntheticCohort) -> pd.DataFrame:
    """Per dose change and outcome: the true mean change in risk among users and the naive
    (associational) change estimated from the same cohort."""
    p, o = cohort.patients, cohort.outcomes
    users = (p["kratom_product"] != "none").to_numpy()
    record = p[users]
    keep = true_risks(record, cohort.config, Intervention(1.0))
    changed = {
        name: true_risks(record, cohort.config, Intervention(factor))
        for name, factor in DOSE_CHANGES.items()
    }
    mg = (record["kratom_dose_g_day"] * record["mitragynine_mg_per_g"]).to_numpy(dtype=float)
    rows = []
    for outcome, column in _OUTCOMES.items():
        observed = o[outcome].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        for name, factor in DOSE_CHANGES.items():
            true = np.nanmean(changed[name][column].to_numpy() - keep[column].to_numpy())
            rows.append(
                {
                    "dose change": name,
                    "outcome": outcome,
                    "true change": float(true),
                    "naive change": _naive(observed, users, mg, factor),
                }
            )
    table = pd.DataFrame(rows)
    table["naive - true"] = table["naive change"] - table["true change"]
    return table


def _naive(observed: np.ndarray, users: np.ndarray, mg: np.ndarray, factor: float) -> float:
    """Stop: non-users' rate minus users'. Other changes: an unadjusted logistic regression of
    the outcome on log2 daily mitragynine among users, moved by log2(factor)."""
    known = ~np.isnan(observed)
    if factor == 0.0:
        return float(np.mean(observed[known & ~users]) - np.mean(observed[known & users]))
    y = observed[users]
    x = np.log2(mg)[:, None]
    ok = ~np.isnan(y)
    if len(np.unique(y[ok])) < 2:
        return float("nan")
    model = LogisticRegression(C=1e6).fit(x[ok], y[ok].astype(int))
    moved = model.predict_proba(x[ok] + np.log2(factor))[:, 1]
    return float(np.mean(moved - model.predict_proba(x[ok])[:, 1]))
