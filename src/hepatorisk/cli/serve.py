"""``hepatorisk serve``: load both models first (a bad one stops here), then run the API.

Models and the audit database are opened before uvicorn starts, so an unreachable registry, a
corrupt model or an unreachable audit database ends start-up with one clear message (exit 2),
never a half-working service. With no API token configured, one is generated and printed once
on stdout; it is never logged.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the prediction API (FastAPI + uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port")
    serve.add_argument("--liver-model", default=None, help="models:/NAME@ALIAS or a folder")
    serve.add_argument("--relapse-model", default=None, help="models:/NAME@ALIAS or a folder")
    serve.add_argument("--tracking-uri", default=None, help="MLflow tracking/registry URI")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hepatorisk.exceptions import DataSourceError
    from hepatorisk.service import Settings, create_app
    from hepatorisk.service.audit import AuditLog
    from hepatorisk.service.models import describe, load_served_models

    overrides = {
        k: v
        for k, v in {
            "liver_model": args.liver_model,
            "relapse_model": args.relapse_model,
            "mlflow_tracking_uri": args.tracking_uri,
        }.items()
        if v is not None
    }
    settings = Settings(**overrides)
    if settings.mlflow_tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    models = load_served_models(settings.liver_model, settings.relapse_model)
    log.info("models loaded: %s", describe(models))
    try:
        audit = AuditLog(settings.audit_db_url, settings.identifier_salt.get_secret_value())
    except Exception as exc:  # any driver error: the message names the database
        raise DataSourceError(f"audit database {settings.audit_db_url}: {exc}") from None
    if not settings.api_tokens:
        token = secrets.token_urlsafe(32)
        generated = {"api_tokens": [{"caller": "generated", "token": token}]}
        settings = Settings.model_validate(settings.model_dump() | generated)
        sys.stdout.write(
            "No API token configured (HEPATORISK_API_TOKENS); generated one for this run:\n"
            f"  {token}\nUse it as: Authorization: Bearer <token>\n"
        )
        sys.stdout.flush()
    app = create_app(settings, models=models, audit=audit)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0
