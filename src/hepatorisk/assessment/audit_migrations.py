"""Schema revisions of the audit database (Alembic): upgrade, and the check made on opening.

``hepatorisk db upgrade`` applies every migration in ``migrations/versions`` (in a transaction;
on PostgreSQL under an advisory lock, so concurrent upgrades wait for each other). Opening the
audit (``AuditLog``, hence ``hepatorisk serve``) creates the tables of an empty database at the
newest revision, and refuses, with one message saying what to do, a database at a revision this
version does not know (a newer hepatorisk migrated it), at an older revision (run ``db upgrade``),
or holding tables but no revision (created before migrations: ``db upgrade`` adopts them).
"""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic logs a line per plugin when first imported; warnings and errors still show
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import inspect  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

from hepatorisk.assessment.audit_schema import KEYED_COLUMNS, AuditSchemaError  # noqa: E402

__all__ = [
    "BASELINE",
    "VERSION_TABLE",
    "AuditSchemaError",
    "current_revision",
    "ensure_current",
    "head",
    "upgrade",
]

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "audit_schema_version"  # also in migrations/env.py
BASELINE = "0001"  # the tables as create_all made them before migrations existed


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this version knows."""
    found = _scripts().get_current_head()
    assert found is not None, f"no migration in {SCRIPTS}"
    return found


def known() -> list[str]:
    """Every revision this version knows, oldest first."""
    return [s.revision for s in reversed(list(_scripts().walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none (empty, or tables from before)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every missing migration; (revision before, revision after). Tables of the baseline
    made before migrations are adopted (stamped, unchanged); tables older than keyed hashes are
    refused with the way out."""
    before = current_revision(engine)
    _refuse_unknown(before)
    with engine.begin() as conn:
        config = _config(conn)
        if before is None and _has_tables(conn):
            _refuse_unkeyed(conn)
            command.stamp(config, BASELINE)
            log.info("audit tables from before migrations adopted at revision %s", BASELINE)
        command.upgrade(config, "head")
    return before, head()


def ensure_current(engine: Engine) -> None:
    """The check on opening: an empty database gets the tables at the newest revision; any
    schema but the newest is refused (AuditSchemaError, one message naming the way out)."""
    revision = current_revision(engine)
    if revision == head():
        return
    _refuse_unknown(revision)
    if revision is None:
        with engine.connect() as conn:
            if _has_tables(conn):
                _refuse_unkeyed(conn)
                raise AuditSchemaError(
                    "the audit tables carry no schema revision (created before migrations); "
                    "adopt them once with `hepatorisk db upgrade` (they are not changed)"
                )
        upgrade(engine)
        log.info("empty audit database: tables created at schema revision %s", head())
        return
    raise AuditSchemaError(
        f"the audit database is at schema revision {revision}, this hepatorisk needs "
        f"{head()}: run `hepatorisk db upgrade` (with the same HEPATORISK_AUDIT_DB_URL)"
    )


def _refuse_unknown(revision: str | None) -> None:
    if revision is not None and revision not in known():
        raise AuditSchemaError(
            f"the audit database is at schema revision {revision!r}, which this hepatorisk does "
            f"not know (its newest is {head()}): a newer hepatorisk migrated it; run that "
            "version, or point HEPATORISK_AUDIT_DB_URL at another database"
        )


def _has_tables(conn: Connection) -> bool:
    tables = inspect(conn)
    return any(tables.has_table(name) for name in KEYED_COLUMNS)


def _refuse_unkeyed(conn: Connection) -> None:
    """Refuse tables created by hepatorisk before keyed hashes (``input_sha256``, no key id);
    says how to keep their rows."""
    tables = inspect(conn)
    for table, needed in KEYED_COLUMNS.items():
        if not tables.has_table(table):
            continue
        present = {c["name"] for c in tables.get_columns(table)}
        missing = [c for c in needed if c not in present]
        if missing:
            raise AuditSchemaError(
                f"table {table} was created by an older hepatorisk (no column "
                f"{', '.join(missing)}: its hashes are not keyed); keep its rows by renaming it "
                f"(ALTER TABLE {table} RENAME TO {table}_v1) and start again, or use a new "
                "database (serve/README.md: Secrets)"
            )
