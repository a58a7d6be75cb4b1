"""Schema revisions of the audit database (Alembic): upgrade, and the check made on opening.

``hepatorisk db upgrade`` applies every migration in ``migrations/versions`` (in a transaction;
on PostgreSQL under an advisory lock, so concurrent upgrades wait for each other). Opening the
audit (``AuditLog``, hence ``hepatorisk serve``) creates the tables of an empty database at the
newest revision, and refuses, with one message saying what to do, a database at a revision this
version does not know (a newer hepatorisk migrated it), at an older revision (run ``db upgrade``),
or holding tables but no revision (created before migrations: ``db upgrade`` adopts them).
The machinery is the one every store shares (``hepatorisk.schema_revisions``); the audit adds
the refusal of tables older than keyed hashes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from hepatorisk.assessment.audit_schema import KEYED_COLUMNS, AuditSchemaError, metadata
from hepatorisk.schema_revisions import MigratedSchema

__all__ = [
    "BASELINE",
    "SCHEMA",
    "VERSION_TABLE",
    "AuditSchemaError",
    "current_revision",
    "ensure_current",
    "head",
    "known",
    "upgrade",
]


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


VERSION_TABLE = "audit_schema_version"  # not alembic_version: the database may be shared
BASELINE = "0001"  # the tables as create_all made them before migrations existed
SCHEMA = MigratedSchema(
    store="audit",
    scripts=Path(__file__).resolve().parent / "migrations",
    version_table=VERSION_TABLE,
    lock_key=7046401,
    metadata=metadata,
    setting="HEPATORISK_AUDIT_DB_URL",
    upgrade_command="hepatorisk db upgrade",
    error=AuditSchemaError,
    baseline=BASELINE,
    refuse_legacy=_refuse_unkeyed,
)


def head() -> str:
    """The newest revision this version knows."""
    return SCHEMA.head()


def known() -> list[str]:
    """Every revision this version knows, oldest first."""
    return SCHEMA.known()


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none (empty, or tables from before)."""
    return SCHEMA.current_revision(engine)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every missing migration; (revision before, revision after). Tables of the baseline
    made before migrations are adopted (stamped, unchanged); tables older than keyed hashes are
    refused with the way out."""
    return SCHEMA.upgrade(engine)


def ensure_current(engine: Engine) -> None:
    """The check on opening (``MigratedSchema.ensure_current``)."""
    SCHEMA.ensure_current(engine)
