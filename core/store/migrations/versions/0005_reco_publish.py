"""Publishing recommendations: intent batches get a kind, the lists last published per product.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). ``sync_batches.kind`` tells the sync's
batches from ``reco publish``'s, which share the intent-batch mechanism; existing rows are the
sync's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("sync_batches") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False,
                                   server_default="sync"))
    op.create_table(
        "reco_published",
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("product_external_id", sa.String(255), nullable=False),
        sa.Column("lists", JSON, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection", "product_external_id",
                                name=op.f("pk_reco_published")),
    )


def downgrade() -> None:
    op.drop_table("reco_published")
    with op.batch_alter_table("sync_batches") as batch:
        batch.drop_column("kind")
