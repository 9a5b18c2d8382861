"""The ``shopify`` connector: capabilities as plain methods over one throttled GraphQL client.

Construction is cheap (no network); the client connects on first use. Every failure leaves as
a domain error naming the connection and the operation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shoploop.hooks import (
    AttributeChange,
    AuthError,
    BatchLimitError,
    ConfigError,
    ConnectionCheck,
    ConnectorError,
    Cursor,
    Customer,
    CustomerDraft,
    Event,
    IssuedReward,
    Order,
    Page,
    Product,
    PublishResult,
    Recommendation,
    RemoteValidationError,
    RevokedReward,
    RewardSpec,
    WebhookSubscription,
    WriteResult,
)

from . import _creates, _gift_cards, _mapping, _publish, _queries, _reads, _rewards, _webhooks
from ._bulk import BulkReader
from ._client import GraphQLClient
from ._config import ShopifyConfig
from ._seen import SeenValues

RECOMMENDATION_NAMESPACE = _publish.RECOMMENDATION_NAMESPACE
"""Search & Discovery's metafields (sources cited in :mod:`._publish`)."""
_REQUIRED_SCOPES = {"read_customers", "write_customers", "read_orders", "read_products"}


class ShopifyConnector:
    """One connection to one Shopify store."""

    def __init__(self, name: str, settings: ShopifyConfig, *, client: GraphQLClient | None = None
                 ) -> None:
        self.name = name
        self.settings = settings
        self.page_size = settings.page_size
        self.attribute_batch_size = settings.attribute_batch_size
        self.customer_batch_size = settings.customer_batch_size
        self.client = client or GraphQLClient(name, settings)
        self.seen = SeenValues(settings.tag_attributes)
        """What the customer reads delivered, with digests: the writes' current values."""
        self._bulk = BulkReader(self.client, settings.metafield_namespace,
                                settings.bulk_threshold) if settings.bulk_threshold else None

    def close(self) -> None:
        self.client.close()

    def check(self) -> ConnectionCheck:
        """One request, no retries: shop name and the granted scopes."""
        try:
            data = self.client.execute(_queries.SHOP, operation="check", retries=0)
        except ConfigError as exc:
            return ConnectionCheck(reachable=False, authorised=False, detail=str(exc))
        except ConnectorError as exc:
            return ConnectionCheck(reachable=isinstance(exc, AuthError), authorised=False,
                                   detail=str(exc))
        scopes = {s["handle"] for s in data["currentAppInstallation"]["accessScopes"]}
        warnings = [f"missing scope {scope}" for scope in sorted(_REQUIRED_SCOPES - scopes)]
        if "read_all_orders" not in scopes:
            warnings.append("scope read_all_orders not granted: orders older than 60 days are "
                            "invisible to this app (request it from Shopify for the app)")
        if "write_discounts" not in scopes:
            warnings.append("scope write_discounts not granted: rewards cannot be issued")
        if "write_gift_cards" not in scopes:
            warnings.append("scope write_gift_cards not granted: gift-card rewards cannot be "
                            "issued")
        if "write_products" not in scopes:
            warnings.append("scope write_products not granted: recommendations cannot be "
                            "published")
        shop = data["shop"]
        return ConnectionCheck(reachable=True, authorised=True,
                               detail=f"{shop['name']} ({shop['myshopifyDomain']}), API "
                                      f"{self.settings.api_version}", warnings=warnings)

    # -- reads --------------------------------------------------------------------------------

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        return _reads.read_page(self.client, "customers", cursor, page_size=self.page_size,
                                namespace=self.settings.metafield_namespace,
                                convert=self._customer, bulk=self._bulk)

    def _customer(self, node: dict[str, Any]) -> Customer:
        self.seen.remember(node)
        return _mapping.customer(node)

    def read_products(self, cursor: Cursor | None = None) -> Page[Product]:
        return _reads.read_page(self.client, "products", cursor, page_size=self.page_size,
                                namespace=self.settings.metafield_namespace,
                                convert=_mapping.product, bulk=self._bulk)

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        page: Page[Order] = _reads.read_page(
            self.client, "orders", cursor, page_size=self.page_size,
            namespace=self.settings.metafield_namespace,
            convert=_reads.order_converter(self.client), bulk=self._bulk)
        return page

    def count_records(self, stream: str, cursor: Cursor | None = None) -> int | None:
        """``CountsRecords``: one ``<stream>Count`` query, filtered like the incremental read."""
        if stream not in ("customers", "products", "orders"):
            return None
        return _reads.count_records(self.client, stream, cursor)

    # -- writes -------------------------------------------------------------------------------

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        from ._writes import AttributeWriter

        if len(changes) > self.attribute_batch_size:
            raise BatchLimitError(
                f"{len(changes)} changes exceed attribute_batch_size="
                f"{self.attribute_batch_size}; nothing was written", connection=self.name,
                operation="write_customer_attributes")
        if not changes:
            return []
        writer = AttributeWriter(self.client, self.settings.metafield_namespace,
                                 self.settings.tag_attributes, seen=self.seen)
        return writer.write(changes)

    def create_customers(self, drafts: Sequence[CustomerDraft]) -> list[WriteResult]:
        """``customerCreate`` per draft, once per e-mail: a taken e-mail is looked up and
        answered ``unchanged`` with the existing customer's id (``_creates.py``)."""
        if len(drafts) > self.customer_batch_size:
            raise BatchLimitError(
                f"{len(drafts)} drafts exceed customer_batch_size={self.customer_batch_size}; "
                "nothing was created", connection=self.name, operation="create_customers")
        if not drafts:
            return []
        return _creates.create(self.client, drafts, api_version=self.settings.api_version)

    publish_batch_size = _publish.PRODUCTS_PER_CALL
    """Products per batch: one ``metafieldsSet`` call (25 metafields, two per product)."""

    def recommendation_fields(self, recommendations: Sequence[Recommendation]
                              ) -> dict[str, list[str]]:
        """``complementary_products`` / ``related_products`` (:mod:`._publish`)."""
        return _publish.recommendation_fields(recommendations)

    def publish_recommendations(self, product_id: str,
                                recommendations: Sequence[Recommendation]) -> PublishResult:
        """Complementary kinds and alternatives (upsell, replacement, related) into Search &
        Discovery's two metafields, best first, only when they differ from what the product
        holds."""
        return self.publish_recommendation_lists(
            {product_id: self.recommendation_fields(recommendations)})[0]

    def publish_recommendation_lists(
        self, lists: Mapping[str, Mapping[str, Sequence[str]]],
    ) -> list[PublishResult]:
        if len(lists) > self.publish_batch_size:
            raise BatchLimitError(
                f"{len(lists)} products exceed publish_batch_size={self.publish_batch_size}; "
                "nothing was written", connection=self.name,
                operation="publish_recommendations")
        return _publish.publish_lists(self.client, lists)

    def issue_reward(self, spec: RewardSpec) -> IssuedReward:
        if spec.kind == "gift_card":
            return _gift_cards.issue(self.client, spec)
        return _rewards.issue(self.client, spec)

    def find_reward(self, idempotency_key: str) -> IssuedReward | None:
        """The reward under the key, whichever kind it was issued as (a discount code or a
        gift card: both codes derive from the key)."""
        return (_rewards.find(self.client, _rewards.code_for(idempotency_key), idempotency_key)
                or _gift_cards.find(self.client, idempotency_key))

    def revoke_reward(self, idempotency_key: str) -> RevokedReward:
        revoked = _rewards.revoke(self.client, idempotency_key)
        if revoked.outcome == "gone":  # not a discount code: perhaps a gift card
            card = _gift_cards.revoke(self.client, idempotency_key)
            if card.outcome != "gone":
                return card
        return revoked

    # -- webhooks -----------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Event:
        key = "webhook_secret" if self.settings.webhook_secret_env else "client_secret"
        event = _webhooks.parse(headers, body, self.settings.secret(key), self.name)
        _webhooks.check_origin(headers, event, shop=self.settings.shop,
                               max_age=self.settings.webhook_max_age, now=datetime.now(UTC))
        return event

    def list_webhooks(self) -> list[WebhookSubscription]:
        found: list[WebhookSubscription] = []
        after: str | None = None
        while True:
            page = self.client.execute(_webhooks.SUBSCRIPTIONS, {"after": after},
                                       operation="list_webhooks")["webhookSubscriptions"]
            found.extend(WebhookSubscription(id=node["id"],
                                             topic=_webhooks.topic_name(node["topic"]),
                                             address=node["uri"])
                         for node in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    def register_webhooks(self, address: str) -> list[WebhookSubscription]:
        """``webhookSubscriptionCreate`` (with ``uri``, the field since 2025-10) for each of
        ``_webhooks.REGISTERED_TOPICS`` not yet subscribed to ``address``."""
        existing = {s.topic: s for s in self.list_webhooks() if s.address == address}
        result: list[WebhookSubscription] = []
        for topic in _webhooks.REGISTERED_TOPICS:
            if topic in existing:
                result.append(existing[topic])
                continue
            answer = self.client.execute(
                _webhooks.SUBSCRIPTION_CREATE,
                {"topic": _webhooks.topic_enum(topic),
                 "subscription": {"uri": address, "format": "JSON"}},
                operation="register_webhooks")["webhookSubscriptionCreate"]
            errors = answer.get("userErrors") or []
            if errors or not answer.get("webhookSubscription"):
                raise RemoteValidationError(
                    f"{topic}: " + ("; ".join(str(e.get("message")) for e in errors)
                                    or "no subscription created"),
                    connection=self.name, operation="register_webhooks")
            node = answer["webhookSubscription"]
            result.append(WebhookSubscription(id=node["id"], topic=topic, address=node["uri"],
                                              created=True))
        return result

    def webhook_records(self, event: Event) -> list[Order]:
        """An ``orders/*`` event's order (see ``_webhooks.order_from_webhook``)."""
        if not event.topic.startswith("orders/") or event.topic == "orders/delete":
            return []
        order = _webhooks.order_from_webhook(event.payload)
        return [order] if order is not None else []


def create_connector(name: str, settings: ShopifyConfig) -> ShopifyConnector:
    return ShopifyConnector(name, settings)
