"""The documented WooCommerce examples (``tests/fixtures/platforms/woocommerce``, sources in its
README) against the adapter and the emulator:

* the adapter's parsers accept them — served verbatim by a real HTTP server, read through the
  connector, and as webhook bodies;
* the emulator's answers have their shape: every key the docs show, with the same JSON type,
  recursively — so the emulator cannot drift from the documentation without a test failing.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.hooks import CustomerDraft, WriteStatus
from shoploop.plugins.woocommerce import WooCommerceConnector, parse_webhook, sign
from shoploop.plugins.woocommerce._mapping import (
    customer_from_woo,
    order_from_woo,
    product_from_woo,
)
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

FIXTURES = Path(__file__).parents[1] / "fixtures" / "platforms" / "woocommerce"

NULLABLE = {"date_paid", "date_paid_gmt", "date_completed", "date_completed_gmt",
            "stock_quantity", "date_on_sale_from", "date_on_sale_from_gmt", "date_on_sale_to",
            "date_on_sale_to_gmt"}
"""Date and stock fields the docs type as string/integer that WooCommerce answers ``null`` while
unset (the property tables; an unpaid order has no ``date_paid``)."""

DOCUMENTED_BUT_NOT_SENT = ("refunds[*].refund",)
"""Keys of the examples current WooCommerce no longer sends (see the fixtures' README)."""


def documented(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def shape_differences(doc: Any, got: Any, path: str = "$") -> list[str]:
    """Where ``got`` lacks a key of ``doc`` or has another JSON type; ``null`` in the docs only
    asks for the key; array items are compared with all documented items merged."""
    if doc is None:
        return []
    if _type(doc) != _type(got):
        return [f"{path}: documented {_type(doc)}, got {_type(got)} ({got!r:.60})"]
    found: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            where = f"{path}.{key}"
            if where.endswith(DOCUMENTED_BUT_NOT_SENT):
                continue
            if key not in got:
                found.append(f"{where}: missing")
            elif not (got[key] is None and key in NULLABLE) and not (
                    key == "value" and path.endswith("meta_data[*]")):  # meta: any type
                found += shape_differences(value, got[key], where)
    elif isinstance(doc, list) and doc:
        merged = _merged(doc)
        for item in got:
            found += shape_differences(merged, item, f"{path}[*]")
    return found


def _merged(items: list[Any]) -> Any:
    """One documented item with every key any of ``items`` shows (a non-empty example of an
    array wins over an empty one), so e.g. an order with refunds documents ``refunds[]``."""
    merged = items[0]
    for item in items[1:]:
        if isinstance(merged, dict) and isinstance(item, dict):
            merged = {**item, **{k: _merged([v, item[k]]) if k in item else v
                                 for k, v in merged.items()}}
        elif isinstance(merged, list) and isinstance(item, list):
            merged = merged + item
        elif merged is None:
            merged = item
    return merged


def assert_shape(doc: Any, got: Any) -> None:
    differences = shape_differences(doc, got)
    assert not differences, "the emulator's answer differs from the documented example:\n" + \
        "\n".join(differences)


def test_the_shape_check_can_fail() -> None:
    doc = documented("customer.json")
    assert shape_differences(doc, doc) == []
    broken = {**doc, "billing": {**doc["billing"], "phone": 5}}
    del broken["avatar_url"]
    assert shape_differences(doc, broken) == ["$.billing.phone: documented string, got number "
                                              "(5)", "$.avatar_url: missing"]


# -- the adapter parses the documented objects ----------------------------------------------

def test_mapping_accepts_the_documented_objects() -> None:
    customer = customer_from_woo(documented("customer.json"), "shoploop_")
    assert (customer.id, customer.email, customer.first_name) == ("25", "john.doe@example.com",
                                                                 "John")
    assert {a.kind for a in customer.addresses} == {"billing", "shipping"}
    order = order_from_woo(documented("order.json"), "shoploop_")
    assert (order.id, order.status, order.customer_id) == ("727", "paid", None)
    assert [(line.product_id, line.quantity) for line in order.lines] == [("93", 2), ("22", 1)]
    refunded = order_from_woo(documented("orders-list.json")[1], "shoploop_")
    assert (refunded.customer_id, str(refunded.refunded_total)) == ("26", "19.00")
    product = product_from_woo(documented("product.json"), "shoploop_")
    assert (product.id, product.sku, str(product.price)) == ("794", None, "21.99")


class Replay:
    """A store answering every request with one documented example, as WooCommerce would."""

    def __init__(self, examples: dict[tuple[str, str], str]) -> None:
        self.examples = examples
        self.server = EmulatorServer(self.answer).start()

    def answer(self, request: Request) -> Response:
        route = request.path.removeprefix("/wp-json/wc/v3/")
        body = documented(self.examples[(request.method, route)])
        headers = {"X-WP-Total": str(len(body)), "X-WP-TotalPages": "1"} if isinstance(
            body, list) else {}
        return Response.json(body, headers=headers)


@pytest.fixture
def replay() -> Any:
    servers: list[Replay] = []

    def start(examples: dict[tuple[str, str], str]) -> Replay:
        servers.append(Replay(examples))
        return servers[-1]

    yield start
    for server in servers:
        server.server.stop()


def _connect(server: Replay, woo_connect: Connect) -> WooCommerceConnector:
    class Store:
        url, key, secret, webhook_secret = server.server.url, "ck_doc", "cs_doc", "w"

    return woo_connect(Store)


def test_the_connector_reads_the_documented_lists(replay: Any, woo_connect: Connect) -> None:
    server = replay({("GET", "customers"): "customers-list.json",
                     ("GET", "orders"): "orders-list.json",
                     ("GET", "products"): "products-list.json"})
    connector = _connect(server, woo_connect)
    assert [c.email for c in connector.read_customers().items] == [
        "joao.silva@example.com", "john.doe@example.com"]
    orders = connector.read_orders().items
    assert sorted((o.id, o.status) for o in orders) == [("723", "partially_refunded"),
                                                        ("727", "paid")]
    products = connector.read_products().items
    assert sorted(p.id for p in products) == ["794", "799"]


def test_customer_creation_reads_the_documented_batch_answer(replay: Any,
                                                              woo_connect: Connect) -> None:
    server = replay({("POST", "customers/batch"): "customers-batch.json"})
    results = _connect(server, woo_connect).create_customers([
        CustomerDraft(email="john.doe2@example.com", first_name="John"),
        CustomerDraft(email="joao.silva2@example.com", first_name="João")])
    assert [(r.customer_id, r.status) for r in results] == [
        ("27", WriteStatus.WRITTEN), ("28", WriteStatus.WRITTEN)]


def test_documented_objects_as_webhook_bodies() -> None:
    headers = documented("webhook-delivery-headers.json")
    body = json.dumps(documented("order.json")).encode()
    signed = {k: v for k, v in headers.items() if v is not None}
    signed["X-WC-Webhook-Signature"] = sign(body, "s3cret&amp;")
    event = parse_webhook(signed, body, secret="s3cret&amp;", connection="shop")
    assert (event.type, event.topic, event.payload["id"]) == ("order.paid", "order.updated", 727)
    modified = documented("order.json")["date_modified_gmt"]
    assert event.dedupe_key == f"woocommerce:http://example.com/:order:727:{modified}"


# -- the emulator answers in the documented shape -------------------------------------------

CUSTOMERS = [{"id": "C1", "email": "anna@example.com", "first_name": "Anna",
              "addresses": [{"kind": "billing", "line1": "Hauptstr. 1", "city": "Berlin",
                             "postal_code": "10115", "country": "DE"}],
              "attributes": {"industry": "food"}},
             {"id": "C2", "email": "ben@example.com"}]
PRODUCTS = [{"id": "P1", "name": "Kettle", "sku": "K-1", "price": "39.90",
             "compare_at_price": "49.90", "stock": 3, "category": "Kitchen", "tags": ["steel"]}]
ORDERS = [{"id": "O1", "customer_id": "C1", "status": "paid", "currency": "EUR",
           "email": "anna@example.com", "placed_at": "2026-05-01T10:00:00Z",
           "lines": [{"product_id": "P1", "quantity": 2, "unit_price": "39.90", "sku": "K-1"}],
           "discount_codes": ["WELCOME"], "refunded_total": "5.00"}]


def _get(emulator: WooCommerceEmulator, path: str) -> Any:
    answer = requests.get(emulator.signed_url("GET", path), timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _post(emulator: WooCommerceEmulator, path: str, body: Any) -> requests.Response:
    return requests.post(emulator.signed_url("POST", path), json=body, timeout=5)


@pytest.fixture
def shop(start_emulator: Start) -> WooCommerceEmulator:
    return start_emulator(customers=CUSTOMERS, products=PRODUCTS, orders=ORDERS)


@pytest.mark.parametrize(("path", "example"), [
    ("customers/1", "customer.json"), ("customers?role=all", "customers-list.json"),
    ("orders/1", "order.json"), ("orders", "orders-list.json"),
    ("products/1", "product.json"), ("products", "products-list.json"),
])
def test_reads_have_the_documented_shape(shop: WooCommerceEmulator, path: str,
                                         example: str) -> None:
    assert_shape(documented(example), _get(shop, path))


def test_batch_answers_have_the_documented_shape(shop: WooCommerceEmulator) -> None:
    answer = _post(shop, "customers/batch", {
        "create": [{"email": "carla@example.com", "first_name": "Carla"}],
        "update": [{"id": 1, "meta_data": [{"key": "shoploop_industry", "value": "retail"}]}]})
    assert answer.status_code == 200
    doc = documented("customers-batch.json")
    got = answer.json()
    assert_shape({"create": doc["create"], "update": doc["update"]}, got)
    # The emulator deletes nothing; WooCommerce's delete part is not compared.
    products = _post(shop, "products/batch", {"update": [{"id": 1, "upsell_ids": [1]}]}).json()
    assert_shape({"update": documented("products-batch.json")["update"]}, products)


def test_webhooks_have_the_documented_shape(shop: WooCommerceEmulator) -> None:
    created = _post(shop, "webhooks", {"name": "Order updated", "topic": "order.updated",
                                       "delivery_url": "http://127.0.0.1:9/hook"})
    assert created.status_code == 201
    assert_shape(documented("webhook-created.json"), created.json())
    assert set(created.json()) == set(documented("webhook-created.json"))  # no secret
    assert_shape(documented("webhook.json"), _get(shop, "webhooks/1"))
    assert_shape(documented("webhooks-list.json"), _get(shop, "webhooks"))
    assert created.json()["hooks"] == ["woocommerce_update_order", "woocommerce_order_refunded",
                                       "woocommerce_delete_order_refund"]


def test_errors_have_the_documented_shape(shop: WooCommerceEmulator) -> None:
    missing = requests.get(shop.signed_url("GET", "customers/999"), timeout=5)
    assert missing.status_code == 404
    assert_shape(documented("error-woocommerce.json"), missing.json())
    no_route = requests.get(shop.signed_url("GET", "nothing-here"), timeout=5)
    assert no_route.status_code == 404
    assert_shape(documented("error-wp.json"), no_route.json())
    assert no_route.json()["code"] == documented("error-wp.json")["code"]


class Receiver:
    def __init__(self) -> None:
        self.received: list[Request] = []
        self.server = EmulatorServer(self.answer).start()

    def answer(self, request: Request) -> Response:
        self.received.append(request)
        return Response(200)


def test_deliveries_have_the_documented_headers_and_body(shop: WooCommerceEmulator) -> None:
    receiver = Receiver()
    try:
        created = _post(shop, "webhooks", {"topic": "order.updated",
                                           "delivery_url": receiver.server.url + "/hook"}).json()
        secret = shop.webhooks.secret_of(created["id"])
        assert requests.put(shop.signed_url("PUT", "orders/1"), json={"status": "completed"},
                            timeout=5).status_code == 200
        shop.webhooks.drain()
        _ping, delivery = receiver.received
    finally:
        receiver.server.stop()
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    doc = documented("webhook-delivery-headers.json")
    for name, value in doc.items():
        assert name.lower() in headers, name
        if value is not None and name != "X-WC-Webhook-Source":
            assert headers[name.lower()] == value, name
    assert headers["x-wc-webhook-source"] == shop.url + "/"
    assert_shape(documented("order.json"), json.loads(delivery.body))
    observed = documented("webhook-delivery-observed-headers.json")
    assert set(observed) <= set(headers)
    assert len(base64.b64decode(headers["x-wc-webhook-signature"])) == len(
        base64.b64decode(observed["x-wc-webhook-signature"])) == 32
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-wc-webhook-delivery-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", observed["x-wc-webhook-delivery-id"])
    pattern = r"WooCommerce/\S+ Hookshot \(WordPress/\S+\)"
    assert re.fullmatch(pattern, headers["user-agent"])
    assert re.fullmatch(pattern, observed["user-agent"])
    assert parse_webhook(delivery.headers, delivery.body, secret=secret).type == "order.paid"
