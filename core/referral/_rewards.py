"""Qualification, rewards and thank-yous — the money side of the loop (reversals after a
refund: ``_revoke``).

A reward is issued through the core's intent mechanism (``shoploop.store.record_intent``,
kind ``referral_reward``) with the core's idempotency key (``referral-<id>``):

1. one transaction records the reward (``pending``) and the intent, and commits;
2. the connector issues the reward under the key (the adapters find a reward issued under
   the same key first, so a repeated call returns the first reward);
3. one transaction marks the reward ``issued``, the referral ``rewarded`` and the intent
   ``confirmed``.

A crash between 2 and 3 leaves the reward ``pending`` and the intent pending: the next run marks
the intent ``interrupted``, asks the connector ``find_reward(key)`` and records what it finds —
or issues again under the same key, which cannot pay twice. So each qualified referral is
rewarded exactly once, however often and wherever the run dies.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shoploop.combine import referral_findings, referral_reward
from shoploop.hooks import IssuedReward, IssuesRewards, Order, Referral, RewardSpec
from shoploop.store import (
    INTENT_CONFIRMED,
    ReferralRecord,
    external_ids_for,
    find_code,
    get_referral,
    interrupt_pending,
    record_intent,
    referrals_of_code,
    referrals_with_status,
    resolve_internal_id,
    reward_of_referral,
    rewards_with_status,
    settle_batch,
    transition,
)
from shoploop.store import add_reward as add_reward_record

from ._engine import Loop, _read

REWARD_INTENT = "referral_reward"
CUSTOMER = "customer"
_GONE = ("cancelled", "refunded")
_COUNTED = ("attributed", "qualified", "rewarded")


def _bindings(session: Any, connection: str, customer_id: str | None) -> dict[str, str]:
    if not customer_id:
        return {}
    internal = resolve_internal_id(session, connection, CUSTOMER, customer_id)
    return external_ids_for(session, CUSTOMER, internal) if internal else {}


def referral_model(loop: Loop, session: Any, record: ReferralRecord,
                   order: Order | None) -> Referral:
    """The hook's view of a ledger referral: both customers from the mirror, their bindings,
    the order's state, the advocate's other referrals."""
    code = find_code(session, record.code)
    assert code is not None
    advocate = loop.customers(code.connection).get(code.customer_external_id)
    referred = (loop.customers(record.connection).get(record.customer_external_id)
                if record.customer_external_id else None)
    referred_bindings = _bindings(session, record.connection, record.customer_external_id)
    prior = 0
    if order is not None:
        email = (record.email or "").lower()
        for connection, customer_id in {record.connection: record.customer_external_id,
                                        **referred_bindings}.items():
            prior += sum(1 for o in loop.orders(connection).values()
                         if o.placed_at < order.placed_at and o.id != order.id
                         and ((customer_id and o.customer_id == customer_id)
                              or (email and (o.email or "").lower() == email)))
    others = [r.placed_at for r in referrals_of_code(session, code.code)
              if r.id != record.id and r.status in (*_COUNTED, "reversed")
              and r.placed_at <= record.placed_at]
    return Referral(
        id=record.id, advocate_customer_id=code.customer_external_id,
        advocate_email=code.email or (advocate.email if advocate else None), code=code.code,
        referred_order_id=record.order_external_id,
        referred_customer_id=record.customer_external_id,
        referred_email=record.email or (referred.email if referred else None),
        order_total=record.order_total, currency=record.currency,
        connection=record.connection, created_at=record.placed_at,
        attributed_by=record.attributed_by,
        advocate_addresses=advocate.addresses if advocate else [],
        referred_addresses=referred.addresses if referred else [],
        advocate_vat_id=advocate.vat_id if advocate else None,
        referred_vat_id=referred.vat_id if referred else None,
        advocate_bindings=_bindings(session, code.connection, code.customer_external_id),
        referred_bindings=referred_bindings,
        order_status=order.status if order else None,
        refunded_total=order.refunded_total if order else 0,
        referred_prior_orders=prior, advocate_referral_times=others,
        experiment=loop.arms.arm_of_advocate(session, code.connection,
                                             code.customer_external_id))


def _gone(order: Order | None) -> bool:
    return order is None or order.status in _GONE or order.refunded_total > 0


# -- 4. qualification ---------------------------------------------------------------------------

def qualify_referrals(loop: Loop) -> None:
    window = timedelta(days=loop.settings.return_window_days)
    for record in _read(loop, lambda s: referrals_with_status(s, ["attributed"])):
        order = loop.orders(record.connection).get(record.order_external_id)
        if _gone(order):
            late = (order is not None and order.refunded_at is not None
                    and order.refunded_at > order.placed_at + window)
            if not loop.dry_run:
                with loop.session() as session:
                    transition(session, "referral", record.id, "cancelled", now=loop.now,
                               cause="order refunded after the return window but before it "
                                     "qualified" if late else
                               "order refunded or cancelled inside the return window",
                               decided_at=loop.now)
            loop.report.add("referrals_cancelled")
            continue
        assert order is not None
        if order.status not in ("paid", "fulfilled") or loop.now < order.placed_at + window:
            loop.report.add("referrals_waiting")
            continue
        with loop.session() as session:
            findings = referral_findings(loop.host, loop.context,
                                         referral_model(loop, session, record, order))
            reasons = {"findings": [f.model_dump() for f in findings]}
            rejecting = [f"{f.rule}: {f.reason}" for f in findings if f.rejects]
            if loop.dry_run:
                loop.report.add("referrals_to_reject" if rejecting else "referrals_to_qualify")
                continue
            if rejecting:
                transition(session, "referral", record.id, "rejected", now=loop.now,
                           cause="; ".join(rejecting), reasons=reasons, decided_at=loop.now)
                loop.report.add("referrals_rejected")
            else:
                transition(session, "referral", record.id, "qualified", now=loop.now,
                           cause=f"paid, {window.days}-day return window over, no fraud "
                                 "finding rejects", reasons=reasons, decided_at=loop.now)
                loop.report.add("referrals_qualified")


# -- 5. rewards -----------------------------------------------------------------------------------

def _target(loop: Loop, record: ReferralRecord) -> str:
    return loop.settings.reward.connection or record.connection


def reconcile_interrupted(loop: Loop) -> None:
    """Rewards left ``pending`` by a run that died between "sent" and "recorded"."""
    pending = _read(loop, lambda s: rewards_with_status(s, ["pending"]))
    if not pending or loop.dry_run:
        loop.report.add("rewards_to_reconcile", len(pending)) if pending else None
        return
    with loop.session() as session:
        interrupted = interrupt_pending(session, {r.connection for r in pending},
                                        kind=REWARD_INTENT)
    loop.report.add("reward_intents_interrupted", len(interrupted))
    for reward in pending:
        connector = loop.connector(reward.connection)
        found = connector.find_reward(reward.idempotency_key)
        spec = RewardSpec.model_validate(reward.spec)
        _issue(loop, reward.id, reward.referral_id, reward.connection, spec, found=found,
               cause="found again by its idempotency key after an interrupted run"
               if found else "issued again under the same key after an interrupted run")


def reward_qualified(loop: Loop) -> None:
    for record in _read(loop, lambda s: referrals_with_status(s, ["qualified"])):
        with loop.session() as session:
            if reward_of_referral(session, record.id) is not None:
                continue
            answer = referral_reward(loop.host, loop.context,
                                     referral_model(loop, session, record, None))
        if answer is None:
            loop.report.add("referrals_without_policy")
            continue
        policy, decided = answer
        target = _target(loop, record)
        spec = _for_target(loop, record, target, decided)
        if spec is None:
            continue
        if loop.dry_run:
            loop.report.add("rewards_to_issue")
            continue
        connector = loop.connector(target)
        if not isinstance(connector, IssuesRewards):
            loop.report.problems.append(f"referral {record.id}: connection {target!r} cannot "
                                        "issue rewards")
            continue
        with loop.session() as session:  # 1. the intent, committed before anything is sent
            reward, created = add_reward_record(
                session, referral_id=record.id, idempotency_key=spec.idempotency_key,
                connection=target, kind=spec.kind, policy=policy,
                spec=spec.model_dump(mode="json"), now=loop.now,
                cause=f"policy {policy}: {spec.kind} {spec.amount or spec.percentage or ''}"
                      f"{spec.product_id or ''}".strip())
            if not created:
                continue
            record_intent(session, loop.report.run_id, target,
                          [{"reward": reward.id, "key": spec.idempotency_key}],
                          kind=REWARD_INTENT)
        _issue(loop, reward.id, record.id, target, spec, found=None,
               cause=f"issued in {target}")


def _for_target(loop: Loop, record: ReferralRecord, target: str,
                spec: RewardSpec) -> RewardSpec | None:
    """The advocate as the reward's target knows them (the ERP's customer for an ERP gift)."""
    with loop.session() as session:
        code = find_code(session, record.code)
        assert code is not None
        if target == code.connection:
            return spec
        there = _bindings(session, code.connection, code.customer_external_id).get(target)
    if there is None:
        loop.report.problems.append(
            f"referral {record.id}: the advocate {code.customer_external_id!r} has no customer "
            f"in {target!r} (no identity binding); run the sync, then this job again")
        loop.report.add("rewards_waiting_for_binding")
        return None
    return spec.model_copy(update={"recipient_customer_id": there})


def _issue(loop: Loop, reward_id: str, referral_id: str, target: str, spec: RewardSpec, *,
           found: IssuedReward | None, cause: str) -> None:
    issued = found or loop.connector(target).issue_reward(spec)  # 2. sent
    with loop.session() as session:  # 3. recorded, all at once
        transition(session, "reward", reward_id, "issued", now=loop.now,
                   cause=f"{cause}: {issued.reference}", reference=issued.reference,
                   issued_at=loop.now)
        transition(session, "referral", referral_id, "rewarded", now=loop.now,
                   cause=f"reward {issued.reference} ({spec.kind})")
        confirm_intents(session, REWARD_INTENT, target, reward_id)
    loop.report.add("rewards_issued")


def confirm_intents(session: Any, kind: str, target: str, reward_id: str) -> None:
    """Confirm the open intent batches of ``kind`` that carry ``reward_id`` (pending, or
    interrupted by a run that died), in the caller's transaction."""
    from sqlalchemy import select

    from shoploop.store import SyncBatch
    for batch in session.scalars(select(SyncBatch).where(
            SyncBatch.kind == kind, SyncBatch.connection == target,
            SyncBatch.status.in_(["pending", "interrupted"]))):
        if any(i.get("reward") == reward_id for i in batch.changes.get("items", [])):
            settle_batch(session, batch.id, INTENT_CONFIRMED)


def thank_advocates(loop: Loop) -> None:
    for reward in _read(loop, lambda s: rewards_with_status(s, ["issued"])):
        with loop.session() as session:
            record = get_referral(session, reward.referral_id)
            code = find_code(session, record.code) if record else None
        if record is None or code is None or loop.dry_run:
            continue
        spec = RewardSpec.model_validate(reward.spec)
        what = (f"{spec.amount} {spec.currency}" if spec.amount is not None
                else f"{spec.percentage:g} %" if spec.percentage is not None
                else f"{spec.product_id}")
        if loop.deliver("thank_you", to=code.email, language=loop.settings.language_for(
                code.connection), key=f"thanks-{reward.id}",
                customer_id=code.customer_external_id, connection=code.connection,
                reward=f"{what} ({reward.reference})"):
            with loop.session() as session:
                transition(session, "reward", reward.id, "thanked", now=loop.now,
                           cause="thank-you e-mailed")
            loop.report.add("advocates_thanked")
