"""Erasure tombstones remember the erased customer's e-mail as a SHA-256 hash, so the sync's
``create_missing`` never creates that person in that connection again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Frozen snapshot: plain SQLAlchemy types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("erased_customers", sa.Column("email_hash", sa.String(64), nullable=True))
    op.create_index(op.f("ix_erased_customers_connection_email_hash"), "erased_customers",
                    ["connection", "email_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_erased_customers_connection_email_hash"),
                  table_name="erased_customers")
    with op.batch_alter_table("erased_customers") as batch:
        batch.drop_column("email_hash")
