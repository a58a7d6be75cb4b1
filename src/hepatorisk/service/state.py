"""What one app instance holds: its models, audit log, policy and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from hepatorisk.clinical.monitoring import Policy
from hepatorisk.service.audit import AuditLog
from hepatorisk.service.metrics import Metrics
from hepatorisk.service.models import ModelStore

__all__ = ["ServiceState"]


@dataclass
class ServiceState:
    store: ModelStore
    policy: Policy
    metrics: Metrics
    audit: AuditLog | None = None
