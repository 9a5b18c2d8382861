"""The one ASGI application of ``shoploop serve`` (Starlette, served by uvicorn).

The app is assembled from *route groups*: each module of this package that serves a part of the
app (health, webhooks, storefront API, pages, dashboard) exposes ``routes() -> list[BaseRoute]``
and is listed in ``ROUTE_GROUPS``. Every handler reaches what it needs through
:func:`web_state` — the plugin host, the validated config, the store and the clock — never
through module globals, so tests and several apps in one process stay independent.

Why Starlette: the app is a handful of routes whose bodies must be read raw (webhook
signatures are computed over the exact bytes), a few HTML pages and a JSON API; Starlette gives
exactly that (requests, routing, middleware, templates, test client) with two small
dependencies, and runs on uvicorn. FastAPI would add a validation and schema layer we do not
use for raw-body webhooks and keep in pydantic models ourselves (docs/web.md).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.types import Lifespan

from shoploop._plugins import PluginHost

if TYPE_CHECKING:
    from shoploop._config import Config
    from shoploop.store import Store

    from ._settings import WebSettings

ROUTE_GROUPS: tuple[str, ...] = (
    "shoploop.web._health",
    "shoploop.web._storefront",
    "shoploop.web._pages",
    "shoploop.web._referral_pages",
    "shoploop.web._dashboard",
    "shoploop.web._panel_pages",
    "shoploop.web._metrics",
    "shoploop.web._webhooks",
)
"""Modules exposing ``routes()``; their routes are mounted in this order. A module may also
expose ``install(app)``, called once the app exists (middleware, work tied to its lifespan)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebState:
    """What every request handler may use (``request.app.state.shoploop``)."""

    host: PluginHost
    config: Config
    store: Store
    clock: Callable[[], datetime] = _utc_now
    extras: dict[str, Any] = field(default_factory=dict)
    """Per-app caches owned by a route group (e.g. the loaded recommendation model), keyed by
    the group's module name."""

    @property
    def settings(self) -> WebSettings:
        return self.config.web


def web_state(connection: HTTPConnection) -> WebState:
    """The app's :class:`WebState`, from a request or websocket."""
    state: WebState = connection.app.state.shoploop
    return state


def create_app(host: PluginHost, config: Config, store: Store, *,
               clock: Callable[[], datetime] = _utc_now,
               lifespan: Lifespan[Starlette] | None = None) -> Starlette:
    """The ASGI app over an open, migrated ``store``. The caller owns the store (closes it),
    e.g. in ``lifespan``."""
    routes = []
    modules = [importlib.import_module(module_name) for module_name in ROUTE_GROUPS]
    for module in modules:
        routes.extend(module.routes())
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.shoploop = WebState(host=host, config=config, store=store, clock=clock)
    for module in modules:
        if hasattr(module, "install"):
            module.install(app)
    return app


def app_from_environment() -> Starlette:
    """The uvicorn factory of ``shoploop serve`` (``--workers`` > 1 starts each worker from an
    import string): plugins, config (``SHOPLOOP_CONFIG``) and store, as the CLI loads them."""
    import os

    from shoploop._config import load_config
    from shoploop._plugins import load_plugins, strict_from_env
    from shoploop.store import Store

    host = load_plugins(strict=strict_from_env(os.environ))
    config = load_config(os.environ.get("SHOPLOOP_CONFIG"), host.connectors, required=False)
    store = Store(config.store_url)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.dispose()

    return create_app(host, config, store, lifespan=lifespan)
