"""``/healthz`` and ``/readyz`` over a real socket, on both store backends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx

from shoploop._config import Config
from shoploop._plugins import PluginHost
from shoploop.store import Store
from shoploop.web import create_app


def test_health_and_readiness(store: Store, web_host: PluginHost,
                              make_config: Callable[[dict[str, Any]], Config],
                              served: Callable[[Any], AbstractContextManager[str]]) -> None:
    app = create_app(web_host, make_config({"store": {"url": store.url}}), store)
    with served(app) as base, httpx.Client(base_url=base) as client:
        assert client.get("/healthz").json() == {"ok": True}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["ok"] is True


def test_not_ready_without_the_schema(store_url: str, web_host: PluginHost,
                                      make_config: Callable[[dict[str, Any]], Config],
                                      served: Callable[[Any], AbstractContextManager[str]]
                                      ) -> None:
    with Store(store_url) as empty:
        app = create_app(web_host, make_config({"store": {"url": store_url}}), empty)
        with served(app) as base, httpx.Client(base_url=base) as client:
            assert client.get("/healthz").status_code == 200  # alive, but …
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["ok"] is False
            assert "shoploop db upgrade" in ready.json()["store"]
