"""Webhook verification and parsing: raw bytes in, typed event out (hypothesis for inputs)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.hooks import WebhookPayloadError, WebhookSignatureError
from shoploop.plugins.shopify._webhooks import parse, sign, verify
from shoploop.plugins.shopify.emulator import SECRET

secrets = st.text(min_size=1, max_size=40)
bodies = st.binary(max_size=512)


def headers_for(body: bytes, secret: str, topic: str = "orders/paid", **extra: str
                ) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": sign(body, secret), "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "acme.myshopify.com", **extra}


@given(body=bodies, secret=secrets)
def test_valid_signature_verifies(body, secret):
    verify(headers_for(body, secret), body, secret)


@given(body=bodies.filter(bool), secret=secrets, data=st.data())
def test_a_changed_byte_is_rejected(body, secret, data):
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1:]
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify(headers_for(body, secret), changed, secret)


@given(body=bodies, secret=secrets, other=secrets)
def test_a_wrong_secret_is_rejected(body, secret, other):
    if other == secret:
        other = secret + "x"
    with pytest.raises(WebhookSignatureError):
        verify(headers_for(body, secret), body, other)


@given(header=st.text(max_size=60).filter(
    lambda s: not _is_base64(s)))
def test_a_non_base64_header_is_rejected(header):
    with pytest.raises(WebhookSignatureError):
        verify({"X-Shopify-Hmac-Sha256": header}, b"{}", "secret")


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.strip(), validate=True)
    except ValueError:
        return False
    return bool(text.strip())


@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Hmac-Sha256": ""},
                                     {"X-Shopify-Topic": "orders/paid"}])
def test_a_missing_header_is_rejected(headers):
    with pytest.raises(WebhookSignatureError, match="missing"):
        verify(headers, b"{}", "secret")


def test_header_names_are_case_insensitive():
    body = b'{"id": 1}'
    lowered = {k.lower(): v for k, v in headers_for(body, "s").items()}
    assert parse(lowered, body, "s").type == "order.paid"


@settings(max_examples=50)
@given(order_id=st.integers(1, 10**13), updated=st.datetimes().map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S-04:00")))
def test_repeated_deliveries_share_the_dedupe_key(order_id, updated):
    body = json.dumps({"id": order_id, "updated_at": updated}).encode()
    first = parse(headers_for(body, SECRET, **{"X-Shopify-Webhook-Id": "w1"}), body, SECRET)
    again = parse(headers_for(body, SECRET, **{"X-Shopify-Webhook-Id": "w2"}), body, SECRET)
    assert first.dedupe_key == again.dedupe_key == f"orders/paid:{order_id}:{updated}"


def test_event_id_is_the_dedupe_key_when_present():
    body = b'{"id": 5}'
    event = parse(headers_for(body, SECRET, **{"X-Shopify-Event-Id": "evt-9",
                                                "X-Shopify-Triggered-At":
                                                    "2026-01-02T03:04:05Z"}),
                  body, SECRET, connection="shop")
    assert (event.dedupe_key, event.connection, event.payload["id"]) == (
        "orders/paid:evt-9", "shop", 5)
    assert event.occurred_at is not None and event.occurred_at.year == 2026


@pytest.mark.parametrize(("topic", "kind"), [
    ("customers/data_request", "privacy.customer_data_request"),
    ("customers/redact", "privacy.customer_redact"), ("shop/redact", "privacy.shop_redact"),
    ("refunds/create", "order.refunded"), ("customers/update", "customer.updated")])
def test_topics_map_to_event_types(topic, kind):
    body = b'{"shop_id": 1, "customer": {"id": 7}}'
    event = parse(headers_for(body, SECRET, topic), body, SECRET)
    assert event.type == kind and event.topic == topic


def test_unknown_topic_and_bad_json_are_payload_errors():
    with pytest.raises(WebhookPayloadError, match="unsupported"):
        parse(headers_for(b"{}", SECRET, "carts/update"), b"{}", SECRET)
    with pytest.raises(WebhookPayloadError, match="not JSON"):
        parse(headers_for(b"{no", SECRET), b"{no", SECRET)


def test_connector_parses_with_the_client_secret(connect, emulator):
    connector = connect(emulator)
    body = b'{"id": 42, "updated_at": "2026-01-01T00:00:00Z"}'
    ours = {"X-Shopify-Shop-Domain": emulator.shop}
    event = connector.parse_webhook(headers_for(body, SECRET, **ours), body)
    assert event.type == "order.paid" and event.connection == "shop-test"
    with pytest.raises(WebhookSignatureError):
        connector.parse_webhook(headers_for(body, "another secret", **ours), body)
    # Signed with the right secret, but for another shop of the same app: refused.
    with pytest.raises(WebhookSignatureError, match="not this connection's shop"):
        connector.parse_webhook(headers_for(body, SECRET), body)
    # A replay: triggered two days ago.
    with pytest.raises(WebhookSignatureError, match="Triggered-At"):
        connector.parse_webhook(headers_for(body, SECRET, **ours, **{
            "X-Shopify-Triggered-At": "2020-01-01T00:00:00Z"}), body)


def test_emulator_delivers_signed_webhooks_with_repeats(start_emulator, connect):
    """The emulator POSTs a customers/update per write, twice (a repeat), signed."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            return None

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from shoploop.hooks import AttributeChange
        from shoploop.plugins.shopify.emulator import numeric_id
        from shoploop.testing import make_dataset

        emulator = start_emulator(webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
                                  webhook_repeats=1)
        dataset = make_dataset(customers=3, products=1, orders=1)
        emulator.data.load(customers=dataset.customers)
        connector = connect(emulator)
        customer = str(numeric_id("Customer", dataset.customers[0].id))
        connector.write_customer_attributes([AttributeChange(customer_id=customer,
                                                             key="segment", new="vip")])
        emulator.webhooks.drain()
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 2
    events = [connector.parse_webhook(headers, body) for headers, body in received]
    assert {e.type for e in events} == {"customer.updated"}
    assert events[0].dedupe_key == events[1].dedupe_key
    assert events[0].payload["id"] == int(customer)


def test_an_order_webhook_carries_its_refunds_amount_and_date():
    """The REST order's ``refunds``: successful refund transactions add up, the latest
    refund's ``created_at`` is the order's ``refunded_at``; failed ones count for nothing."""
    from shoploop.plugins.shopify._webhooks import order_from_webhook

    order = order_from_webhook({
        "id": 7, "processed_at": "2026-06-01T10:00:00Z", "financial_status": "partially_refunded",
        "refunds": [
            {"created_at": "2026-06-05T08:00:00+02:00", "transactions": [
                {"kind": "refund", "status": "success", "amount": "12.50"}]},
            {"created_at": "2026-06-09T08:00:00Z", "transactions": [
                {"kind": "refund", "status": "success", "amount": "5.00"},
                {"kind": "refund", "status": "failure", "amount": "99.00"}]}]})
    assert order is not None and order.status == "partially_refunded"
    assert order.refunded_total == Decimal("17.50")
    assert order.refunded_at is not None and order.refunded_at.isoformat() == \
        "2026-06-09T08:00:00+00:00"
    plain = order_from_webhook({"id": 8, "processed_at": "2026-06-01T10:00:00Z"})
    assert plain is not None and (plain.refunded_total, plain.refunded_at) == (0, None)
