"""What one app instance holds: its settings, model store, audit log, policy and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.model_store import ModelStore
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.monitoring.store import MonitoringStore
from hepatorisk.settings import Settings
from hepatorisk.web.metrics import Metrics

__all__ = ["ServiceState"]


@dataclass
class ServiceState:
    settings: Settings
    store: ModelStore
    policy: Policy
    metrics: Metrics
    audit: AuditLog | None = None
    monitoring: MonitoringStore | None = None  # issue 18: kept when monitoring_db_url is set
