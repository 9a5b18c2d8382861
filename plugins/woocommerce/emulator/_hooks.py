"""Webhooks as WooCommerce keeps and delivers them (``WC_Webhook``, the REST webhooks
controller, ``WC_Admin_Webhooks``), read in woocommerce/woocommerce ``plugins/woocommerce/``:

* **Secret.** A webhook created without one gets ``wp_generate_password(50, true, true)``:
  50 characters drawn from letters, digits, ``!@#$%^&*()`` and ``-_ []{}<>~`+=,.;:/?|``
  (``includes/rest-api/Controllers/Version1/class-wc-rest-webhooks-v1-controller.php``
  ``create_item``; ``includes/admin/class-wc-admin-webhooks.php`` ``save``; the alphabet is
  WordPress's ``wp-includes/pluggable.php``). The REST answer never contains the secret (the
  v2 ``prepare_item_for_response`` has no ``secret`` key; the docs' examples have none), so
  whoever receives the deliveries must be given it — the emulator exposes it as
  ``emulator.webhooks.secret_of(id)``, as the store admin's edit screen shows it.
* **Created via REST**: always ``active`` (``prepare_item_for_database`` sets ``publish``),
  then a **synchronous ping**: ``POST`` of the string ``webhook_id=<id>``, unsigned, before
  the 201 is sent (``deliver_ping``). A failed ping only makes ``deliver_ping`` return an
  error the controller ignores: it does not count as a failed delivery.
* **Delivery**: ``trim(wp_json_encode(payload))`` (slashes escaped, non-ASCII as ``\\uXXXX``),
  ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(body, ``wp_specialchars_decode(secret,
  ENT_QUOTES)``)), the ``X-WC-Webhook-Source/Topic/Resource/Event/ID/Delivery-ID`` headers, the
  ``WooCommerce/<v> Hookshot`` user agent, ``redirection => 0``. The delivery id is
  ``wp_hash(id . time())``: 32 hex digits, the same for one webhook within a second.
* **No retries; disabling.** A response 200-302 resets ``failure_count``; anything else calls
  ``failed_delivery``: if ``failure_count > 5`` (filter ``woocommerce_max_webhook_delivery_
  failures``) the status becomes ``disabled``, else the count goes up — so the **seventh**
  consecutive failure disables the webhook (the docs' "after 5" is approximate).

Deliveries run on one background thread, like WooCommerce's action-scheduler queue; ``drain()``
waits until the queue is empty (for tests).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import secrets
import string
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from .._webhooks import sign
from ._data import now_gmt

MAX_FAILURES = 5
USER_AGENT = "WooCommerce/0.0.0-emulator Hookshot (WordPress/0.0.0-emulator)"
"""The shape of ``WC_Webhook::deliver``'s user agent; the versions are the emulator's."""

SECRET_ALPHABET = (string.ascii_lowercase + string.ascii_uppercase + string.digits
                   + "!@#$%^&*()" + "-_ []{}<>~`+=,.;:/?|")
"""``wp_generate_password(…, special_chars=true, extra_special_chars=true)``'s characters."""

TOPIC_HOOKS: dict[str, list[str]] = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer",
                         "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded",
                      "woocommerce_delete_order_refund"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product",
                        "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product",
                        "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
    "product.published": ["woocommerce_product_published"],
}
"""``WC_Webhook::get_default_topic_hooks`` (the topics ``wc_is_webhook_valid_topic`` accepts,
besides ``action.<hook>``)."""


def generate_secret() -> str:
    """A secret as WooCommerce makes one: ``wp_generate_password(50, true, true)``."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(50))


def php_json(payload: Any) -> bytes:
    """``wp_json_encode`` with PHP's default flags: compact, ``/`` → ``\\/``, ``\\uXXXX``."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace(
        "/", "\\/").encode()


def valid_topic(topic: str) -> bool:
    resource, _, event = topic.partition(".")
    return topic in TOPIC_HOOKS or (resource == "action" and bool(event))


class Webhooks:
    def __init__(self, source: str, on_delivery: Callable[[bool], None] | None = None
                 ) -> None:
        self.source = source
        self.hooks: dict[int, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        """Each attempted delivery: webhook id, topic, status code (0: failed to connect);
        pings are listed with topic ``ping`` and never count as failures."""
        self._ids = itertools.count(1)
        self._salt = secrets.token_bytes(16)  # wp_salt(): wp_hash's key
        self._queue: queue.Queue[tuple[int, str, bytes, dict[str, str]] | None] = queue.Queue()
        self._session = requests.Session()
        self._on_delivery = on_delivery
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def create(self, data: dict[str, Any]) -> dict[str, Any]:
        """``POST /webhooks`` once validated: store, ping synchronously, answer (no secret)."""
        number = next(self._ids)
        now = now_gmt()
        # The controller validates strtolower(topic) but stores it as given, and set_topic
        # blanks a topic wc_is_webhook_valid_topic refuses (e.g. one in capitals).
        topic = str(data["topic"]) if valid_topic(str(data["topic"])) else ""
        hook = {"id": number,
                "name": data.get("name") or "Webhook created on "
                + datetime.now(UTC).strftime("%b %d, %Y @ %I:%M %p"),
                "status": "active", "topic": topic,
                "delivery_url": str(data["delivery_url"]),
                "secret": str(data.get("secret") or "") or generate_secret(),
                "api_version": 3, "failure_count": 0,
                "date_created": now, "date_created_gmt": now,
                "date_modified": now, "date_modified_gmt": now}
        with self._lock:
            self.hooks[number] = hook
        self._ping(hook)
        return self.public(hook)

    def secret_of(self, number: int) -> str:
        """The secret as the webhook's edit screen shows it (the REST API never returns it)."""
        return str(self.hooks[number]["secret"])

    def public(self, hook: dict[str, Any]) -> dict[str, Any]:
        """The REST representation (``WC_REST_Webhooks_V2_Controller::prepare_item_for_
        response``): no ``secret``, no ``failure_count``."""
        base = f"{self.source}/wp-json/wc/v3/webhooks"
        resource, _, event = str(hook["topic"]).partition(".")
        return {"id": hook["id"], "name": hook["name"], "status": hook["status"],
                "topic": hook["topic"], "resource": resource, "event": event,
                "hooks": [event] if resource == "action" else TOPIC_HOOKS.get(
                    str(hook["topic"]), []),
                "delivery_url": hook["delivery_url"],
                "date_created": hook["date_created"],
                "date_created_gmt": hook["date_created_gmt"],
                "date_modified": hook["date_modified"],
                "date_modified_gmt": hook["date_modified_gmt"],
                "_links": {"self": [{"href": f"{base}/{hook['id']}"}],
                           "collection": [{"href": base}]}}

    def fire(self, resource: str, event: str, payload: dict[str, Any]) -> None:
        topic = f"{resource}.{event}"
        body = php_json(payload)
        with self._lock:
            targets = [h for h in self.hooks.values()
                       if h["status"] == "active" and h["topic"] == topic]
        for hook in targets:
            headers = {
                "Content-Type": "application/json", "User-Agent": USER_AGENT,
                "X-WC-Webhook-Source": self.source + "/",
                "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                # sign() decodes the secret's entities as generate_signature does.
                "X-WC-Webhook-Signature": sign(body, str(hook["secret"])),
                "X-WC-Webhook-ID": str(hook["id"]),
                "X-WC-Webhook-Delivery-ID": self._delivery_id(int(hook["id"])),
            }
            self._enqueue(int(hook["id"]), topic, body, headers)

    def _delivery_id(self, number: int) -> str:
        # wp_hash($id . strtotime('now')) = HMAC-MD5 under the site's salt.
        return hmac.new(self._salt, f"{number}{int(time.time())}".encode(),
                        hashlib.md5).hexdigest()

    def _ping(self, hook: dict[str, Any]) -> None:
        # A string body: WordPress's HTTP transport (cURL) labels it form-encoded.
        try:
            status = self._session.post(
                str(hook["delivery_url"]), data=f"webhook_id={hook['id']}".encode(),
                headers={"User-Agent": USER_AGENT,
                         "Content-Type": "application/x-www-form-urlencoded"},
                timeout=5, allow_redirects=False).status_code
        except requests.RequestException:
            status = 0
        with self._lock:
            self.deliveries.append({"webhook": hook["id"], "topic": "ping", "status": status})

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
                                        timeout=5, allow_redirects=False).status_code
        except requests.RequestException:
            status = 0
        ok = 200 <= status < 303  # WC_Webhook::log_delivery: "a 2xx, 301 or 302"
        with self._lock:
            self.deliveries.append({"webhook": hook_id, "topic": topic, "status": status})
            if ok:
                hook["failure_count"] = 0
            elif hook["failure_count"] > MAX_FAILURES:  # failed_delivery(): check, then count
                hook["status"] = "disabled"
            else:
                hook["failure_count"] += 1
        if self._on_delivery is not None:
            self._on_delivery(ok)

