"""The sync job's state: target state, intent batches, the change audit trail, erasures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Frozen snapshot: plain SQLAlchemy types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_target_state",
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("sent", JSON, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connection", "external_id", name=op.f("pk_sync_target_state")),
    )
    op.create_table(
        "sync_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("batch_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        _ts("created_at"),
        _ts("settled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_batches")),
    )
    op.create_index(op.f("ix_sync_batches_connection_status"), "sync_batches",
                    ["connection", "status"])
    op.create_index(op.f("ix_sync_batches_run_id"), "sync_batches", ["run_id"])
    op.create_table(
        "sync_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("customer_external_id", sa.String(255), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("source_external_id", sa.String(255), nullable=True),
        sa.Column("attr_key", sa.String(255), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_changes")),
    )
    op.create_index(op.f("ix_sync_changes_run_id_id"), "sync_changes", ["run_id", "id"])
    op.create_index(op.f("ix_sync_changes_connection_customer_external_id"), "sync_changes",
                    ["connection", "customer_external_id"])
    op.create_table(
        "erased_customers",
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("external_id_hash", sa.String(64), nullable=False),
        sa.Column("internal_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(100), nullable=False),
        _ts("erased_at"),
        sa.PrimaryKeyConstraint("connection", "external_id_hash",
                                name=op.f("pk_erased_customers")),
    )
    op.create_index(op.f("ix_erased_customers_internal_id"), "erased_customers",
                    ["internal_id"])


def downgrade() -> None:
    for table in ("erased_customers", "sync_changes", "sync_batches", "sync_target_state"):
        op.drop_table(table)
