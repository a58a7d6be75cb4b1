"""``hepatorisk db``: the audit database's schema (Alembic migrations).

``db upgrade`` applies the missing migrations (run it before starting a new version of the
service; the compose file runs it as its own one-shot service); ``db current`` prints the
database's revision and the newest this version knows. The database is
``HEPATORISK_AUDIT_DB_URL`` (from the environment or ``--env-file``), or ``--url``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hepatorisk.exceptions import DataSourceError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser(
        "db",
        help="migrate the audit database (upgrade) or show its schema revision (current)",
        description="Schema migrations of the audit database (Alembic). The database is "
        "HEPATORISK_AUDIT_DB_URL (environment or --env-file) unless --url is given.",
    )
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("--url", help="SQLAlchemy URL of the audit database")
    db.add_argument("--env-file", type=Path, help="settings file holding HEPATORISK_AUDIT_DB_URL")
    db.set_defaults(handler=_db)


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from hepatorisk.assessment import audit_migrations
    from hepatorisk.assessment.audit import mask_url, mask_urls

    url = args.url or _configured_url(args.env_file)
    engine = create_engine(url)
    try:
        if args.action == "upgrade":
            before, after = audit_migrations.upgrade(engine)
            sys.stdout.write(
                f"audit database {mask_url(url)}: schema revision {before or 'none'} -> {after}\n"
            )
        else:
            revision = audit_migrations.current_revision(engine)
            sys.stdout.write(
                f"audit database {mask_url(url)}: schema revision {revision or 'none'} "
                f"(newest known: {audit_migrations.head()})\n"
            )
    except DataSourceError:
        raise
    except Exception as exc:
        if isinstance(exc, audit_migrations.AuditSchemaError):
            raise DataSourceError(f"audit database {mask_url(url)}: {exc}") from None
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        raise DataSourceError(f"audit database {mask_url(url)}: {mask_urls(first)}") from None
    finally:
        engine.dispose()
    return 0


def _configured_url(env_file: Path | None) -> str:
    from hepatorisk.settings import Settings

    if env_file is not None and not env_file.is_file():
        raise DataSourceError(f"{env_file}: no such settings file")
    return str(Settings(_env_file=env_file).audit_db_url)
