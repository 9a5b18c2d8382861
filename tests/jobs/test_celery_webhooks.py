"""Issue 15/19: with the celery backend, ``serve`` only verifies and stores a webhook; the
processing runs on a real worker process (``webhook_processing = "auto"`` → the queue)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shoploop import load_plugins
from shoploop._config import load_config
from shoploop.store import Store, delivery_counts, mirrored_orders
from shoploop.web import create_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)]


def test_a_stored_delivery_is_processed_by_a_worker(make_world: Any, store_url: str,
                                                    served: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from shoploop.plugins.shopify._webhooks import sign
    from shoploop.web._webhooks import receiver_of

    world = make_world("redis", shops=1, customers=5)
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    host = load_plugins()
    config = load_config(world.config_path, host.connectors)
    assert config.web.webhook_processing == "auto" and config.jobs.backend == "celery"
    shop = world.shops["shop0"]
    body = json.dumps({"id": 9001, "name": "#9001", "created_at": datetime.now(UTC).isoformat(),
                       "email": "jane@example.com", "customer": {"id": 4711},
                       "financial_status": "paid", "line_items": [
                           {"product_id": 7, "quantity": 1, "price": "9.90"}]}).encode()
    headers = {"X-Shopify-Topic": "orders/paid", "X-Shopify-Hmac-Sha256": sign(
        body, shop.api_secret), "X-Shopify-Shop-Domain": shop.shop,
        "X-Shopify-Event-Id": "e-9001", "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}
    world.start_worker("w1")
    with Store(store_url) as store:
        app = create_app(host, config, store)
        with served(app) as base:
            answer = httpx.post(f"{base}/webhooks/shop0", content=body, headers=headers,
                                timeout=60)
            assert answer.status_code == 200, answer.text

            def processed() -> bool:
                with store.session() as session:
                    return delivery_counts(session)["processed"] == 1

            world.wait(processed, "the worker to process the delivery")
            assert receiver_of(app.state.shoploop).dispatch.sent >= 1  # type: ignore[attr-defined]
        with store.session() as session:
            assert [o.id for o in mirrored_orders(session, "shop0")] == ["9001"]
    assert "Task shoploop.cli_job[" in world.log("w1")
