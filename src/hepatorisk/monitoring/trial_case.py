"""A real case of a model meeting a new site: CTN-0094, trained on two trials, deployed in the
third (issue 18). The pipeline's own steps train and calibrate on the two trials (the seeded
search off: the pipeline's fixed LightGBM settings), the monitor reads the third trial's entry
records against the training reference, and recalibration is fitted on half of the third trial
and judged on the other half (``monitoring.recalibration``).

``python -m hepatorisk.monitoring.trial_case PIPELINE [--root DIR]`` prints one line per left-out
trial (the README's table).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.reference import with_reference
from hepatorisk.monitoring import performance
from hepatorisk.monitoring.recalibration import (
    LocalGate,
    Recalibration,
    fit_recalibration,
    local_gate,
    local_split,
    recalibrated,
)
from hepatorisk.monitoring.report import monitor, window_from_records
from hepatorisk.monitoring.thresholds import load_thresholds
from hepatorisk.training import steps
from hepatorisk.training.spec import load_pipeline
from hepatorisk.training.steps.splitting import Split

__all__ = ["TrialCase", "leave_trial_out"]


@dataclass(frozen=True)
class TrialCase:
    trial: str
    bundle: ModelBundle
    monitored: dict[str, Any]  # the monitor's report on the whole left-out trial
    recalibration: Recalibration
    gate: LocalGate  # champion (as trained) vs recalibrated, on the held-out half


def leave_trial_out(pipeline: Path, trial: str, root: Path) -> TrialCase:
    """Train on the other trials, monitor and recalibrate on ``trial`` (e.g. ``CTN-0051``)."""
    spec = load_pipeline(pipeline, ["model.search.trials=0"])
    thresholds = load_thresholds(pipeline)
    dataset = steps.ingest(spec, root)
    groups = dataset.frame["trial"].astype("string")
    held = np.flatnonzero((groups == trial).to_numpy())
    others = np.flatnonzero((groups != trial).fillna(True).to_numpy())
    if not len(held):
        raise ValueError(f"no patient of trial {trial!r}; trials: {sorted(groups.unique())}")
    fit_rows, calibration = train_test_split(
        others,
        test_size=spec.split.calibration_size,
        stratify=dataset.y[others],
        random_state=spec.split.seed,
    )
    parts = Split(np.sort(fit_rows), np.sort(calibration), held)
    trained = steps.calibrate(dataset, parts, steps.train(dataset, parts, spec))
    bundle = with_reference(trained.bundle, dataset.frame.iloc[parts.calibration])
    records = dataset.frame.iloc[held].reset_index(drop=True)
    y = dataset.y[held]
    window = window_from_records(
        bundle, records.assign(_y=y), load_policy(), "_y", f"left-out trial {trial}"
    )
    monitored = monitor(bundle, window, thresholds)
    fit, test = local_split(y, thresholds.recalibration)
    rec = fit_recalibration(bundle, records.iloc[fit], y[fit], thresholds.recalibration)
    new = recalibrated(bundle, rec, {"local_data": f"{trial}, fitting half"})
    gate = local_gate(
        y[test],
        window.probability[test],
        new.predict_proba(records.iloc[test]),
        thresholds.recalibration,
    )
    return TrialCase(trial, bundle, monitored, rec, gate)


def _line(case: TrialCase) -> str:
    m = case.monitored
    flagged = [f["column"] for f in m["input_drift"] if f["status"] == "flag"]
    real = m["realised"]
    before, after = case.gate.champion, case.gate.challenger

    def ci(d: dict[str, float], name: str, fmt: str) -> str:
        return (
            f"{format(d[name], fmt)} [{format(d[name + '_lo'], fmt)}, "
            f"{format(d[name + '_hi'], fmt)}]"
        )

    est = performance.Estimated(**m["estimated"])
    return (
        f"{case.trial}: n={m['n']}, flagged {', '.join(flagged)}; prediction PSI "
        f"{m['prediction_drift']['psi']:.2f}; estimated AUROC {est.auroc:.3f}, realised "
        f"{real['auroc']['estimate']:.3f}; whole trial intercept "
        f"{real['cal_intercept']['estimate']:+.2f} slope {real['cal_slope']['estimate']:.2f}; "
        f"{case.recalibration.rule}; held-out half intercept {ci(before, 'cal_intercept', '+.2f')}"
        f" -> {ci(after, 'cal_intercept', '+.2f')}, slope {ci(before, 'cal_slope', '.2f')} -> "
        f"{ci(after, 'cal_slope', '.2f')}; local gate {'passed' if case.gate.passed else 'FAILED'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pipeline", type=Path)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--trials", nargs="*", default=["CTN-0027", "CTN-0030", "CTN-0051"])
    args = parser.parse_args(argv)
    for trial in args.trials:
        sys.stdout.write(_line(leave_trial_out(args.pipeline, trial, args.root)) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
