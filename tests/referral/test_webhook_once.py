"""A referred order's webhook delivered three times at once, through the real receiver
(``shoploop serve``'s ASGI app on a uvicorn socket, signed as Shopify signs), and then the same
order under three more events at once (``orders/create``, ``orders/paid``,
``orders/updated``: distinct event ids, so the receiver stores all three and the mirror sees
the order three times) → exactly one referral; after the loop's runs exactly one reward, in
the Shopify emulator (one discount code) and in the ledger (one reward, one confirmed intent),
and one thank-you e-mail. On SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shoploop import load_plugins
from shoploop._config import parse_config
from shoploop._connections import Connections
from shoploop._context import hook_context
from shoploop.hooks import EmulatorOptions
from shoploop.plugins.shopify.emulator import ShopifyEmulator
from shoploop.referral import run_referrals
from shoploop.store import (
    Store,
    SyncBatch,
    WebhookDeliveryRecord,
    mirrored_orders,
    referrals_with_status,
    rewards_with_status,
)
from shoploop.web import create_app
from shoploop.web._webhooks import receiver_of

WAIT = 60.0
"""Generous bound for conditions (a loaded, shared machine); never a sleep."""
SECRET = {"SHOPLOOP_REFERRAL_SECRET": "webhook-test-secret-0123456789abcdef"}
PLACED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shop_emulator() -> Iterator[ShopifyEmulator]:
    emulator = ShopifyEmulator(EmulatorOptions(customers=0))
    emulator.start()
    yield emulator
    emulator.stop()


def _order(code: str) -> dict[str, Any]:
    """The friend's first order as Shopify's REST-shaped webhook body has it."""
    return {"id": 7001, "name": "#1042", "email": "ben@example.net",
            "created_at": PLACED.isoformat(), "updated_at": PLACED.isoformat(),
            "financial_status": "paid", "currency": "EUR", "customer": {"id": 88},
            "discount_codes": [{"code": code.lower(), "amount": "8.90", "type": "percentage"}],
            "line_items": [{"product_id": 9, "sku": "FG-1", "name": "Fernglas 10x42",
                            "quantity": 1, "price": "89.00"}]}


def test_an_order_webhook_three_times_at_once_gives_one_referral_and_one_reward(
        store: Store, shop_emulator: ShopifyEmulator, tmp_path: Path, smtp_port: int,
        inbox: Any, monkeypatch: pytest.MonkeyPatch, active_code: Any,
        served: Callable[[Any], AbstractContextManager[str]],
        post_concurrently: Callable[..., list[httpx.Response]]) -> None:
    for key, value in shop_emulator.environment().items():
        monkeypatch.setenv(key, value)
    host = load_plugins(strict=True)
    connections = tomllib.loads(shop_emulator.connection_block("shop"))["connections"]
    config = parse_config({
        "store": {"url": store.url}, "connections": connections,
        "referral": {"shops": ["shop"], "smtp": {"port": smtp_port},
                     "reward": {"kind": "discount_code", "amount": "10"}}},
        host.connectors, file=str(tmp_path / "shoploop.toml"), base_dir=tmp_path)
    code = active_code(store, connection="shop", customer_id="77", email="anna@example.org",
                       code="FRIEND-WEBHOOK1", at=PLACED - timedelta(days=5))
    discounts_before = set(shop_emulator.data.discounts)
    app = create_app(host, config, store)
    receiver = receiver_of(app.state.shoploop)
    with served(app) as base:
        url = f"{base}/webhooks/shop"
        body, headers = shop_emulator.webhooks.deliver("orders/paid", _order(code))
        answers = post_concurrently(url, [(body, headers)] * 3)  # one event, three copies
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        # The same order under three events (Shopify sends create, paid and updated for one
        # checkout, and retries each): the mirror and the ledger see it again and again.
        signed = [shop_emulator.webhooks.deliver(topic, _order(code))
                  for topic in ("orders/create", "orders/paid", "orders/updated")]
        answers = post_concurrently(url, signed)
        assert [a.status_code for a in answers] == [200] * 3, [a.text for a in answers]
        assert receiver.wait_settled(4, WAIT), "the worker did not process the deliveries"
    with store.session() as session:
        deliveries = list(session.scalars(select(WebhookDeliveryRecord)))
        assert sorted(d.status for d in deliveries) == ["processed"] * 4
        assert [o.discount_codes for o in mirrored_orders(session, "shop")] == [[code.lower()]]

    def run(now: datetime) -> dict[str, int]:
        with Connections(config, host.connectors) as connected:
            report = run_referrals(host, store, config.referral, now, environ=SECRET,
                                   context=hook_context(config, connected, store=store,
                                                        now=now))
        assert report.problems == [] and host.failures == [], report.problems
        return report.counts

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

