"""Webhook delivery as WooCommerce does it: a JSON POST signed with
``base64(HMAC-SHA256(body, secret))`` and the ``X-WC-Webhook-*`` headers; a form-encoded,
unsigned ``webhook_id=<id>`` ping when a webhook is created; **no retries**; after more than
five consecutive failed deliveries (the ``woocommerce_max_webhook_delivery_failures`` filter,
default 5) the webhook's status becomes ``disabled`` (``WC_Webhook::failed_delivery``).
Deliveries run on one background thread, like WooCommerce's action-scheduler queue;
``drain()`` waits until the queue is empty (for tests).
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import requests

from .._webhooks import sign
from ._data import now_gmt

MAX_FAILURES = 5


class Webhooks:
    def __init__(self, source: str, on_delivery: Callable[[bool], None] | None = None, *,
                 default_secret: str = "") -> None:
        self.source = source
        self.default_secret = default_secret
        """Used when a webhook is created without a secret: WooCommerce then signs with the
        API user's consumer secret."""
        self.hooks: dict[int, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        """Each attempted delivery: webhook id, topic, status code (0: failed to connect)."""
        self._ids = itertools.count(1)
        self._delivery_ids = itertools.count(1)
        self._queue: queue.Queue[tuple[int, str, bytes, dict[str, str]] | None] = queue.Queue()
        self._session = requests.Session()
        self._on_delivery = on_delivery
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        hook = {"id": number, "name": data.get("name") or f"webhook {number}",
                "status": data.get("status") or "active", "topic": data.get("topic", ""),
                "delivery_url": data.get("delivery_url", ""),
                "secret": data.get("secret") or self.default_secret,
                "api_version": "wp_api_v3", "failure_count": 0,
                "date_created_gmt": now_gmt()}
        with self._lock:
            self.hooks[number] = hook
        if hook["status"] == "active":
            self._enqueue(number, "ping", f"webhook_id={number}".encode(),
                          {"Content-Type": "application/x-www-form-urlencoded"})
        return self.public(hook)

    @staticmethod
    def public(hook: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in hook.items() if k not in ("secret", "failure_count")}

    def fire(self, resource: str, event: str, payload: dict[str, Any]) -> None:
        topic = f"{resource}.{event}"
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            targets = [h for h in self.hooks.values()
                       if h["status"] == "active" and h["topic"] in (topic, f"{resource}.*")]
        for hook in targets:
            headers = {
                "Content-Type": "application/json",
                "X-WC-Webhook-Source": self.source + "/",
                "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event, "X-WC-Webhook-ID": str(hook["id"]),
                "X-WC-Webhook-Delivery-ID": str(next(self._delivery_ids)),
                "X-WC-Webhook-Signature": sign(body, str(hook["secret"])),
            }
            self._enqueue(int(hook["id"]), topic, body, headers)

    def _enqueue(self, hook_id: int, topic: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="woo-webhooks",
                                                daemon=True)
                self._thread.start()
        self._queue.put((hook_id, topic, body, headers))

    def drain(self) -> None:
        """Block until every queued delivery was attempted."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None
        self._session.close()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._deliver(*job)
            finally:
                self._queue.task_done()

    def _deliver(self, hook_id: int, topic: str, body: bytes, headers: dict[str, str]) -> None:
        hook = self.hooks[hook_id]
        if hook["status"] != "active":  # disabled while this delivery was queued
            return
        try:
            status = self._session.post(str(hook["delivery_url"]), data=body, headers=headers,
                                        timeout=5).status_code
        except requests.RequestException:
            status = 0
        ok = 200 <= status < 300
        with self._lock:
            self.deliveries.append({"webhook": hook_id, "topic": topic, "status": status})
            if ok:
                hook["failure_count"] = 0
            else:
                hook["failure_count"] += 1
                if hook["failure_count"] > MAX_FAILURES:
                    hook["status"] = "disabled"
        if self._on_delivery is not None:
            self._on_delivery(ok)
