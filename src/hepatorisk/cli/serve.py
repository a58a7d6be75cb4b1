"""``hepatorisk serve``: load both models first (a bad one stops here), then run the API.

Models and the audit database are opened before uvicorn starts, so an unreachable registry, a
corrupt model or an unreachable audit database ends start-up with one clear message (exit 2),
never a half-working service. With no API token configured, one is generated and printed once
on stdout; it is never logged.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
from pathlib import Path

from hepatorisk.exceptions import DataSourceError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the prediction API (FastAPI + uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port")
    serve.add_argument("--liver-model", default=None, help="models:/NAME@ALIAS or a folder")
    serve.add_argument("--relapse-model", default=None, help="models:/NAME@ALIAS or a folder")
    serve.add_argument("--tracking-uri", default=None, help="MLflow tracking/registry URI")
    serve.add_argument(
        "--env-file", type=Path, default=None, help="read HEPATORISK_* settings from this file"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes (one per core; each loads the models and opens the audit log)",
    )
    serve.set_defaults(handler=_serve)

    token = sub.add_parser("token", help="create an API token and store it in an env file")
    token.add_argument("--caller", default="clinician", help="who holds the token (audited)")
    token.add_argument("--env-file", type=Path, required=True, help="file to write (mode 600)")
    token.set_defaults(handler=_token)


def _token(args: argparse.Namespace) -> int:
    """Write HEPATORISK_API_TOKENS to an env file readable by its owner only; print the token."""
    value = secrets.token_urlsafe(32)
    args.env_file.parent.mkdir(parents=True, exist_ok=True)
    entry = json.dumps([{"caller": args.caller, "token": value}])
    args.env_file.write_text(f"HEPATORISK_API_TOKENS='{entry}'\n")
    args.env_file.chmod(0o600)
    sys.stdout.write(
        f"API token for {args.caller!r} (stored in {args.env_file}; "
        f"hepatorisk serve --env-file {args.env_file}):\n  {value}\n"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hepatorisk import tracking
    from hepatorisk.app import create_app
    from hepatorisk.assessment import AuditLog, load_model_pair
    from hepatorisk.settings import Settings

    overrides = {
        k: v
        for k, v in {
            "liver_model": args.liver_model,
            "relapse_model": args.relapse_model,
            "tracking_uri": args.tracking_uri,
        }.items()
        if v is not None
    }
    if args.env_file is not None and not args.env_file.is_file():
        raise DataSourceError(f"{args.env_file}: no such settings file")
    settings = Settings(_env_file=args.env_file, **overrides)
    # the given store, else the one training uses (SQLite in the working directory); workers
    # receive the resolved URI with the rest of the settings
    uri = tracking.configure(settings.tracking_uri)
    settings = settings.model_copy(update={"tracking_uri": uri})
    models = load_model_pair(settings.liver_model, settings.relapse_model)
    log.info("models loaded: %s", models.describe())
    try:
        audit = AuditLog(settings.audit_db_url, settings.identifier_salt.get_secret_value())
    except Exception as exc:  # any driver error: the message names the database
        raise DataSourceError(f"audit database {settings.audit_db_url}: {exc}") from None
    if not settings.api_tokens:
        token = secrets.token_urlsafe(32)
        generated = {"api_tokens": [{"caller": "generated", "token": token}]}
        settings = settings.model_copy(
            update={"api_tokens": Settings.model_validate(generated).api_tokens}
        )
        sys.stdout.write(
            "No API token configured (HEPATORISK_API_TOKENS); generated one for this run:\n"
            f"  {token}\nUse it as: Authorization: Bearer <token>\n"
        )
        sys.stdout.flush()
    if args.workers == 1:
        app = create_app(settings, models=models, audit=audit)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
        return 0
    audit.close()  # checked; each worker opens its own
    os.environ.update(settings.environment())
    uvicorn.run(
        "hepatorisk.app:create_app_from_environment",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=False,
    )
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
