"""The audit database's tables as this version writes them (SQLAlchemy Core).

The tables are created and changed only by the Alembic migrations in ``migrations/versions``
(``hepatorisk db upgrade``); this description is what the code reads and writes, and a test holds
the migrated database equal to it.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from hepatorisk.exceptions import HepatoriskError

__all__ = ["KEYED_COLUMNS", "AuditSchemaError", "assessments", "card_feedback", "metadata"]


class AuditSchemaError(HepatoriskError):
    """The audit database's schema is not the one this version writes (older tables, a revision
    not yet applied, or one this version does not know); the message says what to do."""


metadata = MetaData()
assessments = Table(
    "assessments",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("caller", String(100), nullable=False),
    Column("models", JSON, nullable=False),
    Column("input_hmac", String(64), nullable=False),
    Column("patient_ref_hmac", String(64)),
    Column("key_id", String(16), nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("flags", JSON, nullable=False),
)

# CDS Hooks card feedback (accepted / overridden). The card uuid is the request id of the
# assessment row it came from; free-text override comments are stored only as a keyed hash
# (AuditLog.hash_text; the column keeps its historical name), under the row's key id.
card_feedback = Table(
    "card_feedback",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("caller", String(100), nullable=False),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", String(36), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("outcome_at", DateTime(timezone=True), nullable=False),
    Column("accepted_suggestions", JSON, nullable=False),
    Column("override_reason", JSON),
    Column("comment_sha256", String(64)),
    Column("key_id", String(16), nullable=False),
)

# the columns this version writes that the tables of hepatorisk before keyed hashes lack
KEYED_COLUMNS = {"assessments": ("input_hmac", "key_id"), "card_feedback": ("key_id",)}
