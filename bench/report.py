"""Benchmark: the review-board report of a model with a 20,000-patient test set (budget 60 s).

Set-up (not timed): an 80,000-patient synthetic cohort and a liver model trained on it, so the
25% test split holds 20,000 patients; all in a temporary project with its own MLflow store.
Timed: ``build_report`` end to end (load the run, gather every section, render HTML, print the
PDF with headless Chromium, log the files to the run). Run: ``.venv/bin/python bench/report.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 60.0
PATIENTS = 80_000
REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def main() -> dict:
    from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config
    from hepatorisk.reports import build_report
    from hepatorisk.training.runner import run_pipeline

    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.chdir(root)
        generate_cohort(PATIENTS, seed=7, config=load_generator_config()).write(
            root / "work" / "cohort"
        )
        result = run_pipeline(
            REPO / "pipelines" / "liver_synthetic.yaml", ["evaluation.bootstrap=200"], root=root
        )
        uri = f"models:/{result.registered_model}/{result.version}"
        started = time.perf_counter()
        files = build_report(uri, root / "report")
        seconds = time.perf_counter() - started
        test_n = json.loads(files.json.read_text())["performance"]["n"]
        out = {
            "test_patients": test_n,
            "seconds": round(seconds, 2),
            "budget_seconds": BUDGET_SECONDS,
            "time_vs_budget": round(seconds / BUDGET_SECONDS, 3),
            "cpus": os.cpu_count(),
            "html_mb": round(files.html.stat().st_size / 1e6, 2),
            "pdf_mb": round(files.pdf.stat().st_size / 1e6, 2) if files.pdf else None,
        }
    os.chdir(REPO)
    print(
        f"report for {test_n:,} test patients: {seconds:.1f} s "
        f"({out['time_vs_budget']:.2f} of the {BUDGET_SECONDS:.0f} s budget)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
    main()
