"""``POST /api/v1/events``: impressions, clicks and add-to-carts from the storefront.

A report is ``{"events": [{...}, ...]}`` (at most :data:`MAX_EVENTS_PER_REPORT`), validated
with pydantic, capped at ``max_event_body_bytes`` (413) and limited per client address to
``events_per_minute`` reports (429 with ``Retry-After``). The body is JSON whatever the
``Content-Type``: the widget sends ``text/plain``, a CORS-safelisted type, so a report needs
no preflight round trip (https://fetch.spec.whatwg.org/#cors-safelisted-request-header).
Each event carries the reporter's ``event_id``: a resent report is stored once.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._api_http import api_error, cors_gate, cors_headers
from ._app import WebState, web_state
from ._experiment_serving import event_tags

MAX_EVENTS_PER_REPORT = 50
_NAME = r"^[a-z0-9][a-z0-9_\-]*$"
_TRACKED_CLIENTS = 10_000
"""Most client addresses the rate limiter remembers; the idlest are forgotten first."""


class StorefrontEvent(BaseModel):
    """One event of one recommended product in one placement."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                          description="The reporter's unique id of this event (a UUID).")
    type: Literal["impression", "click", "add_to_cart"]
    connection: str = Field(min_length=1, max_length=100)
    placement: str = Field(min_length=1, max_length=50, pattern=_NAME)
    product_id: str = Field(min_length=1, max_length=255)
    model_version: int | None = Field(default=None, ge=1)
    position: int | None = Field(default=None, ge=0, le=1000,
                                 description="The product's place in the list, from 0.")
    # The answer's experiment and the request's unit (docs/experiments.md): the store's
    # assignment of that unit decides the variant the event is counted for.
    experiment: str | None = Field(default=None, max_length=63, pattern=_NAME)
    customer: str | None = Field(default=None, min_length=1, max_length=255)
    visitor: str | None = Field(default=None, min_length=1, max_length=255)


class EventReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[StorefrontEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_REPORT)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per client address: ``per_minute`` reports, refilled continuously,
    bursts up to ``per_minute``. In memory, so per worker process."""

    per_minute: int
    clock: Callable[[], float] = time.time
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def wait_seconds(self, client: str) -> float:
        """0 and one token taken if ``client`` may send now, else the seconds until it may."""
        now = self.clock()
        rate = self.per_minute / 60.0
        bucket = self.buckets.pop(client, None) or _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        self.buckets[client] = bucket  # re-inserted: dict order is least recently seen first
        while len(self.buckets) > _TRACKED_CLIENTS:
            self.buckets.pop(next(iter(self.buckets)))
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


def _limiter(state: WebState) -> RateLimiter:
    limiter = state.extras.get(__name__)
    per_minute = state.settings.storefront.events_per_minute
    if not isinstance(limiter, RateLimiter) or limiter.per_minute != per_minute:
        # The app's clock, so a test decides when tokens come back (no sleeping).
        limiter = state.extras[__name__] = RateLimiter(
            per_minute, clock=lambda: state.clock().timestamp())
    return limiter


def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return where, f"{where}: {error['msg']}"


def _store_events(state: WebState, report: EventReport) -> int:
    from shoploop.store import record_web_events

    received = state.clock()  # the server's time of receipt, by the app's clock
    rows: list[dict[str, object]] = [
        {"event_id": event.event_id, "type": event.type, "connection": event.connection,
         "placement": event.placement, "product_external_id": event.product_id,
         "model_version": event.model_version, "position": event.position,
         "experiment": event.experiment, "customer": event.customer, "visitor": event.visitor,
         "occurred_at": received}
        for event in report.events]
    event_tags(state, rows)
    for row in rows:
        del row["customer"], row["visitor"]  # the unit key is what is stored
    with state.store.session() as session:
        return record_web_events(session, rows)


async def _capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (never read whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


async def events(request: Request) -> Response:
    gated = cors_gate(request, "POST")
    if gated is not None:
        return gated
    state = web_state(request)
    headers = cors_headers(request, expose="Retry-After")
    settings = state.settings.storefront
    client = request.client.host if request.client is not None else "unknown"
    wait = _limiter(state).wait_seconds(client)
    if wait > 0:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return api_error(429, "rate_limited",
                         f"more than {settings.events_per_minute} event reports a minute "
                         f"from this address", remedy="send events in batches (up to "
                         f"{MAX_EVENTS_PER_REPORT} per report) and retry after "
                         f"{headers['Retry-After']} s", headers=headers)
    try:
        body = await _capped_body(request, settings.max_event_body_bytes)
    except ClientDisconnect:
        return Response(status_code=400)
    if body is None:
        return api_error(413, "body_too_large",
                         f"an event report is at most {settings.max_event_body_bytes} bytes",
                         remedy=f"send at most {MAX_EVENTS_PER_REPORT} events per report",
                         headers=headers)
    try:
        report = EventReport.model_validate(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:  # ValidationError is a ValueError
        if isinstance(exc, ValidationError):
            where, message = _first_error(exc)
        else:
            where, message = "body", f"the body is not JSON: {exc}"
        return api_error(400, "bad_event", message, parameter=where,
                         remedy='send {"events": [{"event_id", "type", "connection", '
                                '"placement", "product_id"}]} (docs/web.md)', headers=headers)
    stored = await run_in_threadpool(_store_events, state, report)
    return JSONResponse({"ok": True, "received": len(report.events), "stored": stored},
                        status_code=202, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/events", events, methods=["POST", "OPTIONS"])]


__all__ = ["MAX_EVENTS_PER_REPORT", "EventReport", "RateLimiter", "StorefrontEvent", "routes"]
