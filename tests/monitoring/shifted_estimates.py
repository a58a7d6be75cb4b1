"""Measure the monitor's AUROC estimates on shifted synthetic sites (README, issue 18); not a test.

    .venv/bin/python tests/monitoring/shifted_estimates.py --patients 6000 --seeds 11,12,13,14

For each site (``data/synthetic/shifted_site.yaml``, one seed each) and each entry model of the
monitoring tests (trained on the committed sample): the label-free estimate (CBPE) with the
range a calibrated model would show, the realised AUROC with its bootstrap 95% CI, the
calibration slope, and, with a share of outcomes known (random, seeded), the recalibrated
estimate for the rows still awaiting theirs against their realised AUROC, over ``--splits``
random splits: mean |gap| and how often the interval holds the realised value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitoring_support import COLUMNS, DERIVED, SHIFTED_CONFIG, at_risk, entry_model

from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.features import FeatureBuilder
from hepatorisk.modeling.metrics.headline import auroc
from hepatorisk.monitoring.performance import (
    estimate_awaiting,
    estimate_performance,
    logistic_recalibration,
    realised,
)


def _trained(outcome: str, patients: int, cache: Path) -> ModelBundle:
    """The tests' entry-model recipe on a larger default-population cohort."""
    folder = cache / f"train-{patients}"
    if not folder.exists():
        generate_cohort(patients, seed=99, config=load_generator_config()).write(folder)
    records, y = at_risk(folder, outcome)
    cut = int(0.75 * len(y))
    features = FeatureBuilder(columns=COLUMNS, derived=DERIVED).fit(records[:cut])
    X = features.transform(records)
    model = CalibratedBooster(n_estimators=40, num_leaves=7, random_state=0)
    model.fit(X[:cut], y[:cut], X[cut:], y[cut:])
    return ModelBundle(features, model, {"outcome": outcome, "horizon_weeks": 12})


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=6000)
    parser.add_argument("--seeds", default="11")
    parser.add_argument("--outcomes", default="liver_event_12w,relapse_12w")
    parser.add_argument("--known", default="0.25,0.5", help="shares of outcomes known")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path("work/shifted-sites"))
    parser.add_argument(
        "--config",
        type=Path,
        default=SHIFTED_CONFIG,
        help="site config (a no-shift control: a file holding `population: {}`)",
    )
    parser.add_argument(
        "--train",
        type=int,
        default=0,
        help="0: the tests' models (committed sample, 1,500 "
        "fit + 500 calibration rows); N: the same recipe on N default-population patients "
        "(seed 99; 75%% fit, 25%% calibration)",
    )
    args = parser.parse_args()
    config = load_generator_config(args.config)
    models = {}
    for outcome in args.outcomes.split(","):
        models[outcome] = (
            entry_model(outcome) if not args.train else _trained(outcome, args.train, args.cache)
        )
    for seed in (int(s) for s in args.seeds.split(",")):
        site = args.cache / f"site-{args.config.stem}-{args.patients}-{seed}"
        if not site.exists():
            generate_cohort(args.patients, seed=seed, config=config).write(site)
        for outcome in args.outcomes.split(","):
            records, y = at_risk(site, outcome)
            p = models[outcome].predict_proba(records)
            est, real = estimate_performance(p), realised(y, p)
            _, slope = logistic_recalibration(y, p)
            _out(
                f"seed {seed} {outcome}: n {len(y)}, events {y.sum()}; label-free estimate "
                f"{est.auroc:.3f} (calibrated range {est.auroc_lo:.3f}-{est.auroc_hi:.3f}); "
                f"realised {real.auroc.estimate:.3f} [{real.auroc.lo:.3f}, {real.auroc.hi:.3f}]; "
                f"gap {est.auroc - real.auroc.estimate:+.3f}; in range "
                f"{est.auroc_lo <= real.auroc.estimate <= est.auroc_hi}; calibration slope "
                f"{slope:.2f}",
            )
            rng = np.random.default_rng(seed)
            for share in (float(s) for s in args.known.split(",")):
                gaps, held, widths = [], 0, []
                for _ in range(args.splits):
                    known = rng.random(len(y)) < share
                    observed = np.where(known, y, np.nan)
                    a = estimate_awaiting(p, observed, draws=100)
                    if a is None:
                        continue
                    truth = auroc(y[~known], p[~known])
                    gaps.append(a.auroc - truth)
                    held += a.auroc_lo <= truth <= a.auroc_hi
                    widths.append(a.auroc_hi - a.auroc_lo)
                _out(
                    f"  {share:.0%} outcomes known, {len(gaps)} splits: awaiting rows' estimate "
                    f"- realised: mean {np.mean(gaps):+.3f}, mean |gap| "
                    f"{np.mean(np.abs(gaps)):.3f}, max |gap| {np.max(np.abs(gaps)):.3f}; "
                    f"interval holds the realised value in {held}/{len(gaps)} "
                    f"(mean width {np.mean(widths):.3f})",
                )


if __name__ == "__main__":
    main()
