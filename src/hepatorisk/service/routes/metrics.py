"""Prometheus exposition (request counts, latencies, predictions by band, model versions, audit
failures, process metrics), summed over the workers of ``hepatorisk serve --workers N``
(``web.metrics``). Open by default (a scraper on the internal network); with
``HEPATORISK_METRICS_TOKENS`` set it requires one of those bearer tokens. Not part of the API's
OpenAPI document (an operations endpoint in Prometheus's text format)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hepatorisk.web.deps import MetricsScraperDep, StateDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(state: StateDep, scraper: MetricsScraperDep) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
