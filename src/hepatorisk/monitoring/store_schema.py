"""The monitoring store's tables as this version writes them (SQLAlchemy Core).

The tables are created and changed only by the Alembic migrations in ``migrations/versions``
(``hepatorisk db upgrade --store monitoring``; an empty database gets them on opening); this
description is what the code reads and writes, and a test holds the migrated database equal to
it. What each column may hold (no identifier, no free text, weeks not dates) is
``monitoring.store``'s docstring.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Integer, MetaData, String, Table

from hepatorisk.exceptions import HepatoriskError

__all__ = ["MonitoringSchemaError", "metadata", "outcomes", "records", "summaries"]


class MonitoringSchemaError(HepatoriskError):
    """The monitoring database's schema is not the one this version writes (a revision not yet
    applied, one this version does not know, or tables from before migrations); the message
    says what to do."""


metadata = MetaData()
records = Table(
    "monitoring_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("item", Integer, nullable=False),
    Column("patient_key", String(64), index=True),  # HMAC of the patient reference, or NULL
    Column("outcome", String(16), nullable=False),  # liver | relapse
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("landmark", Integer, nullable=False),
    Column("week", String(8), nullable=False, index=True),  # ISO week, e.g. 2026-W49
    Column("features", JSON, nullable=False),
    Column("probability", Float, nullable=False),
    Column("band", String(32), nullable=False),
)
outcomes = Table(
    "monitoring_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), index=True),
    Column("item", Integer),
    Column("patient_key", String(64), index=True),
    Column("outcome", String(16), nullable=False),
    Column("value", Integer, nullable=False),
    Column("week", String(8), nullable=False),  # ISO week the outcome was reported
    Column("caller", String(100), nullable=False),
)
# the latest monitor summary per model (read by the service's Prometheus gauges)
summaries = Table(
    "monitoring_summaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(200), nullable=False, index=True),
    Column("model_version", String(64), nullable=False),
    Column("week", String(8), nullable=False),
    Column("values", JSON, nullable=False),
)
