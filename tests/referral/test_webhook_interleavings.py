"""Hypothesis over interleavings of a referred order's webhook deliveries and the job's runs,
through the real receiver (``shoploop serve`` on a socket, Shopify's signatures) and the
Shopify emulator: the order's first ``orders/paid`` and its refund's ``orders/updated``
arrive in any order, each in one to three concurrent copies, and retries of the first after
the refund, while the job runs at moving times. Whatever the order, the ledger keeps its
invariants: at most one referral per order; a reward exactly when a run saw the order paid
after its return window and no run saw it refunded before; then one discount code in Shopify;
reversed (the code deactivated in Shopify) exactly when a run saw the refund after the reward;
every history a chain of allowed transitions.

One app and store per backend for all examples (each example its own advocate, code and
order): examples are cheap, and the ledger keeps the earlier ones as a real one would."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shoploop.store import (
    LEDGER_TRANSITIONS,
    ReferralTransitionRecord,
    Store,
    referral_of_order,
    reward_of_referral,
)

PLACED = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
WINDOW = 14
LINK_SECRET = {"SHOPLOOP_REFERRAL_SECRET": "interleavings-secret-0123456789abcdef"}
_numbers = itertools.count(1)

EVENTS = st.lists(st.one_of(
    st.tuples(st.just("paid"), st.integers(1, 3)),      # the first delivery, or a retry
    st.tuples(st.just("refund"), st.integers(1, 3)),    # orders/updated: refunded
    st.tuples(st.just("run"), st.integers(0, 12)),      # the job, that many days later
), min_size=1, max_size=7)


def _payload(number: int, code: str, refunded_at: datetime | None) -> dict[str, Any]:
    stamp = (refunded_at or PLACED).isoformat()
    return {"id": 70_000 + number, "email": f"friend{number}@example.net",
            "created_at": PLACED.isoformat(), "updated_at": stamp, "currency": "EUR",
            "financial_status": "refunded" if refunded_at else "paid",
            "customer": {"id": 90_000 + number},
            "discount_codes": [{"code": code.lower(), "amount": "5", "type": "percentage"}],
            "line_items": [{"product_id": 9, "name": "Fernglas", "quantity": 1,
                            "price": "89.00"}]}


def test_ledger_invariants_over_webhook_interleavings(
        store: Store, shop_emulator: Any, shop_receiver: Any, active_code: Any,
        post_concurrently: Callable[..., list[httpx.Response]]) -> None:
    with shop_receiver({"shops": ["shop"], "smtp": {"enabled": False},
                        "reward": {"kind": "discount_code", "amount": "10"}}) as receiver:
        delivered = [0]

        @example(events=[("paid", 3), ("run", 12), ("run", 3), ("refund", 2), ("paid", 2),
                         ("run", 1)])
        @example(events=[("paid", 1), ("refund", 3), ("paid", 3), ("run", 12), ("run", 12)])
        @settings(max_examples=6, deadline=None, suppress_health_check=[
            HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(events=EVENTS)
        def check(events: list[tuple[str, int]]) -> None:
            _check(events, store, shop_emulator, receiver, active_code, post_concurrently,
                   delivered)

        check()


def _check(events: list[tuple[str, int]], store: Store, shop_emulator: Any, receiver: Any,
           active_code: Any, post_concurrently: Callable[..., list[httpx.Response]],
           delivered: list[int]) -> None:
    number = next(_numbers)
    code = active_code(store, connection="shop", customer_id=f"adv-{number}",
                       email=f"advocate{number}@example.org", code=f"FRIEND-HYP{number:05d}",
                       at=PLACED - timedelta(days=3))
    now = PLACED
    refunded_at: datetime | None = None  # the platform's refund, once it happened
    mirror: str | None = None            # what the mirror holds once the deliveries settled
    rewarded = cancelled = reversed_ = False
    for kind, value in events:
        if kind in ("paid", "refund"):
            if kind == "refund" and refunded_at is None:
                refunded_at = now + timedelta(minutes=1)
            body, headers = shop_emulator.webhooks.deliver(
                "orders/updated" if kind == "refund" else "orders/paid",
                _payload(number, code, refunded_at if kind == "refund" else None))
            answers = post_concurrently(receiver.url, [(body, headers)] * value)
            assert {a.status_code for a in answers} == {200}
            delivered[0] += 1
            receiver.settled(delivered[0])
            # An older version never replaces a newer one: once refunded, always refunded.
            mirror = "refunded" if kind == "refund" or mirror == "refunded" else "paid"
            continue
        now += timedelta(days=value)
        receiver.run(now, LINK_SECRET)
        if mirror == "refunded" and rewarded:
            reversed_ = True
        elif mirror == "refunded":
            cancelled = True
        elif mirror == "paid" and not cancelled and now >= PLACED + timedelta(days=WINDOW):
            rewarded = True
    with store.session() as session:
        referral = referral_of_order(session, "shop", str(70_000 + number))
        reward = reward_of_referral(session, referral.id) if referral else None
        history = list(session.scalars(select(ReferralTransitionRecord).where(
            ReferralTransitionRecord.entity_id.in_(
                [i for i in (referral and referral.id, reward and reward.id) if i])
        ).order_by(ReferralTransitionRecord.id)))
    ran_after_delivery = any(k == "run" for k, _ in events[next(
        (i for i, (k, _) in enumerate(events) if k != "run"), len(events)):])
    assert (referral is not None) == ran_after_delivery
    assert (reward is not None) == rewarded, (events, reward and reward.status)
    if reward is not None:
        assert reward.status == ("reversed" if reversed_ else "issued"), events
        [node] = [n for n in shop_emulator.data.discounts.values()
                  if n["codeDiscount"]["_codes"][0]["code"] == reward.reference]
        assert node["codeDiscount"]["status"] == ("EXPIRED" if reversed_ else "ACTIVE")
    elif referral is not None and cancelled:
        assert referral.status == "cancelled"
    last: dict[str, str | None] = {}
    for step in history:
        assert step.from_state == last.get(step.entity_id)
        assert step.to_state in LEDGER_TRANSITIONS[step.entity][step.from_state]
        last[step.entity_id] = step.to_state
