"""``GET /api/v1/recommendations``: a placement's products with kinds and reasons, answered
from the in-process recommendation model (docs/web.md, "Storefront API").

The model is loaded once per app into ``WebState.extras`` and replaced when the store holds a
newer one (asked at most every ``model_check_seconds``). A lookup needs no store round trip;
answers are kept per (model version, request) for ``cache_seconds``, so a popular product page
costs one lookup per minute, not one per visitor. The route group also mounts the event
reports (``_events``) and the widget (``_widget``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial
from hashlib import blake2b
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._api_http import api_error, cors_gate, cors_headers
from ._app import WebState, web_state
from ._experiment_serving import Arm, arm_of, blended, running_experiment, varied_request

if TYPE_CHECKING:
    from shoploop.hooks import RecommendationRequest
    from shoploop.reco import Model

log = logging.getLogger(__name__)

MAX_K = 100
"""Most recommendations one call may ask for (a placement shows a handful)."""

_PARAMETERS = ("connection", "product", "customer", "cart", "placement", "k", "visitor")
_ID_LIMIT = 255
_PLACEMENT = re.compile(r"[a-z0-9][a-z0-9_\-]{0,49}")


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.parameter, self.message, self.remedy = parameter, message, remedy


@dataclass(frozen=True)
class _Answer:
    body: bytes
    etag: str
    expires: float
    cache_control: str


@dataclass
class ModelSlot:
    """The app's loaded model and the answers computed from it (``WebState.extras``)."""

    model: Model | None = None
    checked_at: float = float("-inf")
    missing: str = "no recommendation model has been built yet"
    answers: OrderedDict[tuple[Any, ...], _Answer] = field(default_factory=OrderedDict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def model_slot(state: WebState) -> ModelSlot:
    slot = state.extras.get(__name__)
    if slot is None:
        slot = state.extras[__name__] = ModelSlot()
    assert isinstance(slot, ModelSlot)
    return slot


def _newest_model(state: WebState, loaded: int | None) -> Model | None:
    """The store's newest model if it is not the ``loaded`` version (None: keep it)."""
    from shoploop.reco import load_model
    from shoploop.store import newest_reco_model_version

    with state.store.session() as session:
        newest = newest_reco_model_version(session)
    if newest is None or newest == loaded:
        return None
    return load_model(state.store, newest)


async def current_model(state: WebState) -> Model | None:
    """The loaded model, replaced first when it is time to check and the store has a newer
    one. While one request checks (and loads), the others answer from the old model; a store
    that cannot be read keeps the old model (logged), so an outage does not stop the API."""
    slot = model_slot(state)
    interval = state.settings.storefront.model_check_seconds
    if time.monotonic() - slot.checked_at < interval:
        return slot.model
    if slot.lock.locked() and slot.model is not None:
        return slot.model
    async with slot.lock:
        if time.monotonic() - slot.checked_at >= interval:  # not checked while we waited
            from shoploop.hooks import ShoploopError

            loaded = slot.model.version if slot.model is not None else None
            newer = None
            try:
                newer = await run_in_threadpool(_newest_model, state, loaded)
            except ShoploopError as exc:  # an unreadable model: keep the old one, say why
                slot.missing = str(exc)
                log.warning("storefront API: %s", exc)
            except Exception as exc:  # the store is unreachable: keep answering
                slot.missing = "the store cannot be read; no model loaded yet"
                log.warning("storefront API: checking for a newer model failed: %s",
                            type(exc).__name__)
            if newer is not None:
                slot.model = newer
                slot.answers.clear()
            slot.checked_at = time.monotonic()
    return slot.model


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, f"{name} is given {len(values)} times",
                           remedy=f"pass {name} once" + (" (cart ids comma-separated)"
                                                         if name == "cart" else ""))
    if not values:
        return None
    value = values[0].strip()
    if len(value) > _ID_LIMIT:
        raise BadParameter(name, f"{name} is longer than {_ID_LIMIT} characters",
                           remedy=f"pass the {name}'s id in the connection")
    return value or None


def parse_request(request: Request, model: Model) -> RecommendationRequest:
    """The query string as a request for the model, or :class:`BadParameter`."""
    from shoploop.hooks import RecommendationRequest

    unknown = sorted(set(request.query_params) - set(_PARAMETERS))
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter {unknown[0]!r}",
                           remedy=f"use only {', '.join(_PARAMETERS)}")
    connection = _single(request, "connection")
    if connection is None:
        raise BadParameter("connection", "connection is required",
                           remedy="pass the connection whose product ids the page uses, "
                                  f"one of: {', '.join(model.connections)}")
    if connection not in model.connections:
        raise BadParameter("connection", f"the model has no products of connection "
                                         f"{connection!r}",
                           remedy=f"use one of: {', '.join(model.connections) or 'none'}")
    product, customer = _single(request, "product"), _single(request, "customer")
    cart = [part.strip() for part in (_single(request, "cart") or "").split(",")
            if part.strip()]
    max_cart = web_state(request).settings.storefront.max_cart_items
    if len(cart) > max_cart or any(len(item) > _ID_LIMIT for item in cart):
        raise BadParameter("cart", f"cart names more than {max_cart} products or an id "
                                   f"longer than {_ID_LIMIT} characters",
                           remedy=f"pass at most {max_cart} product ids, comma-separated")
    if product is None and customer is None and not cart:
        raise BadParameter("product", "say what to recommend for",
                           remedy="pass product=ID, customer=ID or cart=ID,ID")
    placement = _single(request, "placement") or (
        "cart" if cart else "product_page" if product else "email")
    if not _PLACEMENT.fullmatch(placement):
        raise BadParameter("placement", f"placement {placement[:60]!r} is not a placement name",
                           remedy="use lower-case letters, digits, _ and - (e.g. "
                                  "product_page, cart)")
    raw_k = _single(request, "k") or "10"
    if not raw_k.isdigit() or not 1 <= int(raw_k) <= MAX_K:
        raise BadParameter("k", f"k must be a whole number from 1 to {MAX_K}, not "
                                f"{raw_k[:20]!r}", remedy=f"pass k=1 … k={MAX_K}")
    return RecommendationRequest(connection=connection, product_id=product,
                                 customer_id=customer, cart=cart, placement=placement,
                                 k=int(raw_k))


def _answer_body(state: WebState, model: Model, ask: RecommendationRequest,
                 arm: Arm | None = None) -> bytes:
    """The JSON answer, computed (hooks run here: every installed strategy and rule); in an
    experiment, as the arm's variant has it."""
    from shoploop._context import hook_context
    from shoploop.reco import rank

    if arm is not None and not arm.variant.placement_enabled:
        recommendations = []  # the hold-out arm: the placement shows nothing
    elif arm is not None:
        varied = varied_request(ask, arm.variant, MAX_K)
        ranked = rank(state.host, model, varied, context=hook_context(state.config, None))
        recommendations = blended(ranked.recommendations, arm.variant, arm.variant.k or ask.k)
    else:
        # No connectors in the context: an answer comes from memory, never waits on a shop.
        recommendations = rank(state.host, model, ask,
                               context=hook_context(state.config, None)).recommendations
    products = model.products(ask.connection)
    found = products.many(r.product_id for r in recommendations)
    rows = []
    for item in recommendations:
        product = found.get(item.product_id)
        rows.append({
            "product_id": item.product_id,
            "name": product.name if product is not None else None,
            "price": str(product.price) if product is not None else None,
            "currency": product.currency if product is not None else None,
            "kind": item.kind, "strategy": item.strategy, "score": round(item.score, 4),
            "reason": item.reason, "reasons": item.reasons})
    unknown = [anchor for anchor in ask.anchors if anchor not in products]
    return json.dumps({
        "ok": True, "model_version": model.version, "connection": ask.connection,
        "placement": ask.placement, "recommendations": rows,
        "unknown_products": unknown,
        "experiment": None if arm is None else {"name": arm.experiment,
                                                "variant": arm.variant.name}},
        separators=(",", ":"), ensure_ascii=False).encode()


async def recommendations(request: Request) -> Response:
    gated = cors_gate(request, "GET")
    if gated is not None:
        return gated
    state = web_state(request)
    headers = cors_headers(request)
    model = await current_model(state)
    if model is None:
        headers["Retry-After"] = str(max(1, round(state.settings.storefront.model_check_seconds)))
        return api_error(503, "reco_model_missing", model_slot(state).missing,
                         remedy="run `shoploop reco build`; the app loads the model by itself",
                         headers=headers)
    settings = state.settings.storefront
    slot = model_slot(state)
    ask: RecommendationRequest | None = None
    arm: Arm | None = None
    query: bytes = request.scope["query_string"]
    if b"visitor=" in query:  # the visitor changes nothing but the arm: not part of the key
        query = urlencode([pair for pair in parse_qsl(query.decode("latin-1"),
                                                      keep_blank_values=True)
                           if pair[0] != "visitor"]).encode()
    if state.config.experiments:
        try:
            ask = parse_request(request, model)
            visitor = _single(request, "visitor")
        except BadParameter as exc:
            return api_error(400, "bad_parameter", exc.message, parameter=exc.parameter,
                             remedy=exc.remedy, headers=headers)
        when = state.clock()
        running = running_experiment(state, ask.placement, when)
        if running is not None:
            arm = await run_in_threadpool(partial(
                arm_of, state, *running, connection=ask.connection,
                customer=ask.customer_id, visitor=visitor, now=when))
    # Keyed by the query: a repeated request skips parsing too (the answer of one query
    # string under one model version, in one arm, is always the same until it expires).
    key = (model.version, query, None if arm is None else arm.variant.name)
    answer = slot.answers.get(key)
    now = time.monotonic()
    if answer is None or answer.expires <= now:
        if ask is None:
            try:
                ask = parse_request(request, model)
            except BadParameter as exc:
                return api_error(400, "bad_parameter", exc.message, parameter=exc.parameter,
                                 remedy=exc.remedy, headers=headers)
        # Off the event loop: a third-party strategy may do I/O.
        body = await run_in_threadpool(_answer_body, state, model, ask, arm)
        # A customer's answer is theirs: browsers may keep it, shared caches must not.
        answer = _Answer(body, f'"{blake2b(body, digest_size=12).hexdigest()}"',
                         now + settings.cache_seconds,
                         f"{'private' if ask.customer_id else 'public'}, "
                         f"max-age={settings.cache_seconds}")
        if settings.answer_cache_size and settings.cache_seconds:
            slot.answers[key] = answer
            slot.answers.move_to_end(key)  # a refreshed answer is the newest stored
            while len(slot.answers) > settings.answer_cache_size:
                slot.answers.popitem(last=False)
    headers["ETag"] = answer.etag
    headers["Cache-Control"] = answer.cache_control
    if answer.etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


def _etags(header: str | None) -> set[str]:
    """The entity tags of ``If-None-Match`` (weak ones compare equal, RFC 9110 13.1.2)."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def routes() -> list[BaseRoute]:
    from ._events import routes as event_routes
    from ._widget import routes as widget_routes

    return [Route("/api/v1/recommendations", recommendations, methods=["GET", "OPTIONS"]),
            *event_routes(), *widget_routes()]


__all__ = ["ModelSlot", "current_model", "model_slot", "parse_request", "routes"]
