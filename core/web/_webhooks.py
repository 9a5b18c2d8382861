"""``POST /webhooks/{connection}``: verify, dedupe, persist, answer — process afterwards.

The order of a delivery (docs/web.md, "Webhooks"):

1. the connection must be configured and its connector type verify webhooks, else 404;
2. the body is read with a cap — chunk by chunk, whatever ``Content-Length`` says (it may lie
   or be absent with chunked encoding) — and more than ``[web] max_body_bytes`` is 413;
3. the connector's ``parse_webhook`` checks the signature over the raw bytes (and the shop a
   delivery claims to come from, and its age where the platform dates it): any failure is 401
   and nothing is stored; a verified body that is not the JSON object the topic needs is 400;
4. WooCommerce's ping on webhook creation (``webhook_id=<id>``) is answered 200, not stored;
5. the event is stored under ``(connection, dedupe_key)`` — a repeat finds it and is answered
   200 without a write, so three concurrent copies of one event are processed once; the
   deliveries arriving during one commit share the next (``_webhook_batch``);
6. 200 goes out; the dispatcher (``_webhook_worker``) processes the delivery after it.

Answers are small JSON documents ``{"ok": …, "error": code, "message": …}``; messages come
from the verifiers and name the header that failed, never a secret. Nothing here logs a
header value or a body.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ._app import web_state
from ._metrics import metrics_of
from ._webhook_batch import GroupCommit
from ._webhook_worker import DeliveryDispatch, ExternalDispatch, dispatcher_of

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from shoploop._connections import Connections
    from shoploop.jobs import ProcessResult

    from ._app import WebState

log = logging.getLogger("shoploop.webhooks")

_KEY = __name__


class _BodyTooLarge(Exception):
    pass


class WebhookReceiver:
    """Per-app state of the receiver: the connections' connectors and the dispatcher."""

    def __init__(self, state: WebState) -> None:
        from shoploop._connections import Connections
        from shoploop.hooks import Capability

        self.connections: Connections = Connections(state.config, state.host.connectors)
        self.verifying = set(self.connections.with_capability(Capability.VERIFY_WEBHOOKS))
        metrics = metrics_of(state)
        self.settled = threading.Condition()
        self.settled_count = 0
        """Deliveries this app's worker settled (processed or failed) — for waiting on."""

        def observe(result: ProcessResult) -> None:
            for seconds in result.lag_seconds:
                metrics.lag.observe(seconds)
            with self.settled:
                self.settled_count += result.processed + result.failed
                self.settled.notify_all()

        self.writer = GroupCommit(state)
        self.dispatch: DeliveryDispatch = dispatcher_of(state, on_result=observe)

    def wait_settled(self, count: int, timeout: float) -> bool:
        """Block until the worker settled ``count`` deliveries (True) or ``timeout`` passed."""
        with self.settled:
            return self.settled.wait_for(lambda: self.settled_count >= count, timeout)

    def close(self) -> None:
        self.dispatch.stop()
        self.connections.close()


def receiver_of(state: WebState) -> WebhookReceiver:
    found = state.extras.get(_KEY)
    if found is None:
        found = state.extras[_KEY] = WebhookReceiver(state)
    assert isinstance(found, WebhookReceiver)
    return found


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, outcome: str, message: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": status == 200, **extra}
    if status != 200:
        body.update(error=outcome, message=message)
    return JSONResponse(body, status_code=status)


async def receive_webhook(request: Request) -> JSONResponse:
    from shoploop.hooks import ShoploopError, WebhookPayloadError, WebhookSignatureError

    state = web_state(request)
    receiver = receiver_of(state)
    metrics = metrics_of(state)
    name = request.path_params["connection"]
    if name not in receiver.verifying:
        # The label is fixed: an attacker must not be able to grow the series by URL.
        metrics.receipts.labels("-", "unknown_connection").inc()
        return _answer(404, "unknown_connection",
                       "no configured connection of this name receives webhooks")
    try:
        body = await _read_capped(request, state.settings.max_body_bytes)
    except _BodyTooLarge:
        metrics.receipts.labels(name, "too_large").inc()
        return _answer(413, "too_large",
                       f"body larger than max_body_bytes ({state.settings.max_body_bytes})")
    except ClientDisconnect:
        metrics.receipts.labels(name, "disconnected").inc()
        return _answer(400, "disconnected", "the client went away before the body ended")
    try:
        event = receiver.connections[name].parse_webhook(request.headers, body)
    except WebhookSignatureError as exc:
        metrics.receipts.labels(name, "bad_signature").inc()
        log.info("webhook for %s rejected: %s", name, exc.message)
        return _answer(401, "bad_signature", exc.message)
    except WebhookPayloadError as exc:
        metrics.receipts.labels(name, "malformed").inc()
        return _answer(400, "malformed", exc.message)
    except ShoploopError as exc:  # e.g. the webhook secret's variable is not exported
        metrics.receipts.labels(name, "unavailable").inc()
        log.error("webhook for %s cannot be verified: %s", name, exc)
        return _answer(503, exc.error_code, str(exc))
    if event.type == "webhook.ping":
        metrics.receipts.labels(name, "ping").inc()
        return _answer(200, "ping")
    # The event names the connection it arrived on, whatever the connector put there.
    event = event.model_copy(update={"connection": name})
    try:
        stored = await receiver.writer.record({
            "connection": name, "dedupe_key": event.dedupe_key, "topic": event.topic,
            "event_type": event.type, "event": event.model_dump(mode="json"),
            "received_at": state.clock()})
    except ShoploopError as exc:  # the store is down: the platform retries (Shopify) or not
        metrics.receipts.labels(name, "unavailable").inc()
        log.error("webhook for %s not stored: %s", name, exc)
        return _answer(503, exc.error_code, "the store is unavailable; nothing was stored")
    if stored is None:
        metrics.receipts.labels(name, "duplicate").inc()
        return _answer(200, "duplicate", duplicate=True)
    metrics.receipts.labels(name, "accepted").inc()
    receiver.dispatch.notify()
    return _answer(200, "accepted", duplicate=False)


def routes() -> list[BaseRoute]:
    return [Route("/webhooks/{connection}", receive_webhook, methods=["POST"])]


def install(app: Starlette) -> None:
    """Start the dispatcher with the app and stop it (and close connectors) on shutdown."""
    inner: Callable[[Starlette], AbstractAsyncContextManager[Any]] = \
        app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(starlette: Starlette) -> AsyncIterator[Any]:
        state: WebState = starlette.state.shoploop
        receiver = receiver_of(state)
        if not isinstance(receiver.dispatch, ExternalDispatch):
            receiver.dispatch.notify()  # picks up what an earlier run left pending
        try:
            async with inner(starlette) as value:
                yield value
        finally:
            await receiver.writer.stop()
            receiver.close()
            state.extras.pop(_KEY, None)

    app.router.lifespan_context = lifespan
