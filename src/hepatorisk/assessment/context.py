"""Who asks, which models answer, where the audit goes: what every assessment call needs.

Adapters build one ``AssessmentContext`` per request (the web service through one dependency;
a batch job or a notebook by hand) and pass it whole to ``assess_and_audit``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import Prediction
from hepatorisk.clinical.monitoring import Policy

__all__ = ["AssessmentContext", "MonitoringSink", "RiskObserver"]

RiskObserver = Callable[[Sequence[Prediction]], None]
# (request id, the patients' requests, each patient's predictions) -> None: after the audit
# commit, the monitoring records (issue 18; the service's writer is ``web.monitoring``)
MonitoringSink = Callable[[str, Sequence[AssessRequest], Sequence[Sequence[Prediction]]], None]


def _ignore(_risks: Sequence[Prediction]) -> None:
    return None


def _keep_none(
    _id: str, _requests: Sequence[AssessRequest], _risks: Sequence[Sequence[Prediction]]
) -> None:
    return None


@dataclass(frozen=True)
class AssessmentContext:
    """The call's identity (request id, authenticated caller), the model pair serving it, the
    audit log its rows go to, the monitoring policy, how many drivers to show, and an observer
    told of every committed risk (the service counts them by band), and where the monitoring
    records of committed assessments go (nowhere unless the service keeps them)."""

    request_id: str
    caller: str
    models: ModelPair
    audit: AuditLog
    policy: Policy
    top_drivers: int = 5
    observe: RiskObserver = _ignore
    monitor: MonitoringSink = _keep_none
