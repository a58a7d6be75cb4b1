"""Prometheus metrics of one app instance (its own registry, so test apps do not collide)."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.results import Prediction

__all__ = ["Metrics"]

_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


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
        )
        self.reloads = Counter(
            "hepatorisk_model_reloads",
            "Model reloads by result",
            ["result"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def count_predictions(self, risks: Sequence[Prediction]) -> None:
        """Count committed predictions by outcome and band."""
        for risk in risks:
            self.predictions.labels(risk.outcome, risk.band).inc()

    def serving(self, models: ModelPair) -> None:
        self.model_info.clear()
        for outcome, m in models.items():
            self.model_info.labels(
                outcome, m.name, m.version or "", m.alias or "", m.run_id or ""
            ).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
