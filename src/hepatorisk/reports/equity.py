"""Fairness contrasts with CIs: each subgroup against its variable's largest group.

Contrasts (group minus reference; ratios for rates) from the report's shared patient-level
bootstrap (``resample``): observed event rate, mean predicted risk, observed/expected events
(calibration adjusted for case mix: the model's own prediction is the expected count given each
patient's record), AUROC, AUROC relative to the oracle's in the same patients (synthetic
cohorts: the best achievable given that group's case mix, so a gap the oracle shares is case mix,
not the model), and sensitivity and false-positive rate at each band cut-off. With many
contrasts some intervals exclude 0 by chance: each is also tested at a Bonferroni-adjusted level
(normal approximation with the bootstrap standard error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from hepatorisk.modeling import metrics
from hepatorisk.reports.labels import level_name, variable_name
from hepatorisk.reports.resample import Resamples, auroc, interval

if TYPE_CHECKING:
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = ["MIN_EVENTS", "MIN_PATIENTS", "equity_section", "subgroup_masks"]

MIN_PATIENTS, MIN_EVENTS = 100, 10  # an intersectional group is reported from these counts up
PROTECTED = ("sex", "race_ethnicity", "age")


def _column(test: pd.DataFrame, variable: str) -> pd.Series:
    if variable == "age_band" and "age" in test:
        return metrics.age_band(test["age"]).astype("string")
    return test[variable].astype("string").fillna("missing")


def subgroup_masks(
    variables: list[str], test: pd.DataFrame, y: np.ndarray
) -> tuple[dict[str, dict[str, np.ndarray]], list[dict[str, Any]]]:
    """variable -> level -> mask, with sex x race and ethnicity where the counts allow; and
    the intersectional groups left out (too few patients or events)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for variable in variables:
        if variable not in test and variable != "age_band":
            continue
        column = _column(test, variable)
        out[variable] = {
            str(level): (column == level).to_numpy(dtype=bool) for level in sorted(column.unique())
        }
    skipped: list[dict[str, Any]] = []
    if "sex" in out and "race_ethnicity" in out:
        crossed: dict[str, np.ndarray] = {}
        for sex, a in out["sex"].items():
            for race, b in out["race_ethnicity"].items():
                mask = a & b
                level = f"{sex} & {race}"
                if mask.sum() >= MIN_PATIENTS and (mask & y).sum() >= MIN_EVENTS:
                    crossed[level] = mask
                else:
                    skipped.append(
                        {
                            "group": level_name("sex x race_ethnicity", level),
                            "n": int(mask.sum()),
                            "events": int((mask & y).sum()),
                        }
                    )
        out["sex x race_ethnicity"] = crossed
    return out, skipped


def _count_parts(
    y: np.ndarray, p: np.ndarray, cutoffs: list[float], mask: np.ndarray, r: Resamples
) -> dict[str, Any]:
    """Rates, observed/expected and error rates at each cut-off: (estimate, resampled draws),
    all from one matrix product."""
    columns = [mask, mask & y, np.where(mask, p, 0.0)]
    for c in cutoffs:
        f = p >= c
        columns += [mask & f & y, mask & f & ~y]
    (n, events, expected, *rest), (n_b, events_b, expected_b, *rest_b) = r.totals(columns)
    neg, neg_b = n - events, n_b - events_b
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "observed": (events / n, events_b / n_b),
            "predicted": (expected / n, expected_b / n_b),
            "o_e": (events / expected, events_b / expected_b),
        }
        for i, c in enumerate(cutoffs):
            out[f"sensitivity_at_{c:g}"] = (rest[2 * i] / events, rest_b[2 * i] / events_b)
            out[f"fpr_at_{c:g}"] = (rest[2 * i + 1] / neg, rest_b[2 * i + 1] / neg_b)
    return out


def _auroc_parts(
    y: np.ndarray, p: np.ndarray, oracle: np.ndarray | None, mask: np.ndarray, r: Resamples
) -> dict[str, Any]:
    if (mask & y).sum() < 2 or (mask & ~y).sum() < 2:
        return {}
    ones = np.ones((1, int(mask.sum())), dtype=np.float32)
    w = r.counts[:, mask]
    out = {"auroc": (float(auroc(p[mask], y[mask], ones)[0]), auroc(p[mask], y[mask], w))}
    if oracle is not None:
        o_point = float(auroc(oracle[mask], y[mask], ones)[0])
        o_draws = auroc(oracle[mask], y[mask], w)
        out["auroc_minus_oracle"] = (out["auroc"][0] - o_point, out["auroc"][1] - o_draws)
    return out


_RATIO = {"observed", "predicted"}
_LABELS = {
    "observed": "observed event rate",
    "predicted": "mean predicted risk",
    "o_e": "observed / expected events (case-mix adjusted calibration)",
    "auroc": "AUROC",
    "auroc_minus_oracle": "AUROC minus the oracle's AUROC (case-mix adjusted discrimination)",
}


def _label(key: str) -> str:
    if key.startswith("sensitivity_at_"):
        return f"sensitivity at {100 * float(key.rsplit('_', 1)[1]):g}%"
    if key.startswith("fpr_at_"):
        return f"false-positive rate at {100 * float(key.rsplit('_', 1)[1]):g}%"
    return _LABELS[key]


def equity_section(
    run: RunArtifacts,
    test: pd.DataFrame,
    masks: dict[str, dict[str, np.ndarray]],
    skipped: list[dict[str, Any]],
    cutoffs: list[float],
    resamples: Resamples,
    protected_reasons: dict[str, str],
) -> dict[str, Any]:
    y = run.predictions["y"].to_numpy(dtype=bool)
    p = run.predictions["p_model"].to_numpy(dtype=float)
    oracle = (
        run.predictions["p_oracle"].to_numpy(dtype=float)
        if "p_oracle" in run.predictions and run.predictions["p_oracle"].notna().all()
        else None
    )
    contrasts: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for variable, levels in masks.items():
        if len(levels) < 2:
            continue
        reference = max(levels, key=lambda k: int(levels[k].sum()))
        parts = {
            level: _count_parts(y, p, cutoffs, m, resamples)
            | _auroc_parts(y, p, oracle, m, resamples)
            for level, m in levels.items()
        }
        for level, m in levels.items():
            groups.append(
                {
                    "variable": variable_name(variable),
                    "level": level_name(variable, level),
                    "reference": level == reference,
                    "n": int(m.sum()),
                    "events": int((m & y).sum()),
                    **{k: interval(v[0], np.asarray(v[1])) for k, v in parts[level].items()},
                }
            )
            if level == reference:
                continue
            for key, (point, draws) in parts[level].items():
                if key not in parts[reference]:
                    continue
                ref_point, ref_draws = parts[reference][key]
                row: dict[str, Any] = {
                    "variable": variable_name(variable),
                    "group": level_name(variable, level),
                    "reference": level_name(variable, reference),
                    "measure": _label(key),
                    "key": key,
                    "difference": interval(point - ref_point, np.asarray(draws - ref_draws)),
                }
                if key in _RATIO:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        row["ratio"] = interval(point / ref_point, np.asarray(draws / ref_draws))
                contrasts.append(row)
    k = len(contrasts)
    z = float(norm.ppf(1 - 0.025 / max(k, 1)))
    for row in contrasts:
        d = row["difference"]
        row["excludes_zero"] = d["lo"] is not None and (d["lo"] > 0 or d["hi"] < 0)
        row["bonferroni"] = bool(d["se"] and abs(d["estimate"]) > z * d["se"])
    flagged = [r for r in contrasts if r["excludes_zero"]]
    return {
        "rows": _rows(groups, contrasts),
        "cutoffs": cutoffs,
        "groups": groups,
        "contrasts": contrasts,
        "skipped_intersections": skipped,
        "min_counts": {"patients": MIN_PATIENTS, "events": MIN_EVENTS},
        "multiplicity": {
            "contrasts": k,
            "excluding_zero": len(flagged),
            "expected_by_chance": 0.05 * k,
            "bonferroni_level": 0.05 / max(k, 1),
            "surviving_bonferroni": sum(r["bonferroni"] for r in contrasts),
        },
        "statements": _statements(flagged),
        "oracle": oracle is not None,
        "resamples": resamples.size,
        "protected_inputs": [
            {
                "attribute": a,
                "model_input": a in run.bundle.input_columns,
                "why": protected_reasons.get(a, ""),
            }
            for a in PROTECTED
        ],
    }


def _rows(groups: list[dict[str, Any]], contrasts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per non-reference group: its counts, its own O/E and each contrast by key."""
    out = []
    for g in groups:
        if g["reference"]:
            continue
        mine = [c for c in contrasts if c["variable"] == g["variable"] and c["group"] == g["level"]]
        out.append(
            {
                "variable": g["variable"],
                "group": g["level"],
                "reference": mine[0]["reference"] if mine else "",
                "n": g["n"],
                "events": g["events"],
                "o_e": g.get("o_e"),
                "cells": {
                    c["key"]: c["difference"]
                    | {"excludes_zero": c["excludes_zero"], "bonferroni": c["bonferroni"]}
                    for c in mine
                },
                "ratios": {c["key"]: c["ratio"] for c in mine if "ratio" in c},
            }
        )
    return out


def _fmt(key: str, value: float) -> str:
    if key in ("observed", "predicted") or key.startswith(("sensitivity", "fpr")):
        return f"{100 * value:+.1f} percentage points"
    return f"{value:+.3f}"


def _statements(flagged: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in flagged:
        d = r["difference"]
        survives = (
            "it survives the Bonferroni adjustment"
            if r["bonferroni"]
            else "it does not survive the Bonferroni adjustment"
        )
        out.append(
            f"{r['variable']} {r['group']} vs {r['reference']}: {r['measure']} differs by "
            f"{_fmt(r['key'], d['estimate'])} (95% CI {_fmt(r['key'], d['lo'])} to "
            f"{_fmt(r['key'], d['hi'])}); {survives}."
        )
    return out
