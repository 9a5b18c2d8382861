"""WooCommerce webhooks: verify ``X-WC-Webhook-Signature`` over the raw body, parse the event.

Facts this relies on (WooCommerce ``WC_Webhook``):

* the signature is ``base64(HMAC-SHA256(raw body, secret))`` — computed over the exact bytes,
  so nothing may be decoded or re-serialised before verifying;
* the ping sent when a webhook is created or activated is **form-encoded** ``webhook_id=<id>``
  and carries no signature; answering it with an error counts as a failed delivery, and after
  five failures in a row WooCommerce disables the webhook (woocommerce/woocommerce#15642,
  #8876). The ping is accepted as a ``webhook.ping`` event that carries nothing to act on;
* failed deliveries are not retried, so webhooks only speed things up — polling reads stay on;
* ``X-WC-Webhook-Delivery-ID`` identifies a delivery, not a change (the same change can be
  delivered by several hooks), so the dedupe key is built from resource, id and
  ``date_modified_gmt`` instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from shoploop.hooks import Event, WebhookPayloadError, WebhookSignatureError

from ._mapping import parse_time

SIGNATURE = "x-wc-webhook-signature"


def sign(body: bytes, secret: str) -> str:
    """The ``X-WC-Webhook-Signature`` WooCommerce sends for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise ``WebhookSignatureError`` unless the signature header matches ``body``."""
    given = _lower(headers).get(SIGNATURE)
    if not given:
        raise WebhookSignatureError("the X-WC-Webhook-Signature header is missing")
    try:
        decoded = base64.b64decode(given.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSignatureError("X-WC-Webhook-Signature is not base64") from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
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
            remedy="set webhook_secret_env in the connection and export the secret entered "
                   "in WooCommerce → Settings → Advanced → Webhooks")
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


def _event_type(resource: str, event: str, payload: dict[str, Any]) -> str:
    status = payload.get("status")
    if resource == "order" and event in ("created", "updated"):
        if status == "refunded":
            return "order.refunded"
        if status in ("processing", "completed"):
            return "order.paid"
    return f"{resource}.{event}"
