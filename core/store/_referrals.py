"""The referral ledger's public functions: entries are created once (unique keys, ``INSERT …
ON CONFLICT DO NOTHING``) and change state only along the allowed transitions, each recorded
with its cause and time.

A transition is a compare-and-set (``UPDATE … WHERE status = <from>``): of two processes that
try to move the same entry, one wins and the other is told (``False``), so a duplicate webhook
or a concurrent run can never qualify, reward or reverse anything twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ._dialect import upsert_insert
from ._erasure import email_hash
from ._errors import StoreError
from ._referral_schema import (
    ReferralCodeRecord,
    ReferralInvitationRecord,
    ReferralOptOutRecord,
    ReferralRecord,
    ReferralRewardRecord,
    ReferralSurveyRecord,
    ReferralTransitionRecord,
    ReferralVisitRecord,
)

SURVEY, INVITATION, CODE, REFERRAL, REWARD = "survey", "invitation", "code", "referral", "reward"

LEDGER_TRANSITIONS: dict[str, dict[str | None, frozenset[str]]] = {
    SURVEY: {None: frozenset({"due"}), "due": frozenset({"sent", "skipped", "expired"}),
             "sent": frozenset({"answered", "expired", "skipped"})},
    INVITATION: {None: frozenset({"created"}), "created": frozenset({"sent", "skipped"})},
    CODE: {None: frozenset({"pending"}), "pending": frozenset({"active", "revoked"}),
           "active": frozenset({"revoked"})},
    REFERRAL: {None: frozenset({"attributed"}),
               "attributed": frozenset({"qualified", "rejected", "cancelled"}),
               "qualified": frozenset({"rewarded", "cancelled"}),
               "rewarded": frozenset({"reversed"})},
    REWARD: {None: frozenset({"pending"}), "pending": frozenset({"issued", "failed"}),
             "failed": frozenset({"pending"}), "issued": frozenset({"thanked", "reversed"}),
             "thanked": frozenset({"reversed"})},
}
"""entity → state → the states it may move to (``None``: how an entry is created)."""

_MODELS: dict[str, Any] = {
    SURVEY: ReferralSurveyRecord, INVITATION: ReferralInvitationRecord,
    CODE: ReferralCodeRecord, REFERRAL: ReferralRecord, REWARD: ReferralRewardRecord,
}


class LedgerError(StoreError):
    """A ledger entry was asked to make a transition its state machine does not allow."""


def new_ledger_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _key_column(entity: str) -> Any:
    model = _MODELS[entity]
    return model.code if entity == CODE else model.id


def _record(session: Session, entity: str, entity_id: str, from_state: str | None,
            to_state: str, cause: str, now: datetime) -> None:
    session.add(ReferralTransitionRecord(entity=entity, entity_id=entity_id,
                                         from_state=from_state, to_state=to_state,
                                         cause=cause, at=now))


def transition(session: Session, entity: str, entity_id: str, to_state: str, *, cause: str,
               now: datetime, **values: Any) -> bool:
    """Move one entry to ``to_state`` (setting ``values`` too) and record why. Returns False
    when the entry is already there or another process moved it first; raises
    :class:`LedgerError` for a transition the state machine forbids."""
    column = _key_column(entity)
    current = session.scalar(select(_MODELS[entity].status).where(column == entity_id))
    if current is None:
        raise LedgerError(f"no {entity} {entity_id!r} in the referral ledger")
    if current == to_state:
        return False
    if to_state not in LEDGER_TRANSITIONS[entity].get(current, frozenset()):
        raise LedgerError(f"{entity} {entity_id!r} cannot go from {current!r} to {to_state!r}",
                          remedy="this is a bug in the caller; the ledger was not changed")
    moved = session.execute(update(_MODELS[entity]).where(
        column == entity_id, _MODELS[entity].status == current,
    ).values(status=to_state, **values).execution_options(synchronize_session=False))
    if getattr(moved, "rowcount", 0) != 1:
        return False
    _record(session, entity, entity_id, current, to_state, cause, now)
    return True


def _insert_once(session: Session, model: Any, values: Mapping[str, Any]) -> bool:
    """Insert unless a unique key exists already; True when this call inserted."""
    table = model.__table__
    statement = (upsert_insert(session, table).values(**values).on_conflict_do_nothing()
                 # RETURNING, not rowcount: drivers disagree on rowcount for DO NOTHING.
                 .returning(*table.primary_key.columns))
    return session.execute(statement).first() is not None


# -- creating entries --------------------------------------------------------------------------

def add_survey(session: Session, *, connection: str, customer_id: str, email: str | None,
               order_id: str, period: int, language: str, due_at: datetime, now: datetime,
               cause: str) -> str | None:
    """A due survey, unless the customer has one for ``period`` already; its id or None."""
    survey_id = new_ledger_id("S")
    inserted = _insert_once(session, ReferralSurveyRecord, {
        "id": survey_id, "connection": connection, "customer_external_id": customer_id,
        "email": email, "order_external_id": order_id, "period": period,
        "language": language, "status": "due", "due_at": due_at, "created_at": now})
    if not inserted:
        return None
    _record(session, SURVEY, survey_id, None, "due", cause, now)
    return survey_id


def add_invitation(session: Session, *, survey: ReferralSurveyRecord, now: datetime,
                   cause: str) -> ReferralInvitationRecord:
    """The survey's invitation (created once; a repeated call returns the first)."""
    invitation_id = new_ledger_id("I")
    if _insert_once(session, ReferralInvitationRecord, {
            "id": invitation_id, "survey_id": survey.id, "connection": survey.connection,
            "customer_external_id": survey.customer_external_id, "email": survey.email,
            "status": "created", "created_at": now}):
        _record(session, INVITATION, invitation_id, None, "created", cause, now)
    found = session.scalar(select(ReferralInvitationRecord).where(
        ReferralInvitationRecord.survey_id == survey.id))
    assert found is not None
    return found


def add_code(session: Session, *, code: str, invitation: ReferralInvitationRecord,
             now: datetime, cause: str) -> ReferralCodeRecord:
    """The invitation's personal code (one per invitation; a repeated call returns it)."""
    if _insert_once(session, ReferralCodeRecord, {
            "code": code.upper(), "invitation_id": invitation.id,
            "connection": invitation.connection,
            "customer_external_id": invitation.customer_external_id,
            "email": invitation.email, "status": "pending", "created_at": now}):
        _record(session, CODE, code.upper(), None, "pending", cause, now)
    found = session.scalar(select(ReferralCodeRecord).where(
        ReferralCodeRecord.invitation_id == invitation.id))
    assert found is not None
    return found


def add_referral(session: Session, *, code: str, connection: str, order_id: str,
                 customer_id: str | None, email: str | None, attributed_by: str,
                 order_total: Decimal | None, currency: str, placed_at: datetime,
                 now: datetime, cause: str) -> tuple[ReferralRecord, bool]:
    """The referral of an order (one per order, however often it is seen); the record and
    whether this call created it."""
    referral_id = new_ledger_id("R")
    created = _insert_once(session, ReferralRecord, {
        "id": referral_id, "code": code.upper(), "connection": connection,
        "order_external_id": order_id, "customer_external_id": customer_id, "email": email,
        "attributed_by": attributed_by, "order_total": order_total, "currency": currency,
        "status": "attributed", "reasons": {"findings": []}, "placed_at": placed_at,
        "attributed_at": now})
    if created:
        _record(session, REFERRAL, referral_id, None, "attributed", cause, now)
    found = referral_of_order(session, connection, order_id)
    assert found is not None
    return found, created


def add_reward(session: Session, *, referral_id: str, idempotency_key: str, connection: str,
               kind: str, policy: str, spec: Mapping[str, Any], now: datetime,
               cause: str) -> tuple[ReferralRewardRecord, bool]:
    """The referral's reward intent (``pending``; one per referral and key)."""
    reward_id = new_ledger_id("W")
    created = _insert_once(session, ReferralRewardRecord, {
        "id": reward_id, "referral_id": referral_id, "idempotency_key": idempotency_key,
        "connection": connection, "kind": kind, "policy": policy, "spec": dict(spec),
        "status": "pending", "created_at": now})
    if created:
        _record(session, REWARD, reward_id, None, "pending", cause, now)
    found = session.scalar(select(ReferralRewardRecord).where(
        ReferralRewardRecord.referral_id == referral_id))
    assert found is not None
    return found, created


def opt_out(session: Session, email: str, *, cause: str, now: datetime) -> bool:
    """Record that ``email`` wants no surveys or invitations; True when new."""
    return _insert_once(session, ReferralOptOutRecord, {
        "email_hash": email_hash(email), "cause": cause, "at": now})


# -- reading the ledger ------------------------------------------------------------------------

def is_opted_out(session: Session, email: str | None) -> bool:
    if not email:
        return False
    return session.get(ReferralOptOutRecord, email_hash(email)) is not None


def surveys_with_status(session: Session, status: str, *, due_before: datetime | None = None,
                        limit: int | None = None) -> list[ReferralSurveyRecord]:
    query = select(ReferralSurveyRecord).where(ReferralSurveyRecord.status == status)
    if due_before is not None:
        query = query.where(ReferralSurveyRecord.due_at <= due_before)
    query = query.order_by(ReferralSurveyRecord.due_at, ReferralSurveyRecord.id).limit(limit)
    return list(session.scalars(query))


def get_survey(session: Session, survey_id: str) -> ReferralSurveyRecord | None:
    return session.get(ReferralSurveyRecord, survey_id)


def invitations_with_status(session: Session, status: str) -> list[ReferralInvitationRecord]:
    return list(session.scalars(select(ReferralInvitationRecord).where(
        ReferralInvitationRecord.status == status).order_by(ReferralInvitationRecord.id)))


def find_code(session: Session, code: str) -> ReferralCodeRecord | None:
    return session.get(ReferralCodeRecord, code.strip().upper())


def record_visit(session: Session, code: str, *, now: datetime) -> bool:
    """Count one visit of ``code``'s landing page; False (nothing stored) for an unknown
    code. A visit is not a state change, so it is a row of its own, not a transition."""
    record = find_code(session, code)
    if record is None:
        return False
    session.add(ReferralVisitRecord(code=record.code, at=now))
    return True


def visits_of_code(session: Session, code: str) -> int:
    return int(session.scalar(select(func.count()).select_from(ReferralVisitRecord).where(
        ReferralVisitRecord.code == code.strip().upper())) or 0)


def codes_with_status(session: Session, status: str) -> list[ReferralCodeRecord]:
    return list(session.scalars(select(ReferralCodeRecord).where(
        ReferralCodeRecord.status == status).order_by(ReferralCodeRecord.code)))


def codes_of_customer(session: Session, connection: str,
                      customer_id: str) -> list[ReferralCodeRecord]:
    return list(session.scalars(select(ReferralCodeRecord).where(
        ReferralCodeRecord.connection == connection,
        ReferralCodeRecord.customer_external_id == customer_id)))


def referral_of_order(session: Session, connection: str,
                      order_id: str) -> ReferralRecord | None:
    return session.scalar(select(ReferralRecord).where(
        ReferralRecord.connection == connection, ReferralRecord.order_external_id == order_id))


def get_referral(session: Session, referral_id: str) -> ReferralRecord | None:
    return session.get(ReferralRecord, referral_id)


def referrals_with_status(session: Session, statuses: Iterable[str]) -> list[ReferralRecord]:
    return list(session.scalars(select(ReferralRecord).where(
        ReferralRecord.status.in_(list(statuses))).order_by(ReferralRecord.attributed_at,
                                                            ReferralRecord.id)))


def referrals_of_code(session: Session, code: str) -> list[ReferralRecord]:
    return list(session.scalars(select(ReferralRecord).where(
        ReferralRecord.code == code.upper()).order_by(ReferralRecord.attributed_at)))


def reward_of_referral(session: Session, referral_id: str) -> ReferralRewardRecord | None:
    return session.scalar(select(ReferralRewardRecord).where(
        ReferralRewardRecord.referral_id == referral_id))


def rewards_with_status(session: Session, statuses: Iterable[str]) -> list[ReferralRewardRecord]:
    return list(session.scalars(select(ReferralRewardRecord).where(
        ReferralRewardRecord.status.in_(list(statuses))).order_by(ReferralRewardRecord.id)))


def ledger_history(session: Session, entity: str,
                   entity_id: str) -> list[ReferralTransitionRecord]:
    """Every transition of one entry, oldest first."""
    return list(session.scalars(select(ReferralTransitionRecord).where(
        ReferralTransitionRecord.entity == entity,
        ReferralTransitionRecord.entity_id == entity_id).order_by(ReferralTransitionRecord.id)))


def referral_funnel(session: Session) -> dict[str, int]:
    """The loop's counts: surveyed → answered → satisfied → invited → referred orders →
    qualified → rewarded (each stage counts the entries that reached it, whatever came after).
    ``satisfied`` is every answered survey that got an invitation."""

    def reached(entity: str, states: Iterable[str]) -> int:
        return int(session.scalar(select(func.count(func.distinct(
            ReferralTransitionRecord.entity_id))).where(
            ReferralTransitionRecord.entity == entity,
            ReferralTransitionRecord.to_state.in_(list(states)))) or 0)

    return {
        "surveyed": reached(SURVEY, ["sent"]),
        "answered": reached(SURVEY, ["answered"]),
        "satisfied": reached(INVITATION, ["created"]),
        "invited": reached(INVITATION, ["sent"]),
        "referred_orders": reached(REFERRAL, ["attributed"]),
        "qualified": reached(REFERRAL, ["qualified"]),
        "rewarded": reached(REFERRAL, ["rewarded"]),
    }


