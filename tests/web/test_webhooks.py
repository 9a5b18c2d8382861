"""Webhooks over real HTTP: uvicorn serving the app, the Shopify and WooCommerce emulators
signing and delivering, the store on both backends.

One module-level pair of emulators is enough (they hold no per-test state these tests touch
beyond webhooks created here); each test serves its own app over its own store.
"""

from __future__ import annotations

import json
import logging
import threading
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shoploop._config import Config
from shoploop._connections import Connections
from shoploop._plugins import PluginHost
from shoploop.hooks import AttributeChange, EmulatorOptions
from shoploop.plugins.shopify.emulator import ShopifyEmulator
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.store import (
    OrderRecord,
    Store,
    WebhookDeliveryRecord,
    delivery_counts,
    mirrored_customers,
    mirrored_orders,
)
from shoploop.web import create_app
from shoploop.web._webhooks import receiver_of

Served = Callable[[Any], AbstractContextManager[str]]
WAIT = 60.0
"""Generous bound for conditions (a loaded, shared machine); never a sleep."""


@pytest.fixture(scope="module")
def shop_emulator() -> Iterator[ShopifyEmulator]:
    emulator = ShopifyEmulator(EmulatorOptions())
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def woo_emulator() -> Iterator[WooCommerceEmulator]:
    emulator = WooCommerceEmulator.from_demo(customers=5)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def both_env(shop_emulator: ShopifyEmulator, woo_emulator: WooCommerceEmulator,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for emulator in (shop_emulator, woo_emulator):
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
    connections = {}
    for name, emulator in (("shop", shop_emulator), ("woo", woo_emulator)):
        connections.update(tomllib.loads(emulator.connection_block(name))["connections"])
    return connections


@pytest.fixture
def recorder(web_host: PluginHost, event_recorder: Any) -> Any:
    found = event_recorder
    web_host.register(found, name="recorder")
    return found


def _config(make_config: Callable[[dict[str, Any]], Config], store: Store,
            connections: dict[str, Any], **web: Any) -> Config:
    return make_config({"store": {"url": store.url}, "connections": connections,
                        "web": {"max_body_bytes": 4096, **web}})


def _post_concurrently(url: str, body: bytes, headers: dict[str, str], times: int = 3
                       ) -> list[httpx.Response]:
    barrier = threading.Barrier(times)

    def post(_: int) -> httpx.Response:
        with httpx.Client(timeout=WAIT) as client:
            barrier.wait(WAIT)
            return client.post(url, content=body, headers=headers)

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(post, range(times)))


def _rows(store: Store) -> list[WebhookDeliveryRecord]:
    from sqlalchemy import select

    with store.session() as session:
        return list(session.scalars(select(WebhookDeliveryRecord)))


def test_each_event_is_processed_once_when_delivered_three_times_concurrently(
        store: Store, web_host: PluginHost, recorder: Any, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config], served: Served,
        shop_emulator: ShopifyEmulator, woo_emulator: WooCommerceEmulator) -> None:
    config = _config(make_config, store, both_env)
    app = create_app(web_host, config, store)
    captured: list[tuple[int, bytes, dict[str, str]]] = []
    tier = f"gold-{uuid.uuid4().hex[:8]}"  # a change on every run (module-wide emulator)
    enqueue = woo_emulator.webhooks._enqueue

    def spy(hook_id: int, topic: str, body: bytes, headers: dict[str, str]) -> None:
        captured.append((hook_id, body, headers))  # the emulator's own bytes, replayed below
        enqueue(hook_id, topic, body, headers)

    with served(app) as base, Connections(config, web_host.connectors) as connectors:
        # Shopify: the emulator signs an orders/paid event and delivers it itself, 3 times
        # in a row (its retries); the test sends the same bytes 3 times at once on top.
        shop_emulator.webhooks.url, shop_emulator.webhooks.repeats = f"{base}/webhooks/shop", 2
        order = {"id": 4501, "name": "#1001", "email": "ann@example.com",
                 "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
                 "financial_status": "paid", "currency": "EUR", "customer": {"id": 77},
                 "line_items": [{"product_id": 9, "sku": "A-1", "name": "Anvil",
                                 "quantity": 2, "price": "19.90"}]}
        body, headers = shop_emulator.webhooks.deliver("orders/paid", order)
        answers = _post_concurrently(f"{base}/webhooks/shop", body, headers)
        assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]

        # WooCommerce: a webhook created over REST (its ping answered), a customer change
        # delivered by the emulator, and its captured bytes replayed 3 times at once.
        woo = connectors["woo"]
        woo_emulator.webhooks._enqueue = spy  # type: ignore[method-assign]
        try:
            created = woo.client.post("webhooks", {
                "topic": "customer.updated", "delivery_url": f"{base}/webhooks/woo",
                "secret": woo_emulator.webhook_secret}, operation="test").data
            woo.write_customer_attributes([AttributeChange(customer_id="2", key="tier",
                                                           new=tier)])
            woo_emulator.webhooks.drain()
        finally:
            del woo_emulator.webhooks._enqueue
        pings = [d for d in woo_emulator.webhooks.deliveries
                 if d["webhook"] == created["id"] and d["topic"] == "ping"]
        assert [p["status"] for p in pings] == [200]
        ((woo_body, woo_headers),) = [(b, h) for n, b, h in captured if n == created["id"]]
        answers = _post_concurrently(f"{base}/webhooks/woo", woo_body, woo_headers)
        assert [a.status_code for a in answers] == [200, 200, 200]

        events = recorder.wait_for(2)
        shop_emulator.webhooks.drain()
    # The app stopped (its worker joined): nothing more can be processed.
    shop_emulator.webhooks.url = None
    assert sorted(e.type for e in recorder.events) == ["customer.updated", "order.paid"]
    assert len({e.dedupe_key for e in events}) == 2
    rows = _rows(store)
    assert sorted((r.connection, r.status, r.attempts) for r in rows) == [
        ("shop", "processed", 1), ("woo", "processed", 1)]
    assert shop_emulator.stats.get("webhooks_delivered") >= 3
    with store.session() as session:
        (mirrored,) = [o for o in mirrored_orders(session, "shop") if o.id == "4501"]
        assert (mirrored.customer_id, mirrored.status, mirrored.total) == (
            "77", "paid", Decimal("39.80"))
        customers = {c.id: c for c in mirrored_customers(session, "woo")}
        assert customers["2"].attributes.get("tier") == tier
        assert session.query(OrderRecord).count() == 1


def _shop_headers(body: bytes, secret: str, shop: str, **extra: str) -> dict[str, str]:
    from shoploop.plugins.shopify._webhooks import sign

    return {"X-Shopify-Topic": "orders/paid", "X-Shopify-Hmac-Sha256": sign(body, secret),
            "X-Shopify-Shop-Domain": shop, "X-Shopify-Event-Id": "e-1",
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(), **extra}


def test_bad_deliveries_are_rejected_and_nothing_is_stored(
        store: Store, web_host: PluginHost, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config], served: Served,
        shop_emulator: ShopifyEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(web_host, _config(make_config, store, both_env), store)
    secret, shop = shop_emulator.api_secret, shop_emulator.shop
    good = json.dumps({"id": 1, "created_at": "2026-12-01T10:00:00Z"}).encode()
    stale = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        ("bad signature", good, _shop_headers(good, "not-the-secret", shop), 401,
         "bad_signature"),
        ("missing signature", good, {k: v for k, v in _shop_headers(good, secret, shop).items()
                                     if k != "X-Shopify-Hmac-Sha256"}, 401, "bad_signature"),
        ("stale", good, _shop_headers(good, secret, shop, **{"X-Shopify-Triggered-At": stale}),
         401, "bad_signature"),
        ("wrong shop", good, _shop_headers(good, secret, "other.myshopify.com"), 401,
         "bad_signature"),
        ("malformed JSON", b'{"id": 1,', _shop_headers(b'{"id": 1,', secret, shop), 400,
         "malformed"),
        ("not an object", b"[1]", _shop_headers(b"[1]", secret, shop), 400, "malformed"),
        ("oversized", b"{" + b" " * 5000 + b"}",
         _shop_headers(b"{" + b" " * 5000 + b"}", secret, shop), 413, "too_large"),
    ]
    with served(app) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        for name, body, headers, status, error in cases:
            answer = client.post("/webhooks/shop", content=body, headers=headers)
            assert (answer.status_code, answer.json().get("error")) == (status, error), name
        # Chunked, without Content-Length: the cap still holds.
        chunks = iter([b"{" + b" " * 3000, b" " * 3000 + b"}"])
        answer = client.post("/webhooks/shop", content=chunks,
                             headers=_shop_headers(b"x", secret, shop))
        assert answer.status_code == 413
        assert client.post("/webhooks/nowhere", content=good).status_code == 404
        assert client.post("/webhooks/woo", content=good,
                           headers={"X-WC-Webhook-Topic": "order.updated"}).status_code == 401
        assert client.get("/webhooks/shop").status_code == 405
        metrics = client.get("/metrics").text
    assert _rows(store) == []
    with store.session() as session:
        assert sum(delivery_counts(session).values()) == 0
    assert 'shoploop_webhook_receipts_total{connection="shop",outcome="bad_signature"} 4.0' \
        in metrics
    assert 'shoploop_webhook_receipts_total{connection="shop",outcome="too_large"} 2.0' \
        in metrics
    assert ('shoploop_http_requests_total{method="POST",route="/webhooks/{connection}",'
            'status="401"} 5.0') in metrics
    # No secret in any log line (the verifiers name headers, never values).
    for value in (secret, *both_env_secrets()):
        assert value not in caplog.text


def both_env_secrets() -> list[str]:
    import os

    return [value for key, value in os.environ.items()
            if key.startswith(("SHOPLOOP_SHOPIFY", "WOOCOMMERCE_EMULATOR")) and value]


_HEADER_NAMES = ["X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain",
                 "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-WC-Webhook-Signature",
                 "X-WC-Webhook-Topic", "X-WC-Webhook-Source", "X-WC-Webhook-Resource",
                 "X-WC-Webhook-Event", "Content-Type", "Content-Length"]
_TOPICS = ["orders/paid", "customers/redact", "shop/redact", "customers/data_request",
           "customer.updated", "order.updated", "product.deleted", "nonsense"]


def test_fuzzed_bodies_and_headers_never_give_a_server_error(
        tmp_path: Any, web_host: PluginHost, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config], served: Served,
        shop_emulator: ShopifyEmulator, woo_emulator: WooCommerceEmulator) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from shoploop.plugins.shopify._webhooks import sign as shop_sign
    from shoploop.plugins.woocommerce._webhooks import sign as woo_sign

    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store.upgrade()
    # Processing is left out (external): fuzzed events must not reach the emulators' data.
    app = create_app(web_host, _config(make_config, store, both_env,
                                       webhook_processing="external"), store)
    printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
    json_bodies = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | printable,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(printable, inner,
                                                                    max_size=4),
        max_leaves=12).map(lambda value: json.dumps(value).encode())
    bodies = st.binary(max_size=300) | json_bodies | st.just(b"webhook_id=12")
    # Stripped: h11 (the client) refuses header values with surrounding whitespace.
    headers = st.dictionaries(st.sampled_from(_HEADER_NAMES),
                              printable.map(str.strip) | st.sampled_from(_TOPICS), max_size=6)
    seen: set[int] = set()

    with served(app) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        # derandomize: the same examples every run, so the coverage check below is stable.
        @settings(max_examples=50, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(connection=st.sampled_from(["shop", "woo", "nowhere"]), body=bodies,
               given_headers=headers, signing=st.sampled_from(["none", "right", "wrong"]),
               origin=st.booleans())
        def post(connection: str, body: bytes, given_headers: dict[str, str], signing: str,
                 origin: bool) -> None:
            sent = dict(given_headers)
            sent.pop("Content-Length", None)  # httpx sets the real one
            if connection == "shop":
                secret = shop_emulator.api_secret if signing == "right" else "wrong"
                if signing != "none":
                    sent["X-Shopify-Hmac-Sha256"] = shop_sign(body, secret)
                if origin:
                    sent["X-Shopify-Shop-Domain"] = shop_emulator.shop
            elif connection == "woo":
                secret = woo_emulator.webhook_secret if signing == "right" else "wrong"
                if signing != "none":
                    sent["X-WC-Webhook-Signature"] = woo_sign(body, secret)
                if origin:
                    sent["X-WC-Webhook-Source"] = woo_emulator.url + "/"
            answer = client.post(f"/webhooks/{connection}", content=body, headers=sent)
            seen.add(answer.status_code)
            assert answer.status_code in (200, 400, 401, 404, 413), answer.text
            assert answer.headers["content-type"] == "application/json"

        post()
    store.dispose()
    assert {400, 401, 404} <= seen  # the fuzzing reached past the signature check


def test_redact_erases_and_a_failing_delivery_ends_failed(
        store: Store, web_host: PluginHost, recorder: Any, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config], served: Served,
        shop_emulator: ShopifyEmulator) -> None:
    from shoploop.hooks import Customer
    from shoploop.store import is_erased, upsert_customers

    with store.session() as session:
        upsert_customers(session, "shop", [Customer(id="501", email="eve@example.com")])
    app = create_app(web_host, _config(make_config, store, both_env, webhook_max_attempts=1),
                     store)
    secret, shop = shop_emulator.api_secret, shop_emulator.shop
    redact = json.dumps({"shop_domain": shop, "customer": {"id": 501,
                                                           "email": "eve@example.com"},
                         "orders_to_redact": []}).encode()
    nobody = json.dumps({"shop_domain": shop, "customer": {}}).encode()
    with served(app) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        for body, event_id in ((redact, "r-1"), (nobody, "r-2")):
            answer = client.post("/webhooks/shop", content=body, headers=_shop_headers(
                body, secret, shop, **{"X-Shopify-Topic": "customers/redact",
                                       "X-Shopify-Event-Id": event_id}))
            assert answer.status_code == 200, answer.text
        assert receiver_of(app.state.shoploop).wait_settled(2, WAIT)
    assert [e.dedupe_key for e in recorder.events] == ["customers/redact:r-1"]
    rows = {r.dedupe_key: r for r in _rows(store)}
    good, bad = rows["customers/redact:r-1"], rows["customers/redact:r-2"]
    assert (good.status, bad.status, bad.attempts) == ("processed", "failed", 1)
    assert "no customer id" in bad.error
    with store.session() as session:
        assert is_erased(session, "shop", "501")
        assert [c.id for c in mirrored_customers(session, "shop")] == []


def test_data_request_is_answered_into_the_export_dir_and_shop_redact_erases_the_shop(
        store: Store, web_host: PluginHost, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config], served: Served,
        shop_emulator: ShopifyEmulator, tmp_path: Any) -> None:
    from shoploop.jobs import process_deliveries

    config = _config(make_config, store, both_env, webhook_processing="external")
    app = create_app(web_host, config, store)
    secret, shop = shop_emulator.api_secret, shop_emulator.shop
    placed = datetime.now(UTC).isoformat()

    def order(number: int) -> bytes:
        return json.dumps({"id": number, "name": f"#{number}", "created_at": placed,
                           "email": "jane@example.com", "customer": {"id": 4711},
                           "financial_status": "paid", "line_items": [
                               {"product_id": 7, "quantity": 1, "price": "9.90"}]}).encode()

    request = json.dumps({"shop_id": 1, "shop_domain": shop, "orders_requested": [9001],
                          "customer": {"id": 4711, "email": "jane@example.com"},
                          "data_request": {"id": 55}}).encode()
    redact = json.dumps({"shop_id": 1, "shop_domain": shop}).encode()
    deliveries = [(order(9001), "orders/paid", "o-1"),
                  (request, "customers/data_request", "d-1"),
                  (redact, "shop/redact", "s-1"),
                  (order(9002), "orders/paid", "o-2")]  # after the redact: dropped
    with served(app) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        for body, topic, event_id in deliveries[:1]:
            assert client.post("/webhooks/shop", content=body, headers=_shop_headers(
                body, secret, shop, **{"X-Shopify-Topic": topic,
                                       "X-Shopify-Event-Id": event_id})).status_code == 200
        connections = Connections(config, web_host.connectors)
        first = process_deliveries(web_host, config, store, connections)
        for body, topic, event_id in deliveries[1:]:
            assert client.post("/webhooks/shop", content=body, headers=_shop_headers(
                body, secret, shop, **{"X-Shopify-Topic": topic,
                                       "X-Shopify-Event-Id": event_id})).status_code == 200
        second = process_deliveries(web_host, config, store, connections)
        connections.close()
    assert (first.processed, first.mirrored) == (1, 1)
    assert (second.processed, second.failed) == (2, 0)  # the late order is not processed
    answer = tmp_path / "privacy-exports" / "data-request-shop-55.json"
    document = json.loads(answer.read_text(encoding="utf-8"))
    assert [o["external_id"] for o in document["orders"]] == ["9001"]
    with store.session() as session:
        assert list(mirrored_orders(session, "shop")) == []
    assert [(r.topic, r.status) for r in _rows(store)] == [("shop/redact", "processed")]
    # Past the retention the shop/redact delivery stays: the record of the erasure.
    with Connections(config, web_host.connectors) as connections:
        later = process_deliveries(web_host, config, store, connections,
                                   clock=lambda: datetime.now(UTC) + timedelta(days=8))
    assert later.pruned == 0 and len(_rows(store)) == 1


def test_processing_deletes_processed_deliveries_past_the_retention(
        store: Store, web_host: PluginHost, both_env: dict[str, Any],
        make_config: Callable[[dict[str, Any]], Config]) -> None:
    from shoploop.jobs import process_deliveries
    from shoploop.store import record_deliveries, settle_delivery

    config = _config(make_config, store, both_env, webhook_processing="external",
                     webhook_retention_days=2)
    now = datetime.now(UTC)
    with store.session() as session:
        ids = record_deliveries(session, [
            {"connection": "shop", "dedupe_key": key, "topic": "orders/paid",
             "event_type": "order.paid", "event": {"dedupe_key": key}} for key in "ab"])
        settle_delivery(session, ids[("shop", "a")], "processed", now=now - timedelta(days=3))
        settle_delivery(session, ids[("shop", "b")], "processed", now=now - timedelta(days=1))
    with Connections(config, web_host.connectors) as connections:
        result = process_deliveries(web_host, config, store, connections, clock=lambda: now)
    assert (result.pruned, result.processed) == (1, 0)
    assert [r.dedupe_key for r in _rows(store)] == ["b"]
