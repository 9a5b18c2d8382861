"""Hypothesis over interleavings of a referred order's events (paid, seen again, refunded,
the job running at later times) against the WooCommerce emulator: the ledger's invariants hold
whatever the order — one referral per order, at most one reward per referral and one coupon
per reward key, no reward for an order refunded inside the return window, a reward reversed
(its coupon expired in WooCommerce) exactly when the refund came after it, every history a
chain of allowed transitions."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import shoploop
from shoploop.hooks import Customer, HookContext, LineItem, Order
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.referral import ReferralSettings, builtin, run_referrals
from shoploop.store import (
    LEDGER_TRANSITIONS,
    ReferralTransitionRecord,
    Store,
    add_code,
    add_invitation,
    add_survey,
    get_survey,
    referrals_with_status,
    rewards_with_status,
    transition,
    upsert_customers,
    upsert_orders,
)

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
ANNA = Customer(id="anna", email="anna@example.org")
BEN = Customer(id="ben", email="ben@example.net")
RAW: dict[str, Any] = {"referral": {"shops": ["woo"], "return_window_days": 14,
                                    "smtp": {"enabled": False},
                                    "reward": {"kind": "coupon", "amount": "10"}}}
SETTINGS = ReferralSettings.model_validate(RAW["referral"])
LINK_SECRET = {"SHOPLOOP_REFERRAL_SECRET": "invariants-link-secret-0123456789abcdef"}


@pytest.fixture(scope="module")
def woo() -> Iterator[tuple[WooCommerceEmulator, WooCommerceConnector]]:
    emulator = WooCommerceEmulator.from_records().start()
    config = WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "K",
        "consumer_secret_env": "S", "timeout": 10})
    connector = WooCommerceConnector("woo", config, environ={"K": emulator.key,
                                                            "S": emulator.secret})
    yield emulator, connector
    connector.close()
    emulator.stop()


EVENTS = st.lists(st.one_of(
    st.tuples(st.just("seen"), st.integers(0, 3)),          # paid order (webhook / import)
    st.tuples(st.just("refund"), st.integers(0, 30)),        # refunded, day after placing
    st.tuples(st.just("run"), st.integers(0, 30)),           # the job, day after placing
), min_size=1, max_size=8)


@example(events=[("seen", 0), ("run", 1), ("run", 20), ("refund", 25), ("run", 26)])
@settings(max_examples=12, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=EVENTS)
def test_ledger_invariants_over_interleavings(woo: Any, events: list[tuple[str, int]]) -> None:
    emulator, connector = woo
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'l.db'}")
        store.upgrade()
        host = shoploop.new_host(strict=True)
        host.register(builtin, name="referral")
        code = f"FRIEND-{abs(hash(tuple(events))) % 10**8:08d}"
        with store.session() as session:
            upsert_customers(session, "woo", [ANNA, BEN])
            survey_id = add_survey(session, connection="woo", customer_id="anna",
                                   email=ANNA.email, order_id="O1", period=1, language="en",
                                   due_at=T0, now=T0, cause="test")
            assert survey_id is not None
            transition(session, "survey", survey_id, "sent", cause="t", now=T0)
            transition(session, "survey", survey_id, "answered", cause="t", now=T0, score=5)
            invitation = add_invitation(session, survey=get_survey(session, survey_id),  # type: ignore[arg-type]
                                        now=T0, cause="t")
            add_code(session, code=code, invitation=invitation, now=T0, cause="t")
            transition(session, "code", code, "active", cause="t", now=T0)
        placed = T0 + timedelta(days=1)
        refunded_on: int | None = None
        seen = expect_reward = refunded_after_reward = expect_reversal = False
        for kind, day in sorted(events, key=lambda e: e[1]):  # time moves forward
            if kind == "seen" or (kind == "refund" and seen):
                refunded = kind == "refund" or refunded_on is not None
                if kind == "refund" and refunded_on is None:
                    refunded_on = day
                    refunded_after_reward = expect_reward
                seen = True
                order = Order(id="O2", customer_id="ben", email=BEN.email, placed_at=placed,
                              status="refunded" if refunded else "paid",
                              refunded_total=Decimal("50") if refunded else Decimal(0),
                              discount_codes=[code],
                              lines=[LineItem(name="x", quantity=1, unit_price=Decimal(50))])
                with store.session() as session:
                    upsert_orders(session, "woo", [order])
            elif kind == "run":
                now = placed + timedelta(days=day)
                if seen and refunded_on is None and day >= SETTINGS.return_window_days:
                    expect_reward = True  # paid, window over, never refunded: rewarded now
                # A refund after the reward, seen by a run (well inside clawback_days): the
                # coupon is revoked in WooCommerce.
                expect_reversal |= refunded_after_reward
                # A secret: a run 30 days after the order owes Ben his own survey.
                run_referrals(host, store, SETTINGS, now, environ=LINK_SECRET,
                              context=HookContext(config=RAW, connectors={"woo": connector},
                                                  store=store, now=now))
        with store.session() as session:
            referrals = referrals_with_status(session, [s for states in LEDGER_TRANSITIONS[
                "referral"].values() for s in states])
            rewards = rewards_with_status(session, {s for states in LEDGER_TRANSITIONS[
                "reward"].values() for s in states})
            history = list(session.scalars(__import__("sqlalchemy").select(
                ReferralTransitionRecord).order_by(ReferralTransitionRecord.id)))
        store.dispose()
    assert len(referrals) <= 1 and len(rewards) <= len(referrals)
    keys = [w.idempotency_key for w in rewards]
    issued = [c for c in emulator.data.coupons.values()
              if any(m.get("value") in keys for m in c.get("meta_data", []))]
    assert len(issued) == len(keys)  # one coupon per reward key, never two
    if refunded_on is not None and refunded_on < SETTINGS.return_window_days:
        assert rewards == []  # refunded inside the window: no reward, ever
    assert len(rewards) == (1 if expect_reward else 0)
    # Reversed exactly when refunded after the reward, and then the coupon is expired.
    assert [w.status for w in rewards if w.status in ("revoking", "reversed", "kept")] == (
        ["reversed"] if expect_reversal else [])
    for reward, coupon in ((w, c) for w in rewards for c in issued if w.reference == c["code"]):
        assert bool(coupon.get("date_expires_gmt")) == (reward.status == "reversed")
    last: dict[tuple[str, str], str | None] = {}
    for step in history:  # every history a chain of allowed transitions
        before = last.get((step.entity, step.entity_id))
        assert step.from_state == before
        assert step.to_state in LEDGER_TRANSITIONS[step.entity][before]
        last[(step.entity, step.entity_id)] = step.to_state
