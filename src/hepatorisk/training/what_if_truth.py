"""The dose what-if against the truth: the model's change on an edited record beside the
cohort's true effect of that dose change and the naive association, on synthetic test rows.

The service's what-if edits a kratom user's record (``hepatorisk.training.dose_edit``) and asks
the model again; here the same edit is applied to the kratom users among a synthetic cohort's
test rows, and the change in the model's probability is compared with the generator's true
change (``true_risks`` with ``Intervention(factor)`` minus ``Intervention(1.0)``: the dose kept,
with no later change) and with the naive associational change in the same rows
(``hepatorisk.cohorts.synthetic.effect``). Changes are probabilities (0.05 = 5 points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepatorisk.cohorts.synthetic.effect import _naive
from hepatorisk.cohorts.synthetic.generate import Intervention, true_risks
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.training.dose_edit import edited_records

__all__ = ["DOSE_CHANGES", "what_if_metrics", "what_if_truth"]

# metric-key name -> dose factor (the service's default scenarios: policy what_if.dose_multipliers)
DOSE_CHANGES = {"stop": 0.0, "half": 0.5, "1p5x": 1.5}


def what_if_truth(
    bundle: ModelBundle,
    records: pd.DataFrame,
    y: np.ndarray,
    config: GeneratorConfig,
    oracle: str,
) -> pd.DataFrame:
    """One row per dose change: on the kratom users among ``records`` (test rows, outcome ``y``),
    the mean model change, the mean true change in ``oracle`` (a ``true_risks`` column), their
    mean absolute difference and mean difference (bias), and the naive change. Empty without
    kratom users."""
    users = (records["kratom_product"].astype("string") != "none").fillna(False).to_numpy()
    if not users.any():
        return pd.DataFrame()
    frame = records[users]
    p_now = bundle.predict_proba(frame)
    kept_true = true_risks(frame, config, Intervention(1.0))[oracle].to_numpy(dtype=float)
    mg = (frame["kratom_dose_g_day"] * frame["mitragynine_mg_per_g"]).to_numpy(dtype=float)
    rows = []
    for name, factor in DOSE_CHANGES.items():
        edited, has = edited_records(frame, factor)
        model = bundle.predict_proba(edited) - p_now[has]
        truth = true_risks(frame[has], config, Intervention(factor))[oracle].to_numpy(dtype=float)
        true = truth - kept_true[has]
        ok = np.isfinite(true)  # liver: NaN for a prevalent abnormality (not at risk)
        error = model[ok] - true[ok]
        rows.append(
            {
                "dose_change": name,
                "dose_factor": factor,
                "n": int(ok.sum()),
                "model_mean": float(np.mean(model[ok])),
                "true_mean": float(np.mean(true[ok])),
                "naive": _naive(y.astype(float), users, mg, factor),
                "mae": float(np.mean(np.abs(error))),
                "bias": float(np.mean(error)),
            }
        )
    return pd.DataFrame(rows)


def what_if_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The table as run metrics: ``whatif_<change>_<column>`` (e.g. ``whatif_stop_mae``)."""
    out: dict[str, float] = {}
    for row in table.to_dict("records"):
        for column in ("n", "model_mean", "true_mean", "naive", "mae", "bias"):
            out[f"whatif_{row['dose_change']}_{column}"] = float(row[column])
    return out
