"""Prometheus exposition (request counts, latencies, predictions by band, model versions)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hepatorisk.web.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
