"""The service's monitoring records (issue 18): after the audit commit, one de-identified record
per assessed patient and model goes to the monitoring store (``monitoring.store``): the model's
input columns as it read them, the probability, the band, the landmark week, the ISO week; the
patient reference only as the audit's keyed hash. A failing monitoring store never fails an
assessment (the answer is already audited): it is logged, without any value, and counted."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hepatorisk.assessment.context import MonitoringSink
from hepatorisk.assessment.model_pair import ModelPair
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import Prediction
from hepatorisk.monitoring.store import MonitoringRecord, MonitoringStore, patient_key
from hepatorisk.web.state import ServiceState

__all__ = ["monitored", "monitoring_sink"]

log = logging.getLogger(__name__)


def monitoring_sink(store: MonitoringStore, salt: str, models: ModelPair) -> MonitoringSink:
    """The writer of one request's monitoring records (the request keeps its model pair)."""

    def write(
        request_id: str,
        requests: Sequence[AssessRequest],
        risks: Sequence[Sequence[Prediction]],
    ) -> None:
        try:
            rows = []
            for item, (request, predictions) in enumerate(zip(requests, risks, strict=True)):
                record = request.to_input().record
                key = patient_key(salt, request.patient_ref) if request.patient_ref else None
                landmark = record.get("landmark_week")
                for p in predictions:
                    model = models.liver if p.outcome == "liver" else models.relapse
                    rows.append(
                        MonitoringRecord(
                            request_id=request_id,
                            item=item,
                            patient_key=key,
                            outcome=p.outcome,
                            model_name=model.name,
                            model_version=model.version or "unversioned",
                            features={c: record.get(c) for c in model.bundle.input_columns},
                            probability=p.probability,
                            band=p.band,
                            landmark=int(landmark) if landmark is not None else 0,
                        )
                    )
            store.add(rows)
        except Exception as exc:  # the answer is audited already; monitoring must not fail it
            log.error("monitoring records not written (%s)", type(exc).__name__)

    return write


def monitored(state: ServiceState, models: ModelPair) -> dict[str, MonitoringSink]:
    """The context's ``monitor`` argument: the writer when the service keeps monitoring records,
    else nothing (the context's default keeps none)."""
    if state.monitoring is None:
        return {}
    salt = state.settings.identifier_salt.get_secret_value()
    return {"monitor": monitoring_sink(state.monitoring, salt, models)}
