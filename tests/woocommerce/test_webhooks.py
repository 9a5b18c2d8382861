"""Webhook signature verification and parsing: raw bytes in, typed event out."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.hooks import WebhookPayloadError, WebhookSignatureError
from shoploop.plugins.woocommerce import parse_webhook, sign, verify

SECRET = "whsec_test-secret"
ORDER = {"id": 727, "status": "processing", "date_modified_gmt": "2026-05-01T10:00:00",
         "billing": {"email": "a@example.com"}, "line_items": []}


def headers_for(body: bytes, topic: str = "order.updated", secret: str = SECRET) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {"X-WC-Webhook-Source": "https://shop.example.com/", "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-ID": "3", "X-WC-Webhook-Delivery-ID": "991",
            "X-WC-Webhook-Signature": sign(body, secret)}


def test_valid_signature_gives_typed_event() -> None:
    body = json.dumps(ORDER).encode()
    event = parse_webhook(headers_for(body), body, secret=SECRET, connection="shop")
    assert (event.type, event.topic, event.connection) == ("order.paid", "order.updated", "shop")
    assert event.payload["id"] == 727
    assert event.occurred_at is not None and event.occurred_at.year == 2026


def test_dedupe_key_identifies_the_change_not_the_delivery() -> None:
    body = json.dumps(ORDER).encode()
    first = parse_webhook(headers_for(body), body, secret=SECRET)
    again = {**headers_for(body), "X-WC-Webhook-Delivery-ID": "992", "X-WC-Webhook-ID": "4"}
    assert parse_webhook(again, body, secret=SECRET).dedupe_key == first.dedupe_key
    later = json.dumps({**ORDER, "date_modified_gmt": "2026-05-01T10:00:05"}).encode()
    assert parse_webhook(headers_for(later), later, secret=SECRET).dedupe_key != first.dedupe_key


def test_refunded_order_and_other_topics() -> None:
    body = json.dumps({**ORDER, "status": "refunded"}).encode()
    assert parse_webhook(headers_for(body), body, secret=SECRET).type == "order.refunded"
    body = json.dumps({"id": 5, "email": "x@example.com"}).encode()
    event = parse_webhook(headers_for(body, "customer.updated"), body, secret=SECRET)
    assert event.type == "customer.updated"
    deleted = json.dumps({"id": 5}).encode()
    event = parse_webhook(headers_for(deleted, "customer.deleted"), deleted, secret=SECRET)
    assert event.dedupe_key.endswith(":customer:5:deleted")


def test_form_encoded_ping_is_accepted_without_signature() -> None:
    event = parse_webhook({"Content-Type": "application/x-www-form-urlencoded"},
                          b"webhook_id=12", secret=SECRET)
    assert (event.type, event.payload) == ("webhook.ping", {"webhook_id": 12})


def test_ping_lookalikes_are_not_pings() -> None:
    with pytest.raises(WebhookSignatureError):
        parse_webhook({}, b"webhook_id=12&order=1", secret=SECRET)
    with pytest.raises(WebhookSignatureError):
        parse_webhook({"X-WC-Webhook-Topic": "order.updated"}, b"webhook_id=12", secret=SECRET)


def test_missing_header_wrong_secret_garbage_header() -> None:
    body = json.dumps(ORDER).encode()
    with pytest.raises(WebhookSignatureError, match="missing"):
        parse_webhook({"X-WC-Webhook-Topic": "order.updated"}, body, secret=SECRET)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        parse_webhook(headers_for(body, secret="other"), body, secret=SECRET)
    with pytest.raises(WebhookSignatureError, match="not base64"):
        parse_webhook({**headers_for(body), "X-WC-Webhook-Signature": "%%%garbage"}, body,
                      secret=SECRET)
    with pytest.raises(WebhookSignatureError, match="no webhook secret"):
        parse_webhook(headers_for(body), body, secret=None)


def test_verified_but_unparseable_payload() -> None:
    for body in (b"not json", b"[1, 2]", b'{"no_id": true}'):
        with pytest.raises(WebhookPayloadError):
            parse_webhook(headers_for(body), body, secret=SECRET)


def test_header_names_are_case_insensitive() -> None:
    body = json.dumps(ORDER).encode()
    lowered = {k.lower(): v for k, v in headers_for(body).items()}
    assert parse_webhook(lowered, body, secret=SECRET).payload["id"] == 727


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_any_body_verifies_with_its_own_signature(body: bytes, secret: str) -> None:
    verify({"X-WC-Webhook-Signature": sign(body, secret)}, body, secret)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(min_size=1, max_size=512), position=st.integers(min_value=0),
       flip=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_rejected(body: bytes, position: int, flip: int) -> None:
    signature = sign(body, SECRET)
    index = position % len(body)
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1:]
    with pytest.raises(WebhookSignatureError):
        verify({"X-WC-Webhook-Signature": signature}, changed, SECRET)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=256), secret=st.text(min_size=1, max_size=30),
       other=st.text(min_size=1, max_size=30))
def test_wrong_secret_is_rejected(body: bytes, secret: str, other: str) -> None:
    if secret == other:
        other += "x"
    with pytest.raises(WebhookSignatureError):
        verify({"X-WC-Webhook-Signature": sign(body, other)}, body, secret)


@settings(max_examples=100, deadline=None)
@given(garbage=st.text(max_size=60))
def test_garbage_signature_header_is_rejected(garbage: str) -> None:
    body = json.dumps(ORDER).encode()
    if garbage == sign(body, SECRET):
        return
    with pytest.raises(WebhookSignatureError):
        verify({"X-WC-Webhook-Signature": garbage}, body, SECRET)


def test_signature_is_base64_of_hmac_sha256() -> None:
    import hashlib
    import hmac

    body = b'{"id":1}'
    expected = base64.b64encode(hmac.new(b"k", body, hashlib.sha256).digest()).decode()
    assert sign(body, "k") == expected
