"""Prometheus metrics of one app instance (its own registry, so test apps do not collide).

With ``hepatorisk serve --workers N`` each worker is a process of its own: its counters live in
that process. When ``PROMETHEUS_MULTIPROC_DIR`` names a directory (set, and emptied, by the
parent before the workers start), prometheus_client keeps every worker's values in files there
and ``/metrics`` answers the sum over all workers (counters and histograms summed; a model
version is shown as served while any worker serves it), plus the process metrics
(``process_*``) of every live worker, each labelled with its ``pid``. Without the variable the
exposition is the process's own, process metrics included.

Collectors registered with :meth:`Metrics.share` read a state every worker sees alike at scrape
time (the ``hepatorisk_monitor`` gauges read the monitoring store's latest summary): they are
not per-process values to be summed, so the answering worker adds them once, as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.results import Prediction

__all__ = ["MULTIPROC_VARIABLE", "Metrics", "multiprocess_dir"]

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable
_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def multiprocess_dir() -> Path | None:
    """The directory of multiprocess mode, or None when every process reports alone."""
    value = os.environ.get(MULTIPROC_VARIABLE) or os.environ.get(MULTIPROC_VARIABLE.lower())
    return Path(value) if value else None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hepatorisk_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hepatorisk_http_request_duration_seconds",
            "Request latency by route",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "hepatorisk_predictions",
            "Predictions by outcome and risk band",
            ["outcome", "band"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "hepatorisk_model_info",
            "Served model versions (value 1 = serving)",
            ["outcome", "name", "version", "alias", "run_id"],
            registry=self.registry,
            multiprocess_mode="max",  # served by any worker
        )
        self.reloads = Counter(
            "hepatorisk_model_reloads",
            "Model reloads by result",
            ["result"],
            registry=self.registry,
        )
        self.audit_failures = Counter(
            "hepatorisk_audit_failures",
            "Requests answered 503 because the audit store failed: 'commit' (a commit raised) "
            "or 'unavailable' (refused up front while the readiness probe fails)",
            ["stage"],
            registry=self.registry,
        )
        self._serving: list[tuple[str, ...]] = []
        self._shared: list[Collector] = []
        if multiprocess_dir() is None:
            ProcessCollector(registry=self.registry)

    def share(self, collector: Collector) -> None:
        """Add a collector whose values are the same whichever worker is asked (read from a
        shared store at scrape time): shown once, never summed over workers."""
        self.registry.register(collector)
        self._shared.append(collector)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def count_predictions(self, risks: Sequence[Prediction]) -> None:
        """Count committed predictions by outcome and band."""
        for risk in risks:
            self.predictions.labels(risk.outcome, risk.band).inc()

    def count_audit_failure(self, stage: str) -> None:
        self.audit_failures.labels(stage).inc()

    def serving(self, models: ModelPair) -> None:
        # set the old versions to 0 first: in multiprocess mode a cleared child would keep its
        # last value in this worker's file
        for labels in self._serving:
            self.model_info.labels(*labels).set(0)
        self.model_info.clear()
        self._serving = [
            (outcome, m.name, m.version or "", m.alias or "", m.run_id or "")
            for outcome, m in models.items()
        ]
        for labels in self._serving:
            self.model_info.labels(*labels).set(1)

    def render(self) -> bytes:
        folder = multiprocess_dir()
        if folder is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        # prometheus_client ships this one class without annotations
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
        registry.register(_WorkerProcesses(folder))
        for collector in self._shared:  # latest values of a shared store: once, as they are
            registry.register(collector)
        return generate_latest(registry)


_PID = re.compile(r"_(\d+)\.db$")


class _WorkerProcesses(Collector):
    """``process_*`` metrics of every live process that wrote to the multiprocess directory,
    each sample labelled with its ``pid`` (one family per metric, as the format requires)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def collect(self) -> Iterator[Metric]:
        pids = sorted(
            {int(m.group(1)) for f in self.folder.glob("*.db") if (m := _PID.search(f.name))}
        )
        families: dict[str, Metric] = {}
        for pid in pids:
            if not Path(f"/proc/{pid}").exists():
                continue  # a worker that has exited
            own = CollectorRegistry(auto_describe=True)
            ProcessCollector(pid=_constant(pid), registry=own)
            for family in own.collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from families.values()


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid
