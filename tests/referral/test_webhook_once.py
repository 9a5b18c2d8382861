"""A referred order's webhook delivered three times at once, through the real receiver
(``shoploop serve``'s ASGI app on a uvicorn socket, signed as Shopify signs), and then the same
order under three more events at once (``orders/create``, ``orders/paid``,
``orders/updated``: distinct event ids, so the receiver stores all three and the mirror sees
the order three times) → exactly one referral; after the loop's runs exactly one reward, in
the Shopify emulator (one discount code) and in the ledger (one reward, one confirmed intent),
and one thank-you e-mail. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from shoploop.plugins.shopify.emulator import ShopifyEmulator
from shoploop.store import (
    Store,
    SyncBatch,
    WebhookDeliveryRecord,
    mirrored_orders,
    referrals_with_status,
    rewards_with_status,
)

WAIT = 60.0
"""Generous bound for conditions (a loaded, shared machine); never a sleep."""
SECRET = {"SHOPLOOP_REFERRAL_SECRET": "webhook-test-secret-0123456789abcdef"}
PLACED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _order(code: str) -> dict[str, Any]:
    """The friend's first order as Shopify's REST-shaped webhook body has it."""
    return {"id": 7001, "name": "#1042", "email": "ben@example.net",
            "created_at": PLACED.isoformat(), "updated_at": PLACED.isoformat(),
            "financial_status": "paid", "currency": "EUR", "customer": {"id": 88},
            "discount_codes": [{"code": code.lower(), "amount": "8.90", "type": "percentage"}],
            "line_items": [{"product_id": 9, "sku": "FG-1", "name": "Fernglas 10x42",
                            "quantity": 1, "price": "89.00"}]}


def test_an_order_webhook_three_times_at_once_gives_one_referral_and_one_reward(
        store: Store, shop_emulator: ShopifyEmulator, smtp_port: int, inbox: Any,
        active_code: Any, shop_receiver: Any,
        post_concurrently: Callable[..., list[httpx.Response]]) -> None:
    code = active_code(store, connection="shop", customer_id="77", email="anna@example.org",
                       code="FRIEND-WEBHOOK1", at=PLACED - timedelta(days=5))
    discounts_before = set(shop_emulator.data.discounts)
    with shop_receiver({"shops": ["shop"], "smtp": {"port": smtp_port},
                        "reward": {"kind": "discount_code", "amount": "10"}}) as receiver:
        body, headers = shop_emulator.webhooks.deliver("orders/paid", _order(code))
        answers = post_concurrently(receiver.url, [(body, headers)] * 3)  # 1 event, 3 copies
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        # The same order under three events (Shopify sends create, paid and updated for one
        # checkout, and retries each): the mirror and the ledger see it again and again.
        signed = [shop_emulator.webhooks.deliver(topic, _order(code))
                  for topic in ("orders/create", "orders/paid", "orders/updated")]
        answers = post_concurrently(receiver.url, signed)
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        receiver.settled(4)
        with store.session() as session:
            deliveries = list(session.scalars(select(WebhookDeliveryRecord)))
            assert sorted(d.status for d in deliveries) == ["processed"] * 4
            assert [o.discount_codes for o in mirrored_orders(session, "shop")] == [
                [code.lower()]]

        def run(now: datetime) -> dict[str, int]:
            report = receiver.run(now, SECRET)
            assert report.problems == [] and receiver.host.failures == [], report.problems
            return dict(report.counts)

        assert run(PLACED + timedelta(days=1))["orders_attributed"] == 1
        counts = run(PLACED + timedelta(days=15))  # the return window is over
        assert (counts["referrals_qualified"], counts["rewards_issued"],
                counts["advocates_thanked"]) == (1, 1, 1)
        assert "rewards_issued" not in run(PLACED + timedelta(days=16))
    issued = {k: v for k, v in shop_emulator.data.discounts.items()
              if k not in discounts_before}
    assert len(issued) == 1, issued  # one discount code in Shopify, the advocate's reward
    [reward_node] = issued.values()
    with store.session() as session:
        [referral] = referrals_with_status(session, ["rewarded"])
        assert referral.order_external_id == "7001" and referral.code == code
        [reward] = rewards_with_status(session, ["thanked"])
        assert reward.referral_id == referral.id
        assert reward.reference == reward_node["codeDiscount"]["_codes"][0]["code"]
        intents = list(session.scalars(select(SyncBatch).where(
            SyncBatch.kind == "referral_reward")))
        assert [b.status for b in intents] == ["confirmed"]
    thanks = [m for m in inbox.wait_for(1) if m["To"] == "anna@example.org"]
    assert len(thanks) == 1 and reward.reference in thanks[0].get_body(
        ("plain",)).get_content()

