"""Subgroup performance and calibration with CIs, and a plain statement of any gap.

AUROC and its interval are the run's own (``subgroups.csv``). The run logs no interval for
the subgroup calibration slope and intercept, so Wald 95% CIs of the two logistic recalibration
fits are computed here from the logged test predictions. (An outcome-stratified bootstrap would
fix each resample's event count and so understate the intercept's uncertainty.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit

from hepatorisk.modeling import metrics
from hepatorisk.reports.labels import level_name, variable_name

if TYPE_CHECKING:
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = ["gap_statements", "subgroup_section"]

_Z = 1.959963984540054
SMALL_EVENTS = 50  # fewer events than this: intervals are wide, read with care


def _column(test: pd.DataFrame, variable: str) -> pd.Series:
    if variable == "age_band" and "age" in test:
        return metrics.age_band(test["age"]).astype("string")
    return test[variable].astype("string").fillna("missing")


def subgroup_section(run: RunArtifacts, test: pd.DataFrame) -> dict[str, Any]:
    table = run.subgroups
    y = run.predictions["y"].to_numpy(dtype=int)
    p = run.predictions["p_model"].to_numpy(dtype=float)
    n_boot = min(int(float(run.params.get("evaluation.bootstrap", 500))), 500)
    rows = []
    for record in table.to_dict(orient="records"):
        row: dict[str, Any] = {
            str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()
        }
        row["level"] = str(row["level"])
        row["reported"] = bool(row["reported"])
        row["reason"] = row.get("reason") or ""
        row["variable_label"] = variable_name(row["variable"])
        row["level_label"] = level_name(row["variable"], row["level"])
        known = row["variable"] in test.columns or row["variable"] == "age_band"
        if row["reported"] and known:
            mask = (_column(test, row["variable"]) == row["level"]).to_numpy(dtype=bool)
            if mask.sum() == row["n"]:
                row |= calibration_wald(y[mask], p[mask])
        rows.append(row)
    overall = {
        "auroc": run.metrics.get("test_auroc"),
        "auroc_lo": run.metrics.get("test_auroc_lo"),
        "auroc_hi": run.metrics.get("test_auroc_hi"),
        "event_rate": float(y.mean()),
    }
    return {
        "variables": list(dict.fromkeys(r["variable"] for r in rows)),
        "rows": rows,
        "overall": overall,
        "n_boot": n_boot,
        "gaps": gap_statements(rows, overall),
    }


def calibration_wald(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Calibration slope and intercept with Wald 95% CIs (observed Fisher information)."""
    slope, intercept = metrics.calibration_slope_intercept(y, p)
    q = np.clip(p, 1e-6, 1 - 1e-6)
    z = np.log(q / (1 - q))
    out = {"cal_slope": slope, "cal_intercept": intercept}
    with np.errstate(all="ignore"):
        if np.isfinite(intercept):
            mu = expit(intercept + z)
            se = 1 / np.sqrt(np.sum(mu * (1 - mu)))
            out |= {
                "cal_intercept_lo": intercept - _Z * se,
                "cal_intercept_hi": intercept + _Z * se,
            }
        if np.isfinite(slope):
            a = float(np.log(y.mean() / (1 - y.mean())))  # intercept of the slope fit, by Newton
            for _ in range(50):
                mu = expit(a + slope * z)
                step = np.sum(y - mu) / np.sum(mu * (1 - mu))
                if not np.isfinite(step):
                    break
                a += step
                if abs(step) < 1e-12:
                    break
            w = mu * (1 - mu)
            info = np.array([[w.sum(), (w * z).sum()], [(w * z).sum(), (w * z * z).sum()]])
            if np.isfinite(info).all() and abs(np.linalg.det(info)) > 0:
                se = float(np.sqrt(np.linalg.inv(info)[1, 1]))
                out |= {"cal_slope_lo": slope - _Z * se, "cal_slope_hi": slope + _Z * se}
    out = {k: v for k, v in out.items() if np.isfinite(v) or k in ("cal_slope", "cal_intercept")}
    return {k: float(v) for k, v in out.items()}


def _fmt(row: dict[str, Any]) -> str:
    return (
        f"{row['variable_label']} {row['level_label']} (n = {row['n']:,}, {row['events']} events)"
    )


def gap_statements(rows: list[dict[str, Any]], overall: dict[str, Any]) -> list[str]:
    """Plain sentences: where a subgroup's interval excludes the overall value or ideal."""
    out: list[str] = []
    reported = [r for r in rows if r["reported"]]
    for r in rows:
        if not r["reported"]:
            out.append(f"{_fmt(r)}: not reported ({r['reason']}); the model is unassessed there.")
    a = overall.get("auroc")
    for r in reported:
        if a is not None and r.get("auroc_hi") is not None and r["auroc_hi"] < a:
            out.append(
                f"{_fmt(r)}: AUROC {r['auroc']:.3f} (95% CI {r['auroc_lo']:.3f} to "
                f"{r['auroc_hi']:.3f}) is below the overall {a:.3f}; its interval excludes it."
            )
        lo, hi = r.get("cal_intercept_lo"), r.get("cal_intercept_hi")
        if lo is not None and hi is not None and (lo > 0 or hi < 0):
            side = "under-predicts" if lo > 0 else "over-predicts"
            out.append(
                f"{_fmt(r)}: the model {side} risk here (observed {100 * r['observed_rate']:.1f}% "
                f"vs mean predicted {100 * r['mean_predicted']:.1f}%; calibration intercept "
                f"{r['cal_intercept']:.2f}, 95% CI {lo:.2f} to {hi:.2f})."
            )
        lo, hi = r.get("cal_slope_lo"), r.get("cal_slope_hi")
        if lo is not None and hi is not None and (lo > 1 or hi < 1):
            kind = "too extreme" if hi < 1 else "too moderate"
            out.append(
                f"{_fmt(r)}: predictions are {kind} (calibration slope {r['cal_slope']:.2f}, "
                f"95% CI {lo:.2f} to {hi:.2f})."
            )
    for variable in dict.fromkeys(r["variable"] for r in reported):
        levels = [r for r in reported if r["variable"] == variable and r.get("auroc") is not None]
        if len(levels) > 1:
            worst = min(levels, key=lambda r: r["auroc"])
            best = max(levels, key=lambda r: r["auroc"])
            out.append(
                f"Largest AUROC difference by {best['variable_label']}: {best['level_label']} "
                f"{best['auroc']:.3f} vs {worst['level_label']} {worst['auroc']:.3f} "
                f"({best['auroc'] - worst['auroc']:.3f}; its CI is in the contrasts table)."
            )
    small = [r for r in reported if r["events"] < SMALL_EVENTS]
    if small:
        names = ", ".join(
            f"{r['variable_label']} {r['level_label']} ({r['events']})" for r in small
        )
        out.append(
            f"Fewer than {SMALL_EVENTS} events, so wide intervals: {names}. Absence of a "
            "detected gap there is not evidence of equal performance."
        )
    if not any(
        "interval excludes" in s or "predicts risk" in s or "predictions are" in s for s in out
    ):
        out.insert(
            0,
            "No reported subgroup has an AUROC interval wholly below the overall AUROC, or a "
            "calibration interval excluding the ideal (intercept 0, slope 1).",
        )
    return out
