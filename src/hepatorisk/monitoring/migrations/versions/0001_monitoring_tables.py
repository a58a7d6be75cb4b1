"""The monitoring tables of issue 18: de-identified records, outcome feedback, monitor summaries.

Revision ID: 0001
Revises: (none)

A database whose tables were created before migrations existed (``create_all``) with these
columns is adopted by ``hepatorisk db upgrade --store monitoring`` (stamped, tables unchanged).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("item", sa.Integer, nullable=False),
        sa.Column("patient_key", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("landmark", sa.Integer, nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("band", sa.String(32), nullable=False),
    )
    op.create_index("ix_monitoring_records_request_id", "monitoring_records", ["request_id"])
    op.create_index("ix_monitoring_records_patient_key", "monitoring_records", ["patient_key"])
    op.create_index("ix_monitoring_records_week", "monitoring_records", ["week"])
    op.create_table(
        "monitoring_outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64)),
        sa.Column("item", sa.Integer),
        sa.Column("patient_key", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
    )
    op.create_index("ix_monitoring_outcomes_request_id", "monitoring_outcomes", ["request_id"])
    op.create_index("ix_monitoring_outcomes_patient_key", "monitoring_outcomes", ["patient_key"])
    op.create_table(
        "monitoring_summaries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("values", sa.JSON, nullable=False),
    )
    op.create_index("ix_monitoring_summaries_model_name", "monitoring_summaries", ["model_name"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_summaries_model_name", "monitoring_summaries")
    op.drop_table("monitoring_summaries")
    op.drop_index("ix_monitoring_outcomes_patient_key", "monitoring_outcomes")
    op.drop_index("ix_monitoring_outcomes_request_id", "monitoring_outcomes")
    op.drop_table("monitoring_outcomes")
    op.drop_index("ix_monitoring_records_week", "monitoring_records")
    op.drop_index("ix_monitoring_records_patient_key", "monitoring_records")
    op.drop_index("ix_monitoring_records_request_id", "monitoring_records")
    op.drop_table("monitoring_records")
