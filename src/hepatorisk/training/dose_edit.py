"""The record edit of a dose what-if, one definition for the service and the pipeline.

The service (``hepatorisk.assessment.what_if``) edits a patient's record with ``dose_edit``
and asks the models again; the evaluate step applies the same edit to a synthetic cohort's test
rows (``edited_records``) to measure that answer against the true effect of the dose change
(``hepatorisk.training.what_if_truth``). Light on purpose: the service imports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.cohorts.synthetic.tables import PATIENTS

__all__ = ["MAX_DOSE_G_DAY", "dose_edit", "edited_records"]

# the record contract's bound on the daily dose
MAX_DOSE_G_DAY = next(c.max for c in PATIENTS.columns if c.name == "kratom_dose_g_day") or 0.0


def dose_edit(dose_g_day: float, factor: float) -> dict[str, Any] | None:
    """The record changes of one dose what-if for a kratom user: ``factor`` 0 stops kratom
    (product 'none', no dose, content and weeks of use unknown), any other factor scales the
    daily dose; None when the scaled dose leaves the record contract's range."""
    if factor == 0:
        return {
            "kratom_product": "none",
            "kratom_dose_g_day": 0.0,
            "mitragynine_mg_per_g": None,
            "kratom_use_weeks": None,
        }
    if dose_g_day * factor <= MAX_DOSE_G_DAY:
        return {"kratom_dose_g_day": dose_g_day * factor}
    return None


def edited_records(records: pd.DataFrame, factor: float) -> tuple[pd.DataFrame, np.ndarray]:
    """``records`` (kratom users) with ``dose_edit`` applied to each row, and a mask of the rows
    that have the what-if (the others are left out, as the service leaves them out)."""
    doses = records["kratom_dose_g_day"].to_numpy(dtype=float)
    edits = [dose_edit(float(d), factor) for d in doses]
    has = np.array([e is not None for e in edits], dtype=bool)
    out = records[has].copy()
    kept = [e for e in edits if e is not None]
    for column in kept[0] if kept else {}:
        values = [e[column] for e in kept]
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = pd.Categorical(values, categories=out[column].cat.categories)
        else:
            out[column] = pd.Series(values, index=out.index, dtype=object).astype(out[column].dtype)
    return out, has
