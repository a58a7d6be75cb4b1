"""Alembic environment of the audit database: runs on the connection handed in by
``audit_migrations`` (``config.attributes["connection"]``), inside its transaction."""

from alembic import context
from sqlalchemy import text

from hepatorisk.assessment.audit_schema import metadata

VERSION_TABLE = "audit_schema_version"  # not alembic_version: the database may be shared

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    # two processes upgrading at once (workers, replicas) wait for each other instead of racing
    connection.execute(text("SELECT pg_advisory_xact_lock(7046401)"))
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
