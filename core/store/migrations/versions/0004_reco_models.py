"""Recommendation models: one row per built version, the model as one compact blob.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). ``LargeBinary`` is ``BLOB`` on SQLite
and ``bytea`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "reco_models",
        sa.Column("version", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_reco_models")),
    )
    op.create_index(op.f("ix_reco_models_built_at"), "reco_models", ["built_at"])


def downgrade() -> None:
    op.drop_table("reco_models")
