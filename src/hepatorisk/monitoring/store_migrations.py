"""Schema revisions of the monitoring store (Alembic), by the machinery the audit store uses
(``hepatorisk.schema_revisions``): its own scripts (``migrations/``) and its own version table
(``monitoring_schema_version``), so the monitoring and audit stores may share one database.

``hepatorisk db upgrade --store monitoring`` applies the missing migrations; opening the store
(``MonitoringStore``: ``serve``, ``monitor``, ``outcomes import``) creates the tables of an empty
database at the newest revision and refuses any other schema but the newest with one message.
"""

from __future__ import annotations

from pathlib import Path

from hepatorisk.monitoring.store_schema import MonitoringSchemaError, metadata
from hepatorisk.schema_revisions import MigratedSchema

__all__ = ["SCHEMA", "VERSION_TABLE", "MonitoringSchemaError"]

VERSION_TABLE = "monitoring_schema_version"
SCHEMA = MigratedSchema(
    store="monitoring",
    scripts=Path(__file__).resolve().parent / "migrations",
    version_table=VERSION_TABLE,
    lock_key=7046402,  # the audit's is 7046401: the two stores' upgrades do not wait on each other
    metadata=metadata,
    setting="HEPATORISK_MONITORING_DB_URL",
    upgrade_command="hepatorisk db upgrade --store monitoring",
    error=MonitoringSchemaError,
)
