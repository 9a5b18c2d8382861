"""Experiments: assignments at first exposure, storefront events tagged with their arm.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Frozen snapshot: plain SQLAlchemy types only (see 0001). The events table serves as the
exposure log (an impression tagged with experiment, variant and unit), so only the
assignments get a table of their own; ``(experiment, unit_key)`` is unique, the first
exposure's variant wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("experiment", sa.String(63), nullable=False),
        sa.Column("unit_kind", sa.String(20), nullable=False),
        sa.Column("unit_key", sa.String(255), nullable=False),
        sa.Column("variant", sa.String(63), nullable=False),
        sa.Column("customer_key", sa.String(255), nullable=True),
        sa.Column("first_exposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_assignments")),
        sa.UniqueConstraint("experiment", "unit_key",
                            name=op.f("uq_experiment_assignments_experiment_unit_key")),
    )
    op.create_index(op.f("ix_experiment_assignments_experiment_variant"),
                    "experiment_assignments", ["experiment", "variant"])
    # Nullable columns: SQLite adds them in place, no table copy.
    op.add_column("web_events", sa.Column("experiment", sa.String(63), nullable=True))
    op.add_column("web_events", sa.Column("variant", sa.String(63), nullable=True))
    op.add_column("web_events", sa.Column("unit_key", sa.String(255), nullable=True))
    op.create_index(op.f("ix_web_events_experiment_unit_key"), "web_events",
                    ["experiment", "unit_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_events_experiment_unit_key"), table_name="web_events")
    with op.batch_alter_table("web_events") as batch:  # SQLite drops columns by a copy
        batch.drop_column("unit_key")
        batch.drop_column("variant")
        batch.drop_column("experiment")
    op.drop_index(op.f("ix_experiment_assignments_experiment_variant"),
                  table_name="experiment_assignments")
    op.drop_table("experiment_assignments")
