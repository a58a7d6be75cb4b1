"""The audit tables of hepatorisk 0.1.0: assessments and CDS card feedback, hashes keyed.

Revision ID: 0001
Revises: (none)

A database whose tables were created before migrations existed (``create_all``) with these
columns is adopted by ``hepatorisk db upgrade`` (stamped at this revision, tables unchanged).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("item", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("input_hmac", sa.String(64), nullable=False),
        sa.Column("patient_ref_hmac", sa.String(64)),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
    )
    op.create_table(
        "card_feedback",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("item", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON, nullable=False),
        sa.Column("override_reason", sa.JSON),
        sa.Column("comment_sha256", sa.String(64)),
        sa.Column("key_id", sa.String(16), nullable=False),
    )
    op.create_index("ix_card_feedback_card_uuid", "card_feedback", ["card_uuid"])


def downgrade() -> None:
    op.drop_index("ix_card_feedback_card_uuid", "card_feedback")
    op.drop_table("card_feedback")
    op.drop_table("assessments")
