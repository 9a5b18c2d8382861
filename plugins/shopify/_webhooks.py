"""Webhook verification and parsing: raw bytes in, a typed :class:`Event` out.

Shopify signs the *raw* body: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(body, secret)),
where the secret is the app's client secret (shopify.dev, "Verify webhooks"). The body must not
be parsed before verification; the comparison is constant-time; a header that is not strict
base64 is a signature failure, not an exception. Deliveries repeat (Shopify retries 8 times over
4 hours) and arrive out of order, so the event carries a dedupe key naming the *change*: the
``X-Shopify-Event-Id`` (the same for every delivery of one event) when present, otherwise topic,
resource id and ``updated_at`` of the payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shoploop.hooks import Event, WebhookPayloadError, WebhookSignatureError

EVENT_TYPES = {
    "orders/create": "order.created", "orders/updated": "order.updated",
    "orders/paid": "order.paid", "orders/cancelled": "order.cancelled",
    "orders/fulfilled": "order.fulfilled", "refunds/create": "order.refunded",
    "customers/create": "customer.created", "customers/update": "customer.updated",
    "customers/delete": "customer.deleted", "products/create": "product.created",
    "products/update": "product.updated", "products/delete": "product.deleted",
    "app/uninstalled": "app.uninstalled",
    # The mandatory privacy topics every app must handle.
    "customers/data_request": "privacy.customer_data_request",
    "customers/redact": "privacy.customer_redact", "shop/redact": "privacy.shop_redact",
}


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Raise :class:`WebhookSignatureError` unless the HMAC header signs ``body``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get("x-shopify-hmac-sha256")
    if not header:
        raise WebhookSignatureError("X-Shopify-Hmac-Sha256 header missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSignatureError("X-Shopify-Hmac-Sha256 is not base64") from exc
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise WebhookSignatureError("X-Shopify-Hmac-Sha256 does not match the body")


def parse(headers: Mapping[str, str], body: bytes, secret: str, connection: str = "") -> Event:
    verify(headers, body, secret)
    lowered = {k.lower(): v for k, v in headers.items()}
    topic = lowered.get("x-shopify-topic", "")
    if topic not in EVENT_TYPES:
        raise WebhookPayloadError(f"unsupported webhook topic {topic!r}")
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookPayloadError(f"{topic}: body is not JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"{topic}: body is not a JSON object")
    event_id = lowered.get("x-shopify-event-id")
    resource = payload.get("id")
    if resource is None and isinstance(payload.get("customer"), dict):  # privacy topics
        resource = payload["customer"].get("id")
    if event_id:
        dedupe = f"{topic}:{event_id}"
    elif resource is not None:
        dedupe = f"{topic}:{resource}:{payload.get('updated_at') or ''}"
    else:
        dedupe = f"{topic}:{hashlib.sha256(body).hexdigest()[:32]}"
    occurred = lowered.get("x-shopify-triggered-at") or payload.get("updated_at")
    try:
        when = datetime.fromisoformat(str(occurred).replace("Z", "+00:00")) if occurred \
            else None
    except ValueError:
        when = None
    return Event(type=EVENT_TYPES[topic], connection=connection, topic=topic,
                 dedupe_key=dedupe, occurred_at=when,
                 payload={**payload, "_shop_domain": lowered.get("x-shopify-shop-domain"),
                          "_webhook_id": lowered.get("x-shopify-webhook-id")})
