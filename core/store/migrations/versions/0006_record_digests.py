"""Record digests: per (connection, stream, record) the digest of what was last delivered.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). For streams without a modified-since
filter (WooCommerce customers), so their cursors hold a scan position only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_digests",
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("connection", "stream", "external_id",
                                name=op.f("pk_record_digests")),
    )


def downgrade() -> None:
    op.drop_table("record_digests")
