"""The promotion gate: a challenger becomes champion only if it is at least as good.

Rules (issue 4): the challenger's test AUROC is not below the champion's lower 95% bound;
its calibration slope lies within the configured range (0.8-1.2); no reported subgroup AUROC
falls below the configured floor. A first version, with no champion to beat, must clear the
absolute AUROC floor instead.

Landmark models (issue 13) are also checked at each landmark week found in the metrics
(``test_auroc_w<L>``): that week's AUROC against the landmark floor, its calibration slope
against the landmark range (a landmark is a stratum with few events at late weeks: refused when
the slope's 95% bootstrap interval lies wholly outside the range; the point alone when no
interval was logged) and, where a truth was known, its model/oracle AUROC ratio against
the ratio floor; a failure names the landmark.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hepatorisk import tracking
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.metrics import landmark_weeks
from hepatorisk.training.spec import GateSpec

__all__ = ["GateDecision", "decide", "promote"]


@dataclass
class GateDecision:
    passed: bool
    reasons: list[str] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> None:
        self.reasons.append(f"{'pass' if ok else 'FAIL'}: {text}")
        self.passed = self.passed and ok


def decide(
    challenger: dict[str, float],
    subgroups: pd.DataFrame,
    gate: GateSpec,
    champion: dict[str, float] | None = None,
) -> GateDecision:
    decision = GateDecision(passed=True)
    auroc = challenger["test_auroc"]
    if champion is None:
        decision.check(
            auroc >= gate.min_auroc,
            f"test AUROC {auroc:.3f} >= absolute floor {gate.min_auroc:.3f} (no champion yet)",
        )
    else:
        bound = champion["test_auroc_lo"]
        decision.check(
            auroc >= bound,
            f"test AUROC {auroc:.3f} >= champion's lower 95% bound {bound:.3f} "
            f"(champion AUROC {champion['test_auroc']:.3f})",
        )
    low, high = gate.calibration_slope
    slope = challenger["test_cal_slope"]
    decision.check(low <= slope <= high, f"calibration slope {slope:.3f} within [{low}, {high}]")
    _check_landmarks(decision, challenger, gate)
    reported = subgroups[subgroups["reported"].astype(bool)] if len(subgroups) else subgroups
    below = reported[reported["auroc"] < gate.subgroup_auroc_floor] if len(reported) else reported
    if len(below):
        names = ", ".join(f"{r.variable}={r.level} ({r.auroc:.3f})" for r in below.itertuples())
        decision.check(
            False, f"subgroup AUROC below the floor {gate.subgroup_auroc_floor}: {names}"
        )
    else:
        decision.check(
            True, f"all {len(reported)} reported subgroup AUROCs >= {gate.subgroup_auroc_floor}"
        )
    return decision


def _check_landmarks(decision: GateDecision, metrics: dict[str, float], gate: GateSpec) -> None:
    weeks = landmark_weeks(metrics)
    if not weeks:
        return
    floor = gate.landmark_min_auroc if gate.landmark_min_auroc is not None else gate.min_auroc
    low, high = gate.landmark_calibration_slope or gate.calibration_slope
    for week in weeks:
        auroc = metrics[f"test_auroc_w{week}"]
        decision.check(
            math.isfinite(auroc) and auroc >= floor,
            f"landmark week {week}: test AUROC {auroc:.3f} >= floor {floor:.3f}",
        )
        slope = metrics.get(f"test_cal_slope_w{week}", math.nan)
        lo = metrics.get(f"test_cal_slope_w{week}_lo", math.nan)
        hi = metrics.get(f"test_cal_slope_w{week}_hi", math.nan)
        if math.isfinite(lo) and math.isfinite(hi):
            # a landmark is a stratum (weeks 8-12 hold tens of events): refused when its 95%
            # interval lies wholly outside the range, i.e. on evidence of miscalibration
            decision.check(
                math.isfinite(slope) and lo <= high and hi >= low,
                f"landmark week {week}: calibration slope {slope:.3f} (95% CI {lo:.2f}-{hi:.2f})"
                f" overlaps [{low}, {high}]",
            )
        else:
            decision.check(
                math.isfinite(slope) and low <= slope <= high,
                f"landmark week {week}: calibration slope {slope:.3f} within [{low}, {high}]",
            )
        ratio = metrics.get(f"auroc_vs_oracle_w{week}")
        if gate.landmark_min_auroc_vs_oracle is not None and ratio is not None:
            decision.check(
                ratio >= gate.landmark_min_auroc_vs_oracle,
                f"landmark week {week}: AUROC / oracle AUROC {ratio:.3f} >= "
                f"{gate.landmark_min_auroc_vs_oracle:.3f}",
            )


def promote(name: str) -> tuple[GateDecision, str, str | None]:
    """Move ``champion`` to the ``challenger`` version of ``name`` if the gate passes.

    Returns the decision, the challenger version and the champion version before the call.
    """
    challenger = tracking.alias_version(name, "challenger")
    if challenger is None:
        raise DataSourceError(
            f"{name}: no version has the alias 'challenger'; train one first "
            "(hepatorisk train pipelines/...)"
        )
    champion = tracking.alias_version(name, "champion")
    if champion is not None and champion.version == challenger.version:
        decision = GateDecision(
            passed=True, reasons=[f"version {challenger.version} is already the champion"]
        )
        return decision, str(challenger.version), str(champion.version)
    with tempfile.TemporaryDirectory() as tmp:
        gate_file = tracking.download_run_artifact(challenger.run_id, "gate.json", Path(tmp))
        gate = GateSpec.model_validate(json.loads(gate_file.read_text()))
        subgroup_file = tracking.download_run_artifact(
            challenger.run_id, "evaluation/subgroups.csv", Path(tmp)
        )
        subgroups = pd.read_csv(subgroup_file)
    decision = decide(
        tracking.run_metrics(challenger.run_id),
        subgroups,
        gate,
        tracking.run_metrics(champion.run_id) if champion is not None else None,
    )
    if decision.passed:
        tracking.set_alias(name, "champion", str(challenger.version))
    return decision, str(challenger.version), str(champion.version) if champion else None
