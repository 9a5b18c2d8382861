"""WooCommerce webhooks: verify ``X-WC-Webhook-Signature`` over the raw body, parse the event.

Facts this relies on (WooCommerce ``includes/class-wc-webhook.php``, read at
https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/class-wc-webhook.php):

* the signature is ``base64(HMAC-SHA256(raw body, wp_specialchars_decode(secret, ENT_QUOTES)))``
  (``generate_signature``) — computed over the exact bytes, so nothing may be decoded or
  re-serialised before verifying; the HTML entities ``&amp;`` ``&lt;`` ``&gt;`` ``&quot;``
  ``&#039;`` in a secret are decoded first, so verifying does the same;
* a webhook created without a secret gets a random 50-character one
  (``wp_generate_password(50, true, true)``; REST webhooks controller ``create_item``,
  ``WC_Admin_Webhooks::save``), shown on the webhook's edit screen and never returned by the
  REST API — the receiver must be given it (``webhook_secret_env``); nothing is signed with
  the consumer secret;
* the ping sent when a webhook is created (or first activated in the admin) is the
  **form-encoded** string ``webhook_id=<id>`` without any ``X-WC-Webhook-*`` header or
  signature (``deliver_ping``). It is accepted as a ``webhook.ping`` event that carries
  nothing to act on; a non-200 answer makes the admin screen show an error;
* failed deliveries are not retried and, after repeated failures, the webhook is disabled, so
  webhooks only speed things up — polling reads stay on;
* ``X-WC-Webhook-Delivery-ID`` is ``wp_hash(webhook id . time())`` — not even unique per
  delivery, and the same change can be delivered by several hooks — so the dedupe key is built
  from resource, id and ``date_modified_gmt`` instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from shoploop.hooks import Event, WebhookPayloadError, WebhookSignatureError

from ._mapping import parse_time

SIGNATURE = "x-wc-webhook-signature"

REGISTERED_TOPICS = ("order.created", "order.updated", "order.deleted", "customer.created",
                     "customer.updated", "customer.deleted", "product.created",
                     "product.updated", "product.deleted")
"""What ``shoploop webhooks register`` subscribes (``WC_Webhook::get_default_topic_hooks``)."""


_ZERO_PADDED = ((re.compile(r"&#0*39;"), "&#039;"), (re.compile(r"&#x0*27;", re.I), "&#x27;"),
                (re.compile(r"&#0*34;"), "&#034;"), (re.compile(r"&#x0*22;", re.I), "&#x22;"),
                (re.compile(r"&#0*60;"), "&#060;"), (re.compile(r"&#0*62;"), "&#062;"),
                (re.compile(r"&#0*38;"), "&#038;"), (re.compile(r"&#x0*26;", re.I), "&#x26;"))
_ENTITIES = {"&#039;": "'", "&#x27;": "'", "&quot;": '"', "&#034;": '"', "&#x22;": '"',
             "&lt;": "<", "&#060;": "<", "&gt;": ">", "&#062;": ">", "&amp;": "&",
             "&#038;": "&", "&#x26;": "&"}
_ENTITY = re.compile("|".join(re.escape(e) for e in sorted(_ENTITIES, key=len, reverse=True)))


def wp_specialchars_decode(text: str) -> str:
    """WordPress's ``wp_specialchars_decode($text, ENT_QUOTES)`` (wp-includes/formatting.php):
    zero padding of the numeric entities is removed, then one ``strtr`` pass."""
    if "&" not in text:
        return text
    for pattern, entity in _ZERO_PADDED:
        text = pattern.sub(entity, text)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)


def _key(secret: str) -> bytes:
    return wp_specialchars_decode(secret).encode()


def sign(body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` WooCommerce sends for ``body`` under the webhook's
    ``secret`` (as stored, i.e. as the edit screen shows it)."""
    return base64.b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise ``WebhookSignatureError`` unless the signature header matches ``body``."""
    given = _lower(headers).get(SIGNATURE)
    if not given:
        raise WebhookSignatureError("the X-WC-Webhook-Signature header is missing")
    try:
        decoded = base64.b64decode(given.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError("X-WC-Webhook-Signature is not base64") from None
    expected = hmac.new(_key(secret), body, hashlib.sha256).digest()
    if not hmac.compare_digest(decoded, expected):
        raise WebhookSignatureError("X-WC-Webhook-Signature does not match the body")


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _ping_id(headers: dict[str, str], body: bytes) -> str | None:
    if SIGNATURE in headers or "x-wc-webhook-topic" in headers:
        return None
    try:
        form = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    ids = form.get("webhook_id")
    return ids[0] if set(form) == {"webhook_id"} and ids and ids[0].isdigit() else None


def parse_webhook(headers: Mapping[str, str], body: bytes, *, secret: str | None,
                  connection: str = "") -> Event:
    """Raw headers and bytes in, a typed ``Event`` out (see the module docs)."""
    lower = _lower(headers)
    ping = _ping_id(lower, body)
    if ping is not None:
        return Event(type="webhook.ping", connection=connection, topic="ping",
                     dedupe_key=f"woocommerce:ping:{ping}", payload={"webhook_id": int(ping)})
    if not secret:
        raise WebhookSignatureError(
            "no webhook secret is configured for this connection",
            remedy="set webhook_secret_env in the connection and export the webhook's secret "
                   "(WooCommerce → Settings → Advanced → Webhooks → the webhook → Secret; "
                   "WooCommerce generated one if it was left empty)")
    verify(lower, body, secret)
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookPayloadError(f"the webhook body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError("the webhook body is not a JSON object")
    topic = lower.get("x-wc-webhook-topic", "")
    resource = lower.get("x-wc-webhook-resource") or topic.partition(".")[0]
    event = lower.get("x-wc-webhook-event") or topic.partition(".")[2]
    if not resource or "id" not in payload:
        raise WebhookPayloadError(f"webhook without resource or id (topic {topic!r})")
    source = lower.get("x-wc-webhook-source", "")
    modified = payload.get("date_modified_gmt")
    change = modified or (event if event == "deleted" else
                          hashlib.sha256(body).hexdigest()[:16])
    return Event(
        type=_event_type(resource, event, payload),
        connection=connection,
        topic=topic or f"{resource}.{event}",
        dedupe_key=f"woocommerce:{source}:{resource}:{payload['id']}:{change}",
        occurred_at=parse_time(modified) if modified else None,
        payload=payload,
    )


def check_source(headers: Mapping[str, str], store_url: str) -> None:
    """Reject (``WebhookSignatureError``: 401) a verified delivery whose
    ``X-WC-Webhook-Source`` (``home_url('/')`` of the sending site) is not this connection's
    store: the secret is per webhook, but one may have been copied between sites."""
    source = _lower(headers).get("x-wc-webhook-source", "")
    if source.rstrip("/").lower() != store_url.rstrip("/").lower():
        raise WebhookSignatureError(
            f"X-WC-Webhook-Source {source[:200]!r} is not this connection's store "
            f"{store_url.rstrip('/')!r}",
            remedy="point each store's webhooks at its own connection's URL "
                   "(/webhooks/<connection>)")


def _event_type(resource: str, event: str, payload: dict[str, Any]) -> str:
    status = payload.get("status")
    if resource == "order" and event in ("created", "updated"):
        if status == "refunded":
            return "order.refunded"
        if status in ("processing", "completed"):
            return "order.paid"
    return f"{resource}.{event}"
