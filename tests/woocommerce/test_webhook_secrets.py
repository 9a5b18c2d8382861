"""Webhook secrets, pings and delivery failures as WooCommerce handles them (see the emulator's
``_hooks`` for the source lines), and the adapter verifying deliveries with the webhook's own
secret — never the consumer secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.hooks import AttributeChange, RemoteValidationError, WebhookSignatureError
from shoploop.plugins.woocommerce import WooCommerceConnector, parse_webhook, sign, verify
from shoploop.plugins.woocommerce._webhooks import wp_specialchars_decode
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.plugins.woocommerce.emulator._hooks import (
    SECRET_ALPHABET,
    generate_secret,
    php_json,
)

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com"} for i in range(3)]


class Receiver:
    """A real HTTP server receiving webhooks; answers ``statuses`` in turn, then the last."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.received: list[Request] = []
        self.lock = threading.Lock()
        self.server = EmulatorServer(self.answer).start()
        self.url = self.server.url + "/hook"

    def answer(self, request: Request) -> Response:
        with self.lock:
            self.received.append(request)
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response(status, b"", {"Location": self.server.url + "/elsewhere"})


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(*statuses))
        return made[-1]

    yield make
    for r in made:
        r.server.stop()


def test_a_webhook_without_secret_gets_a_random_50_character_one(
        start_emulator: Start, woo_connect: Connect, receiver: Callable[..., Receiver]) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    to = receiver()
    first = connector.client.post("webhooks", {"topic": "customer.updated",
                                               "delivery_url": to.url}, operation="t").data
    second = connector.client.post("webhooks", {"topic": "order.updated",
                                                "delivery_url": to.url}, operation="t").data
    assert "secret" not in first and first["status"] == "active"  # never in the REST answer
    secret = emulator.webhooks.secret_of(first["id"])
    assert len(secret) == 50 and set(secret) <= set(SECRET_ALPHABET)
    assert secret != emulator.webhooks.secret_of(second["id"])
    assert emulator.secret not in (secret, emulator.webhooks.secret_of(second["id"]))
    connector.write_customer_attributes([AttributeChange(customer_id="2", key="a", new="b")])
    emulator.webhooks.drain()
    ping1, ping2, update = to.received
    assert "x-wc-webhook-signature" not in ping1.headers
    assert (ping1.body, ping2.body) == (f"webhook_id={first['id']}".encode(),
                                        f"webhook_id={second['id']}".encode())
    # Signed with the webhook's generated secret — the consumer secret does not verify it.
    assert parse_webhook(update.headers, update.body, secret=secret).payload["id"] == 2
    with pytest.raises(WebhookSignatureError, match="does not match"):
        parse_webhook(update.headers, update.body, secret=emulator.secret)
    headers = update.headers
    assert headers["user-agent"].startswith("WooCommerce/") and "Hookshot" in headers[
        "user-agent"]
    assert headers["x-wc-webhook-source"] == emulator.url + "/"
    assert (headers["x-wc-webhook-topic"], headers["x-wc-webhook-resource"],
            headers["x-wc-webhook-event"], headers["x-wc-webhook-id"]) == (
        "customer.updated", "customer", "updated", str(first["id"]))
    assert len(headers["x-wc-webhook-delivery-id"]) == 32  # wp_hash(): hex HMAC-MD5


def test_a_given_secret_is_used(start_emulator: Start, woo_connect: Connect,
                                receiver: Callable[..., Receiver]) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    to = receiver()
    hook = connector.client.post("webhooks", {"topic": "customer.updated",
                                              "delivery_url": to.url,
                                              "secret": emulator.webhook_secret},
                                 operation="t").data
    assert emulator.webhooks.secret_of(hook["id"]) == emulator.webhook_secret
    connector.write_customer_attributes([AttributeChange(customer_id="1", key="a", new="b")])
    emulator.webhooks.drain()
    update = to.received[-1]
    assert connector.parse_webhook(update.headers, update.body).type == "customer.updated"


def test_a_failed_ping_is_not_a_failed_delivery_and_302_is_success(
        start_emulator: Start, woo_connect: Connect, receiver: Callable[..., Receiver]) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    to = receiver(500, 302, 500)
    hook = connector.client.post("webhooks", {"topic": "customer.updated",
                                              "delivery_url": to.url}, operation="t").data
    state = emulator.webhooks.hooks[hook["id"]]
    assert state["failure_count"] == 0 and state["status"] == "active"  # ping answered 500
    connector.write_customer_attributes([AttributeChange(customer_id="1", key="a", new="b")])
    emulator.webhooks.drain()
    assert state["failure_count"] == 0  # 302: success, and the redirect is not followed
    assert [r.path for r in to.received] == ["/hook", "/hook"]
    connector.write_customer_attributes([AttributeChange(customer_id="1", key="a", new="c")])
    emulator.webhooks.drain()
    assert state["failure_count"] == 1


def test_webhook_creation_is_validated(start_emulator: Start, woo_connect: Connect) -> None:
    connector = woo_connect(start_emulator(customers=CUSTOMERS))
    with pytest.raises(RemoteValidationError, match="woocommerce_rest_shop_webhook_invalid_"
                                                    "topic"):
        connector.client.post("webhooks", {"topic": "customer.*",
                                           "delivery_url": "http://127.0.0.1:9/"},
                              operation="t")
    missing = re.escape("rest_missing_callback_param: Missing parameter(s): delivery_url")
    with pytest.raises(RemoteValidationError, match=missing):
        connector.client.post("webhooks", {"topic": "customer.updated"}, operation="t")
    with pytest.raises(RemoteValidationError, match="invalid_delivery_url"):
        connector.client.post("webhooks", {"topic": "customer.updated",
                                           "delivery_url": "ftp://x"}, operation="t")


@given(st.integers(min_value=0, max_value=2**32))
def test_generated_secrets_use_wp_generate_passwords_alphabet(_: int) -> None:
    secret = generate_secret()
    assert len(secret) == 50 and set(secret) <= set(SECRET_ALPHABET)
    assert len(SECRET_ALPHABET) == 26 + 26 + 10 + 10 + 20  # letters, digits, both specials


@pytest.mark.parametrize(("stored", "signing_key"), [
    ("plain-secret", "plain-secret"),
    ("a&amp;b", "a&b"),
    ("&lt;x&gt;", "<x>"),
    ("&quot;&#039;&#39;&#x27;&#X27;", "\"''''"),
    ("&#0038;&#x26;&#x0026;", "&&&"),
    ("&amp;lt;", "&lt;"),  # one pass, like strtr
    ("&Amp;&nbsp;&#60", "&Amp;&nbsp;&#60"),  # not entities wp_specialchars_decode knows
])
def test_the_secret_is_entity_decoded_before_signing(stored: str, signing_key: str) -> None:
    """``generate_signature`` keys the HMAC with ``wp_specialchars_decode(secret, ENT_QUOTES)``:
    a secret containing ``&amp;`` is verified with ``&``."""
    assert wp_specialchars_decode(stored) == signing_key
    body = b'{"id":1}'
    php = base64.b64encode(hmac.new(signing_key.encode(), body, hashlib.sha256).digest())
    verify({"X-WC-Webhook-Signature": php.decode()}, body, stored)
    assert sign(body, stored) == php.decode()
    if stored != signing_key:  # taken literally, the stored secret would not verify
        with pytest.raises(WebhookSignatureError):
            verify({"X-WC-Webhook-Signature": php.decode()}, body,
                   stored.replace("&", "&amp;"))


def test_delivery_bodies_are_php_json() -> None:
    assert php_json({"url": "https://x/ü", "n": [1, 2]}) == (
        b'{"url":"https:\\/\\/x\\/\\u00fc","n":[1,2]}')
