"""Run a pipeline file: the named steps in order, each timed, the whole run tracked in MLflow."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from hepatorisk import tracking
from hepatorisk.modeling.reference import with_reference
from hepatorisk.training import steps
from hepatorisk.training.spec import load_pipeline

__all__ = ["RunResult", "run_pipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    model_uri: str
    registered_model: str
    version: str
    metrics: dict[str, float]
    step_seconds: dict[str, float]


@contextmanager
def _step(name: str, seconds: dict[str, float]) -> Iterator[None]:
    log.info("step %s ...", name)
    started = time.perf_counter()
    yield
    seconds[name] = round(time.perf_counter() - started, 3)
    log.info("step %s done in %.1f s", name, seconds[name])


def run_pipeline(
    path: Path, overrides: list[str] | None = None, root: Path | None = None
) -> RunResult:
    spec = load_pipeline(path, overrides)
    root = (root or Path.cwd()).resolve()
    tracking.configure(root=root)
    seconds: dict[str, float] = {}
    with _step("ingest", seconds):
        dataset = steps.ingest(spec, root)
    with _step("split", seconds):
        parts = steps.split(dataset, spec)
    with _step("train", seconds):
        trained = steps.train(dataset, parts, spec)
    with _step("calibrate", seconds):
        calibrated = steps.calibrate(dataset, parts, trained)
        # the monitoring reference (issue 18): input and prediction bins of the calibration rows
        reference = with_reference(calibrated.bundle, dataset.frame.iloc[parts.calibration])
        calibrated = dataclasses.replace(calibrated, bundle=reference)
    with _step("evaluate", seconds):
        evaluation = steps.evaluate(dataset, parts, calibrated, spec)
        evaluation = dataclasses.replace(
            evaluation, internal_external=steps.internal_external(dataset, spec)
        )
    tags = steps.run_tags(spec)
    with tracking.start_run(spec.name, spec.name, tags) as run, _step("register", seconds):
        run.params(_provenance(root / spec.cohort.path))
        registered = steps.register(
            run, spec, path, dataset, parts, calibrated, evaluation, dict(seconds)
        )
    log.info(
        "registered %s version %s as challenger (run %s)",
        spec.registered_model,
        registered.version,
        run.run_id,
    )
    return RunResult(
        run.run_id,
        registered.model_uri,
        spec.registered_model,
        registered.version,
        evaluation.metrics,
        seconds,
    )


# Libraries whose versions change what a model predicts or how it is stored (shown in the report).
_VERSIONED = (
    "hepatorisk",
    "lightgbm",
    "scikit-learn",
    "numpy",
    "pandas",
    "scipy",
    "mlflow",
    "shap",
)


def _provenance(cohort: Path) -> dict[str, str]:
    """What code and data made the run: the git commit and whether the checkout had uncommitted
    changes to tracked files ("unknown" outside a git checkout), library versions, and the
    cohort's generator scenario (synthetic cohorts' cohort.json; "not recorded" otherwise)."""
    source = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(source), *args], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    versions = []
    for name in _VERSIONED:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    try:
        scenario = str(json.loads((cohort / "cohort.json").read_text())["scenario"])
    except (OSError, ValueError, KeyError, TypeError):
        scenario = "not recorded"
    return {
        "code.git_commit": commit or "unknown",
        "code.git_dirty": "unknown" if status is None else str(bool(status)).lower(),
        "code.libraries": "; ".join(versions),
        "cohort.scenario": scenario,
    }
