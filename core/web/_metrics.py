"""``GET /metrics``: Prometheus text exposition (prometheus-client).

Each app owns its :class:`~prometheus_client.CollectorRegistry` (several apps in one test
process stay apart). In-process series, per serve process:

* ``shoploop_http_requests_total{route,method,status}`` — every request, by route *template*
  (``/webhooks/{connection}``, not the URL: bounded label values);
* ``shoploop_webhook_receipts_total{connection,outcome}`` — what the receiver answered:
  ``accepted``, ``duplicate``, ``ping``, ``bad_signature``, ``malformed``, ``too_large``,
  ``unknown_connection``, ``unavailable``;
* ``shoploop_webhook_processing_lag_seconds`` — histogram, arrival to processed.

Read from the store at scrape time, so the same for every process (``serve --workers``):
``shoploop_webhook_deliveries{status}`` and ``shoploop_webhook_oldest_waiting_seconds``
(0 when none waits) — the backlog an alert should watch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._app import web_state

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ._app import WebState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _StoreBacklog(Collector):
    def __init__(self, state: WebState) -> None:
        self._state = state

    def describe(self) -> list[GaugeMetricFamily]:
        # Without describe(), registering would collect() — query the store — at app start.
        return [GaugeMetricFamily("shoploop_webhook_deliveries", "", labels=["status"]),
                GaugeMetricFamily("shoploop_webhook_oldest_waiting_seconds", "")]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from shoploop.hooks import ShoploopError
        from shoploop.store import delivery_counts, oldest_unprocessed_at

        state = self._state
        try:
            with state.store.session() as session:
                counts = delivery_counts(session)
                oldest = oldest_unprocessed_at(session)
        except ShoploopError:  # store down or not migrated: /readyz says so; skip the series
            return
        by_status = GaugeMetricFamily("shoploop_webhook_deliveries",
                                      "Stored webhook deliveries by status.", labels=["status"])
        for status, count in counts.items():
            by_status.add_metric([status], count)
        yield by_status
        waiting = 0.0 if oldest is None else max(
            0.0, (state.clock() - oldest).total_seconds())
        yield GaugeMetricFamily("shoploop_webhook_oldest_waiting_seconds",
                                "Age of the oldest delivery not yet processed (0: none).",
                                value=waiting)


class WebMetrics:
    """The app's registry and series (``web_state(request).extras[__name__]``)."""

    def __init__(self, state: WebState) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("shoploop_http_requests", "HTTP requests answered.",
                                ["route", "method", "status"], registry=self.registry)
        self.receipts = Counter("shoploop_webhook_receipts",
                                "Webhook requests by what the receiver answered.",
                                ["connection", "outcome"], registry=self.registry)
        self.lag = Histogram("shoploop_webhook_processing_lag_seconds",
                             "Seconds from a delivery's arrival to the end of its processing.",
                             buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600),
                             registry=self.registry)
        self.registry.register(_StoreBacklog(state))


def metrics_of(state: WebState) -> WebMetrics:
    found = state.extras.get(__name__)
    if found is None:
        found = state.extras[__name__] = WebMetrics(state)
    assert isinstance(found, WebMetrics)
    return found


class _CountRequests:
    """ASGI middleware: one count per HTTP request, labelled with the matched route."""

    def __init__(self, app: ASGIApp, starlette: Starlette) -> None:
        self.app = app
        self.starlette = starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def send_counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            metrics = metrics_of(self.starlette.state.shoploop)
            metrics.requests.labels(_route_of(self.starlette, scope), scope["method"],
                                    str(status[0])).inc()


def _route_of(app: Starlette, scope: Scope) -> str:
    # The router leaves the route it handed the request to in the scope (Starlette 1.x, also
    # for a route matched by path only, answered 405): no second routing pass per request.
    if "route" in scope:
        return str(getattr(scope["route"], "path", "other"))
    for route in app.router.routes:  # a Starlette that does not: match again
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


async def metrics(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    registry = metrics_of(web_state(request)).registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    return [Route("/metrics", metrics, methods=["GET"])]


def install(app: Starlette) -> None:
    """Count every request of ``app`` (called by ``create_app`` once its routes are in)."""
    app.add_middleware(_CountRequests, starlette=app)
