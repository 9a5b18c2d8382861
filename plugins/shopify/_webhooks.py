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
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import Event, LineItem, Order, WebhookPayloadError, WebhookSignatureError

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


def check_origin(headers: Mapping[str, str], event: Event, *, shop: str, max_age: float,
                 now: datetime) -> None:
    """Reject (``WebhookSignatureError``, so 401) a verified event from another shop or too
    old to be a delivery or retry of a fresh event.

    One app's client secret signs the webhooks of every shop it is installed in, so a valid
    signature alone does not say the delivery is for *this* connection: the
    ``X-Shopify-Shop-Domain`` must be its ``shop``. ``X-Shopify-Triggered-At`` dates the event;
    Shopify retries for 4 hours (shopify.dev, "Webhooks: troubleshooting"), so older than
    ``max_age`` seconds — or more than 5 minutes in the future — is a replay, not a delivery.
    """
    domain = str(event.payload.get("_shop_domain") or "")
    if domain.lower() != shop.lower():
        raise WebhookSignatureError(
            f"X-Shopify-Shop-Domain {domain[:100]!r} is not this connection's shop {shop!r}",
            remedy="point each shop's webhooks at its own connection's URL "
                   "(/webhooks/<connection>)")
    triggered = {k.lower(): v for k, v in headers.items()}.get("x-shopify-triggered-at")
    if not triggered or event.topic in PRIVACY_TOPICS:
        # Only the header dates the *delivery* (a payload's updated_at may be old for a fresh
        # event); privacy requests are re-sent by Shopify days later on purpose.
        return
    try:
        occurred = datetime.fromisoformat(triggered.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WebhookSignatureError("X-Shopify-Triggered-At is not a timestamp") from None
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=UTC)
    age = (now - occurred).total_seconds()
    if age > max_age or age < -300:
        raise WebhookSignatureError(
            f"X-Shopify-Triggered-At {occurred.isoformat()} is {age:.0f} s from now "
            f"(accepted: up to {max_age:.0f} s old)",
            remedy="a replayed delivery is refused; raise webhook_max_age if the receiver "
                   "was down longer than Shopify's retries")


PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})

_REST_FINANCIAL: dict[str, Any] = {  # financial_status → OrderStatus
    "paid": "paid", "pending": "pending", "authorized": "pending", "partially_paid": "pending",
    "refunded": "refunded", "partially_refunded": "partially_refunded", "voided": "cancelled",
    "expired": "cancelled"}


def _decimal(value: Any) -> Decimal:
    try:
        found = Decimal(str(value if value not in (None, "") else "0"))
    except ArithmeticError:
        return Decimal(0)
    return found if found.is_finite() and found >= 0 else Decimal(0)


def _rest_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def order_from_webhook(payload: Mapping[str, Any]) -> Order | None:
    """An ``orders/*`` webhook body (the REST order resource) as an :class:`Order`; None when
    it lacks an id or a date. Only orders are mirrored from Shopify webhooks: customer and
    product payloads carry no metafields, so upserting them would drop attributes the
    GraphQL import mirrored."""
    order_id = payload.get("id")
    placed = _rest_time(payload.get("processed_at")) or _rest_time(payload.get("created_at"))
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or placed is None:
        return None
    status = _REST_FINANCIAL.get(str(payload.get("financial_status")), "pending")
    if payload.get("cancelled_at"):
        status = "cancelled"
    elif status == "paid" and payload.get("fulfillment_status") == "fulfilled":
        status = "fulfilled"
    customer = payload.get("customer")
    buyer = customer.get("id") if isinstance(customer, Mapping) else None
    lines = []
    for line in payload.get("line_items") or []:
        if not isinstance(line, Mapping):
            continue
        product = line.get("product_id")
        quantity = line.get("quantity")
        lines.append(LineItem(
            product_id=str(product) if isinstance(product, int | str) and product else None,
            sku=str(line["sku"]) if line.get("sku") else None,
            name=str(line.get("name") or line.get("title") or ""),
            quantity=quantity if isinstance(quantity, int) and quantity >= 0 else 0,
            unit_price=_decimal(line.get("price"))))
    codes = [str(c.get("code")) for c in payload.get("discount_codes") or []
             if isinstance(c, Mapping) and c.get("code")]
    refunded_total, refunded_at = _refunds(payload.get("refunds"))
    return Order(
        id=str(order_id), number=str(payload.get("name") or "").lstrip("#") or None,
        customer_id=str(buyer) if isinstance(buyer, int | str) and buyer else None,
        email=payload.get("email") if isinstance(payload.get("email"), str) else None,
        placed_at=placed, updated_at=_rest_time(payload.get("updated_at")),
        currency=str(payload.get("currency") or "EUR"), status=status,
        channel=str(payload.get("source_name") or "web"), lines=lines, discount_codes=codes,
        refunded_total=refunded_total, refunded_at=refunded_at)


def _refunds(refunds: Any) -> tuple[Decimal, datetime | None]:
    """The REST order's ``refunds``: the money its successful refund transactions returned
    and when the latest refund was made (``created_at``)."""
    total, latest = Decimal(0), None
    for refund in refunds if isinstance(refunds, list) else ():
        if not isinstance(refund, Mapping):
            continue
        for transaction in refund.get("transactions") or ():
            if isinstance(transaction, Mapping) and transaction.get("kind") == "refund" \
                    and transaction.get("status") == "success":
                total += _decimal(transaction.get("amount"))
        made = _rest_time(refund.get("created_at"))
        if made is not None and (latest is None or made > latest):
            latest = made
    return total, latest


REGISTERED_TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled",
                     "refunds/create", "customers/create", "customers/update",
                     "customers/delete", "products/update", "app/uninstalled")
"""What ``shoploop webhooks register`` subscribes. The mandatory privacy topics
(``customers/data_request``, ``customers/redact``, ``shop/redact``) cannot be subscribed
through the API: they are set in the app's configuration (``shopify.app.toml``
``[webhooks.privacy_compliance]`` or the Partner Dashboard) to the same address."""

SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!,
                                   $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""

SUBSCRIPTIONS = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}"""


def topic_name(enum: str) -> str:
    """``ORDERS_PAID`` → ``orders/paid``; ``APP_UNINSTALLED`` → ``app/uninstalled``."""
    resource, _, action = enum.lower().partition("_")
    return f"{resource}/{action}"


def topic_enum(topic: str) -> str:
    return topic.upper().replace("/", "_")
