"""The referral ledger: surveys, invitations, codes, referrals, rewards, their transitions and
opt-outs (issue 16).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Frozen snapshot: plain SQLAlchemy types only (see 0001). Unique keys are the ledger's
guarantees: one survey per customer and period, one invitation per survey, one code per
invitation, one referral per order, one reward per referral and per idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referral_surveys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("customer_external_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("order_external_id", sa.String(255), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_surveys")),
        sa.UniqueConstraint("connection", "customer_external_id", "period",
                            name=op.f("uq_referral_surveys_connection_customer_external_id_period")),
    )
    op.create_index(op.f("ix_referral_surveys_status_due_at"), "referral_surveys",
                    ["status", "due_at"])
    op.create_table(
        "referral_invitations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("survey_id", sa.String(40), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("customer_external_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["survey_id"], ["referral_surveys.id"],
                                name=op.f("fk_referral_invitations_survey_id_referral_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_invitations")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_referral_invitations_survey_id")),
    )
    op.create_table(
        "referral_codes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("invitation_id", sa.String(40), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("customer_external_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("shop_reference", sa.String(255), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["referral_invitations.id"],
                                name=op.f("fk_referral_codes_invitation_id_referral_invitations")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_referral_codes_invitation_id")),
    )
    op.create_index(op.f("ix_referral_codes_connection_customer_external_id"), "referral_codes",
                    ["connection", "customer_external_id"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("order_external_id", sa.String(255), nullable=False),
        sa.Column("customer_external_id", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("attributed_by", sa.String(10), nullable=False),
        sa.Column("order_total", sa.Numeric(18, 4), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("placed_at", WHEN, nullable=False),
        sa.Column("attributed_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["code"], ["referral_codes.code"],
                                name=op.f("fk_referrals_code_referral_codes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("connection", "order_external_id",
                            name=op.f("uq_referrals_connection_order_external_id")),
    )
    op.create_index(op.f("ix_referrals_status"), "referrals", ["status"])
    op.create_index(op.f("ix_referrals_code"), "referrals", ["code"])
    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("referral_id", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("policy", sa.String(100), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(255), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("issued_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_referral_rewards_referral_id_referrals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_referral_rewards_referral_id")),
        sa.UniqueConstraint("idempotency_key",
                            name=op.f("uq_referral_rewards_idempotency_key")),
    )
    op.create_table(
        "referral_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_transitions")),
    )
    op.create_index(op.f("ix_referral_transitions_entity_entity_id_id"),
                    "referral_transitions", ["entity", "entity_id", "id"])
    op.create_table(
        "referral_opt_outs",
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_referral_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("referral_opt_outs")
    op.drop_index(op.f("ix_referral_transitions_entity_entity_id_id"), "referral_transitions")
    op.drop_table("referral_transitions")
    op.drop_table("referral_rewards")
    op.drop_index(op.f("ix_referrals_code"), "referrals")
    op.drop_index(op.f("ix_referrals_status"), "referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_referral_codes_connection_customer_external_id"), "referral_codes")
    op.drop_table("referral_codes")
    op.drop_table("referral_invitations")
    op.drop_index(op.f("ix_referral_surveys_status_due_at"), "referral_surveys")
    op.drop_table("referral_surveys")
