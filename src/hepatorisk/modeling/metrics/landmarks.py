"""Metrics at each landmark: the headline metrics with intervals on the rows of one landmark
week (one row per patient there, so the bootstrap resamples patients), under landmark-suffixed
keys (``test_auroc_w4``, ``test_cal_slope_w4_lo``, ``auroc_vs_oracle_w4``...)."""

from __future__ import annotations

import re

import numpy as np

from hepatorisk.modeling.metrics.bootstrap import Interval
from hepatorisk.modeling.metrics.intervals import bootstrap_metrics

__all__ = ["landmark_metrics", "landmark_weeks"]

#: a per-landmark metric key: name, then ``_w`` and the landmark week (``test_auroc_w12``)
LANDMARK_KEY = re.compile(r"^(?P<name>.+)_w(?P<week>\d+)$")


def landmark_metrics(
    y: np.ndarray,
    p: np.ndarray,
    landmark: np.ndarray,
    *,
    oracle: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    prefix: str = "test_",
) -> dict[str, float]:
    """Per landmark week: ``{prefix}<metric>_w<L>`` with ``_lo``/``_hi``, ``{prefix}n_w<L>``,
    ``{prefix}events_w<L>``; with ``oracle`` finite on every row of a landmark also
    ``oracle_auroc_w<L>`` and the paired ``auroc_vs_oracle_w<L>``. A landmark whose rows hold
    one outcome only gets its counts and no metric."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    landmark = np.asarray(landmark)
    out: dict[str, float] = {}
    for week in sorted({int(w) for w in landmark}):
        rows = landmark == week
        yw = y[rows]
        out[f"{prefix}n_w{week}"] = float(rows.sum())
        out[f"{prefix}events_w{week}"] = float(yw.sum())
        if yw.min() == yw.max():
            continue
        truth = None
        if oracle is not None:
            ow = np.asarray(oracle, dtype=float)[rows]
            truth = ow if np.isfinite(ow).all() else None
        ci = bootstrap_metrics(yw, p[rows], n_boot=n_boot, seed=seed + week, oracle=truth)
        out |= _flatten(prefix, ci, week)
    return out


def landmark_weeks(metrics: dict[str, float], name: str = "test_auroc") -> list[int]:
    """The landmark weeks for which ``metrics`` hold ``<name>_w<L>``."""
    weeks = []
    for key in metrics:
        m = LANDMARK_KEY.match(key)
        if m and m["name"] == name:
            weeks.append(int(m["week"]))
    return sorted(weeks)


def _flatten(prefix: str, intervals: dict[str, Interval], week: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, interval in intervals.items():
        base = name if name.startswith(("oracle_", "auroc_vs_oracle")) else f"{prefix}{name}"
        key = f"{base}_w{week}"
        out[key] = interval.estimate
        out[f"{key}_lo"] = interval.lo
        out[f"{key}_hi"] = interval.hi
    return out
