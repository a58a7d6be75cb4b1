"""Alembic environment of the audit database: runs on the connection handed in by
``audit_migrations`` (``config.attributes``), inside its transaction
(``hepatorisk.schema_revisions.run_migrations``, shared by every store)."""

from alembic import context

from hepatorisk.schema_revisions import run_migrations

run_migrations(context)
