"""Core tables: identity bindings, sync cursors and runs, mirrored records.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Migrations are frozen snapshots: they use plain SQLAlchemy types, never the store's
``_schema``/``_types`` modules, which keep changing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY = sa.Numeric(precision=18, scale=4)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _mirrored(table: str, *columns: sa.Column[object]) -> None:
    """A mirrored-record table: id, (connection, external_id), own columns, bookkeeping."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        *columns,
        sa.Column("data", JSON, nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        _ts("source_updated_at", nullable=True),
        _ts("mirrored_at"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "connection", "external_id", name=op.f(f"uq_{table}_connection_external_id")
        ),
    )


def upgrade() -> None:
    op.create_table(
        "identity_bindings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("internal_id", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_bindings")),
        sa.UniqueConstraint(
            "connection", "entity_type", "external_id",
            name=op.f("uq_identity_bindings_connection_entity_type_external_id"),
        ),
        sa.UniqueConstraint(
            "connection", "entity_type", "internal_id",
            name=op.f("uq_identity_bindings_connection_entity_type_internal_id"),
        ),
    )
    op.create_index(
        op.f("ix_identity_bindings_entity_type_internal_id"), "identity_bindings",
        ["entity_type", "internal_id"],
    )

    op.create_table(
        "sync_cursors",
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),  # exact text, even on PostgreSQL
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connection", "stream", name=op.f("pk_sync_cursors")),
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_job_started_at"), "sync_runs", ["job", "started_at"])

    _mirrored(
        "customers",
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("kind", sa.String(10), nullable=True),
        sa.Column("customer_number", sa.String(100), nullable=True),
        sa.Column("vat_id", sa.String(64), nullable=True),
    )
    op.create_index(op.f("ix_customers_email"), "customers", ["email"])
    op.create_index(op.f("ix_customers_customer_number"), "customers", ["customer_number"])

    _mirrored(
        "products",
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index(op.f("ix_products_sku"), "products", ["sku"])

    _mirrored(
        "orders",
        sa.Column("number", sa.String(100), nullable=True),
        sa.Column("customer_external_id", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        _ts("placed_at"),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
    )
    op.create_index(
        op.f("ix_orders_connection_customer_external_id"), "orders",
        ["connection", "customer_external_id"],
    )
    op.create_index(op.f("ix_orders_email"), "orders", ["email"])
    op.create_index(op.f("ix_orders_placed_at"), "orders", ["placed_at"])

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_external_id", sa.String(255), nullable=True),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name=op.f("pk_order_lines")),
    )

    _mirrored(
        "installed_base",
        sa.Column("customer_external_id", sa.String(255), nullable=False),
        sa.Column("product_external_id", sa.String(255), nullable=False),
        sa.Column("serial_number", sa.String(255), nullable=True),
        sa.Column("installed_at", sa.Date(), nullable=False),
        sa.Column("service_interval_days", sa.Integer(), nullable=True),
        sa.Column("last_service_at", sa.Date(), nullable=True),
    )
    op.create_index(
        op.f("ix_installed_base_connection_customer_external_id"), "installed_base",
        ["connection", "customer_external_id"],
    )


def downgrade() -> None:
    for table in (
        "installed_base", "order_lines", "orders", "products", "customers",
        "sync_runs", "sync_cursors", "identity_bindings",
    ):
        op.drop_table(table)
