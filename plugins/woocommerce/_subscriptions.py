"""Webhook subscriptions (``shoploop webhooks register|list``) and the records a verified
webhook carries (the order mirror of the web receiver)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from shoploop.hooks import (
    ConfigError,
    Customer,
    Event,
    Order,
    Product,
    WebhookPayloadError,
    WebhookSubscription,
)

from ._client import WooClient
from ._config import WooCommerceConfig
from ._mapping import customer_from_woo, order_from_woo, product_from_woo
from ._webhooks import REGISTERED_TOPICS


def _subscription(row: Mapping[str, Any], *, created: bool = False) -> WebhookSubscription:
    return WebhookSubscription(id=str(row["id"]), topic=str(row["topic"]),
                               address=str(row["delivery_url"]),
                               status=str(row.get("status") or ""), created=created)


def list_webhooks(client: WooClient) -> list[WebhookSubscription]:
    found: list[WebhookSubscription] = []
    page = 1
    while True:
        rows = client.get("webhooks", {"per_page": 100, "page": page},
                          operation="list_webhooks").data
        found.extend(_subscription(row) for row in rows)
        if len(rows) < 100:
            return found
        page += 1


def register_webhooks(client: WooClient, config: WooCommerceConfig,
                      environ: Mapping[str, str] | None, address: str
                      ) -> list[WebhookSubscription]:
    """``POST webhooks`` for each of ``REGISTERED_TOPICS`` not yet delivered to ``address``
    (active), with the connection's webhook secret — WooCommerce would otherwise make one up
    that its REST API never returns. WooCommerce pings ``address`` before it answers, so the
    receiver should be up (a failed ping does not fail the creation)."""
    if not config.webhook_secret_env:
        raise ConfigError(
            "webhook_secret_env is not set", key="webhook_secret_env",
            remedy="set webhook_secret_env = \"VARIABLE\" in the connection and export a long "
                   "random secret in VARIABLE; the webhooks are created with it")
    secret = config.secret("webhook_secret", environ)
    existing = {s.topic: s for s in list_webhooks(client)
                if s.address == address and s.status == "active"}
    result: list[WebhookSubscription] = []
    for topic in REGISTERED_TOPICS:
        if topic in existing:
            result.append(existing[topic])
            continue
        row = client.post("webhooks", {
            "name": f"shoploop {topic}", "topic": topic, "delivery_url": address,
            "secret": secret, "status": "active"}, operation="register_webhooks").data
        result.append(_subscription(row, created=True))
    return result


def webhook_records(event: Event, prefix: str) -> list[Customer | Order | Product]:
    """The order, customer or product a created/updated/restored event carries: the webhook
    body is the REST resource the reads return (``WC_Webhook::build_payload``)."""
    resource, _, action = event.topic.partition(".")
    if action not in ("created", "updated", "restored") or "id" not in event.payload:
        return []
    payload = dict(event.payload)
    try:
        if resource == "order":
            return [order_from_woo(payload, prefix)]
        if resource == "customer":
            return [customer_from_woo(payload, prefix)]
        if resource == "product":
            return [product_from_woo(payload, prefix)]
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        raise WebhookPayloadError(
            f"{event.topic}: the payload is not a WooCommerce {resource} ({exc})") from None
    return []
