"""Webhook delivery as Shopify does it: a REST-shaped JSON body POSTed to the subscriber,
``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(raw body, app secret)), the topic, shop,
webhook id, event id and trigger time as headers. Shopify retries failed deliveries (8 times over
4 hours) and does not guarantee order, so receivers see repeats; ``repeats`` sends every
delivery that many extra times, with the same ids, to test exactly that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import urllib.request
import uuid
from typing import Any

from shoploop.emulation import EmulatorStats

from .._config import DEFAULT_API_VERSION
from ._store import NAMESPACE, now

_TOPICS = {"Customer": "customers/update", "Product": "products/update",
           "Order": "orders/updated"}


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def rest_payload(record: dict[str, Any]) -> dict[str, Any]:
    """The REST shape webhook bodies have (snake_case, numeric ``id``)."""
    payload = {"id": int(record["legacyResourceId"]), "admin_graphql_api_id": record["id"],
               "updated_at": record.get("updatedAt"), "created_at": record.get("createdAt")}
    if record.get("__typename") != "Customer":
        # Customer payloads carry no tags since 2025-01 (customer.tags_added/_removed instead;
        # https://shopify.dev/changelog/new-customer-s-webhook-and-changes-to-existing-customer-s-webhooks-payload).
        payload["tags"] = ", ".join(record.get("tags", []))
    if record.get("__typename") == "Customer":
        payload.update(email=record.get("email"), first_name=record.get("firstName"),
                       last_name=record.get("lastName"))
    if record.get("__typename") == "Product":
        payload.update(title=record.get("title"), status=str(record.get("status")).lower())
    payload["metafields"] = [{"namespace": ns, "key": key, "value": m["value"], "type": m["type"]}
                             for (ns, key), m in sorted(record.get("_metafields", {}).items())
                             if ns == NAMESPACE]
    return payload


def topic_enum(topic: str) -> str:
    """``orders/paid`` → ``ORDERS_PAID`` (the GraphQL ``WebhookSubscriptionTopic``)."""
    return topic.upper().replace("/", "_")


class WebhookSender:
    """Queues deliveries and sends them from one background thread (writes stay fast).

    Deliveries go to ``url`` (every topic; the ``webhook_url`` option) and to each
    subscription ``webhookSubscriptionCreate`` made for the delivery's topic."""

    def __init__(self, secret: str, shop: str, url: str | None, repeats: int,
                 stats: EmulatorStats) -> None:
        self.secret, self.shop, self.url, self.repeats = secret, shop, url, repeats
        self.stats = stats
        self.subscriptions: dict[str, dict[str, Any]] = {}
        """id → the WebhookSubscription as the API returns it."""
        self._queue: queue.Queue[tuple[str, bytes, dict[str, str]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def subscribe(self, topic: str, uri: str) -> dict[str, Any]:
        """``webhookSubscriptionCreate``: a subscription of ``topic`` (enum) to ``uri``."""
        stamp = now()
        with self._lock:
            number = len(self.subscriptions) + 1
            record = {"__typename": "WebhookSubscription",
                      "id": f"gid://shopify/WebhookSubscription/{number}", "topic": topic,
                      "uri": uri, "callbackUrl": uri, "format": "JSON",
                      "createdAt": stamp, "updatedAt": stamp}
            self.subscriptions[record["id"]] = record
        return record

    def _targets(self, topic: str) -> list[str]:
        wanted = topic_enum(topic)
        with self._lock:
            subscribed = [s["uri"] for s in self.subscriptions.values() if s["topic"] == wanted]
        return ([self.url] if self.url else []) + subscribed

    def on_write(self, kind: str, record: dict[str, Any]) -> None:
        typename = str(record.get("__typename"))
        topic = "customers/create" if kind == "created" and typename == "Customer" else \
            _TOPICS.get(typename)
        if topic and self._targets(topic):
            self.deliver(topic, rest_payload(record))

    def deliver(self, topic: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """Queue one delivery (plus ``repeats`` copies); returns its body and headers."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": sign(body, self.secret),
                   "X-Shopify-Shop-Domain": self.shop, "X-Shopify-API-Version": DEFAULT_API_VERSION,
                   "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                   "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-Triggered-At": now()}
        targets = self._targets(topic)
        if targets:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run,
                                                    name="shopify-webhooks", daemon=True)
                    self._thread.start()
            for target in targets:
                for _ in range(1 + self.repeats):
                    self._queue.put((target, body, headers))
        return body, headers

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            target, body, headers = item
            request = urllib.request.Request(target, data=body, headers=headers,
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    answer.read()
                self.stats.incr("webhooks_delivered")
            except OSError:
                self.stats.incr("webhooks_failed")
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Block until every queued delivery was attempted (tests)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None
