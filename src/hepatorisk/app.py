"""The web service: settings in, a FastAPI app with both adapters' routers out.

The JSON API (``hepatorisk.service``) and FHIR R4 / CDS Hooks (``hepatorisk.fhir``) are two
routers over the same core (``hepatorisk.assessment``) and the same HTTP plumbing
(``hepatorisk.web``): one dependency per assessment, one audit log, one error format each.

``create_app(settings)`` loads nothing at import or construction. In ``lifespan`` it opens the
audit log and, unless models were handed in already loaded (``hepatorisk serve`` loads them first
so that a bad model stops start-up with a clear message), loads both models in a background
thread: ``/livez`` answers at once and ``/readyz`` says 503 until they are in, and again
whenever the audit store stops answering (``web.availability``): then assessments answer 503
with Retry-After, and both recover without a restart when the store is back.

Every response carries the security headers of ``web.headers``; ``/docs`` and ``/redoc`` are
served from assets shipped with the package (``web.docs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hepatorisk import __version__, tracking
from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.model_pair import Loader, ModelPair, load_model_pair
from hepatorisk.assessment.model_store import ModelStore
from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.fhir.routes import router as fhir_router
from hepatorisk.monitoring.gauges import MonitorGauges
from hepatorisk.monitoring.store import MonitoringStore
from hepatorisk.service.routes import router as json_router
from hepatorisk.settings import Settings, get_settings
from hepatorisk.tracking import load_versioned_model
from hepatorisk.web.availability import install_availability_handler
from hepatorisk.web.docs import ASSETS_PATH, install_docs
from hepatorisk.web.errors import install_error_handlers
from hepatorisk.web.headers import SecurityHeadersMiddleware
from hepatorisk.web.metrics import Metrics
from hepatorisk.web.middleware import ServiceMiddleware
from hepatorisk.web.state import ServiceState

__all__ = ["create_app", "create_app_from_environment"]

log = logging.getLogger(__name__)

DESCRIPTION = (
    "Liver-injury (ALT > 3x ULN) and opioid-relapse risk by week 12 for people using kratom "
    "during opioid-use-disorder treatment, with exact SHAP explanations, guideline flags (CTCAE "
    "v5, R ratio, Hy's law, FDA 2009 stopping rules), a monitoring schedule and an audit trail. "
    "The models learned from records at treatment entry: their risk is that of a patient starting "
    "treatment with the labs and history sent, over the following 12 weeks; labs sent later in "
    "treatment are read as if they were entry labs (the guideline flags, not the models, speak to "
    "the current labs). Decision support only."
)


def create_app(
    settings: Settings | None = None,
    *,
    models: ModelPair | None = None,
    audit: AuditLog | None = None,
    loader: Loader = load_versioned_model,
) -> FastAPI:
    """Build the app; ``models``/``audit`` may be passed in already opened (as ``serve`` does)."""
    settings = settings or get_settings()
    metrics = Metrics()
    store = ModelStore(settings.liver_model, settings.relapse_model, loader)
    store.on_swap.append(metrics.serving)
    store.on_swap.append(_freeze_heap)
    if models is not None:
        store.set(models)
    state = ServiceState(settings, store, load_policy(settings.policy_path), metrics, audit)
    metrics.share(MonitorGauges(lambda: state.monitoring))  # shown once with N workers

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.tracking_uri:
            tracking.configure(settings.tracking_uri)
        if state.audit is None:
            state.audit = AuditLog(
                settings.audit_db_url,
                settings.identifier_salt.get_secret_value(),
                probe_timeout=settings.audit_probe_timeout,
                probe_max_age=settings.audit_probe_max_age,
            )
        if settings.monitoring_db_url and state.monitoring is None:  # issue 18
            state.monitoring = MonitoringStore(
                settings.monitoring_db_url, settings.monitoring_retention_weeks
            )
            state.monitoring.purge()
        if store.current is None:
            store.reload_in_background()
        poller = None
        if settings.reload_poll_seconds > 0:
            poller = asyncio.create_task(_poll(store, settings.reload_poll_seconds))
        yield
        if poller is not None:
            poller.cancel()
        state.audit.close()
        if state.monitoring is not None:
            state.monitoring.close()

    app = FastAPI(
        title="hepatorisk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # self-hosted below: no script from a CDN
        redoc_url=None,
    )
    app.state.service = state
    app.include_router(json_router)
    app.include_router(fhir_router)
    install_docs(app)
    install_error_handlers(app)
    install_availability_handler(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(ServiceMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    # outermost: the headers are on every answer, the middleware's own 413 included
    app.add_middleware(SecurityHeadersMiddleware, cacheable_prefix=ASSETS_PATH + "/")
    return app


def _freeze_heap(_models: ModelPair) -> None:
    """Move everything alive now (libraries, models) out of the garbage collector's view: its
    full collections would otherwise walk those few hundred thousand objects, a 0.1-0.2 s pause
    every few batch requests."""
    gc.freeze()


def create_app_from_environment() -> FastAPI:
    """The app of one worker process of ``hepatorisk serve --workers N`` (uvicorn factory): its
    settings come from the ``HEPATORISK_*`` variables the parent set. It loads the models before
    returning, so a worker accepts no connection (its siblings take them) until it can answer."""
    settings = Settings()
    if settings.tracking_uri:
        tracking.configure(settings.tracking_uri)
    models = load_model_pair(settings.liver_model, settings.relapse_model)
    return create_app(settings, models=models)


async def _poll(store: ModelStore, seconds: float) -> None:
    """Reload on a timer: a newly promoted champion is picked up within ``seconds``."""
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(store.reload)
