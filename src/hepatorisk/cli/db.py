"""``hepatorisk db``: a store's schema (Alembic migrations).

``db upgrade`` applies the missing migrations (run it before starting a new version of the
service; the compose file runs it as its own one-shot service); ``db current`` prints the
database's revision and the newest this version knows. ``--store`` chooses the store: ``audit``
(the default; ``HEPATORISK_AUDIT_DB_URL``) or ``monitoring`` (``HEPATORISK_MONITORING_DB_URL``),
each with its own version table, so both may live in one database. The URL comes from the
environment or ``--env-file``, or ``--url``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hepatorisk.exceptions import ConfigError, DataSourceError

if TYPE_CHECKING:
    from hepatorisk.schema_revisions import MigratedSchema

STORES = ("audit", "monitoring")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser(
        "db",
        help="migrate a store's database (upgrade) or show its schema revision (current)",
        description="Schema migrations (Alembic) of the audit database (HEPATORISK_AUDIT_DB_URL) "
        "or, with --store monitoring, of the monitoring store (HEPATORISK_MONITORING_DB_URL); "
        "the URL comes from the environment or --env-file unless --url is given.",
    )
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("--store", choices=STORES, default="audit", help="which store (default: audit)")
    db.add_argument("--url", help="SQLAlchemy URL of the store's database")
    db.add_argument("--env-file", type=Path, help="settings file holding the store's URL")
    db.set_defaults(handler=_db)


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from hepatorisk.assessment.audit import mask_url, mask_urls

    schema = _schema(args.store)
    url = args.url or _configured_url(args.store, args.env_file)
    engine = create_engine(url)
    where = f"{schema.store} database {mask_url(url)}"
    try:
        if args.action == "upgrade":
            before, after = schema.upgrade(engine)
            sys.stdout.write(f"{where}: schema revision {before or 'none'} -> {after}\n")
        else:
            revision = schema.current_revision(engine)
            sys.stdout.write(
                f"{where}: schema revision {revision or 'none'} (newest known: {schema.head()})\n"
            )
    except DataSourceError:
        raise
    except Exception as exc:
        if isinstance(exc, schema.error):
            raise DataSourceError(f"{where}: {exc}") from None
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        raise DataSourceError(f"{where}: {mask_urls(first)}") from None
    finally:
        engine.dispose()
    return 0


def _schema(store: str) -> MigratedSchema:
    if store == "monitoring":
        from hepatorisk.monitoring import store_migrations

        return store_migrations.SCHEMA
    from hepatorisk.assessment import audit_migrations

    return audit_migrations.SCHEMA


def _configured_url(store: str, env_file: Path | None) -> str:
    from hepatorisk.settings import Settings

    if env_file is not None and not env_file.is_file():
        raise DataSourceError(f"{env_file}: no such settings file")
    settings = Settings(_env_file=env_file)
    if store == "monitoring":
        if not settings.monitoring_db_url:
            raise ConfigError(
                "HEPATORISK_MONITORING_DB_URL is not set (environment or --env-file); or give --url"
            )
        return settings.monitoring_db_url
    return str(settings.audit_db_url)
