"""Run a pipeline file: the named steps in order, each timed, the whole run tracked in MLflow."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hepatorisk import tracking
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
    with _step("evaluate", seconds):
        evaluation = steps.evaluate(dataset, parts, calibrated, spec)
        evaluation = dataclasses.replace(
            evaluation, internal_external=steps.internal_external(dataset, spec)
        )
    tags = steps.run_tags(spec)
    with tracking.start_run(spec.name, spec.name, tags) as run, _step("register", seconds):
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
