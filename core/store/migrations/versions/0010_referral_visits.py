"""Referral landing visits: one row per visit of ``/r/<code>`` (issue 16, the customer pages).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). No address, cookie or user agent is
stored: a visit is the code and the time, so the funnel can count landings per code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["code"], ["referral_codes.code"],
                                name=op.f("fk_referral_visits_code_referral_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_visits")),
    )
    op.create_index(op.f("ix_referral_visits_code"), "referral_visits", ["code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_visits_code"), "referral_visits")
    op.drop_table("referral_visits")
