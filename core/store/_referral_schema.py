"""The referral ledger's tables (migration 0009): surveys, invitations, codes, referrals,
rewards — each a state machine whose every transition is a row of ``referral_transitions``
(from, to, cause, time) — and the customers who opted out.

Unique keys make "twice" impossible rather than unlikely: one survey per customer and period,
one invitation per survey, one code per invitation, one referral per referred order, one
reward per referral (and per idempotency key).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ._schema import CONNECTION, EXTERNAL_ID, Base
from ._types import utcnow

LEDGER_ID = String(40)
STATE = String(20)


class ReferralSurveyRecord(Base):
    """A satisfaction survey: ``due`` → ``sent`` → ``answered``; or ``skipped`` (opted out,
    no e-mail) / ``expired``. ``period`` is the survey period's number for this customer
    (days since the epoch // survey_period_days)."""

    __tablename__ = "referral_surveys"
    __table_args__ = (
        UniqueConstraint("connection", "customer_external_id", "period"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(LEDGER_ID, primary_key=True)
    connection: Mapped[str] = mapped_column(CONNECTION)
    customer_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    email: Mapped[str | None] = mapped_column(String(320))
    order_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    period: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(STATE)
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralInvitationRecord(Base):
    """An invitation of a satisfied customer: ``created`` → ``sent``. One per survey."""

    __tablename__ = "referral_invitations"
    __table_args__ = (UniqueConstraint("survey_id"),)

    id: Mapped[str] = mapped_column(LEDGER_ID, primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("referral_surveys.id"))
    connection: Mapped[str] = mapped_column(CONNECTION)
    customer_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(STATE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ReferralCodeRecord(Base):
    """An advocate's personal code: ``pending`` (in the ledger) → ``active`` (created in the
    shop, for the friend's side) → ``revoked``. ``code`` is stored upper-case."""

    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("invitation_id"),
                      Index(None, "connection", "customer_external_id"))

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("referral_invitations.id"))
    connection: Mapped[str] = mapped_column(CONNECTION)
    customer_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(STATE)
    shop_reference: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralRecord(Base):
    """A friend's order attributed to a code: ``attributed`` → ``qualified`` → ``rewarded``
    (→ ``reversed``); or ``rejected`` (a fraud rule, with reasons) / ``cancelled`` (refunded
    or cancelled inside the return window). One per referred order."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("connection", "order_external_id"),
                      Index(None, "status"), Index(None, "code"))

    id: Mapped[str] = mapped_column(LEDGER_ID, primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("referral_codes.code"))
    connection: Mapped[str] = mapped_column(CONNECTION)
    order_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    customer_external_id: Mapped[str | None] = mapped_column(EXTERNAL_ID)
    email: Mapped[str | None] = mapped_column(String(320))
    attributed_by: Mapped[str] = mapped_column(String(10))
    order_total: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(STATE)
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``{"findings": [{rule, rejects, reason}, …]}``: every fraud rule's say."""
    placed_at: Mapped[datetime]
    attributed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ReferralRewardRecord(Base):
    """A reward: ``pending`` (intent recorded) → ``issued`` → ``thanked``; after a refund
    (→ ``revoking``, the revocation's intent) → ``reversed``, or ``kept`` when the target
    could not take it back (redeemed already); or ``failed``. One per referral, and
    ``idempotency_key`` is unique: the core's key from the referral id, with which the
    connector finds the reward again after a crash."""

    __tablename__ = "referral_rewards"
    __table_args__ = (UniqueConstraint("referral_id"), UniqueConstraint("idempotency_key"))

    id: Mapped[str] = mapped_column(LEDGER_ID, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    connection: Mapped[str] = mapped_column(CONNECTION)
    kind: Mapped[str] = mapped_column(String(20))
    policy: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(STATE)
    reference: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]


class ReferralTransitionRecord(Base):
    """One state change of one ledger entry, with its cause and time: the ledger's history."""

    __tablename__ = "referral_transitions"
    __table_args__ = (Index(None, "entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(STATE)
    to_state: Mapped[str] = mapped_column(STATE)
    cause: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class ReferralVisitRecord(Base):
    """One visit of a code's landing page ``/r/<code>`` (migration 0010): the code and the
    time, nothing about the visitor."""

    __tablename__ = "referral_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("referral_codes.code"), index=True)
    at: Mapped[datetime]


class ReferralOptOutRecord(Base):
    """A customer who asked for no more surveys or invitations (by e-mail hash, so the
    opt-out holds in every connection and outlives the customer's records)."""

    __tablename__ = "referral_opt_outs"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    cause: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
