"""``hepatorisk serve``: load both models first (a bad one stops here), then run the API;
``hepatorisk token`` and ``hepatorisk salt``: create its secrets in an env file.

Settings, secrets, models and the audit database are checked before uvicorn starts, so a
missing, short or placeholder salt or token, an unreachable registry, a corrupt model or an
unreachable audit database ends start-up with one line naming the setting or the source (exit 2),
never a half-working service and never a secret's value. Secrets are never printed: ``token``
and ``salt`` write them to an env file readable by its owner only (mode 600) and say where.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hepatorisk.exceptions import ConfigError, DataSourceError

if TYPE_CHECKING:
    from hepatorisk.settings import Settings

log = logging.getLogger(__name__)

SALT_VARIABLE = "HEPATORISK_IDENTIFIER_SALT"
RETIRED_SALT_PREFIX = "HEPATORISK_RETIRED_IDENTIFIER_SALT_"  # + key id; ignored by Settings


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

    token = sub.add_parser(
        "token",
        help="create an API token in an env file (mode 600; also the identifier salt if absent)",
    )
    token.add_argument("--caller", default="clinician", help="who holds the token (audited)")
    token.add_argument("--env-file", type=Path, required=True, help="file to write (mode 600)")
    token.add_argument(
        "--admin", action="store_true", help="an admin token (HEPATORISK_ADMIN_TOKENS)"
    )
    token.set_defaults(handler=_token)

    salt = sub.add_parser(
        "salt", help="create the identifier salt (HMAC key of the audit) in an env file"
    )
    salt.add_argument("--env-file", type=Path, required=True, help="file to write (mode 600)")
    salt.add_argument(
        "--rotate",
        action="store_true",
        help="replace an existing salt; the old one is kept in the file under its key id",
    )
    salt.set_defaults(handler=_salt)


def _token(args: argparse.Namespace) -> int:
    """Add (or replace) ``--caller``'s token in the env file; create the salt when absent.
    The token is written to the file only (mode 600), never printed."""
    from hepatorisk.settings import Settings

    field = "admin_tokens" if args.admin else "api_tokens"
    variable = Settings.variable(field)
    lines = _read_env(args.env_file)
    values = _env_values(args.env_file)
    try:
        existing = json.loads(values.get(variable) or "[]")
    except json.JSONDecodeError:
        existing = None
    if not isinstance(existing, list) or not all(isinstance(t, dict) for t in existing):
        raise ConfigError(
            f"{args.env_file}: {variable} is not a JSON list of tokens; "
            "fix or remove that line (its value is not shown)"
        )
    tokens: list[Any] = [t for t in existing if t.get("caller") != args.caller]
    tokens.append({"caller": args.caller, "token": secrets.token_urlsafe(32)})
    lines = _set_line(lines, variable, "'" + json.dumps(tokens) + "'")
    created = SALT_VARIABLE not in values or not values[SALT_VARIABLE]
    if created:
        lines = _set_line(lines, SALT_VARIABLE, _new_salt())
    _write_env(args.env_file, lines)
    kind = "admin token" if args.admin else "API token"
    sys.stdout.write(
        f"{kind} for caller {args.caller!r} written to {args.env_file} ({variable}, mode 600; "
        "the value is not shown: read it from the file)\n"
    )
    if created:
        sys.stdout.write(f"identifier salt created in {args.env_file} ({SALT_VARIABLE})\n")
    sys.stdout.write(f"start the service with: hepatorisk serve --env-file {args.env_file}\n")
    return 0


def _salt(args: argparse.Namespace) -> int:
    """Create the identifier salt in the env file; ``--rotate`` replaces it, keeping the old one
    as ``HEPATORISK_RETIRED_IDENTIFIER_SALT_<key id>`` so that old audit rows stay verifiable."""
    from hepatorisk.assessment.audit import key_id

    lines = _read_env(args.env_file)
    old = _env_values(args.env_file).get(SALT_VARIABLE) or ""
    if old and not args.rotate:
        sys.stdout.write(
            f"{SALT_VARIABLE} already set in {args.env_file} (key id {key_id(old)}); unchanged "
            "(--rotate replaces it)\n"
        )
        return 0
    if old:
        lines = _set_line(lines, f"{RETIRED_SALT_PREFIX}{key_id(old)}", old)
    new = _new_salt()
    lines = _set_line(lines, SALT_VARIABLE, new)
    _write_env(args.env_file, lines)
    sys.stdout.write(
        f"{SALT_VARIABLE} written to {args.env_file} (mode 600; key id {key_id(new)}; the value "
        "is not shown)\n"
    )
    if old:
        sys.stdout.write(
            f"the previous salt (key id {key_id(old)}) is kept there as "
            f"{RETIRED_SALT_PREFIX}{key_id(old)}: audit rows with that key id need it to be "
            "verified (serve/README.md: Secrets); restart the service to use the new salt\n"
        )
    return 0


def _new_salt() -> str:
    return secrets.token_hex(32)  # 32 random bytes, 64 hex characters


def _read_env(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.is_file() else []


def _env_values(path: Path) -> dict[str, str | None]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return dict(dotenv_values(path))


def _set_line(lines: list[str], variable: str, value: str) -> list[str]:
    """``lines`` with ``variable``'s assignment replaced (or appended)."""
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(variable)}\s*=")
    kept = [line for line in lines if not pattern.match(line)]
    return [*kept, f"{variable}={value}"]


def _write_env(path: Path, lines: list[str]) -> None:
    """Replace ``path`` atomically by a file only its owner can read (mode 600 from creation:
    the secrets are never readable by others, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 600
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_settings(env_file: Path | None, **overrides: Any) -> Settings:
    """The settings of a serving process, their secrets required; any problem is one
    :class:`ConfigError` line naming the variable and the rule, never a value."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from hepatorisk.settings import Settings

    if env_file is not None and not env_file.is_file():
        raise DataSourceError(f"{env_file}: no such settings file")
    try:
        settings = Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise ConfigError("invalid settings: " + _describe_errors(exc)) from None
    except SettingsError as exc:
        found = re.search(r'field "(\w+)"', str(exc))
        name = Settings.variable(found.group(1)) if found else "a HEPATORISK_ setting"
        raise ConfigError(f"{name}: not valid JSON (the value is not shown)") from None
    settings.require_secrets()
    return settings


def _describe_errors(exc: Any) -> str:
    """Each error as ``VARIABLE[index].field: rule``: pydantic's message without the input."""
    from hepatorisk.settings import Settings

    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        first, *rest = error["loc"] or ("?",)
        where = Settings.variable(str(first)) + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest
        )
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hepatorisk import tracking
    from hepatorisk.app import create_app
    from hepatorisk.assessment import AuditLog, load_model_pair
    from hepatorisk.assessment.audit import mask_url, mask_urls
    from hepatorisk.exceptions import HepatoriskError

    overrides = {
        k: v
        for k, v in {
            "liver_model": args.liver_model,
            "relapse_model": args.relapse_model,
            "tracking_uri": args.tracking_uri,
        }.items()
        if v is not None
    }
    settings = load_settings(args.env_file, **overrides)
    # the given store, else the one training uses (SQLite in the working directory); workers
    # receive the resolved URI with the rest of the settings
    uri = tracking.configure(settings.tracking_uri)
    settings = settings.model_copy(update={"tracking_uri": uri})
    models = load_model_pair(settings.liver_model, settings.relapse_model)
    log.info("models loaded: %s", models.describe())
    try:
        audit = AuditLog(settings.audit_db_url, settings.identifier_salt.get_secret_value())
    except HepatoriskError as exc:  # e.g. the schema of an older version: says what to do
        raise DataSourceError(f"audit database {mask_url(settings.audit_db_url)}: {exc}") from None
    except Exception as exc:  # any driver error: the message names the database, masked
        raise DataSourceError(
            f"audit database {mask_url(settings.audit_db_url)}: {mask_urls(str(exc))}"
        ) from None
    log.info("audit trail open: %s (identifier key id %s)", audit.url, audit.key_id)
    if settings.monitoring_db_url:  # issue 18: its schema checked here, as the audit's
        _check_monitoring_store(settings.monitoring_db_url)
    if args.workers == 1:
        app = create_app(settings, models=models, audit=audit)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
        return 0
    audit.close()  # checked; each worker opens its own
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # emptied: a previous run's values must not be summed
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:  # one folder for all workers, so /metrics sums them
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hepatorisk-metrics-")
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


def _check_monitoring_store(url: str) -> None:
    """Open and close the monitoring store: an empty database gets its tables, any other schema
    but the newest (or an unreachable database) ends start-up with one line (exit 2)."""
    from hepatorisk.assessment.audit import mask_url, mask_urls
    from hepatorisk.exceptions import HepatoriskError
    from hepatorisk.monitoring.store import MonitoringStore

    try:
        MonitoringStore(url).close()
    except HepatoriskError as exc:
        raise DataSourceError(f"monitoring database {mask_url(url)}: {exc}") from None
    except Exception as exc:  # any driver error: the message names the database, masked
        raise DataSourceError(
            f"monitoring database {mask_url(url)}: {mask_urls(str(exc))}"
        ) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
