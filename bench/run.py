"""Benchmarks: run with ``make bench``; results also go to bench/results/*.json.

1. Cohort generation, 100,000 patients x 24 weeks, as the installed CLI runs it (a child process,
   so its peak memory is measured alone), against the issue's budget: 30 s and 4 GiB on 2 cores.
2. The exact oracle (dynamic programme + quadrature) against its peer, the Monte Carlo estimate a
   generator without an analytic mechanism would need: same patients, same run, with the error
   each achieves against a 96-node reference.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
BUDGET_SECONDS, BUDGET_GIB = 30.0, 4.0


def bench_generate(patients: int = 100_000) -> dict:
    exe = Path(sys.executable).with_name("hepatorisk")
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "-q",
                "cohort",
                "generate",
                "--patients",
                str(patients),
                "--seed",
                "7",
                "--out",
                out,
            ],
            check=True,
        )
        seconds = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return {
        "patients": patients,
        "seconds": round(seconds, 2),
        "peak_gib": round(peak_gib, 3),
        "time_vs_budget": round(seconds / BUDGET_SECONDS, 3),
        "memory_vs_budget": round(peak_gib / BUDGET_GIB, 3),
    }


def bench_oracle(patients: int = 2_000, replications: int = 400) -> dict:
    from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config, true_risks

    config = load_generator_config()
    cohort = generate_cohort(patients, seed=11, config=config)
    fine = config.oracle.model_copy(
        update={"quadrature_nodes": 96, "injury_grid": 200, "r_grid": 40, "frailty_step_sd": 0.2}
    )
    reference_config = config.model_copy(update={"oracle": fine})
    reference = true_risks(cohort.patients, reference_config)["p_relapse_true"].to_numpy()

    started = time.perf_counter()
    exact = true_risks(cohort.patients, config)["p_relapse_true"].to_numpy()
    exact_seconds = time.perf_counter() - started

    # peer: re-simulate every patient's whole course `replications` times from its own record
    started = time.perf_counter()
    monte_carlo = _monte_carlo_relapse(cohort.patients, config, replications)
    mc_seconds = time.perf_counter() - started
    return {
        "patients": patients,
        "exact_seconds": round(exact_seconds, 3),
        "exact_max_error": float(np.abs(exact - reference).max()),
        "monte_carlo_replications": replications,
        "monte_carlo_seconds": round(mc_seconds, 3),
        "monte_carlo_max_error": float(np.abs(monte_carlo - reference).max()),
        "speedup_exact_vs_monte_carlo": round(mc_seconds / exact_seconds, 1),
    }


def _monte_carlo_relapse(patients: pd.DataFrame, config, replications: int) -> np.ndarray:
    """P(relapse by week 12 | record) by brute force: latents drawn given the record (fatty liver
    from its posterior, susceptibility weighted by survival to entry, unknown fields from their
    posterior), then the generator's own simulation, self-normalised over the weights."""
    from hepatorisk.cohorts.synthetic import liver, relapse
    from hepatorisk.cohorts.synthetic.generate import course_on_kratom
    from hepatorisk.cohorts.synthetic.population import (
        RELAPSE_FIELDS,
        Baseline,
        nafld_posterior,
        unknown_field_weights,
    )

    rng = np.random.default_rng(5)
    n, fu = len(patients), config.follow_up
    base = Baseline(patients, config)
    combos, weights = unknown_field_weights(base, config)
    labs = _labs_dict(patients)
    weeks = np.arange(1, fu.weeks + 1)
    hits, total = np.zeros(n), np.zeros(n)
    for _ in range(replications):
        pick = (rng.random(n)[:, None] < np.cumsum(weights, axis=1)).argmax(axis=1)
        filled = patients.copy()
        for col, name in enumerate(RELAPSE_FIELDS):
            value = combos[pick, col].astype(bool)
            filled[name] = ~value if name in ("stable_housing", "employed") else value
        complete = Baseline(filled, config)
        nafld = rng.random(n) < nafld_posterior(base, config)
        z = rng.standard_normal(n)
        eta = liver.reaction_log_hazard(complete, complete.mitragynine_mg_day, nafld, config)
        hazard = np.exp(eta + config.liver.susceptibility_sd * z) * complete.kratom_user
        weight = np.exp(-hazard * liver.latency_cdf(7.0 * complete.use_weeks, config))
        arm = relapse.simulate_arm(rng, complete, config)
        course = liver.simulate_liver(rng, complete, nafld, z, arm.enrolled(fu.weeks), labs, config)
        on = course_on_kratom(complete, course, weeks, None)
        screens = relapse.simulate_relapse(rng, complete, arm, on, config)
        hits += weight * (screens.relapse_week <= fu.relapse_short_horizon_weeks)
        total += weight
    estimate: np.ndarray = hits / total
    return estimate


def _labs_dict(patients: pd.DataFrame) -> dict[str, np.ndarray]:
    from hepatorisk.cohorts.synthetic.generate import _LAB_COLUMNS, _ULN_COLUMNS

    labs = {
        k: patients[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        for k, c in _LAB_COLUMNS.items()
    }
    labs |= {f"{k}_uln": patients[c].to_numpy(dtype=float) for k, c in _ULN_COLUMNS.items()}
    return labs


def main() -> None:
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    generate = bench_generate()
    print(
        f"cohort generate 100,000 x 24 weeks: {generate['seconds']} s "
        f"({generate['time_vs_budget']:.2f} x the 30 s budget), peak {generate['peak_gib']} GiB "
        f"({generate['memory_vs_budget']:.2f} x the 4 GiB budget)"
    )
    oracle = bench_oracle()
    print(
        f"true relapse risk for {oracle['patients']:,} patients: exact {oracle['exact_seconds']} s "
        f"(max error {oracle['exact_max_error']:.1e}) vs Monte Carlo peer "
        f"{oracle['monte_carlo_seconds']} s with {oracle['monte_carlo_replications']} "
        f"replications (max error {oracle['monte_carlo_max_error']:.3f}): "
        f"exact is {oracle['speedup_exact_vs_monte_carlo']}x faster"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "generate.json").write_text(
        json.dumps({"machine": machine, "generate": generate, "oracle": oracle}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
