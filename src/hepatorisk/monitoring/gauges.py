"""Prometheus gauges of the latest ``hepatorisk monitor`` run per model (read from the
monitoring store's summaries at each scrape): input and prediction PSI, inputs flagged, mean
probability, estimated AUROC and, once outcomes are in, realised AUROC, observed/expected and
calibration intercept and slope."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from hepatorisk.monitoring.store import MonitoringStore

__all__ = ["MonitorGauges"]


class MonitorGauges(Collector):
    """``hepatorisk_monitor{model, version, measure}``: the latest monitor values."""

    def __init__(self, store: Callable[[], MonitoringStore | None]) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "hepatorisk_monitor",
            "Latest values of `hepatorisk monitor` per served model (issue 18)",
            labels=["model", "version", "measure"],
        )
        store = self.store()
        if store is not None:
            try:
                latest = store.latest_summaries()
            except Exception:  # a scrape must not fail because the store is down
                latest = {}
            for (model, version), values in latest.items():
                for measure, value in values.items():
                    if isinstance(value, int | float) and math.isfinite(value):
                        family.add_metric([model, version, measure], float(value))
        yield family
