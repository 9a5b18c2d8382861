"""Reversal after a refund: a rewarded referral whose order was refunded or cancelled within
``[referral.reward] clawback_days`` of the reward has the reward taken back in the target.

The same intent mechanism as the issuing (``_rewards``), kind ``referral_revoke``:

1. one transaction moves the reward ``issued``/``thanked`` → ``revoking`` and records the
   intent, and commits;
2. the connector revokes under the reward's idempotency key (``revoke_reward(key)``: expire the
   WooCommerce coupon, deactivate the Shopify discount code, delete the ERP's open document —
   idempotent: a revoked reward answers ``revoked`` again);
3. one transaction records the outcome — ``reversed``, or ``kept`` with the reason when the
   target could not take it back (redeemed already) — moves the referral to ``reversed`` and
   confirms the intent.

A run killed between 1 and 3 leaves the reward ``revoking``: the next run marks the intent
interrupted and asks again. A connector without ``revoke_reward`` gets the ledger's reversal
with a cause that says to reverse the reward by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shoploop.hooks import RevokedReward, RevokesRewards
from shoploop.store import (
    ReferralRecord,
    ReferralRewardRecord,
    get_referral,
    interrupt_pending,
    record_intent,
    referrals_with_status,
    reward_of_referral,
    rewards_with_status,
    transition,
)

from ._engine import Loop, _read
from ._rewards import _gone, confirm_intents

REVOKE_INTENT = "referral_revoke"
_REVOCABLE = ("issued", "thanked")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def reverse_refunded(loop: Loop) -> None:
    """Reverse the rewards of refunded referrals where the policy says so; first those a
    killed run left ``revoking``."""
    if not loop.settings.reward.reverse_on_refund:
        return
    _resume(loop)
    clawback = timedelta(days=loop.settings.reward.clawback_days)
    for record in _read(loop, lambda s: referrals_with_status(s, ["rewarded"])):
        order = loop.orders(record.connection).get(record.order_external_id)
        if not _gone(order):
            continue
        with loop.session() as session:
            reward = reward_of_referral(session, record.id)
        if reward is None or reward.status not in _REVOCABLE:
            continue  # pending: issued (or found) first, reversed on a later run
        # Judged at the refund's date where the platform gives it (Order.refunded_at), not at
        # this run's: a job that runs late must not forgive a refund made inside the window.
        refunded = _aware(order.refunded_at) if order and order.refunded_at else loop.now
        if reward.issued_at is not None and refunded > _aware(reward.issued_at) + clawback:
            loop.report.add("refunds_after_clawback")
            continue
        if loop.dry_run:
            loop.report.add("rewards_to_reverse")
            continue
        connector = loop.connector(reward.connection)
        if not isinstance(connector, RevokesRewards):
            _by_hand(loop, record, reward)
            continue
        with loop.session() as session:  # 1. the intent, committed before the call
            if not transition(session, "reward", reward.id, "revoking", now=loop.now,
                              cause=f"order {record.order_external_id} refunded or cancelled "
                                    "after the reward; revoking it in "
                                    f"{reward.connection}"):
                continue  # another run moved it first
            record_intent(session, loop.report.run_id, reward.connection,
                          [{"reward": reward.id, "key": reward.idempotency_key}],
                          kind=REVOKE_INTENT)
        _revoke(loop, reward, record, connector, retry=False)


def _resume(loop: Loop) -> None:
    """Rewards a run left ``revoking`` (killed between the intent and the outcome)."""
    revoking = _read(loop, lambda s: rewards_with_status(s, ["revoking"]))
    if not revoking or loop.dry_run:
        if revoking:
            loop.report.add("revocations_to_resume", len(revoking))
        return
    with loop.session() as session:
        interrupted = interrupt_pending(session, {r.connection for r in revoking},
                                        kind=REVOKE_INTENT)
    loop.report.add("revoke_intents_interrupted", len(interrupted))
    for reward in revoking:
        with loop.session() as session:
            record = get_referral(session, reward.referral_id)
        connector = loop.connector(reward.connection)
        if record is not None and isinstance(connector, RevokesRewards):
            _revoke(loop, reward, record, connector, retry=True)


def _revoke(loop: Loop, reward: ReferralRewardRecord, record: ReferralRecord,
            connector: RevokesRewards, *, retry: bool) -> None:
    answer = connector.revoke_reward(reward.idempotency_key)  # 2. sent
    state, cause = _outcome(answer, reward, retry=retry)
    with loop.session() as session:  # 3. recorded, all at once
        transition(session, "reward", reward.id, state, now=loop.now, cause=cause)
        transition(session, "referral", record.id, "reversed", now=loop.now,
                   cause=f"order {record.order_external_id} refunded after the reward; "
                         f"reward {state}")
        confirm_intents(session, REVOKE_INTENT, reward.connection, reward.id)
    loop.report.add("rewards_reversed" if state == "reversed" else "rewards_kept")


def _outcome(answer: RevokedReward, reward: ReferralRewardRecord, *,
             retry: bool) -> tuple[str, str]:
    where = f"{reward.connection} ({answer.reference or reward.reference})"
    detail = f": {answer.reason}" if answer.reason else ""
    if answer.outcome == "revoked":
        return "reversed", f"revoked in {where}{detail}"
    if answer.outcome == "redeemed":
        return "kept", f"redeemed already, cannot be revoked in {where}{detail}"
    if retry:  # gone after an interrupted revocation: most likely that run's own deletion
        return "reversed", (f"not found again in {where} after an interrupted revocation: "
                            f"revoked by that run{detail} (check the target if in doubt)")
    return "kept", f"nothing to revoke in {where}{detail}"


def _by_hand(loop: Loop, record: ReferralRecord, reward: Any) -> None:
    with loop.session() as session:
        transition(session, "reward", reward.id, "reversed", now=loop.now,
                   cause=f"order {record.order_external_id} refunded after the reward; the "
                         f"{reward.connection} connector cannot revoke: reverse "
                         f"{reward.reference} by hand")
        transition(session, "referral", record.id, "reversed", now=loop.now,
                   cause="order refunded after the reward")
    loop.report.add("rewards_reversed")
