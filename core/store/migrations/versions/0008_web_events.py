"""Storefront events: impressions, clicks and add-to-carts the widget reports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). ``event_id`` is unique, so a resent
report is stored once; the indexes serve the figures per placement (``web_event_figures``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("placement", sa.String(50), nullable=False),
        sa.Column("product_external_id", sa.String(255), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_web_events_event_id")),
    )
    op.create_index(op.f("ix_web_events_occurred_at"), "web_events", ["occurred_at"])
    op.create_index(op.f("ix_web_events_connection_placement_type"), "web_events",
                    ["connection", "placement", "type"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_events_connection_placement_type"), table_name="web_events")
    op.drop_index(op.f("ix_web_events_occurred_at"), table_name="web_events")
    op.drop_table("web_events")
