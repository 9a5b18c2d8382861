"""Webhook deliveries: verified events persisted before the 200, deduped, processed after.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("event", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("connection", "dedupe_key",
                            name=op.f("uq_webhook_deliveries_connection_dedupe_key")),
    )
    op.create_index(op.f("ix_webhook_deliveries_status_id"), "webhook_deliveries",
                    ["status", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_deliveries_status_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
