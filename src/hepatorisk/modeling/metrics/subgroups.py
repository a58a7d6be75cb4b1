"""Subgroup performance (TRIPOD+AI 20): AUROC with interval and calibration per level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.exceptions import DataContractError
from hepatorisk.modeling.metrics.bootstrap import (
    Interval,
    paired_resamples,
    percentile_interval,
)
from hepatorisk.modeling.metrics.counting import on_all_rows
from hepatorisk.modeling.metrics.inputs import check_outcomes

__all__ = ["age_band", "subgroup_metrics"]


def age_band(age: pd.Series) -> pd.Series:
    """Age bands for subgroup analysis; missing ages become the level "missing", never dropped."""
    labels = ["<18", "18-29", "30-39", "40-49", "50+"]
    banded = pd.cut(
        pd.to_numeric(age), [-np.inf, 18, 30, 40, 50, np.inf], right=False, labels=labels
    )
    out: pd.Series = banded.cat.add_categories("missing").fillna("missing")
    out.name = age.name
    return out


def _levels(column: pd.Series) -> tuple[pd.Series, list[str]]:
    """Levels as text in display order (categories first), "missing" last."""
    as_text = column.astype("string").fillna("missing")
    present = set(as_text.unique())
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    known = [str(c) for c in column.cat.categories] if categorical else sorted(present)
    order = [c for c in known if c in present and c != "missing"]
    return as_text, order + ["missing"] * ("missing" in present)


def subgroup_metrics(
    frame: pd.DataFrame,
    y_col: str,
    p_col: str,
    by: Sequence[str],
    *,
    n_boot: int = 500,
    seed: int = 0,
    min_n: int = 50,
    min_events: int = 10,
) -> pd.DataFrame:
    """One row per (variable, level), with AUROC interval and calibration (TRIPOD+AI 20).

    Groups with fewer than ``min_n`` patients or fewer than ``min_events`` events (or
    non-events) keep their row with ``reported=False``, NaN metrics and the reason.
    """
    missing = [c for c in [y_col, p_col, *by] if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"subgroup_metrics: columns {missing} are not in the frame; "
            f"available: {list(frame.columns)}."
        )
    y, p = check_outcomes(frame[y_col], frame[p_col])
    rows: list[dict[str, Any]] = []
    for variable in by:
        levels, order = _levels(frame[variable])
        for level in order:
            mask = (levels == level).to_numpy(dtype=bool)
            head = {"variable": variable, "level": level}
            rows.append(head | _subgroup_row(y[mask], p[mask], n_boot, seed, min_n, min_events))
    return pd.DataFrame(rows)


def _subgroup_row(
    y: np.ndarray, p: np.ndarray, n_boot: int, seed: int, min_n: int, min_events: int
) -> dict[str, Any]:
    n, events = len(y), int(y.sum())
    reason = ""
    if n < min_n:
        reason = f"fewer than {min_n} patients ({n})"
    elif min(events, n - events) < min_events:
        kind, count = ("events", events) if events < min_events else ("non-events", n - events)
        reason = f"fewer than {min_events} {kind} ({count})"
    row: dict[str, Any] = {"n": n, "events": events, "observed_rate": events / n}
    row["mean_predicted"] = float(p.mean())
    if reason:
        metrics = dict.fromkeys(["auroc", "cal_slope", "cal_intercept"], np.nan)
        ci = Interval(np.nan, np.nan, np.nan)
    else:
        metrics = on_all_rows(y, p, ["auroc", "cal_slope"])
        ci = percentile_interval(
            metrics["auroc"],
            paired_resamples(y, {"m": (p, ["auroc"])}, n_boot, seed)["m"]["auroc"],
            0.05,
        )
    row |= {"auroc": ci.estimate, "auroc_lo": ci.lo, "auroc_hi": ci.hi}
    row |= {"cal_slope": metrics["cal_slope"], "cal_intercept": metrics["cal_intercept"]}
    return row | {"reported": not reason, "reason": reason}
